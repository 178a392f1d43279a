import json

import numpy as np

from sos_vo.homogenise import PolynomialCalibration, load_calibration

from .calibration_helpers import corrected_residuals, worst_binned_median
from .synthetic import NOISE


def test_exact_quartic_with_cross_terms_is_recovered():
    rng = np.random.default_rng(0)
    teff, logg, feh = rng.uniform(4000, 7000, 400), rng.uniform(0.5, 5, 400), rng.uniform(-2, 0.5, 400)
    theta = teff / 5040.0

    def truth(theta, logg, feh):
        return 0.1 + 0.3 * theta * logg * feh - 0.02 * logg**2 * feh**2 + 0.05 * theta**4 - 0.01 * logg**3 * feh

    cal = PolynomialCalibration(degree=4).fit(teff, logg, feh, truth(theta, logg, feh))
    t2, g2, f2 = rng.uniform(4200, 6800, 50), rng.uniform(1, 4.5, 50), rng.uniform(-1.5, 0.3, 50)
    pred = cal.predict_offset(t2, g2, f2, outside="flag").offset
    np.testing.assert_allclose(pred, truth(t2 / 5040.0, g2, f2), atol=1e-8)
    assert cal.powers.shape == (35, 3)  # C(4+3, 3) monomials, cross terms included


def test_smooth_trend_corrected_to_within_noise(smooth_sets):
    tr, te = smooth_sets
    after = corrected_residuals(PolynomialCalibration().fit(*tr), te)
    assert np.std(te[3]) > 2 * NOISE  # the injected trend is well above the noise
    assert abs(np.std(after) - NOISE) < 0.1 * NOISE
    assert worst_binned_median(te, after) < 0.3 * NOISE


def test_save_load_json_round_trip(tmp_path, smooth_sets):
    tr, te = smooth_sets
    cal = PolynomialCalibration().fit(*tr)
    folder = cal.save(tmp_path / "poly")
    json.loads((folder / "polynomial.json").read_text())  # plain JSON, no pickle
    loaded = load_calibration(folder)
    assert isinstance(loaded, PolynomialCalibration)
    a = cal.predict_offset(*te[:3])
    b = loaded.predict_offset(*te[:3])
    np.testing.assert_array_equal(a.in_coverage, b.in_coverage)
    np.testing.assert_allclose(a.offset, b.offset, rtol=0, atol=1e-12, equal_nan=True)


def test_design_built_term_by_term_equals_the_broadcast_product():
    rng = np.random.default_rng(11)
    teff = rng.uniform(4000, 7000, 5000)
    logg = rng.uniform(1, 5, 5000)
    feh = rng.uniform(-2, 0.5, 5000)
    cal = PolynomialCalibration("feh").fit(teff, logg, feh, 0.01 * feh + rng.normal(0, 0.05, 5000))
    x = cal.inputs(teff, logg, feh)
    z = (x - cal.centre) / cal.scale
    np.testing.assert_array_equal(cal._design(x),
                                  np.prod(z[:, None, :] ** cal.powers[None, :, :], axis=2))
