import numpy as np
import pytest

from sos_vo.homogenise import (
    CoverageModel,
    OutsideCoverageError,
    PolynomialCalibration,
    calibration_inputs,
    coverage_fraction,
)


def _two_clumps(seed=0, n=3000):
    """Calibration stars in two [Fe/H] clumps (-1.5 and 0.0) with a gap between them."""
    rng = np.random.default_rng(seed)
    teff = rng.normal(5200, 300, n)
    logg = rng.normal(3.5, 0.4, n)
    feh = np.where(rng.random(n) < 0.5, -1.5, 0.0) + rng.normal(0, 0.1, n)
    return teff, logg, feh


def test_knn_flags_far_points_and_holes_hull_only_far_points():
    x = calibration_inputs(*_two_clumps())
    knn = CoverageModel("knn").fit(x)
    hull = CoverageModel("hull").fit(x)
    core = calibration_inputs([5200, 5200], [3.5, 3.5], [-1.5, 0.0])
    far = calibration_inputs([9000, 5200], [3.5, 0.2], [0.0, -4.0])
    gap = calibration_inputs([5200], [3.5], [-0.75])  # between the clumps: inside the hull
    assert knn.contains(core).all() and hull.contains(core).all()
    assert not knn.contains(far).any() and not hull.contains(far).any()
    assert not knn.contains(gap)[0]
    assert hull.contains(gap)[0]
    # the threshold is the COVERAGE_QUANTILE of the sample's own kNN distances
    assert coverage_fraction(knn, x) >= knn.quantile - 0.005
    assert not knn.contains(np.array([[np.nan, 3.5, 0.0]]))[0]


@pytest.mark.parametrize("method", ["knn", "hull"])
def test_save_load_round_trip(tmp_path, method):
    x = calibration_inputs(*_two_clumps(1, 500))
    model = CoverageModel(method).fit(x)
    path = model.save(tmp_path / "cov.npz")
    with pytest.raises(FileExistsError):
        model.save(path)
    loaded = CoverageModel.load(path)
    probe = calibration_inputs(*_two_clumps(2, 300))
    np.testing.assert_array_equal(loaded.contains(probe), model.contains(probe))


def test_outside_policies_never_extrapolate_silently():
    teff, logg, feh = _two_clumps(3)
    cal = PolynomialCalibration(degree=2).fit(teff, logg, feh, 0.1 * feh)
    probe = ([5200, 9000], [3.5, 3.5], [0.0, 0.0])  # second star far outside in Teff
    with pytest.raises(OutsideCoverageError, match="1 of 2 stars"):
        cal.predict_offset(*probe, outside="raise")
    nan = cal.predict_offset(*probe, outside="nan")
    assert np.isfinite(nan.offset[0]) and np.isnan(nan.offset[1])
    flag = cal.predict_offset(*probe, outside="flag")
    assert np.isfinite(flag.offset).all()
    np.testing.assert_array_equal(flag.in_coverage, [True, False])
    assert cal.predict_offset(*probe).offset[1] != cal.predict_offset(*probe).offset[1]  # default nan
    with pytest.raises(ValueError, match="outside-coverage policy"):
        cal.predict_offset(*probe, outside="extrapolate")


def test_unbounded_coverage_covers_every_finite_row_and_round_trips(tmp_path):
    from sos_vo.homogenise.coverage import CoverageModel, UnboundedCoverage

    x = np.array([[1.0, 2.0, 3.0], [1e6, -1e6, 0.0], [np.nan, 0.0, 0.0]])
    cov = UnboundedCoverage().fit(x[:2])
    assert cov.contains(x).tolist() == [True, True, False]
    back = CoverageModel.load(cov.save(tmp_path / "cov.npz"))
    assert isinstance(back, UnboundedCoverage) and back.contains(x).tolist() == [True, True, False]
