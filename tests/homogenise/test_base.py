import numpy as np
import pytest
from astropy.table import Table

from sos_vo.exceptions import EmptyInputError, ModelFormatError
from sos_vo.homogenise import PolynomialCalibration, load_calibration


def _fit(n=300):
    rng = np.random.default_rng(0)
    teff, logg, feh = rng.uniform(4500, 6500, n), rng.uniform(1, 4.5, n), rng.uniform(-1.5, 0.3, n)
    return PolynomialCalibration(degree=2).fit(teff, logg, feh, 0.1 + 0.1 * feh), (teff, logg, feh)


def test_too_few_pairs_and_bad_options():
    with pytest.raises(EmptyInputError, match="usable pairs"):
        PolynomialCalibration().fit([5000.0] * 10, [4.0] * 10, [0.0] * 10, [0.1] * 10)
    with pytest.raises(ValueError, match="calibration target"):
        PolynomialCalibration(target="vrad")
    with pytest.raises(RuntimeError, match="not fitted"):
        PolynomialCalibration().predict_offset([5000.0], [4.0], [0.0])


def test_apply_replaces_target_and_keeps_original():
    cal, (teff, logg, feh) = _fit()
    t = Table({"teff": [5000.0, 20000.0], "logg": [3.0, 3.0], "feh": [-0.5, -0.5]})
    out = cal.apply(t)
    assert out["feh_uncalibrated"][0] == -0.5
    assert out["feh"][0] == pytest.approx(-0.5 - (0.1 + 0.1 * -0.5))
    assert out["feh_in_coverage"].tolist() == [True, False]
    assert np.isnan(out["feh"][1])  # default policy: no value outside coverage
    assert t["feh"][1] == -0.5  # input untouched


def test_load_rejects_incomplete_folder(tmp_path):
    cal, _ = _fit()
    folder = cal.save(tmp_path / "cal")
    (folder / "polynomial.json").unlink()
    with pytest.raises(ModelFormatError, match="polynomial.json"):
        load_calibration(folder)
    with pytest.raises(ModelFormatError, match="calibration.json"):
        load_calibration(tmp_path)
