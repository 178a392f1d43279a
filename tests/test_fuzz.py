"""Property-based fuzzing of the region parser and the command-line options (hypothesis).

Whatever the input: exit code 0 or 2, no traceback, no file left behind on failure, no file
outside ``--out`` touched.  Examples are bounded so that the module runs in well under 60 s.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from sos_vo.archives.exceptions import RegionError  # noqa: E402
from sos_vo.archives.regions import parse_region  # noqa: E402
from sos_vo.cli import main  # noqa: E402

NUMBERS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(min_value=-10**30, max_value=10**30).map(str),
    st.sampled_from(["nan", "inf", "-inf", "1e400", "-0", "0", "90", "-90", "360", "1deg",
                     "30arcmin", "5arcsec", "1rad", "abc", "", "1/2", "0x10", "1_000"]),
)
KINDS = st.sampled_from(["circle", "cone", "box", "rectangle", "polygon", "healpix", "moc",
                         "ellipse", ""])
REGIONS = st.one_of(
    st.builds(lambda k, xs: " ".join([k, *xs]), KINDS, st.lists(NUMBERS, max_size=9)),
    st.text(max_size=40).filter(lambda s: not os.path.exists(s.strip())),
)
SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])


@SETTINGS
@given(REGIONS)
def test_region_parser_raises_only_region_errors(text):
    try:
        region = parse_region(text)
    except RegionError as exc:
        assert str(exc)
    else:
        assert region.area_deg2 > 0


def _snapshot(folder: Path) -> dict[str, tuple]:
    """Files with size and mtime; folders by name only (a new file changes a folder's mtime)."""
    return {str(p.relative_to(folder)): ("folder",) if p.is_dir()
            else (p.stat().st_size, p.stat().st_mtime_ns) for p in folder.rglob("*")}


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(region=REGIONS, workers=NUMBERS, bandwidth=NUMBERS,
       survey=st.sampled_from(["sdss", "skymapper", "both", "2mass"]))
def test_plan_options(capsys, region, workers, bandwidth, survey):
    try:
        code = main(["plan", region, "--workers", workers, "--bandwidth", bandwidth,
                     "--survey", survey])
    except SystemExit as exc:  # argparse's usage errors
        code = exc.code
    err = capsys.readouterr().err
    assert code in (0, 2), err
    assert "Traceback" not in err


OUT_NAMES = st.one_of(
    st.sampled_from(["", " ", ".", "..", "in.ecsv", "sub", "sub/x.vot", "x.vot", "x.csv",
                     "deep/er/x.fits", "x.fits", "/dev/full/x.fits", "cds", "x\x00.vot"]),
    st.text(alphabet="abc./_-", min_size=1, max_size=12),
)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(out=OUT_NAMES, fmt=st.sampled_from(["votable", "votable-tabledata", "fits", "cds", "x"]),
       overwrite=st.booleans())
def test_export_out(tmp_path_factory, capsys, out, fmt, overwrite):
    from astropy.table import Table

    root = tmp_path_factory.mktemp("fuzz")
    work = root / "work"
    work.mkdir()
    Table({"a": [1.0, 2.0]}).write(work / "in.ecsv")
    (work / "sub").mkdir()
    (work / "sub" / "keep.txt").write_text("user file")
    before = _snapshot(work)
    cwd = os.getcwd()
    os.chdir(work)
    try:
        argv = ["export", "in.ecsv", "--format", fmt, "--out", out, "--any-table", "--lenient",
                "--title", "T", "--author", "Doe J."]
        try:
            code = main(argv + (["--overwrite"] if overwrite else []))
        except SystemExit as exc:
            code = exc.code
    finally:
        os.chdir(cwd)
    err = capsys.readouterr().err
    assert code in (0, 2), err
    assert "Traceback" not in err
    after = _snapshot(work)
    touched = {k for k in set(before) | set(after) if before.get(k) != after.get(k)}
    if code == 2:
        assert touched == set(), (out, touched)  # nothing written, nothing removed
    else:
        target = (work / out).resolve()
        for name in touched:  # only the output, what lies inside it, new folders holding it
            path = (work / name).resolve()
            assert path == target or target in path.parents or (
                name not in before and path in target.parents), (out, name)
        assert before.keys() - after.keys() <= {k for k in before
                                                if (work / k).resolve() == target
                                                or target in (work / k).resolve().parents}
    assert not [p for p in work.rglob("*sosvo-*")], "temporary file left behind"
