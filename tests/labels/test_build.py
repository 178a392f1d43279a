"""Homogenisation, combination and Eq. 2 refit on real APOGEE DR17 and GALAH DR3 values."""

from __future__ import annotations

import numpy as np
import pytest
from astropy.table import Table
from realdata_files import realdata

from sos_vo.exceptions import EmptyInputError, SchemaError
from sos_vo.homogenise.base import MIN_PAIRS
from sos_vo.labels.build import coefficients_table, homogenise_labels, refit_recalibration
from sos_vo.labels.recalibration import PASTEL_LABEL_COLUMNS, T25_TABLE1, LinearCorrection


def _schema(ids, teff, e_teff, logg, e_logg, feh, e_feh, survey):
    n = len(ids)
    return Table({"source_id": np.asarray(ids, dtype=np.int64), "survey_id": np.full(n, "x"),
                  "ra": np.zeros(n), "dec": np.zeros(n),
                  "teff": np.asarray(teff, float), "e_teff": np.asarray(e_teff, float),
                  "logg": np.asarray(logg, float), "e_logg": np.asarray(e_logg, float),
                  "feh": np.asarray(feh, float), "e_feh": np.asarray(e_feh, float),
                  "survey": np.full(n, survey)})


@pytest.fixture(scope="module")
def real():
    a = Table.read(realdata("apogee_galah_gaia/Apogee_data_filtered_1612.fits"))
    g = Table.read(realdata("apogee_galah_gaia/Galah_data_filtered_1061.fits"))
    apo = _schema(a["dr3_source_id"], a["teff"], a["teff_err"], a["logg"], a["logg_err"],
                  a["fe_h"], a["fe_h_err"], "apogee-dr17")
    gal = _schema(g["dr3_source_id"], g["teff"], g["e_teff"], g["logg"], g["e_logg"],
                  g["fe_h"], g["e_fe_h"], "galah-dr3")
    return apo, gal


def test_known_offset_is_recovered_on_real_values(real):
    apo, gal = real
    rng = np.random.default_rng(3)
    only_apogee = np.flatnonzero(~np.isin(apo["source_id"], gal["source_id"]))
    pick = np.sort(rng.choice(only_apogee, 900, replace=False))  # reference = APOGEE's value
    ref = apo[pick]
    other = ref.copy()
    other["survey"] = "lamost-lrs"
    other["teff"] = ref["teff"] + 40.0 + rng.normal(0, 30, pick.size)
    other["feh"] = ref["feh"] - 0.1 + 0.05 * ref["feh"] + rng.normal(0, 0.03, pick.size)
    build = homogenise_labels({"apogee-dr17": apo, "galah-dr3": gal, "lamost-lrs": other})
    r = build.report[list(build.report["survey"]).index("lamost-lrs")]
    # the report's "before" offset is the median difference, computed here directly
    assert r["offset_teff"] == pytest.approx(np.median(other["teff"] - ref["teff"]))
    assert r["offset_feh"] == pytest.approx(np.median(other["feh"] - ref["feh"]))
    assert 30 < r["offset_teff"] < 50
    assert abs(r["offset_after_teff"]) < 5 and abs(r["offset_after_feh"]) < 0.01
    assert r["n_pairs"] == 900 and r["role"] == "calibrated"
    # stars in APOGEE and GALAH (12 real ones) are one row each, averaged
    spec = build.spectro_table()
    assert len(spec) == len(np.union1d(apo["source_id"], gal["source_id"]))
    both = np.intersect1d(apo["source_id"], gal["source_id"])
    assert both.size == 12
    row = spec[list(spec["source_id"]).index(both[0])]
    assert "apogee-dr17" in row["surveys"] and "galah-dr3" in row["surveys"]
    assert build.provenance["reference"] == ["apogee-dr17", "galah-dr3"]


def test_calibrated_values_equal_survey_minus_model_offset(real):
    apo, gal = real
    other = apo[:200].copy()
    other["teff"] = other["teff"] + 25.0
    build = homogenise_labels({"apogee-dr17": apo, "other": other}, reference=["apogee-dr17"])
    cal = build.calibrations["other"]["teff"]
    off = cal.predict_offset(other["teff"], other["logg"], other["feh"]).offset
    np.testing.assert_allclose(off[np.isfinite(off)], 25.0, atol=1e-6)


def test_too_few_common_stars_is_left_out_and_reported(real):
    apo, gal = real
    # GALAH shares 12 stars with APOGEE: it cannot be calibrated on APOGEE alone
    build = homogenise_labels({"apogee-dr17": apo, "galah-dr3": gal}, reference=["apogee-dr17"])
    r = build.report[list(build.report["survey"]).index("galah-dr3")]
    assert r["n_pairs"] == 12 < MIN_PAIRS
    assert r["role"].startswith("left out: 12 stars in common")
    assert build.provenance["left_out"] == ["galah-dr3"]
    assert len(build.combined) == len(apo)


def test_no_reference_is_an_error(real):
    apo, gal = real
    with pytest.raises(SchemaError, match="reference survey"):
        homogenise_labels({"galah-dr3": gal, "x": apo}, reference=["apogee-dr17"])
    with pytest.raises(EmptyInputError):
        homogenise_labels({})


def test_refit_recovers_injected_eq2(real):
    apo, _ = real
    spectro = Table({"source_id": apo["source_id"], "teff": apo["teff"], "e_teff": apo["e_teff"],
                     "logg": apo["logg"], "e_logg": apo["e_logg"], "feh": apo["feh"],
                     "e_feh": apo["e_feh"]})
    injected = {"teff": LinearCorrection(80.0, -5e-3, -20.0, -30.0),
                "logg": LinearCorrection(0.1, -1e-5, -0.01, -0.05),
                "feh": LinearCorrection(0.05, -1e-6, -0.02, -0.02)}
    sel = np.arange(0, len(apo), 5)
    v = {k: np.asarray(spectro[k], float)[sel] for k in ("teff", "logg", "feh")}
    pastel = Table({"source_id": np.asarray(spectro["source_id"])[sel]})
    for k, col in PASTEL_LABEL_COLUMNS.items():
        pastel[col] = v[k] - injected[k].delta(v["teff"], v["logg"], v["feh"])
    fit = refit_recalibration(spectro, pastel)
    for k in ("teff", "logg", "feh"):
        np.testing.assert_allclose(list(vars(fit.coefficients[k]).values()),
                                   list(vars(injected[k]).values()), rtol=1e-6, atol=1e-9)
    table = coefficients_table(fit)
    assert list(table["label"]) == ["teff", "logg", "feh"]
    assert table["a_T25"][0] == T25_TABLE1["teff"].a and table["n_pairs"][0] == sel.size
