"""The synthetic sky against real stars: the calibration targets of sos_vo.simulate.realism.

The u-g relation was fitted on a sky of seed 1; these tests use seed 3, so they check that the
calibration holds on an independent draw, not that a fit reproduces itself.
"""

from __future__ import annotations

import numpy as np
import pytest
from realdata_files import realdata

from sos_vo.simulate import realism, simulate_sky
from sos_vo.simulate.photometry import UG_FEH_SATURATION, UG_GR_RANGE, sdss_u_minus_g

SEED = 3
N_STARS = 150_000
RADIUS_DEG = 6.0
CENTER = (180.0, 0.0)

BIN_TOLERANCE = 0.04
"""Every u-g bin with >= 100 real and synthetic stars agrees within 0.04 mag."""
SLOPE_TOLERANCE = 0.15
"""u-g change per dex of [Fe/H] within 15% of the real one."""
G_MINUS_G_TOLERANCE = 0.03
"""MaStar g - G vs BP-RP within 0.03 mag."""
XGB_TOLERANCE = 0.15
"""Colours-to-[Fe/H] XGBoost improvement factor within 15% of the real one."""


@pytest.fixture(scope="module")
def real_folder():
    return realdata(realism.SEGUE_FILE).parents[1]


@pytest.fixture(scope="module")
def stars():
    sky = simulate_sky(center=CENTER, radius=RADIUS_DEG, n_stars=N_STARS, seed=SEED, surveys=("sdss",))
    return realism.synthetic_sdss_stars(sky)


@pytest.fixture(scope="module")
def segue(real_folder, stars):
    return realism.segue_comparison(realism.read_segue(real_folder), stars, seed=SEED)


def test_read_segue_drops_null_artefacts(real_folder):
    real = realism.read_segue(real_folder)
    assert len(real["feh"]) == 27_901  # 27 911 rows, 10 with a -9999 colour
    for c in realism.SEGUE_COLOURS:
        assert np.all(np.abs(real[c]) < realism.SEGUE_BAD_COLOUR)


def test_ug_bins_agree_with_segue(segue):
    assert segue.valid.sum() >= 18  # most of the 25 bins are compared
    assert segue.max_abs_difference <= BIN_TOLERANCE, np.round(segue.difference, 3)


def test_ug_slope_per_dex_agrees_with_segue(segue):
    assert segue.slope_real > 0
    assert abs(segue.slope_ratio - 1) <= SLOPE_TOLERANCE, (segue.slope_real, segue.slope_synthetic)


def test_colour_xgboost_improvement_agrees_with_segue(segue):
    assert segue.xgb_real["factor"] > 1.5  # the real colours do carry [Fe/H]
    assert abs(segue.xgb_ratio - 1) <= XGB_TOLERANCE, (segue.xgb_real, segue.xgb_synthetic)


def test_g_minus_G_agrees_with_mastar(real_folder, stars):
    res = realism.mastar_comparison(realism.read_mastar(real_folder), stars)
    assert sum(d is not None for d in res["difference"]) >= 3
    assert res["max_abs_difference"] <= G_MINUS_G_TOLERANCE, res["difference"]


def test_previous_relation_fails_the_targets(real_folder):
    """The relation the calibration replaced is caught by the same comparison."""
    from unittest import mock

    from benchmarks.realism import previous_u_minus_g

    with mock.patch("sos_vo.simulate.photometry.sdss_u_minus_g", previous_u_minus_g):
        sky = simulate_sky(center=CENTER, radius=RADIUS_DEG, n_stars=N_STARS // 2, seed=SEED, surveys=("sdss",))
    res = realism.segue_comparison(realism.read_segue(real_folder), realism.synthetic_sdss_stars(sky),
                                   seed=SEED, with_xgboost=False)
    assert res.max_abs_difference > 2 * BIN_TOLERANCE
    assert res.slope_ratio > 1 + 2 * SLOPE_TOLERANCE


def test_u_minus_g_saturates_and_continues_linearly():
    feh = np.array([-4.0, -3.0, UG_FEH_SATURATION, -1.0, 0.0])
    ug = sdss_u_minus_g(np.full(5, 0.4), feh, np.full(5, 4.44))
    assert ug[0] == ug[1] == ug[2]  # no change below the saturation
    assert np.all(np.diff(ug[2:]) > 0)  # redder with [Fe/H] above it
    # linear beyond the calibrated g-r range, continuous at its edge
    hi = UG_GR_RANGE[1]
    gr = np.array([hi - 1e-6, hi, hi + 0.5, hi + 1.0])
    vals = sdss_u_minus_g(gr, np.zeros(4), np.full(4, 4.44))
    assert abs(vals[1] - vals[0]) < 1e-4
    assert vals[3] - vals[2] == pytest.approx(vals[2] - vals[1], rel=1e-9)


def test_match_weights_reproduce_the_real_distribution():
    rng = np.random.default_rng(0)
    real_x, real_y = rng.normal(0.5, 0.1, 20_000), rng.normal(-1.0, 0.5, 20_000)
    syn_x, syn_y = rng.uniform(0.0, 1.0, 80_000), rng.uniform(-3.0, 0.5, 80_000)
    w = realism.match_weights(syn_x, syn_y, real_x, real_y)
    assert realism.weighted_median(syn_y, w) == pytest.approx(np.median(real_y), abs=0.05)
    assert realism.weighted_mad(syn_x, w) == pytest.approx(0.1, rel=0.1)
    assert realism.weighted_median(syn_y) == pytest.approx(-1.25, abs=0.05)  # unweighted: uniform


def test_weighted_median_counts_weights():
    assert realism.weighted_median(np.array([1.0, 2.0, 3.0]), np.array([0.0, 0.0, 1.0])) == 3.0
    assert realism.weighted_median(np.array([1.0, 2.0, 3.0])) == 2.0
