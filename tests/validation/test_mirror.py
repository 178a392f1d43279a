"""Reference catalogues over TAP from the local DaCHS mirror (tools/dachs_mirror/references.py).

The tests marked ``dachs`` fetch the fixture tables through
:func:`sos_vo.validation.references.fetch_vizier` (TapClient, conf, SQL name mapping) and
compare with the rows ``tools/setup_dachs.sh`` imported, read from its ECSV copies.
"""

import numpy as np
import pytest
from astropy.table import Table
from dachs_mirror.references import (
    FAKE_CLUSTERS,
    REFERENCE_RESOURCE,
    reference_fixture_tables,
    write_reference_mirror,
)

from sos_vo.archives import conf
from sos_vo.validation.clusters import (
    MIN_MEMBERS,
    cluster_residuals,
    members_table,
    reference_table,
)
from sos_vo.validation.references import HR24_MEMBERS, NETOPIL_2016, column_ref, fetch_vizier

MAD_SCALE = 1.4826  # T25 footnote 6, written out for the direct computation


def test_fixture_members_are_distinct_gaia_sources(tmp_path):
    gaia = Table({"source_id": np.arange(1000, 6000, dtype=np.int64)})
    tables = reference_fixture_tables(gaia)
    members = tables[HR24_MEMBERS.table]
    assert set(members["GaiaDR3"]) <= set(gaia["source_id"])
    assert len(set(members["GaiaDR3"])) == len(members)
    assert set(tables[NETOPIL_2016.table]["Cluster"]) == set(FAKE_CLUSTERS)
    info = write_reference_mirror(tables, tmp_path)
    rd = (tmp_path / "rd" / REFERENCE_RESOURCE / "q.rd").read_text()
    assert 'id="j_a_a_686_a42_members"' in rd and 'name="fe_h_hqs"' in rd
    back = Table.read(tmp_path / info["files"][NETOPIL_2016.table])
    assert back.colnames == ["Cluster", "[Fe/H]HQS", "e_[Fe/H]HQS"]


@pytest.mark.dachs
def test_members_over_tap_equal_fixture(dachs_url, reference_fixtures):
    expected = reference_fixtures[HR24_MEMBERS.table]
    where = f"{column_ref('Name', 'sql')} = 'SOSVO_FAKE_1'"
    got = fetch_vizier(HR24_MEMBERS, where=where, tap_url=dachs_url, names="sql", retries=1)
    assert got.colnames == ["cluster", "source_id", "prob"]
    want = expected[expected["Name"] == "SOSVO_FAKE_1"]
    assert sorted(got["source_id"]) == sorted(want["GaiaDR3"])
    by_id = dict(zip(want["GaiaDR3"], want["Prob"], strict=True))
    assert np.allclose([by_id[s] for s in got["source_id"]], got["prob"])


@pytest.mark.dachs
def test_cluster_residuals_from_mirror_equal_direct(dachs_url, fixture_tables, reference_fixtures):
    rng = np.random.default_rng(3)
    ids = np.asarray(fixture_tables["gaia_source"]["source_id"], dtype=np.int64)
    feh = rng.normal(-0.1, 0.2, ids.size)
    feh[rng.random(ids.size) < 0.1] = np.nan  # stars without a prediction are not counted
    catalogue = Table({"gaia_dr3_id": ids, "ml_feh": feh})

    with conf.set_temp("vizier_tap_url", dachs_url), conf.set_temp("vizier_names", "sql"):
        members = fetch_vizier(HR24_MEMBERS, retries=1)
        refs = fetch_vizier(NETOPIL_2016, roles=["cluster", "feh"], retries=1)
    result = cluster_residuals(catalogue, members_table(members), reference_table(refs))

    # direct computation from the imported rows
    pred = dict(zip(ids, feh, strict=True))
    mem, ref = reference_fixtures[HR24_MEMBERS.table], reference_fixtures[NETOPIL_2016.table]
    expected = {}
    for name, feh_ref in zip(ref["Cluster"], ref["[Fe/H]HQS"], strict=True):
        values = np.array([pred[s] for s in mem["GaiaDR3"][mem["Name"] == name]])
        r = values[np.isfinite(values)] - feh_ref
        if r.size > MIN_MEMBERS:
            med = np.median(r)
            expected[name] = (r.size, r.mean(), r.std(ddof=1), med,
                              MAD_SCALE * np.median(np.abs(r - med)))
    assert expected, "the fixture must hold at least one cluster above MIN_MEMBERS"
    assert sorted(result.stats["cluster"]) == sorted(expected)
    for row in result.stats:
        n, mean, sigma, median, mad = expected[row["cluster"]]
        assert row["n_predicted"] == n
        assert np.allclose([row["mean"], row["sigma"], row["median"], row["mad"]],
                           [mean, sigma, median, mad], rtol=1e-12, atol=0)
    assert "SOSVO_FAKE_2" in set(result.skipped["cluster"])
