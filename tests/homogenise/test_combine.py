import numpy as np
import pytest
from astropy.table import Table

from sos_vo.homogenise import combine_surveys


def _surveys():
    a = Table({"gaia_dr3_id": [1, 2, 3], "teff": [5000.0, 6000.0, 4500.0], "err_teff": [100.0, 50.0, 80.0],
               "feh": [-0.5, 0.1, np.nan], "err_feh": [0.1, 0.05, 0.1]})
    b = Table({"gaia_dr3_id": [2, 1], "teff": [6100.0, 5200.0], "err_teff": [25.0, 200.0],
               "feh": [0.0, -0.3], "err_feh": [0.1, 0.2]})
    c = Table({"gaia_dr3_id": [1, 4], "teff": [4900.0, 7000.0], "err_teff": [np.nan, 60.0]})
    return {"A": a, "B": b, "C": c}


def test_inverse_variance_mean_matches_direct_computation():
    out = combine_surveys(_surveys(), labels=("teff", "feh"))
    row = {int(r["gaia_dr3_id"]): r for r in out}
    v, e = np.array([5000.0, 5200.0]), np.array([100.0, 200.0])  # star 1: C has no error -> left out
    w = 1 / e**2
    assert row[1]["spec_teff"] == pytest.approx(np.sum(w * v) / np.sum(w))
    assert row[1]["spec_err_teff"] == pytest.approx(1 / np.sqrt(np.sum(w)))
    assert row[1]["spec_scatter_teff"] == pytest.approx(np.sqrt(np.sum(w * (v - np.sum(w * v) / np.sum(w)) ** 2) / np.sum(w)))
    assert row[1]["n_teff"] == 2
    assert row[3]["spec_teff"] == 4500.0 and row[3]["spec_err_teff"] == 80.0 and np.isnan(row[3]["spec_feh"])
    assert row[4]["spec_teff"] == 7000.0 and row[4]["surveys"] == "C" and np.isnan(row[4]["spec_scatter_teff"])
    assert row[2]["surveys"] == "A,B"
    assert out.meta["n_dropped_no_error"] == 1
    assert out["spec_teff"].unit == "K"


def test_equal_weights_is_the_plain_mean():
    out = combine_surveys(_surveys(), labels=("teff",), weights="equal")
    row = {int(r["gaia_dr3_id"]): r for r in out}
    assert row[1]["spec_teff"] == pytest.approx(np.mean([5000.0, 5200.0, 4900.0]))
    assert np.isnan(row[1]["spec_err_teff"])  # one survey gave no error
    assert row[2]["spec_err_teff"] == pytest.approx(np.sqrt(50.0**2 + 25.0**2) / 2)


def test_repeated_star_in_one_survey_is_an_error():
    s = _surveys()
    s["B"] = Table({"gaia_dr3_id": [2, 2], "teff": [6100.0, 6000.0], "err_teff": [25.0, 25.0]})
    with pytest.raises(ValueError, match="survey 'B'"):
        combine_surveys(s, labels=("teff",))
