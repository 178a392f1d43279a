"""The label stage of build-model: label rows streamed to disk and homogenised by source_id
partition; the combined labels equal those of one pass (real APOGEE DR17 and GALAH DR3 values)."""

from __future__ import annotations

import numpy as np
import pytest
from astropy.table import Table
from test_build import _schema, real  # noqa: F401  (the module's fixture of real rows)

from sos_vo.labels.build import compact_labels, homogenise_labels
from sos_vo.labels.real_model import label_stage


def test_label_stage_streams_the_chunks_and_equals_the_full_homogenisation(real, tmp_path):  # noqa: F811
    apo, gal = real
    rng = np.random.default_rng(1)
    pick = np.sort(rng.choice(len(apo), 600, replace=False))
    lamost = apo[pick]
    lamost["survey"] = "lamost-lrs"
    lamost["teff"] = lamost["teff"] + 35.0 + rng.normal(0, 25, pick.size)
    full = {"apogee-dr17": apo, "galah-dr3": gal, "lamost-lrs": lamost}
    for t in full.values():
        t.meta["provenance"] = {"rows": len(t)}
    seen = []

    class Stream:
        """A label stream of three chunks whose provenance is set once iterated."""

        def __init__(self, t):
            self.t, self.provenance = t, None

        def __iter__(self):
            n = len(self.t)
            yield from (self.t[: n // 3], self.t[n // 3: 2 * n // 3], self.t[2 * n // 3:])
            self.provenance = self.t.meta["provenance"]

    def fetch(key):
        seen.append(key)
        return full[key] if key == "galah-dr3" else Stream(full[key])

    stage = label_stage(list(full), fetch, work_dir=tmp_path, partition_rows=50)
    assert seen == list(full)
    assert stage.labels == {k: len(t) for k, t in full.items()}
    assert list(tmp_path.iterdir()) == []  # the filed rows are removed
    want = homogenise_labels(full).spectro_table()
    got = stage.spectro
    assert got.colnames == want.colnames and len(got) == len(want)
    for c in got.colnames:
        if got[c].dtype.kind == "f":
            # float32 of values equal to 1e-12 relative (see _assert_same_build): may differ by an ulp
            np.testing.assert_allclose(np.asarray(got[c]), np.asarray(want[c]), rtol=1e-6, atol=0)
        else:
            assert list(got[c]) == list(want[c])
    assert stage.provenance["label_sources"]["lamost-lrs"] == {"rows": 600}
    assert stage.provenance["homogenisation"]["n_stars"] == len(want)


def _assert_same_build(a, b, rtol=1e-12):
    """Two LabelBuilds: integers and text equal, floats equal to ``rtol`` (the calibration
    offsets of a partition are a BLAS product over another block of rows, which may change the
    last bit); the survey-to-survey scatter, a root of sums of squared differences of nearly
    equal values, to ``rtol`` of its column's largest value."""
    assert a.combined.colnames == b.combined.colnames and len(a.combined) == len(b.combined)
    for one, other in ((a.combined, b.combined), (a.report, b.report)):
        for c in one.colnames:
            x, y = one[c], other[c]
            if x.dtype.kind == "f":
                x, y = np.asarray(x), np.asarray(y)
                atol = rtol * np.nanmax(np.abs(x)) if "scatter" in c else 0.0
                np.testing.assert_array_equal(np.isnan(x), np.isnan(y))
                np.testing.assert_allclose(y, x, rtol=rtol, atol=atol, err_msg=c)
            else:
                assert list(x) == list(y), c
    assert a.provenance == b.provenance
    assert a.combined.meta == b.combined.meta


def test_many_partitions_equal_one(real):  # noqa: F811
    """The partitioned homogenisation with one cell per partition (hundreds of partitions)
    against one partition: pairs, fits, report and combined labels."""
    from sos_vo.labels.spill import LabelSpill

    apo, gal = real
    rng = np.random.default_rng(5)
    other = apo[np.sort(rng.choice(len(apo), 800, replace=False))]
    other["teff"] = other["teff"] - 50.0 + rng.normal(0, 30, len(other))
    other["feh"] = other["feh"] + 0.07 - 0.05 * other["feh"]
    gal2 = gal[np.sort(rng.choice(len(gal), 500, replace=False))]
    gal2["logg"] = gal2["logg"] + 0.1
    surveys = {"apogee-dr17": apo, "galah-dr3": gal, "lamost-lrs": other, "gaia-eso": gal2}
    with LabelSpill() as spill:
        for k, t in surveys.items():
            spill.add(k, t)
        assert len(spill.partitions(1)) > 100
    one = homogenise_labels(surveys, partition_rows=10**9)
    many = homogenise_labels(surveys, partition_rows=1)
    _assert_same_build(one, many)
    # the fits saw the same pairs in the same order: the calibrations are the same numbers
    for name, cals in one.calibrations.items():
        for lab, cal in cals.items():
            np.testing.assert_array_equal(cal.coefficients, many.calibrations[name][lab].coefficients)


def test_fit_sample_cap_is_independent_of_the_partitions(real, monkeypatch):  # noqa: F811
    from sos_vo.labels import build

    apo, gal = real
    rng = np.random.default_rng(6)
    other = apo[np.sort(rng.choice(len(apo), 900, replace=False))]
    other["teff"] = other["teff"] + 40.0 + rng.normal(0, 30, len(other))
    surveys = {"apogee-dr17": apo, "galah-dr3": gal, "lamost-lrs": other}
    full = homogenise_labels(surveys)
    monkeypatch.setattr(build, "MAX_FIT_PAIRS", 300)
    one = homogenise_labels(surveys, partition_rows=10**9)
    many = homogenise_labels(surveys, partition_rows=7)
    _assert_same_build(one, many)
    r_full, r_cap = (b.report[list(b.report["survey"]).index("lamost-lrs")] for b in (full, one))
    assert r_cap["n_pairs"] == r_full["n_pairs"] == 900  # every pair counted, 300 fitted
    assert r_cap["offset_teff"] != r_full["offset_teff"]  # the median of the sample
    assert abs(r_cap["offset_teff"] - 40.0) < 10 and abs(r_cap["offset_after_teff"]) < 5
    ids = np.asarray(other["source_id"])
    kept = np.sort(ids[np.argsort(build.pair_hash(ids), kind="stable")[:300]])
    sample = build._PairSample(300)
    for start in range(0, 900, 128):
        sample.add(Table({"source_id": ids[start:start + 128],
                          **{c: np.zeros(len(ids[start:start + 128]))
                             for c in build._PAIR_COLUMNS}}))
    assert np.array_equal(sample.table()["source_id"], kept) and sample.n_total == 900


def test_compact_labels_fills_masked_values_with_nan():
    t = _schema([1, 2], [5000, 5100], [50, 60], [4.0, 4.1], [0.1, 0.1], [0.0, -0.2],
                [0.05, 0.05], "x")
    from astropy.table import MaskedColumn

    t["feh"] = MaskedColumn([0.0, -0.2], mask=[False, True])
    c = compact_labels(t)
    assert np.isnan(c["feh"][1]) and c["feh"][0] == 0.0 and c["source_id"].dtype == np.int64


def test_offsets_evaluated_in_chunks_equal_one_pass(real, monkeypatch):  # noqa: F811
    from sos_vo.labels import build

    apo, gal = real
    rng = np.random.default_rng(2)
    other = apo[np.sort(rng.choice(len(apo), 700, replace=False))]
    other["teff"] = other["teff"] - 50.0 + rng.normal(0, 30, len(other))
    other["feh"] = other["feh"] + 0.07
    surveys = {"apogee-dr17": apo, "galah-dr3": gal, "lamost-lrs": other}
    one = homogenise_labels(surveys)
    monkeypatch.setattr(build, "OFFSET_CHUNK_ROWS", 97)
    chunked = homogenise_labels(surveys)
    # equal up to the last bit of a matrix product (BLAS sums a block of rows in another order)
    for c in one.combined.colnames:
        a, b = one.combined[c], chunked.combined[c]
        if a.dtype.kind == "f":
            np.testing.assert_allclose(np.asarray(b), np.asarray(a), rtol=1e-12, atol=0)
        else:
            assert list(a) == list(b)
    for c in one.report.colnames:
        a, b = one.report[c], chunked.report[c]
        if a.dtype.kind == "f":
            np.testing.assert_allclose(np.asarray(b), np.asarray(a), rtol=1e-12, atol=1e-12)
        else:
            assert list(a) == list(b)


@pytest.fixture
def mirror(monkeypatch):
    """The local DaCHS mirror's label tables (skip, or fail under SOS_VO_REQUIRE_SERVICES=1,
    when it is not running), VizieR tables under their SQL names."""
    import os

    import requests

    url = os.environ.get("SOS_VO_DACHS_URL", "http://127.0.0.1:8080/tap")
    try:
        ok = requests.get(url + "/capabilities", timeout=10).status_code == 200
    except requests.RequestException:
        ok = False
    if not ok:
        if os.environ.get("SOS_VO_REQUIRE_SERVICES") == "1":
            pytest.fail(f"no DaCHS mirror at {url}")
        pytest.skip(f"no DaCHS mirror at {url} (run tools/setup_dachs.sh)")
    monkeypatch.setenv("SOS_VO_VIZIER_NAMES", "sql")
    return url


@pytest.mark.dachs
def test_label_stage_on_the_mirror_many_partitions_equal_one(mirror, tmp_path):
    """Streamed from the mirror chunk by chunk (order-2 cells), one cell per partition against
    one partition: the same combined labels, report and provenance, to the bit."""
    from sos_vo.archives.label_source import stream_labels

    keys = ["apogee-dr17", "galah-dr3", "lamost-lrs", "segue-sspp"]

    def fetch(key):
        return stream_labels(key, None, tap_url=mirror, cache_dir=tmp_path / "cache",
                             progress=False, use_async=False, chunk_order=2)

    one = label_stage(keys, fetch, partition_rows=10**9)
    many = label_stage(keys, fetch, partition_rows=1, work_dir=tmp_path / "work")
    assert list((tmp_path / "work").iterdir()) == []
    assert one.labels == many.labels and min(one.labels.values()) > 100
    assert one.provenance == many.provenance
    for a, b in ((one.spectro, many.spectro), (one.report, many.report)):
        assert a.colnames == b.colnames and len(a) == len(b)
        for c in a.colnames:
            x, y = np.asarray(a[c]), np.asarray(b[c])
            if x.dtype.kind == "f":  # here the same numbers, to the bit
                np.testing.assert_array_equal(y, x, err_msg=c)
            else:
                assert x.tolist() == y.tolist(), c
