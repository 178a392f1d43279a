"""query_region and ``sos-vo query`` end to end against the local DaCHS mirror."""

import numpy as np
import pytest
from astropy.coordinates import SkyCoord
from astropy.table import Table

from sos_vo.archives.exceptions import ArchiveError, RegionError, ServiceError
from sos_vo.archives.tables import ARCHIVE_TABLES
from sos_vo.cli import main
from sos_vo.pipeline import query_region
from sos_vo.prepare.crossmatch import join_survey
from sos_vo.prepare.cuts import apply_cuts, gaia_cuts, neighbour_cuts
from sos_vo.schema import joined_columns

CONE = (52.2, 7.8, 0.6)
REGION = f"circle {CONE[0]} {CONE[1]} {CONE[2]}deg"


def _expected(fixture_tables, survey):
    """Independent path: join the fixture tables locally, cut the cone, apply the cuts."""
    tables = {ARCHIVE_TABLES[k].name: t for k, t in fixture_tables.items()}
    joined = join_survey(tables, survey, labels=False)
    sep = SkyCoord(joined["ra"], joined["dec"], unit="deg").separation(
        SkyCoord(CONE[0], CONE[1], unit="deg")).deg
    joined = joined[sep <= CONE[2]]
    keep = np.ones(len(joined), bool)
    for cut in gaia_cuts() + neighbour_cuts():
        keep &= np.asarray(cut.predicate(joined), bool)
    server_side = joined[keep]
    return server_side, apply_cuts(server_side, survey)[0]


@pytest.mark.dachs
@pytest.mark.parametrize("survey", ["sdss", "skymapper"])
def test_query_region_matches_local_pipeline(dachs_url, fixture_tables, survey):
    result = query_region(REGION, survey=survey, tap_url=dachs_url, cache_dir=False,
                          use_async=False, progress=False, model=False)
    server_side, cut = _expected(fixture_tables, survey)
    assert len(server_side) > 10
    assert sorted(result.rows[survey]["source_id"]) == sorted(server_side["source_id"])
    prepared = result.prepared[survey].joined
    assert tuple(prepared.colnames[: len(joined_columns(survey))]) == joined_columns(survey)
    assert sorted(prepared["source_id"]) == sorted(cut["source_id"])
    # values survive the trip: magnitudes of the same stars agree
    a = prepared[np.argsort(prepared["source_id"])]
    b = cut[np.argsort(cut["source_id"])]
    np.testing.assert_allclose(np.ma.filled(a["phot_g_mean_mag"], np.nan),
                               np.ma.filled(b["phot_g_mean_mag"], np.nan), rtol=1e-6)


@pytest.mark.dachs
def test_cli_query_writes_cut_table(dachs_url, fixture_tables, tmp_path, capsys):
    out = tmp_path / "region.ecsv"
    rc = main(["query", REGION, "--survey", "both", "--tap-url", dachs_url, "--out", str(out),
               "--no-cache", "--sync", "--no-model"])
    assert rc == 0
    for survey in ("sdss", "skymapper"):
        t = Table.read(tmp_path / f"region_{survey}.ecsv")
        assert sorted(t["source_id"]) == sorted(_expected(fixture_tables, survey)[1]["source_id"])
    assert "after the cuts" in capsys.readouterr().out
    # existing outputs are not overwritten
    rc = main(["query", REGION, "--survey", "both", "--tap-url", dachs_url, "--out", str(out),
               "--no-cache", "--sync", "--no-model"])
    assert rc == 2


# -- bad input: a clear error before any job is sent (no server needed) ----------------
UNREACHABLE = "http://127.0.0.1:9/tap"


@pytest.mark.parametrize("region, match", [("circle 1 2", "RADIUS"), ("circle 1 2 0", "zero area"),
                                           ("circle 1 2 50deg", "maximum")])
def test_bad_region(region, match):
    with pytest.raises(RegionError, match=match):
        query_region(region, tap_url=UNREACHABLE)


def test_unknown_survey():
    with pytest.raises(ArchiveError, match="unknown survey"):
        query_region(REGION, survey="2mass", tap_url=UNREACHABLE)
    with pytest.raises(SystemExit):
        main(["query", REGION, "--survey", "2mass"])


def test_missing_model_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="model folder"):
        query_region(REGION, tap_url=UNREACHABLE, model=tmp_path / "none")


def test_unreachable_and_non_tap_url(capsys):
    with pytest.raises(ServiceError):
        query_region(REGION, tap_url=UNREACHABLE, retries=0)
    assert main(["query", REGION, "--tap-url", "not-a-url"]) == 2
    assert "not an http(s) URL" in capsys.readouterr().err


@pytest.mark.dachs
def test_cli_query_predicts_with_installed_models(dachs_url, fixture_tables, tmp_path, capsys):
    """`sos-vo query REGION --survey both` end to end: fetch, cut, predict, merge, write."""
    from sos_vo.exceptions import SyntheticModelWarning
    from sos_vo.publish.writers import read_table
    from sos_vo.schema import CATALOGUE_NAMES

    out = tmp_path / "cat.fits"
    # the mirror is a TAP server like the real archives: the synthetic demo models warn
    with pytest.warns(SyntheticModelWarning):
        rc = main(["query", REGION, "--survey", "both", "--tap-url", dachs_url, "--out", str(out),
                   "--no-cache", "--sync"])
    assert rc == 0
    cat = read_table(out)
    assert tuple(cat.colnames) == CATALOGUE_NAMES
    cut_ids = {s: set(_expected(fixture_tables, s)[1]["source_id"]) for s in ("sdss", "skymapper")}
    ml = np.asarray(cat["source"]) != ""
    ids = np.asarray(cat["gaia_dr3_id"])
    # every ML row is a star that passed the cuts of its survey(s), with the right source code
    for gid, src in zip(ids[ml], np.asarray(cat["source"])[ml], strict=True):
        in_sdss, in_sm = gid in cut_ids["sdss"], gid in cut_ids["skymapper"]
        assert src == {(True, True): "SDSS+SM", (True, False): "SDSS", (False, True): "SM"}[
            (in_sdss, in_sm)]
    assert ml.sum() > 0
    assert "catalogue:" in capsys.readouterr().out


# -- an output that cannot be written is refused before any TAP request -----------------
@pytest.mark.parametrize("argv, match", [
    (["--out", "x.csv"], "cannot write the catalogue to"),        # catalogue: VOTable/FITS/CDS
    (["--out", "x.txt", "--no-model"], "cannot tell the format"),  # cut tables: astropy formats
    (["--out", "x.csv", "--survey", "both"], "cannot write the catalogue to"),
])
def test_cli_query_refuses_an_unwritable_out_before_downloading(argv, match, tmp_path, capsys,
                                                                monkeypatch):
    monkeypatch.chdir(tmp_path)
    rc = main(["query", REGION, "--tap-url", UNREACHABLE, "--no-cache", "--sync", *argv])
    err = capsys.readouterr().err
    # an attempted download would fail with "unreachable" instead
    assert rc == 2 and match in err and "unreachable" not in err and err.count("\n") == 1
    assert list(tmp_path.iterdir()) == []


@pytest.mark.dachs
def test_cli_query_refuses_csv_catalogue_without_a_tap_request(dachs_url, tmp_path, capsys,
                                                               monkeypatch):
    """Against the mirror: the refusal comes before the TAP client is even built."""
    from sos_vo.archives import gaia

    def no_tap(*args, **kwargs):
        raise AssertionError("a TAP client was built before the output was checked")

    monkeypatch.setattr(gaia, "client", no_tap)
    out = tmp_path / "x.csv"
    assert main(["query", REGION, "--tap-url", dachs_url, "--out", str(out), "--no-cache",
                 "--sync"]) == 2
    assert "cannot write the catalogue" in capsys.readouterr().err and not out.exists()
    monkeypatch.undo()
    # the same run with --no-model writes the cut table as CSV
    assert main(["query", REGION, "--tap-url", dachs_url, "--out", str(out), "--no-cache",
                 "--sync", "--no-model"]) == 0
    assert len(Table.read(out, format="ascii.csv")) > 0


@pytest.mark.dachs
def test_cli_query_cut_report_marks_server_side_cuts(dachs_url, tmp_path, capsys):
    """With server cuts the Gaia cuts say "server-side" (not 0 removed); with --no-server-cuts
    they are counted locally, and what passes them is what the server sent in the first run."""
    from sos_vo.prepare.cuts import gaia_cuts

    base = ["query", REGION, "--tap-url", dachs_url, "--no-cache", "--sync", "--no-model"]
    assert main([*base, "--out", str(tmp_path / "server.ecsv")]) == 0
    server = capsys.readouterr().out
    assert main([*base, "--out", str(tmp_path / "local.ecsv"), "--no-server-cuts"]) == 0
    local = capsys.readouterr().out
    n_sent = int(server.split("sdss: ")[1].split(" rows from the archive")[0])
    for cut in gaia_cuts():
        row = next(line for line in server.splitlines() if line.startswith(cut.name + " "))
        assert row.split()[1:4] == ["-", "server-side", "-"]
        row = next(line for line in local.splitlines() if line.startswith(cut.name + " "))
        assert "server-side" not in row
    last = next(line for line in local.splitlines() if line.startswith(gaia_cuts()[-1].name))
    assert int(last.split()[3]) == n_sent  # local Gaia cuts keep exactly what the ADQL sent
    assert "1 cut ran server-side" in local  # the one-to-one neighbour rule is always in the ADQL


@pytest.mark.dachs
def test_cli_query_both_where_skymapper_has_no_rows(dachs_url, tmp_path, capsys):
    """The mirror has no SkyMapper rows north of Dec +10: '--survey both' there gives the SDSS
    catalogue with a warning; '--survey skymapper' alone is the one-line 0-rows error."""
    from astropy.io import fits

    from sos_vo.publish.writers import read_table

    north = "circle 52 12 0.5deg"
    out = tmp_path / "cat.fits"
    with pytest.warns(UserWarning, match="skymapper: the join .* has 0 rows"):
        rc = main(["query", north, "--survey", "both", "--tap-url", dachs_url, "--out", str(out),
                   "--no-cache", "--sync"])
    assert rc == 0
    printed = capsys.readouterr().out
    assert "skymapper: 0 rows from the archive, left out" in printed
    cat = read_table(out)
    assert len(cat) > 0 and set(cat["source"]) == {"SDSS"}
    releases = [v for k, v in fits.getheader(out, 1).items() if k.startswith("RELEAS")]
    assert any("SDSS" in r for r in releases) and not any("SkyMapper" in r for r in releases)
    assert main(["query", north, "--survey", "skymapper", "--tap-url", dachs_url, "--out",
                 str(tmp_path / "sm.fits"), "--no-cache", "--sync"]) == 2
    assert "0 rows" in capsys.readouterr().err and not (tmp_path / "sm.fits").exists()
