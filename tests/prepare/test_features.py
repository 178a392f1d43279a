"""Tests of sos_vo.prepare.features against hand computations of T25 Eq. 1."""

from __future__ import annotations

import math

import numpy as np
import pytest
from joined_factory import make_joined

from sos_vo.exceptions import EmptyInputError, SchemaError
from sos_vo.prepare import features as F
from sos_vo.schema import feature_names


@pytest.mark.parametrize("survey", ["sdss", "skymapper"])
def test_columns_and_units(survey):
    out = F.compute_features(make_joined(survey, 5), survey)
    assert tuple(out.colnames) == feature_names(survey)
    # T25 Table 2 lists 24 rows; Table 3 lists 27 (v adds vabs, vabs_nored, e_v_psf), not 28
    assert len(out.colnames) == (24 if survey == "sdss" else 27)
    assert str(out["r_med_geo"].unit) == "pc"
    assert str(out["gabs"].unit) == "mag" and str(out["teff_gspphot_err"].unit) == "K"
    assert str(out["mh_andrae"].unit) == "dex"


def test_eq1_by_hand_sdss():
    t = make_joined("sdss", 3)
    t["psfmag_g"][1], t["r_med_geo"][1], t["extinction_g"][1] = 15.3, 250.0, 0.12
    out = F.compute_features(t, "sdss")
    mu = 5 * math.log10(250.0) - 5        # 1.98970...
    assert out["gabs_nored"][1] == pytest.approx(15.3 - mu, abs=1e-12)
    assert out["gabs"][1] == pytest.approx(15.3 - mu - 0.12, abs=1e-12)
    assert out["psfMagErr_g"][1] == pytest.approx(t["psfmagerr_g"][1])


def test_eq1_by_hand_skymapper_uses_r_coefficients():
    t = make_joined("skymapper", 3)
    t["v_psf"][0], t["r_med_geo"][0], t["ebmv_sfd"][0] = 16.0, 1000.0, 0.1
    out = F.compute_features(t, "skymapper")
    assert out["vabs_nored"][0] == pytest.approx(16.0 - 10.0, abs=1e-12)  # 5 log10(1000) - 5 = 10
    assert out["vabs"][0] == pytest.approx(16.0 - 10.0 - 4.026 * 0.1, abs=1e-12)
    # the reddening ordering of the coefficients: bluer bands more extinguished
    r = [F.SKYMAPPER_R[b] for b in "uvgriz"]
    assert r == sorted(r, reverse=True)


def test_gaia_errors_are_half_the_percentile_interval():
    t = make_joined("sdss", 2)
    t["teff_gspphot_lower"][0], t["teff_gspphot_upper"][0] = 5400.0, 5600.0
    t["logg_gspphot_lower"][0], t["logg_gspphot_upper"][0] = 4.1, 4.4
    t["logg_gspphot_upper"][1] = np.ma.masked
    out = F.compute_features(t, "sdss")
    assert out["teff_gspphot_err"][0] == pytest.approx(100.0)
    assert out["logg_gspphot_err"][0] == pytest.approx(0.15)
    assert np.isnan(out["logg_gspphot_err"][1])
    assert out["mh_andrae_err"][1] == pytest.approx(t["mh_andrae_err"][1])


def test_distance_in_kpc_is_converted():
    t = make_joined("sdss", 2)
    ref = F.compute_features(t, "sdss")
    t["r_med_geo"] = t["r_med_geo"] / 1000.0
    t["r_med_geo"].unit = "kpc"
    out = F.compute_features(t, "sdss")
    assert np.allclose(out["uabs"], ref["uabs"]) and np.allclose(out["r_med_geo"], ref["r_med_geo"])


def test_magnitude_in_jy_is_an_error():
    t = make_joined("skymapper", 2)
    t["g_psf"].unit = "Jy"
    with pytest.raises(SchemaError, match="g_psf.*Jy"):
        F.compute_features(t, "skymapper")


def test_missing_magnitude_gives_nan_and_zero_filled_flagged_matrix():
    t = make_joined("skymapper", 4)
    t["u_psf"][2] = np.ma.masked
    feats = F.compute_features(t, "skymapper")
    assert np.isnan(feats["uabs"][2]) and np.isnan(feats["uabs_nored"][2])
    x, names = F.feature_matrix(feats, "skymapper")
    f = len(feature_names("skymapper"))
    assert x.shape == (4, 2 * f) and x.dtype == np.float32
    assert names[:f] == list(feature_names("skymapper"))
    assert names[f:] == [n + F.PRESENT_SUFFIX for n in feature_names("skymapper")]
    j = names.index("uabs")
    assert x[2, j] == 0.0 and x[2, f + j] == 0.0
    assert x[1, f + j] == 1.0 and x[1, j] == pytest.approx(feats["uabs"][1], rel=1e-6)
    # every other entry present
    assert x[:, f:].sum() == 4 * f - 2  # uabs, uabs_nored of row 2 missing (e_u_psf given)


def test_feature_entirely_missing_is_named():
    t = make_joined("sdss", 3)
    t["mh_andrae"].mask[:] = True
    feats = F.compute_features(t, "sdss")
    with pytest.raises(SchemaError, match="mh_andrae"):
        F.feature_matrix(feats, "sdss")
    x, names = F.feature_matrix(feats, "sdss", allow_all_missing=True)
    assert np.all(x[:, names.index("mh_andrae_present")] == 0)


def test_errors_on_empty_and_missing_columns():
    t = make_joined("sdss", 3)
    with pytest.raises(EmptyInputError):
        F.compute_features(t[:0], "sdss")
    feats = F.compute_features(t, "sdss")
    with pytest.raises(EmptyInputError):
        F.feature_matrix(feats[:0], "sdss")
    feats.remove_column("zabs")
    with pytest.raises(SchemaError, match="zabs"):
        F.feature_matrix(feats, "sdss")
    t.remove_column("extinction_r")
    with pytest.raises(SchemaError, match="extinction_r"):
        F.compute_features(t, "sdss")
