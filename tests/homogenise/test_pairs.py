import numpy as np
import pytest
from astropy.table import Table

from sos_vo.exceptions import EmptyInputError
from sos_vo.homogenise import match_pairs, union_references


def test_match_pairs_aligns_rows_by_id():
    survey = Table({"gaia_dr3_id": [10, 20, 30], "teff": [5000.0, 6000.0, 7000.0], "logg": [4.0, 3.0, 2.0],
                    "feh": [0.0, -1.0, -2.0]})
    ref = Table({"gaia_dr3_id": [30, 10, 99], "teff": [7100.0, 5100.0, 1.0], "logg": [2.1, 4.1, 1.0],
                 "feh": [-2.1, 0.1, 1.0], "err_feh": [0.2, 0.1, 0.3]})
    pairs = match_pairs(survey, ref)
    assert list(pairs["gaia_dr3_id"]) == [10, 30]
    np.testing.assert_allclose(pairs["feh"] - pairs["ref_feh"], [-0.1, 0.1], atol=1e-12)
    np.testing.assert_array_equal(pairs["ref_err_feh"], [0.1, 0.2])


def test_no_shared_star_is_a_clear_error():
    t = Table({"gaia_dr3_id": [1], "teff": [5000.0], "logg": [4.0], "feh": [0.0]})
    u = Table({"gaia_dr3_id": [2], "teff": [5000.0], "logg": [4.0], "feh": [0.0]})
    with pytest.raises(EmptyInputError, match="share no gaia_dr3_id"):
        match_pairs(t, u)


def test_union_of_references_averages_shared_stars():
    apogee = Table({"gaia_dr3_id": [1, 2], "teff": [5000.0, 6000.0], "logg": [4.0, 4.0], "feh": [0.0, -0.2]})
    galah = Table({"gaia_dr3_id": [2, 3], "teff": [6100.0, 4000.0], "logg": [4.2, 1.0], "feh": [-0.4, -1.0]})
    u = union_references({"APOGEE": apogee, "GALAH": galah})
    assert list(u["gaia_dr3_id"]) == [1, 2, 3]
    assert u["feh"][1] == pytest.approx(-0.3) and u["teff"][1] == pytest.approx(6050.0)
    assert list(u["surveys"]) == ["APOGEE", "APOGEE,GALAH", "GALAH"]
