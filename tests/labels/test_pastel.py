"""Tests of sos_vo.labels.pastel (T25 Sect. 4.3 metal-poor augmentation)."""

from __future__ import annotations

import numpy as np
import pytest
from astropy.table import Table

from sos_vo.exceptions import EmptyInputError, SchemaError
from sos_vo.labels import pastel as P


def _joined():
    return Table({
        "source_id": np.array([10, 20, 30, 40, 50], dtype=np.int64),
        "spec_teff": [5000.0, np.nan, 4800.0, np.nan, 6000.0],
        "spec_logg": [2.5, np.nan, 2.0, np.nan, 4.2],
        "spec_feh": [-1.5, np.nan, -2.0, np.nan, 0.1],
        "spec_err_teff": [50.0, np.nan, 60.0, np.nan, 40.0],
        "spec_err_logg": [0.1, np.nan, 0.1, np.nan, 0.1],
        "spec_err_feh": [0.1, np.nan, 0.1, np.nan, 0.1],
    })


def _pastel():
    # star 20 twice (median taken), star 30 metal-poor but has SoS, star 40 metal-rich,
    # star 99 not in the photometric sample
    return Table({
        "source_id": np.array([20, 20, 30, 40, 99], dtype=np.int64),
        "pastel_teff": [4500.0, 4700.0, 4700.0, 5800.0, 5000.0],
        "pastel_logg": [1.0, 1.4, 1.5, 4.4, 2.0],
        "pastel_feh": [-2.4, -2.0, -2.1, -0.5, -3.0],
        "pastel_e_teff": [80.0, 100.0, 70.0, 50.0, 50.0],
    })


def test_adds_metal_poor_pastel_stars_without_sos_labels():
    out = P.augment_with_pastel(_joined(), _pastel())
    assert list(out[P.PASTEL_FLAG_COLUMN]) == [False, True, False, False, False]
    assert out["spec_teff"][1] == pytest.approx(4600.0)   # median of 4500, 4700
    assert out["spec_logg"][1] == pytest.approx(1.2)
    assert out["spec_feh"][1] == pytest.approx(-2.2)
    assert out["spec_err_teff"][1] == pytest.approx(90.0)
    assert np.isnan(out["spec_err_feh"][1])               # no PASTEL error column
    assert out["spec_teff"][2] == 4800.0                   # SoS kept by default
    assert np.isnan(out["spec_teff"][3])                   # [Fe/H] = -0.5 not < -1
    assert out.meta["pastel_added"] == 1
    assert str(out["spec_teff"].unit) == "K"


def test_prefer_pastel_replaces_sos():
    out = P.augment_with_pastel(_joined(), _pastel(), prefer="pastel")
    assert list(out[P.PASTEL_FLAG_COLUMN]) == [False, True, True, False, False]
    assert out["spec_feh"][2] == pytest.approx(-2.1)


def test_custom_column_names_and_missing_spec_columns():
    joined = Table({"gaia_id": np.array([1, 2], dtype=np.int64)})
    pastel = Table({"gaia_dr3": [2], "Teff": [4400.0], "log_g": [1.1], "Fe_H": [-2.5]})
    cols = P.PastelColumns(source_id="gaia_dr3", teff="Teff", logg="log_g", feh="Fe_H")
    out = P.augment_with_pastel(joined, pastel, columns=cols, joined_id="gaia_id")
    assert list(out[P.PASTEL_FLAG_COLUMN]) == [False, True]
    assert np.isnan(out["spec_teff"][0]) and out["spec_teff"][1] == 4400.0


def test_errors():
    with pytest.raises(SchemaError, match="feh"):
        P.augment_with_pastel(_joined(), _pastel()[["source_id", "pastel_teff", "pastel_logg"]])
    with pytest.raises(EmptyInputError):
        P.augment_with_pastel(_joined()[:0], _pastel())
    with pytest.raises(ValueError, match="prefer"):
        P.augment_with_pastel(_joined(), _pastel(), prefer="both")


def test_no_metal_poor_star_adds_nothing():
    pastel = _pastel()
    pastel["pastel_feh"] = [0.0, 0.1, -0.2, -0.5, -0.9]
    out = P.augment_with_pastel(_joined(), pastel)
    assert not out[P.PASTEL_FLAG_COLUMN].any()
    assert np.array_equal(np.isnan(out["spec_teff"]), np.isnan(_joined()["spec_teff"]))
