"""``sos-vo validate``: end-to-end on small synthetic tables and the real Harris file."""

import argparse
import re
from pathlib import Path

import numpy as np
import pytest
from astropy.table import Table
from realdata_files import realdata

from sos_vo.commands import validate


def _run(argv):
    parser = argparse.ArgumentParser()
    validate.add_arguments(parser)
    return validate.run(parser.parse_args(argv))


def _index_ok(folder: Path):
    index = Table.read(folder / "figures.ecsv")
    assert len(index) > 0
    for name in index["file"]:
        assert (folder / name).exists(), name
    return index


def test_homogenise_report(tmp_path, capsys):
    rng = np.random.default_rng(0)
    n = 3000
    ids = np.arange(n, dtype=np.int64)
    teff, logg, feh = rng.uniform(4000, 7000, n), rng.uniform(0.5, 5, n), rng.uniform(-2, 0.5, n)
    trend = 0.1 * feh + 0.05 * (logg - 3)
    Table({"gaia_dr3_id": ids, "teff": teff, "logg": logg, "feh": feh}).write(tmp_path / "lamost.fits")
    half = n // 2
    for name, sl in (("apogee", slice(0, half + 200)), ("galah", slice(half - 200, n))):
        Table({"gaia_dr3_id": ids[sl], "teff": teff[sl], "logg": logg[sl],
               "feh": (feh - trend + rng.normal(0, 0.03, n))[sl]}).write(tmp_path / f"{name}.fits")
    out = tmp_path / "report"
    argv = ["homogenise", "--survey", str(tmp_path / "lamost.fits"), "--reference",
            str(tmp_path / "apogee.fits"), str(tmp_path / "galah.fits"), "--methods", "polynomial",
            "--save-calibrations", "--out", str(out)]
    assert _run(argv) == 0
    printed = capsys.readouterr().out
    assert "in_coverage_fraction" in printed and not re.search(r"\d\.\d{4,}", printed), printed
    _index_ok(out)
    summary = Table.read(out / "homogenise_summary.ecsv")
    after = summary[(summary["set"] == "test") & (summary["stage"] == "after")][0]
    before = summary[(summary["set"] == "test") & (summary["stage"] == "before")][0]
    assert abs(after["median"]) < 0.01 and after["mad"] < 0.5 * before["mad"]
    assert (out / "calibration_polynomial" / "calibration.json").is_file()
    with pytest.raises(FileExistsError):
        _run(argv)


def test_clusters_report_with_harris(tmp_path):
    rng = np.random.default_rng(1)
    rows, cat_ids, cat_feh = [], [], []
    sid = 1
    for cluster, feh_ref, n in (("NGC 104", -0.72, 30), ("NGC 7078", -2.37, 10)):
        for _ in range(n):
            rows.append((cluster.replace(" ", "_"), sid, 0.95))
            cat_ids.append(sid)
            cat_feh.append(feh_ref + rng.normal(0, 0.1))
            sid += 1
    Table(rows=rows, names=("cluster", "source_id", "memberprob")).write(tmp_path / "vb21.ecsv")
    Table({"gaia_dr3_id": cat_ids, "ml_feh": cat_feh}).write(tmp_path / "cat.fits")
    out = tmp_path / "clusters"
    assert _run(["clusters", "--catalogue", str(tmp_path / "cat.fits"), "--members", str(tmp_path / "vb21.ecsv"),
                 "--members-format", "vb21", "--reference", str(realdata("mwgc.dat")), "--out", str(out)]) == 0
    _index_ok(out)
    stats = Table.read(out / "cluster_stats.ecsv")
    skipped = Table.read(out / "clusters_skipped.ecsv")
    assert list(stats["cluster"]) == ["NGC_104"] and list(skipped["cluster"]) == ["NGC_7078"]


def test_compare_report_and_bad_pairs(tmp_path, capsys):
    ids = np.arange(100, dtype=np.int64)
    Table({"gaia_dr3_id": ids, "ml_logg": np.linspace(1, 4, 100)}).write(tmp_path / "cat.fits")
    Table({"GaiaDR3": ids, "loggSeis": np.linspace(1, 4, 100) - 0.14}).write(tmp_path / "apokasc.fits")
    out = tmp_path / "cmp"
    assert _run(["compare", "--catalogue", str(tmp_path / "cat.fits"), "--reference", str(tmp_path / "apokasc.fits"),
                 "--name", "APOKASC-3", "--columns", "ml_logg=loggSeis", "--reference-key", "GaiaDR3",
                 "--out", str(out)]) == 0
    stats = Table.read(out / "comparison_stats.ecsv")
    assert stats["median_offset"][0] == pytest.approx(0.14)
    # printed in dex to 3 decimals (the file keeps full precision)
    assert "ml_logg: N = 100, median offset = +0.140, MAD = 0.000" in capsys.readouterr().out
    with pytest.raises(SystemExit, match="NAME=VALUE"):
        _run(["compare", "--catalogue", "a", "--reference", "b", "--name", "x", "--columns", "ml_logg",
              "--out", str(tmp_path / "x")])


def test_missing_optional_extra_is_reported(tmp_path, monkeypatch):
    import importlib.util

    if importlib.util.find_spec("pysr") is not None:
        pytest.skip("PySR is installed")
    ids = np.arange(200, dtype=np.int64)
    rng = np.random.default_rng(2)
    t = Table({"gaia_dr3_id": ids, "teff": rng.uniform(4000, 6000, 200), "logg": rng.uniform(1, 4, 200),
               "feh": rng.uniform(-1, 0, 200)})
    t.write(tmp_path / "s.fits")
    t.write(tmp_path / "r.fits")
    with pytest.raises(SystemExit, match="pip install 'sos-vo\\[pysr\\]'"):
        _run(["homogenise", "--survey", str(tmp_path / "s.fits"), "--reference", str(tmp_path / "r.fits"),
              "--methods", "pysr", "--out", str(tmp_path / "o")])
    assert not (tmp_path / "o").exists()
