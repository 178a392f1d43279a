"""Tests of sos_vo.stats against independent computations (scipy) and physical expectations."""

import numpy as np
import pytest
from scipy import stats as sps

from sos_vo.exceptions import EmptyInputError
from sos_vo.stats import MAD_SCALE, error_statistics, mad, mad_along


def test_mad_matches_scipy_normal_scale():
    rng = np.random.default_rng(1)
    x = rng.standard_cauchy(1001)
    expected = sps.median_abs_deviation(x, scale="normal")
    assert mad(x) == pytest.approx(expected, rel=1e-4)  # scipy uses 1/Phi^-1(3/4) = 1.482602...


def test_mad_estimates_gaussian_sigma():
    x = np.random.default_rng(2).normal(3.0, 2.5, 200_000)
    assert mad(x) == pytest.approx(2.5, rel=0.01)


def test_mad_ignores_nan_and_raises_on_empty():
    assert mad([1.0, np.nan, 2.0, 3.0, np.inf]) == pytest.approx(MAD_SCALE * 1.0)
    with pytest.raises(EmptyInputError, match="no finite"):
        mad([np.nan, np.nan])
    with pytest.raises(EmptyInputError):
        mad([])


def test_mad_along_matches_per_column_mad():
    x = np.random.default_rng(3).normal(size=(10, 7))
    np.testing.assert_allclose(mad_along(x, axis=0), [mad(c) for c in x.T], rtol=1e-12)


def test_error_statistics_abs_and_signed():
    rng = np.random.default_rng(4)
    true = rng.normal(5000, 500, 5000)
    err = rng.normal(-7.0, 80.0, 5000)
    s = error_statistics(true + err, true)
    assert s.n == 5000
    np.testing.assert_allclose(s.signed_mean, err.mean(), rtol=1e-9)
    np.testing.assert_allclose(s.signed_median, np.median(err), rtol=1e-9)
    np.testing.assert_allclose(s.signed_sigma, err.std(ddof=1), rtol=1e-9)
    np.testing.assert_allclose(s.signed_mad, sps.median_abs_deviation(err, scale="normal"), rtol=1e-4)
    np.testing.assert_allclose(s.abs_mean, np.abs(err).mean(), rtol=1e-9)
    np.testing.assert_allclose(s.abs_median, np.median(np.abs(err)), rtol=1e-9)
    np.testing.assert_allclose(s.abs_sigma, np.abs(err).std(ddof=1), rtol=1e-9)
    np.testing.assert_allclose(s.abs_mad, sps.median_abs_deviation(np.abs(err), scale="normal"),
                               rtol=1e-4)
    np.testing.assert_allclose(s.rmse, np.sqrt(np.mean(err**2)), rtol=1e-9)
    # physical expectation: for a Gaussian error the signed MAD approximates the sigma
    assert s.signed_mad == pytest.approx(80.0, rel=0.05)
    assert set(s.as_dict()) >= {"n", "abs_mad", "signed_mean", "rmse"}


def test_error_statistics_nan_safe_and_errors():
    s = error_statistics([1.0, np.nan, 3.0, 4.0], [0.0, 1.0, np.nan, 5.0])
    assert s.n == 2
    assert s.signed_mean == pytest.approx(0.0)
    assert s.abs_mean == pytest.approx(1.0)
    with pytest.raises(ValueError, match="3 values"):
        error_statistics([1.0, 2.0, 3.0], [1.0, 2.0])
    with pytest.raises(EmptyInputError, match="out of 2 pairs"):
        error_statistics([np.nan, 1.0], [1.0, np.nan])


def test_format_value_decimals_follow_the_unit():
    from sos_vo.stats import format_value

    assert format_value(46.972289491661996, "teff") == "47.0"
    assert format_value(0.07436488027529867, "logg") == "0.074"
    assert format_value(-0.0050663948, "ml_feh", signed=True) == "-0.005"
    assert format_value(12.3456, "ml_teff", signed=True) == "+12.3"
    assert format_value(0.123456789) == "0.1235"
    assert format_value(float("nan"), "teff") == "nan"


def test_format_statistics_prints_no_long_floats():
    """Every float of a metrics table prints with the decimals of its row's unit; the input
    table keeps full precision."""
    import re

    from astropy.table import Table

    from sos_vo.stats import error_statistics, format_statistics

    rng = np.random.default_rng(4)
    rows = []
    for label, scale in (("teff", 60.0), ("logg", 0.1), ("feh", 0.08)):
        true = rng.normal(size=500)
        rows.append({"label": label, **error_statistics(true + rng.normal(0, scale, 500),
                                                       true).as_dict(),
                     "in_coverage_fraction": 0.873456})
    table = Table(rows=rows)
    shown = format_statistics(table)
    text = "\n".join(shown.pformat(max_width=-1))
    assert not re.search(r"\d\.\d{5,}", text), text
    decimals = {"teff": 1, "logg": 3, "feh": 3}
    for row in shown:
        for name in ("abs_mean", "abs_mad", "signed_sigma", "rmse"):
            assert len(row[name].split(".")[1]) == decimals[row["label"]]
        assert row["signed_mean"][0] in "+-" and row["abs_mean"][0] not in "+-"
        assert row["in_coverage_fraction"] == "0.873"
        assert row["n"] == 500
    assert table["abs_mean"].dtype.kind == "f"  # the input is not modified
