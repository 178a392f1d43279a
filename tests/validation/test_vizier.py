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
from astropy.table import Table

from sos_vo.commands import validate
from sos_vo.validation.clusters import MIN_MEMBERS
from sos_vo.validation.compare import NoOverlapError
from sos_vo.validation.mirror import FAKE_GLOBULARS
from sos_vo.validation.references import (
    ANDRAE_2023,
    APOKASC3,
    APOKASC3_NULL,
    COMPARISONS,
    HARRIS_1996,
    HR24_MEMBERS,
    NETOPIL_2016,
)
from sos_vo.validation.vizier import compare_with_vizier

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
    assert sorted(stats["parameter"]) == sorted(expected)
    for row in stats:
        n, med, mean, sigma, mad, rmse = expected[row["parameter"]]
        assert row["n"] == n
        assert np.allclose([row["median_offset"], row["mean_offset"], row["sigma"], row["mad"], row["rmse"]],
                           [med, mean, sigma, mad, rmse], rtol=1e-6, atol=0)  # float32 reference values
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
    assert not (tmp_path / "o").exists()
