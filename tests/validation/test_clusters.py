import numpy as np
import pytest
from astropy.table import Table

from sos_vo.validation import (
    MIN_MEMBERS,
    cluster_key,
    cluster_residuals,
    members_table,
    plot_cluster_boxplots,
    reference_table,
)


def _direct_stats(r):
    return (r.mean(), r.std(ddof=1), np.median(r), 1.4826 * np.median(np.abs(r - np.median(r))))


def _setup(seed=0):
    """Catalogue and members of 4 clusters: 25, 21, 20 predicted members, and one without reference."""
    rng = np.random.default_rng(seed)
    refs = Table({"cluster": ["NGC 104", "NGC 7078", "NGC 2682", "NGC 6121"], "feh": [-0.72, -2.37, 0.0, np.nan]})
    ids, feh, mem_cluster, mem_ids = [], [], [], []
    next_id = 1000
    plan = {"NGC_104": (25, -0.72), "NGC_7078": (21, -2.37), "NGC 2682": (20, 0.0), "NGC6121": (30, -1.16)}
    for name, (n_pred, ref) in plan.items():
        for i in range(n_pred + 4):  # 4 extra members: 2 with NaN predictions, 2 not in the catalogue
            sid = next_id
            next_id += 1
            mem_cluster.append(name)
            mem_ids.append(sid)
            if i < n_pred:
                ids.append(sid)
                feh.append(ref + rng.normal(0.05, 0.1))
            elif i < n_pred + 2:
                ids.append(sid)
                feh.append(np.nan)
    cat = Table({"gaia_dr3_id": np.array(ids, dtype=np.int64), "ml_feh": np.array(feh)})
    cat = cat[rng.permutation(len(cat))]
    members = Table({"cluster": mem_cluster, "source_id": mem_ids, "prob": np.full(len(mem_ids), 0.9)})
    return cat, members_table(members), reference_table(refs)


def test_statistics_equal_direct_computation_and_small_clusters_are_skipped():
    cat, members, refs = _setup()
    res = cluster_residuals(cat, members, refs)
    assert list(res.stats["cluster"]) == ["NGC_7078", "NGC_104"]  # sorted by ascending [Fe/H]_ref
    lookup = dict(zip(cat["gaia_dr3_id"], cat["ml_feh"], strict=True))
    for row in res.stats:
        sids = members["source_id"][members["cluster"] == row["cluster"]]
        r = np.array([lookup[s] for s in sids if s in lookup and np.isfinite(lookup[s])]) - row["feh_ref"]
        assert row["n_predicted"] == r.size and row["n_members"] == sids.size
        np.testing.assert_allclose([row["mean"], row["sigma"], row["median"], row["mad"]], _direct_stats(r))
        np.testing.assert_allclose(np.sort(res.residuals[row["cluster"]]), np.sort(r))
    skipped = {r["cluster"]: r for r in res.skipped}
    assert skipped["NGC 2682"]["n_predicted"] == MIN_MEMBERS  # exactly 20 is not "more than 20"
    assert "need > 20" in skipped["NGC 2682"]["reason"]
    assert skipped["NGC6121"]["reason"] == "no reference [Fe/H]"
    assert "NGC 2682" not in res.residuals
    pooled = np.concatenate([res.residuals[c] for c in res.stats["cluster"]])
    assert res.pooled() == pytest.approx((pooled.mean(), pooled.std(ddof=1)))


def test_probability_cut_is_strict():
    t = Table({"Name": ["A", "A", "A"], "GaiaDR3": [1, 2, 3], "Prob": [0.79, 0.8, 0.81]})
    m = members_table(t, cluster="Name", source_id="GaiaDR3", prob="Prob", min_prob=0.8)
    assert list(m["source_id"]) == [3]


def test_cluster_key_matches_catalogue_spellings():
    assert cluster_key("NGC 104") == cluster_key("NGC_104") == cluster_key("ngc_0104") == "NGC104"
    assert cluster_key("Pal 10") == "PAL10"
    assert cluster_key("Melotte_22") == cluster_key("Melotte 22")


def test_boxplot_written(tmp_path):
    cat, members, refs = _setup(1)
    res = cluster_residuals(cat, members, refs)
    png = plot_cluster_boxplots({"SoS-ML": res, "other": res}, tmp_path / "box.png")
    assert png.stat().st_size > 1000
