"""Tests of sos_vo.catalogue.merge (T25 Sect. 5.2, Table 6)."""

from __future__ import annotations

import numpy as np
import pytest
from astropy.table import Table

from sos_vo.catalogue import merge as M
from sos_vo.catalogue.sosid import decode_sosid, healpix_index
from sos_vo.exceptions import EmptyInputError, SchemaError
from sos_vo.schema import CATALOGUE_COLUMNS, CATALOGUE_NAMES


def _pred(survey, source_ids, teff, logg=4.0, feh=-0.2, e_teff=60.0, e_logg=0.1, e_feh=0.1,
          seed=0):
    n = len(source_ids)
    rng = np.random.default_rng(seed)
    joined = Table({"source_id": np.asarray(source_ids, np.int64),
                    "ra": 100.0 + np.asarray(source_ids) * 1e-3, "dec": -20.0 + rng.random(n),
                    M.SURVEY_ID_COLUMN[survey]: np.asarray(source_ids, np.int64) + 7})
    full = lambda v: np.broadcast_to(np.asarray(v, float), (n,)).copy()  # noqa: E731
    return M.make_prediction_table(
        joined, survey,
        median={"teff": full(teff), "logg": full(logg), "feh": full(feh)},
        e_ml={"teff": full(e_teff), "logg": full(e_logg), "feh": full(e_feh)},
        train_set=np.arange(n) % 2 == 0, train_area=np.ones(n, bool))


def test_average_of_stars_in_both_surveys():
    sdss = _pred("sdss", [1, 2, 3], teff=[5000, 5200, 5400], e_teff=[50, 60, 70])
    sm = _pred("skymapper", [2, 3, 4], teff=[5300, 5500, 5600], e_teff=[80, 90, 100])
    m = M.merge_predictions({"sdss": sdss, "skymapper": sm})
    assert list(m["source_id"]) == [1, 2, 3, 4]
    assert list(m["source"]) == ["SDSS", "SDSS+SM", "SDSS+SM", "SM"]
    assert list(m["ml_teff"]) == pytest.approx([5000, (5200 + 5300) / 2, (5400 + 5500) / 2, 5600])
    assert list(m["ml_err_teff"]) == pytest.approx([50, 70, 80, 100])          # mean of errors
    q = M.merge_predictions({"sdss": sdss, "skymapper": sm}, error_combination="quadrature")
    assert q["ml_err_teff"][1] == pytest.approx(np.hypot(60, 80) / 2)
    assert q["ml_err_teff"][0] == pytest.approx(50)
    assert list(m["sdss_objid"]) == [8, 9, 10, 0] and list(m["sm_object_id"]) == [0, 9, 10, 11]
    assert list(m["sdss_train_set"]) == [True, False, True, False]
    assert list(m["sm_train_set"]) == [False, True, False, True]


def test_filters_match_direct_masks():
    rng = np.random.default_rng(2)
    n = 500
    ids = np.arange(1, n + 1)
    teff = rng.uniform(2500, 8500, n)
    p = _pred("skymapper", ids, teff=teff, logg=rng.uniform(-1, 6, n),
              feh=rng.uniform(-4, 1.5, n), e_teff=rng.uniform(0, 0.12, n) * teff,
              e_logg=rng.uniform(0, 1.2, n), e_feh=rng.uniform(0, 1.2, n))
    merged = M.merge_predictions({"skymapper": p})
    kept, report = M.apply_catalogue_filters(merged)
    t, g, f = (np.asarray(p[c]) for c in ("ml_teff", "ml_logg", "ml_feh"))
    et, eg, ef = (np.asarray(p[c]) for c in ("ml_err_teff", "ml_err_logg", "ml_err_feh"))
    masks = [(t >= 3000) & (t <= 8000), (g >= -0.5) & (g <= 5.5), (f >= -3.5) & (f <= 1.0),
             et <= 0.1 * t, eg <= 1.0, ef <= 1.0]
    keep = np.ones(n, bool)
    for step, m in zip(report.steps, masks, strict=True):
        before = keep.sum()
        keep &= m
        assert step.n_removed == before - keep.sum()
    assert list(kept["source_id"]) == list(ids[keep])
    assert 0 < len(kept) < n


def test_build_catalogue_columns_types_and_spectro_rows():
    sdss = _pred("sdss", [10, 20, 30], teff=[5000, 9000, 5400])   # 20 fails Teff <= 8000
    sm = _pred("skymapper", [30, 40], teff=[5600, 4800])
    spectro = Table({"source_id": np.array([20, 40, 50], np.int64),
                     "ra": [100.02, 100.04, 100.05], "dec": [-19.5, -19.6, -19.7],
                     "spec_teff": [8900.0, 4790.0, 6100.0], "spec_err_teff": [90.0, 40, 60],
                     "spec_logg": [4.0, 2.5, 4.3], "spec_err_logg": [0.1, 0.1, 0.1],
                     "spec_feh": [0.0, -0.5, 0.1], "spec_err_feh": [0.1, 0.1, 0.1],
                     "gaia_dr2_id": np.array([0, 444, 555], np.int64)})
    cat = M.build_catalogue({"sdss": sdss, "skymapper": sm}, spectro)
    assert tuple(cat.colnames) == CATALOGUE_NAMES
    for spec in CATALOGUE_COLUMNS:
        col = cat[spec.name]
        assert col.meta["ucd"] == spec.ucd and col.description == spec.description
        assert (str(col.unit) if col.unit else None) == spec.unit
        kind = {"int64": "i", "float64": "f", "float32": "f", "bool": "b", "str": "U"}[spec.dtype]
        assert col.dtype.kind == kind
        if kind == "i" and spec.name != "gaia_dr2_id":  # gaia_dr2_id: null where unknown
            assert not np.ma.is_masked(col)
    rows = {int(r["gaia_dr3_id"]): r for r in cat}
    assert sorted(rows) == [10, 20, 30, 40, 50]
    assert rows[20]["source"] == "Spectro" and np.isnan(rows[20]["ml_teff"])  # filtered -> spectro
    assert rows[20]["spec_teff"] == pytest.approx(8900.0)
    assert rows[30]["source"] == "SDSS+SM" and rows[30]["ml_teff"] == pytest.approx(5500.0)
    assert rows[40]["source"] == "SM" and rows[40]["spec_teff"] == pytest.approx(4790.0)
    assert rows[40]["gaia_dr2_id"] == 444 and rows[10]["gaia_dr2_id"] is np.ma.masked
    assert rows[50]["sdss_objid"] == 0 and rows[50]["sm_object_id"] == 0
    assert not rows[50]["sm_train_area"] and np.isnan(rows[10]["spec_teff"])
    assert rows[30]["sdss_objid"] == 37 and rows[30]["sm_object_id"] == 37
    assert np.all(np.diff(cat["sosid"]) > 0)
    pix, _ = decode_sosid(cat["sosid"])
    assert np.array_equal(pix, healpix_index(cat["ra"], cat["dec"]))
    assert cat.meta["counts"] == {"ml_rows": 3, "spectro_only_rows": 2, "total": 5}
    assert cat.meta["filter_report"][0]["n_removed"] == 1


def test_spectro_only_and_errors():
    spectro = Table({"source_id": np.array([5], np.int64), "ra": [1.0], "dec": [2.0],
                     **{c: [1.0] for c in M.SPEC_COLUMNS}})
    spectro["spec_teff"] = [5000.0]
    cat = M.build_catalogue({}, spectro)
    assert len(cat) == 1 and cat["source"][0] == "Spectro"
    with pytest.raises(EmptyInputError):
        M.build_catalogue({})
    p = _pred("sdss", [1, 1], teff=5000)
    with pytest.raises(SchemaError, match="duplicated"):
        M.build_catalogue({"sdss": p})
    p = _pred("sdss", [1, 2], teff=5000)
    p.remove_column("train_area")
    with pytest.raises(SchemaError, match="train_area"):
        M.build_catalogue({"sdss": p})
    with pytest.raises(ValueError, match="survey"):
        M.build_catalogue({"gaia": _pred("sdss", [1], teff=5000)})
    with pytest.raises(ValueError, match="error_combination"):
        M.merge_predictions({"sdss": _pred("sdss", [1], teff=5000)}, error_combination="max")
