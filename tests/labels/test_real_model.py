"""The label stage of build-model: each fetched table is reduced at once, and the combined labels
equal those of the full tables (real APOGEE DR17 and GALAH DR3 values)."""

from __future__ import annotations

import numpy as np
from test_build import _schema, real  # noqa: F401  (the module's fixture of real rows)

from sos_vo.labels.build import LABEL_VALUE_COLUMNS, compact_labels, homogenise_labels
from sos_vo.labels.real_model import label_stage


def test_label_stage_keeps_only_the_label_columns_and_equals_the_full_homogenisation(real):  # noqa: F811
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

    def fetch(key):
        seen.append(key)
        return full[key]

    stage = label_stage(list(full), fetch)
    assert seen == list(full)
    for key, t in stage.labels.items():
        assert t.colnames == ["source_id", *LABEL_VALUE_COLUMNS]
        assert t.meta["provenance"] == {"rows": len(full[key])}
    want = homogenise_labels(full).spectro_table()
    got = stage.spectro
    assert got.colnames == want.colnames and len(got) == len(want)
    for c in got.colnames:
        if got[c].dtype.kind == "f":
            np.testing.assert_array_equal(np.asarray(got[c]), np.asarray(want[c]))
        else:
            assert list(got[c]) == list(want[c])
    assert stage.provenance["label_sources"]["lamost-lrs"] == {"rows": 600}


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
