"""Tests of sos_vo.homogenise.linear: T25 Eq. 2 as a calibration of the framework."""

from __future__ import annotations

import json

import numpy as np
import pytest
from astropy.table import Table

from sos_vo.exceptions import EmptyInputError, ModelFormatError
from sos_vo.homogenise import (
    METHODS,
    T25_TABLE1,
    LinearCalibration,
    LinearCorrection,
    UnboundedCoverage,
    load_calibration,
    t25_table1,
)
from sos_vo.homogenise.linear import MIN_LINEAR_PAIRS


def _stars(n=400, seed=0):
    rng = np.random.default_rng(seed)
    return rng.uniform(4000, 7000, n), rng.uniform(1.0, 4.8, n), rng.uniform(-2.0, 0.4, n)


def test_table1_preset_is_the_published_table():
    # T25 Table 1, typed in again here from the paper, not copied from the module
    paper = {"teff": (112, -6.66e-3, -28.1, -40.7), "logg": (0.159, -2.21e-5, -0.00242, -0.0689),
             "feh": (0.0769, -3.84e-7, -0.0186, -0.0262)}
    preset = t25_table1()
    for lab, (a, b, c, d) in paper.items():
        assert T25_TABLE1[lab] == LinearCorrection(a, b, c, d)
        cal = preset[lab]
        assert cal.method == "linear" and cal.is_fitted and cal.target == lab
        assert cal.coefficients == LinearCorrection(a, b, c, d)
        assert isinstance(cal.coverage, UnboundedCoverage) and "Table 1" in cal.source


def test_preset_offset_is_eq2_in_its_written_order():
    teff, logg, feh = _stars()
    for lab, cal in t25_table1().items():
        c = T25_TABLE1[lab]
        pred = cal.predict_offset(teff, logg, feh, outside="raise")  # nothing is outside
        assert np.array_equal(pred.offset, c.a + c.b * teff + c.c * logg + c.d * feh)
        assert pred.in_coverage.all()


def test_nan_input_gives_nan_offset_and_no_coverage():
    cal = t25_table1()["teff"]
    pred = cal.predict_offset([5000.0, np.nan], [4.0, 4.0], [0.0, 0.0])
    assert np.isfinite(pred.offset[0]) and np.isnan(pred.offset[1])
    assert pred.in_coverage.tolist() == [True, False]


def test_fit_recovers_a_plane_and_equals_plain_least_squares():
    teff, logg, feh = _stars(seed=1)
    rng = np.random.default_rng(2)
    truth = LinearCorrection(80.0, -0.01, -20.0, -30.0)
    delta = truth.delta(teff, logg, feh) + rng.normal(0, 5.0, teff.size)
    cal = LinearCalibration(target="teff").fit(teff, logg, feh, delta)
    design = np.column_stack([np.ones(teff.size), teff, logg, feh])
    ref, *_ = np.linalg.lstsq(design, delta, rcond=None)
    got = cal.coefficients
    assert [got.a, got.b, got.c, got.d] == [float(v) for v in ref]  # same operations, same bits
    assert got.b == pytest.approx(truth.b, abs=2e-3) and got.d == pytest.approx(truth.d, abs=2.0)
    assert cal.n_pairs == teff.size and cal.coverage.method == "knn"  # a homogenise method: kNN


def test_too_few_pairs():
    teff, logg, feh = _stars(MIN_LINEAR_PAIRS - 1)
    with pytest.raises(EmptyInputError, match=f"need at least {MIN_LINEAR_PAIRS}"):
        LinearCalibration(coverage=UnboundedCoverage()).fit(teff, logg, feh, np.zeros(teff.size))


def test_save_load_round_trip_keeps_bits_and_source(tmp_path):
    teff, logg, feh = _stars(seed=3)
    for cal in (t25_table1()["logg"],
                LinearCalibration(target="feh").fit(teff, logg, feh, 0.05 - 0.02 * feh)):
        folder = cal.save(tmp_path / f"cal_{cal.target}")
        meta = json.loads((folder / "calibration.json").read_text())
        assert meta["method"] == "linear" and meta["teff_normalisation_k"] == 1.0
        back = load_calibration(folder)
        assert isinstance(back, LinearCalibration) and back.coefficients == cal.coefficients
        assert back.source == cal.source and type(back.coverage) is type(cal.coverage)
        assert np.array_equal(back.predict_offset(teff, logg, feh, outside="flag").offset,
                              cal.predict_offset(teff, logg, feh, outside="flag").offset)


def test_load_rejects_a_wrong_teff_normalisation(tmp_path):
    folder = t25_table1()["teff"].save(tmp_path / "cal")
    meta = json.loads((folder / "calibration.json").read_text())
    meta["teff_normalisation_k"] = 5040.0
    (folder / "calibration.json").write_text(json.dumps(meta))
    with pytest.raises(ModelFormatError, match="Teff normalisation"):
        load_calibration(folder)
    (folder / "linear.json").write_text(json.dumps({"a": 1.0}))
    meta["teff_normalisation_k"] = 1.0
    (folder / "calibration.json").write_text(json.dumps(meta))
    with pytest.raises(ModelFormatError, match="coefficient"):
        load_calibration(folder)


def test_apply_through_the_framework_table_interface():
    cal = t25_table1()["feh"]
    t = Table({"teff": [5000.0], "logg": [2.0], "feh": [-1.0]})
    out = cal.apply(t)
    expected = -1.0 - (0.0769 - 3.84e-7 * 5000.0 - 0.0186 * 2.0 - 0.0262 * -1.0)
    assert out["feh"][0] == pytest.approx(expected, rel=1e-15)
    assert out["feh_uncalibrated"][0] == -1.0 and bool(out["feh_in_coverage"][0])


def test_linear_is_a_named_method():
    assert METHODS["linear"] is LinearCalibration


def test_linear_method_in_the_homogenisation_workflow(tmp_path):
    """The workflow computes the survey's coverage with the method's own Teff scaling (K for
    'linear', Teff/5040 for 'polynomial'): both cover the same share of the survey."""
    from sos_vo.homogenise import homogenise_survey

    teff, logg, feh = _stars(3000, seed=7)
    rng = np.random.default_rng(8)
    ids = np.arange(teff.size)
    truth = LinearCorrection(0.1, -2e-5, 0.01, 0.05)
    survey = Table({"gaia_dr3_id": ids, "teff": teff, "logg": logg, "feh": feh})
    reference = Table({"gaia_dr3_id": ids, "teff": teff, "logg": logg,
                       "feh": feh - truth.delta(teff, logg, feh) + rng.normal(0, 0.02, teff.size)})
    summary = homogenise_survey(survey, {"ref": reference}, tmp_path / "report",
                                methods=("linear", "polynomial"), save_calibrations=True)
    covered = {m: float(summary["survey_in_coverage_fraction"][summary["method"] == m][0])
               for m in ("linear", "polynomial")}
    assert covered["linear"] > 0.95 and covered["linear"] == pytest.approx(covered["polynomial"],
                                                                         abs=0.01)
    back = load_calibration(tmp_path / "report" / "calibration_linear")
    assert back.coefficients.b == pytest.approx(truth.b, abs=3e-6)
    assert back.coefficients.d == pytest.approx(truth.d, abs=3e-3)
