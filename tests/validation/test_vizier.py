"""``sos-vo validate clusters --from-vizier`` and ``validate compare --vizier`` end to end.

The tests marked ``dachs`` run the command against the local DaCHS mirror (``--tap-url``,
``--names sql``): members, reference [Fe/H] and reference catalogues come over TAP (TAP_UPLOAD
id joins included), and the statistics in the report are checked against a direct computation
from the rows ``tools/setup_dachs.sh`` imported (read from its ECSV copies).
"""

import argparse
import json

import numpy as np
import pytest
from astropy.table import Table, vstack
from dachs_mirror.references import FAKE_GLOBULARS

from sos_vo.commands import validate
from sos_vo.exceptions import EmptyInputError, SchemaError
from sos_vo.prepare.crossmatch import GAIA_EPOCH, PASTEL_EPOCH, propagate_positions
from sos_vo.validation.clusters import MIN_MEMBERS
from sos_vo.validation.compare import NoOverlapError
from sos_vo.validation.references import (
    ANDRAE_2023,
    APOKASC3,
    APOKASC3_NULL,
    COMPARISONS,
    HARRIS_1996,
    HR24_MEMBERS,
    NETOPIL_2016,
    PASTEL,
)
from sos_vo.validation.vizier import compare_with_vizier, pastel_references

from .conftest import FIXTURE_DIR

MAD_SCALE = 1.4826  # T25 footnote 6, written out for the direct computation


def _run(argv):
    parser = argparse.ArgumentParser()
    validate.add_arguments(parser)
    return validate.run(parser.parse_args(argv))


def _direct(values: np.ndarray) -> tuple:
    """n, mean, sigma (ddof=1), median, MAD of the finite values, computed here."""
    r = values[np.isfinite(values)]
    med = np.median(r)
    return r.size, r.mean(), r.std(ddof=1), med, MAD_SCALE * np.median(np.abs(r - med))


@pytest.fixture(scope="module")
def catalogue(fixture_tables, tmp_path_factory):
    """Predictions for every synthetic-sky star, 10% without one, written as a FITS file."""
    rng = np.random.default_rng(11)
    ids = np.asarray(fixture_tables["gaia_source"]["source_id"], dtype=np.int64)
    cat = Table({"gaia_dr3_id": ids, "ml_feh": rng.normal(-0.8, 0.5, ids.size),
                 "ml_teff": rng.normal(5500, 600, ids.size), "ml_logg": rng.normal(3.0, 1.0, ids.size)})
    for col in ("ml_feh", "ml_teff", "ml_logg"):
        cat[col][rng.random(ids.size) < 0.1] = np.nan
    path = tmp_path_factory.mktemp("cat") / "catalogue.fits"
    cat.write(path)
    return path, cat


def _cluster_check(out, expected):
    stats = Table.read(out / "cluster_stats.ecsv")
    assert sorted(stats["cluster"]) == sorted(expected), stats
    for row in stats:
        n, mean, sigma, median, mad = expected[row["cluster"]]
        assert row["n_predicted"] == n
        assert np.allclose([row["mean"], row["sigma"], row["median"], row["mad"]],
                           [mean, sigma, median, mad], rtol=1e-12, atol=0)
    return stats, Table.read(out / "clusters_skipped.ecsv")


@pytest.mark.dachs
@pytest.mark.parametrize("members_by", ["upload", "cluster"])
def test_open_clusters_cli_from_mirror_equal_direct(dachs_url, reference_fixtures, catalogue,
                                                    tmp_path, members_by):
    path, cat = catalogue
    out = tmp_path / "open"
    assert _run(["clusters", "--catalogue", str(path), "--from-vizier", "open",
                 "--members-by", members_by, "--tap-url", dachs_url, "--names", "sql",
                 "--upload-chunk", "4000", "--out", str(out)]) == 0
    pred = dict(zip(cat["gaia_dr3_id"], cat["ml_feh"], strict=True))
    mem, ref = reference_fixtures[HR24_MEMBERS.table], reference_fixtures[NETOPIL_2016.table]
    expected = {}
    for name, feh_ref in zip(ref["Cluster"], ref["[Fe/H]HQS"], strict=True):
        values = np.array([pred[s] for s in mem["GaiaDR3"][mem["Name"] == name]]) - feh_ref
        if np.isfinite(values).sum() > MIN_MEMBERS:
            expected[name] = _direct(values)
    assert expected, "the fixture must hold at least one open cluster above MIN_MEMBERS"
    _, skipped = _cluster_check(out, expected)
    assert "SOSVO_FAKE_2" in set(skipped["cluster"])


@pytest.mark.dachs
def test_globular_clusters_cli_harris_over_tap_vb21_file(dachs_url, reference_fixtures, catalogue,
                                                         tmp_path):
    path, cat = catalogue
    manifest = json.loads((FIXTURE_DIR / "manifest.json").read_text())
    vb21_path = FIXTURE_DIR / manifest["references"]["extra_files"]["vb21"]
    out = tmp_path / "gc"
    assert _run(["clusters", "--catalogue", str(path), "--from-vizier", "globular",
                 "--members", str(vb21_path), "--tap-url", dachs_url, "--names", "sql",
                 "--out", str(out)]) == 0
    pred = dict(zip(cat["gaia_dr3_id"], cat["ml_feh"], strict=True))
    vb21 = Table.read(vb21_path)
    harris = reference_fixtures[HARRIS_1996.table]
    expected = {}
    for cid, feh_ref in zip(harris["ID"], harris["[Fe/H]"], strict=True):
        sel = (vb21["cluster"] == cid) & (vb21["memberprob"] > 0.8)  # T25 Sect. 6.4 cut
        values = np.array([pred[s] for s in vb21["source_id"][sel]]) - feh_ref
        if np.isfinite(values).sum() > MIN_MEMBERS:
            expected[cid] = _direct(values)
    assert list(expected) == ["SOSVO_GC_1"]
    _, skipped = _cluster_check(out, expected)
    assert "SOSVO_GC_2" in set(skipped["cluster"])
    assert FAKE_GLOBULARS["SOSVO_GC_1"][1] == harris["[Fe/H]"][harris["ID"] == "SOSVO_GC_1"][0]


def _compare_direct(cat, ref, id_col, pairs, mask=None):
    """Catalogue - reference statistics per pair, computed from the fixture rows."""
    ref = ref if mask is None else ref[mask]
    by_id = {int(s): i for i, s in enumerate(ref[id_col])}
    rows = [(i, by_id[int(s)]) for i, s in enumerate(cat["gaia_dr3_id"]) if int(s) in by_id]
    ic, ir = (np.array(x) for x in zip(*rows, strict=True))
    out = {}
    for ours, theirs in pairs.items():
        d = np.asarray(cat[ours][ic], dtype=float) - np.asarray(ref[theirs][ir], dtype=float)
        d = d[np.isfinite(d)]
        med = np.median(d)
        out[ours] = (d.size, med, d.mean(), d.std(ddof=1), MAD_SCALE * np.median(np.abs(d - med)),
                     np.sqrt(np.mean(d ** 2)))
    return out, ic.size


def _assert_stats_equal(stats: Table, expected: dict) -> None:
    """The CLI's comparison_stats rows equal the direct computation, parameter by parameter."""
    assert sorted(stats["parameter"]) == sorted(expected)
    for row in stats:
        n, med, mean, sigma, mad, rmse = expected[row["parameter"]]
        assert row["n"] == n, row["parameter"]
        assert np.allclose([row["median_offset"], row["mean_offset"], row["sigma"], row["mad"], row["rmse"]],
                           [med, mean, sigma, mad, rmse], rtol=1e-6, atol=0)  # float32 reference values


@pytest.mark.dachs
def test_compare_cli_andrae_from_mirror_equal_direct(dachs_url, reference_fixtures, catalogue, tmp_path):
    path, cat = catalogue
    out = tmp_path / "andrae"
    assert _run(["compare", "--catalogue", str(path), "--vizier", "andrae2023", "--tap-url", dachs_url,
                 "--names", "sql", "--upload-chunk", "5000", "--out", str(out)]) == 0
    stats = Table.read(out / "comparison_stats.ecsv")
    a = ANDRAE_2023.columns
    expected, n_common = _compare_direct(cat, reference_fixtures[ANDRAE_2023.table], a["source_id"],
                                         {"ml_teff": a["teff"], "ml_logg": a["logg"], "ml_feh": a["mh"]})
    assert n_common == 3000  # the ids not in the synthetic sky never match
    _assert_stats_equal(stats, expected)
    assert (out / "comparison_density.png").is_file()


@pytest.mark.dachs
def test_compare_apokasc_api_with_cut_equal_direct(dachs_url, reference_fixtures, catalogue):
    _, cat = catalogue
    comp = compare_with_vizier(cat, "apokasc3", below=("logg", 2.5), tap_url=dachs_url, names="sql",
                               retries=1)
    k = APOKASC3.columns
    ref = reference_fixtures[APOKASC3.table]
    logg = np.asarray(ref[k["logg"]], dtype=float)
    assert (logg == APOKASC3_NULL).sum() > 0  # the fixture holds missing values ...
    expected, _ = _compare_direct(cat, ref, k["source_id"], {"ml_logg": k["logg"]},
                                  mask=(logg < 2.5) & (logg != APOKASC3_NULL))  # ... never compared
    row = comp.stats[0]
    n, med, mean, sigma, mad, rmse = expected["ml_logg"]
    assert (row["parameter"], row["n"]) == ("ml_logg", n)
    assert np.allclose([row["median_offset"], row["mean_offset"], row["sigma"], row["mad"], row["rmse"]],
                       [med, mean, sigma, mad, rmse], rtol=1e-12, atol=0)


@pytest.mark.dachs
def test_compare_no_overlap_is_a_clear_error(dachs_url, fixture_tables, tmp_path):
    ids = np.asarray(fixture_tables["gaia_source"]["source_id"], dtype=np.int64)
    stranger = Table({"gaia_dr3_id": ids.max() + 1000 + np.arange(50), "ml_logg": np.full(50, 2.0)})
    stranger.write(tmp_path / "far.fits")
    with pytest.raises(NoOverlapError, match="APOKASC-3 .*has none of the catalogue's 50 Gaia DR3 ids"):
        _run(["compare", "--catalogue", str(tmp_path / "far.fits"), "--vizier", "apokasc3",
              "--tap-url", dachs_url, "--names", "sql", "--out", str(tmp_path / "o")])
    assert not (tmp_path / "o").exists()


@pytest.fixture(scope="module")
def pastel_catalogue(fixture_tables, tmp_path_factory):
    """Every synthetic-sky star with ra, dec (J2016.0), its gaia_source proper motions (the
    ones the PASTEL fixture was placed with) and predictions, as a FITS file; plus the truth."""
    manifest = json.loads((FIXTURE_DIR / "manifest.json").read_text())
    truth = Table.read(FIXTURE_DIR / manifest["references"]["extra_files"]["pastel_truth"])
    gaia = fixture_tables["gaia_source"]
    ids = np.asarray(gaia["source_id"], dtype=np.int64)
    rng = np.random.default_rng(23)
    pm = {c: np.ma.filled(np.ma.asarray(gaia[c], dtype=float), np.nan) for c in ("pmra", "pmdec")}
    cat = Table({"gaia_dr3_id": ids, "ra": np.asarray(gaia["ra"], float),
                 "dec": np.asarray(gaia["dec"], float), **pm,
                 "ml_feh": rng.normal(-2.5, 0.5, ids.size),
                 "ml_teff": rng.normal(5500, 400, ids.size), "ml_logg": rng.normal(2.5, 1.0, ids.size)})
    row = {s: i for i, s in enumerate(ids)}
    # the fixture's proper motions are gaia_source's: fetching them from the Gaia TAP is testable
    for s, pa, pd in zip(truth["source_id"], truth["pmra"], truth["pmdec"], strict=True):
        if s >= 0:
            assert (cat["pmra"][row[s]], cat["pmdec"][row[s]]) == (pa, pd)
    cat["ml_feh"][rng.random(ids.size) < 0.1] = np.nan
    path = tmp_path_factory.mktemp("pastelcat") / "catalogue.fits"
    cat.write(path)
    return path, cat, truth


def _pastel_direct(entries, truth, roles=("teff", "logg", "feh"), skip_kinds=()):
    """Median of the entries with [Fe/H] < -2 of each true star, computed here, as a reference
    table keyed by source_id (foreign stars and ``skip_kinds`` left out)."""
    c = PASTEL.columns
    feh = np.ma.filled(np.ma.asarray(entries[c["feh"]], dtype=float), np.nan)
    use = (feh < -2.0) & (np.asarray(truth["source_id"]) >= 0) & ~np.isin(truth["kind"], skip_kinds)
    out = {}
    for s in np.unique(np.asarray(truth["source_id"])[use]):
        sel = use & (np.asarray(truth["source_id"]) == s)
        out[int(s)] = [np.nanmedian(np.ma.filled(np.ma.asarray(entries[c[r]][sel], dtype=float),
                                                 np.nan)) for r in roles]
    ref = Table(rows=[(s, *v) for s, v in out.items()], names=("source_id", *roles))
    return ref


@pytest.mark.dachs
def test_compare_cli_pastel_by_position_equal_direct(dachs_url, reference_fixtures,
                                                     pastel_catalogue, tmp_path):
    path, cat, truth = pastel_catalogue
    entries = reference_fixtures[PASTEL.table]
    assert len(entries) == len(truth)
    # the fixture holds several entries per star, stars above -2, straddling and fast ones
    assert np.bincount(np.unique(entries["ID"], return_inverse=True)[1]).max() > 1
    assert {"rich", "straddling", "fast", "foreign"} <= set(truth["kind"])
    out = tmp_path / "pastel"
    assert _run(["compare", "--catalogue", str(path), "--vizier", "pastel", "--tap-url", dachs_url,
                 "--names", "sql", "--upload-chunk", "4000", "--out", str(out)]) == 0
    stats = Table.read(out / "comparison_stats.ecsv")
    ref = _pastel_direct(entries, truth)
    fast = set(np.asarray(truth["source_id"])[truth["kind"] == "fast"])
    assert fast & set(ref["source_id"])  # fast movers are found after propagation
    expected, n_common = _compare_direct(cat, ref, "source_id",
                                         {"ml_teff": "teff", "ml_logg": "logg", "ml_feh": "feh"})
    rich = set(np.asarray(truth["source_id"])[truth["kind"] == "rich"])
    assert not rich & set(ref["source_id"])  # stars above -2 never compared
    _assert_stats_equal(stats, expected)


@pytest.mark.dachs
def test_compare_cli_pastel_without_pm_fetches_gaia_equal_direct(dachs_url, reference_fixtures,
                                                                 pastel_catalogue, tmp_path,
                                                                 capsys):
    path, cat, truth = pastel_catalogue
    # the final catalogue has no proper motion; add three ids gaia_source does not have
    final = cat[[c for c in cat.colnames if c not in ("pmra", "pmdec")]]
    strangers = Table({"gaia_dr3_id": cat["gaia_dr3_id"].max() + 1 + np.arange(3),
                       "ra": np.full(3, 52.0), "dec": np.full(3, 8.0), "ml_feh": np.full(3, -2.5),
                       "ml_teff": np.full(3, 5000.0), "ml_logg": np.full(3, 2.0)})
    final = vstack([final, strangers])
    final.write(tmp_path / "final.fits")
    with pytest.raises(SchemaError, match="lacks column.*pmra.*propagate"):
        compare_with_vizier(final, "pastel", tap_url=dachs_url, names="sql",
                            gaia_astrometry=False, retries=1)
    out = tmp_path / "pastel"
    assert _run(["compare", "--catalogue", str(tmp_path / "final.fits"), "--vizier", "pastel",
                 "--tap-url", dachs_url, "--gaia-tap-url", dachs_url, "--names", "sql",
                 "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "3 Gaia DR3 id(s) not found there, not matched" in printed
    assert str(strangers["gaia_dr3_id"][0]) in printed
    missing = Table.read(out / "gaia_missing_ids.ecsv")
    assert sorted(missing["gaia_dr3_id"]) == sorted(strangers["gaia_dr3_id"])
    stats = Table.read(out / "comparison_stats.ecsv")
    assert stats.meta["n_gaia_missing"] == 3
    assert "gaiadr3.gaia_source" in stats.meta["gaia_astrometry"]
    pairs = {"ml_teff": "teff", "ml_logg": "logg", "ml_feh": "feh"}
    entries = reference_fixtures[PASTEL.table]
    ref = _pastel_direct(entries, truth)
    fast = set(np.asarray(truth["source_id"])[truth["kind"] == "fast"])
    assert fast <= set(ref["source_id"])
    expected, _ = _compare_direct(cat, ref, "source_id", pairs)
    without_fast, _ = _compare_direct(cat, ref[~np.isin(ref["source_id"], list(fast))],
                                      "source_id", pairs)
    assert sorted(stats["parameter"]) == sorted(expected)
    for row in stats:
        n, med, mean, sigma, mad, rmse = expected[row["parameter"]]
        assert row["n"] == n and n > without_fast[row["parameter"]][0]  # fast movers compared
        assert np.allclose([row["median_offset"], row["mean_offset"], row["sigma"], row["mad"], row["rmse"]],
                           [med, mean, sigma, mad, rmse], rtol=1e-6, atol=0)  # float32 reference values


@pytest.mark.dachs
def test_pastel_gaia_astrometry_none_found_is_a_clear_error(dachs_url, pastel_catalogue):
    _, cat, _ = pastel_catalogue
    strangers = Table({"gaia_dr3_id": cat["gaia_dr3_id"].max() + 1 + np.arange(4),
                       "ra": np.full(4, 52.0), "dec": np.full(4, 8.0)})
    with pytest.raises(EmptyInputError, match=r"none of the catalogue's 4 Gaia DR3 ids "
                                              r"\(gaia_dr3_id\) is in gaiadr3.gaia_source"):
        pastel_references(strangers, tap_url=dachs_url, names="sql", gaia_tap_url=dachs_url,
                          retries=1)


@pytest.mark.dachs
def test_pastel_api_reduction_and_no_propagation(dachs_url, reference_fixtures, pastel_catalogue):
    _, cat, truth = pastel_catalogue
    entries = reference_fixtures[PASTEL.table]
    ref = pastel_references(cat, tap_url=dachs_url, names="sql", retries=1)
    direct = _pastel_direct(entries, truth)
    assert sorted(ref["source_id"]) == sorted(direct["source_id"])
    ref.sort("source_id")
    direct.sort("source_id")
    for role in ("teff", "logg", "feh"):
        assert np.allclose(ref[role], direct[role], rtol=1e-6, atol=0, equal_nan=True)
    assert (ref["feh"] < -2).all() and (ref["match_distance"] < 1.0).all()
    assert "CONTAINS(POINT('ICRS'" in ref.meta["query"] and "< -2.0" in ref.meta["query"]
    # without propagation the fast movers (2.4-4.8 arcsec in 16 yr) are lost; stars that moved
    # less than 0.6 arcsec (+ < 0.3 arcsec fixture jitter) stay
    still = set(pastel_references(cat, tap_url=dachs_url, names="sql", propagate=False,
                                  retries=1)["source_id"])
    shift = np.hypot(truth["pmra"], truth["pmdec"]) * (GAIA_EPOCH - PASTEL_EPOCH) / 1000.0
    slow = set(np.asarray(truth["source_id"])[shift < 0.6]) & set(direct["source_id"])
    fast = set(np.asarray(truth["source_id"])[truth["kind"] == "fast"])
    assert fast and not fast & still
    assert slow <= still <= set(direct["source_id"])
    moved = propagate_positions(cat["ra"], cat["dec"], cat["pmra"], cat["pmdec"],
                                PASTEL_EPOCH - GAIA_EPOCH)
    assert not np.allclose(moved[0], cat["ra"])
    with pytest.raises(SchemaError, match="lacks column.*pmra.*propagate"):
        pastel_references(cat[["gaia_dr3_id", "ra", "dec"]], tap_url=dachs_url, names="sql",
                          gaia_astrometry=False)


@pytest.mark.dachs
def test_compare_pastel_no_overlap_is_a_clear_error(dachs_url, pastel_catalogue, tmp_path):
    _, cat, truth = pastel_catalogue
    far = cat[~np.isin(cat["gaia_dr3_id"], truth["source_id"])]
    far.write(tmp_path / "far.fits")
    with pytest.raises(NoOverlapError, match=r"PASTEL \(B/pastel\) has no entry with feh < -2.0 "
                                             r"within 1.0 arcsec of the catalogue's \d+ stars"):
        _run(["compare", "--catalogue", str(tmp_path / "far.fits"), "--vizier", "pastel",
              "--tap-url", dachs_url, "--names", "sql", "--out", str(tmp_path / "o")])
    assert not (tmp_path / "o").exists()


def test_cli_keys_match_the_presets():
    assert set(validate.COMPARISON_KEYS) == set(COMPARISONS)


def test_cli_refuses_mixed_or_missing_sources(tmp_path):
    Table({"gaia_dr3_id": [1, 2], "ml_feh": [0.0, 0.1]}).write(tmp_path / "c.fits")
    Table({"cluster": ["a"], "source_id": [1], "memberprob": [0.9]}).write(tmp_path / "m.ecsv")
    cat, mem, out = str(tmp_path / "c.fits"), str(tmp_path / "m.ecsv"), str(tmp_path / "o")
    with pytest.raises(SystemExit, match="do not pass --members/--reference"):
        _run(["clusters", "--catalogue", cat, "--from-vizier", "open", "--members", mem, "--out", out])
    with pytest.raises(SystemExit, match="Zenodo"):
        _run(["clusters", "--catalogue", cat, "--from-vizier", "globular", "--out", out])
    with pytest.raises(SystemExit, match="do not pass --reference"):
        _run(["clusters", "--catalogue", cat, "--from-vizier", "globular", "--members", mem,
              "--reference", mem, "--out", out])
    with pytest.raises(SystemExit, match="--reference is required"):
        _run(["clusters", "--catalogue", cat, "--members", mem, "--out", out])
    with pytest.raises(SystemExit, match="exactly one of --reference FILE and --vizier KEY"):
        _run(["compare", "--catalogue", cat, "--out", out])
    with pytest.raises(SystemExit, match="needs --name and --columns"):
        _run(["compare", "--catalogue", cat, "--reference", mem, "--out", out])
    with pytest.raises(SystemExit, match="apply to --vizier pastel only"):
        _run(["compare", "--catalogue", cat, "--vizier", "apokasc3", "--match-radius", "2",
              "--out", out])
    with pytest.raises(SystemExit, match="apply to --vizier pastel only"):
        _run(["compare", "--catalogue", cat, "--vizier", "andrae2023", "--gaia-tap-url",
              "http://127.0.0.1:1/tap", "--out", out])
    with pytest.raises(SystemExit, match="--gaia-tap-url .*not with --no-propagate"):
        _run(["compare", "--catalogue", cat, "--vizier", "pastel", "--gaia-tap-url",
              "http://127.0.0.1:1/tap", "--no-propagate", "--out", out])
    assert not (tmp_path / "o").exists()
