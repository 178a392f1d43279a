import numpy as np
import pytest

from sos_vo.homogenise import (
    PolynomialCalibration,
    binned_residuals,
    calibration_diagnostics,
    plot_residual_diagnostics,
)
from sos_vo.homogenise.pairs import match_pairs

from .synthetic import NOISE, sample, smooth_trend


def test_binned_residuals_equal_direct_percentiles():
    rng = np.random.default_rng(5)
    x, r = rng.uniform(0, 10, 2000), rng.normal(0, 1, 2000)
    edges = np.array([0.0, 2.5, 5.0, 10.0])
    t = binned_residuals(x, r, edges, min_count=10)
    for b in range(3):
        sel = r[(x >= edges[b]) & ((x < edges[b + 1]) | (b == 2))]
        assert t["n"][b] == sel.size
        np.testing.assert_allclose([t["p16"][b], t["median"][b], t["p84"][b]], np.percentile(sel, [16, 50, 84]))
    sparse = binned_residuals(x[:5], r[:5], edges, min_count=10)
    assert np.all(np.isnan(sparse["median"]))


def _pairs(seed, n):
    from astropy.table import Table
    teff, logg, feh, delta = sample(seed, n, smooth_trend)
    ids = np.arange(n)
    survey = Table({"gaia_dr3_id": ids, "teff": teff, "logg": logg, "feh": feh})
    ref = Table({"gaia_dr3_id": ids, "teff": teff, "logg": logg, "feh": feh - delta})
    return match_pairs(survey, ref)


def test_diagnostics_table_and_figure(tmp_path):
    train, test = _pairs(7, 4000), _pairs(8, 2000)
    cal = PolynomialCalibration().fit_pairs(train)
    diag = calibration_diagnostics(cal, {"train": train, "test": test}, n_bins=8)
    assert set(diag["set"]) == {"train", "test"} and set(diag["stage"]) == {"before", "after"}
    assert len(diag) == 2 * 2 * 3 * 8
    summary = {(s["set"], s["stage"]): s for s in diag.meta["summary"]}
    assert summary[("test", "after")]["mad"] == pytest.approx(NOISE, rel=0.15)
    assert summary[("test", "before")]["mad"] > 1.5 * NOISE
    png = plot_residual_diagnostics(diag, tmp_path / "diag.png", title="poly")
    assert png.stat().st_size > 1000
    with pytest.raises(FileExistsError):
        plot_residual_diagnostics(diag, png)
