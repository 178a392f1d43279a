import importlib.util

import numpy as np
import pytest

from sos_vo.homogenise import MissingExtraError, PySRCalibration

pytestmark = pytest.mark.skipif(importlib.util.find_spec("pysr") is not None,
                                reason="PySR is installed; only the missing-extra path is tested")


def test_missing_pysr_gives_install_hint():
    rng = np.random.default_rng(0)
    x = rng.uniform(size=(3, 50))
    cal = PySRCalibration()
    with pytest.raises(MissingExtraError, match=r"pip install 'sos-vo\[pysr\]'"):
        cal.fit(x[0] * 5000 + 4000, x[1] * 4, x[2] - 1, np.zeros(50))
    assert isinstance(MissingExtraError("x"), ImportError)
    assert not cal.is_fitted
