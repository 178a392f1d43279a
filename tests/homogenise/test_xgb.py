import numpy as np
import pytest

from sos_vo.homogenise import PolynomialCalibration, XGBoostCalibration, load_calibration

from .calibration_helpers import corrected_residuals, worst_binned_median
from .synthetic import NOISE

pytest.importorskip("xgboost")


def test_smooth_trend_corrected_to_within_noise(smooth_sets):
    tr, te = smooth_sets
    after = corrected_residuals(XGBoostCalibration(n_jobs=2).fit(*tr), te)
    assert abs(np.std(after) - NOISE) < 0.1 * NOISE
    assert worst_binned_median(te, after) < 0.4 * NOISE


def _edge_bias(cal, te):
    teff, logg, feh, _ = te
    after = corrected_residuals(cal, te)
    out = {}
    for name, sel in (("logg<0.9", logg < 0.9), ("teff>7100", teff > 7100)):
        r = after[sel]
        out[name] = (abs(np.median(r)), 1.2533 * np.std(r) / np.sqrt(r.size))  # |median|, its error
    return out


def test_xgboost_beats_polynomial_at_the_edges(sharp_sets):
    """Avdeeva et al. 2025 (homogenisation talk): the polynomial leaves offsets at log g < 1 and Teff > 7000 K; XGBoost does not."""
    tr, te = sharp_sets
    poly = _edge_bias(PolynomialCalibration().fit(*tr), te)
    xgb = _edge_bias(XGBoostCalibration(n_jobs=2).fit(*tr), te)
    for edge in poly:
        p_bias, p_err = poly[edge]
        x_bias, x_err = xgb[edge]
        assert p_bias > 5 * p_err, f"polynomial shows no significant residual at {edge}"
        assert x_bias < 0.5 * p_bias, f"XGBoost not better than the polynomial at {edge}"
        assert x_bias < 3 * x_err + 0.2 * NOISE


def test_save_load_round_trip(tmp_path, smooth_sets):
    tr, te = smooth_sets
    cal = XGBoostCalibration(n_jobs=2, params={"n_estimators": 50}).fit(*tr)
    loaded = load_calibration(cal.save(tmp_path / "xgb"))
    assert isinstance(loaded, XGBoostCalibration)
    np.testing.assert_allclose(loaded.predict_offset(*te[:3]).offset, cal.predict_offset(*te[:3]).offset,
                               atol=1e-6, equal_nan=True)
