"""Calibration linear in (Teff, log g, [Fe/H]): the model of T25 Eq. 2, and Table 1 as a preset.

T25 (Turchi et al. 2025, Survey of Surveys II, Sect. 3.1, Eq. 2) models the difference of each
SoS-Spectro parameter f from PASTEL as a plane in the SoS values of the star::

    Delta f = a + b * Teff + c * log g + d * [Fe/H]        (Teff in K, log g and [Fe/H] in dex)

and corrects ``f - Delta f``; Table 1 lists the fitted a, b, c, d.  In this framework that is a
calibration like the others (``delta = survey - reference``, ``calibrated = survey - delta``,
:mod:`sos_vo.homogenise.base`) with method name ``"linear"``:

* its inputs keep Teff in K (:attr:`LinearCalibration.teff_normalisation_k` is 1, not the
  5040 K of the non-linear methods), so that its coefficients are in the units of Table 1 and
  evaluated in the same order of operations as the equation is written, bit for bit;
* it is fitted by ordinary least squares (``numpy.linalg.lstsq``: four unknowns, no
  regularisation; T25 give no other fitting detail), and accepts as few as
  :data:`MIN_LINEAR_PAIRS` pairs;
* :func:`t25_table1` builds the three published calibrations as a preset.  A preset has no
  calibration sample, so its coverage is :class:`~sos_vo.homogenise.coverage.UnboundedCoverage`:
  T25 apply Eq. 2 to every SoS-Spectro star.

The saved model is JSON (``linear.json``: the four coefficients and their source).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..exceptions import ModelFormatError
from ..schema import LABELS
from .base import DEFAULT_OUTSIDE, Calibration
from .coverage import CoverageModel, UnboundedCoverage

MIN_LINEAR_PAIRS = 10
"""Fewest pairs a linear calibration accepts (our choice: 4 unknowns; T25 Sect. 3.1 fitted about
15 000 SoS-PASTEL pairs)."""

LINEAR_FILE = "linear.json"


@dataclass(frozen=True)
class LinearCorrection:
    """Coefficients of T25 Eq. 2 for one parameter: Delta f = a + b*Teff + c*logg + d*[Fe/H].

    ``b`` is per K, ``c`` and ``d`` per dex; ``a`` and Delta f are in the parameter's unit.
    """

    a: float
    b: float
    c: float
    d: float

    def delta(self, teff: Any, logg: Any, feh: Any) -> np.ndarray:
        """Evaluate Delta f on the survey's values (Teff in K, log g and [Fe/H] in dex)."""
        return (self.a + self.b * np.asarray(teff, dtype=np.float64)
                + self.c * np.asarray(logg, dtype=np.float64)
                + self.d * np.asarray(feh, dtype=np.float64))


T25_TABLE1: dict[str, LinearCorrection] = {
    "teff": LinearCorrection(112.0, -6.66e-3, -28.1, -40.7),
    "logg": LinearCorrection(0.159, -2.21e-5, -0.00242, -0.0689),
    "feh": LinearCorrection(0.0769, -3.84e-7, -0.0186, -0.0262),
}
"""T25 Sect. 3.1, Eq. 2, Table 1 ("Fitted correction coefficients"): SoS-Spectro minus PASTEL."""

T25_TABLE1_SOURCE = "Turchi et al. 2025 (T25), Sect. 3.1, Eq. 2, Table 1"


class LinearCalibration(Calibration):
    """Offset = a + b*Teff + c*log g + d*[Fe/H] (T25 Eq. 2), Teff in K.

    Parameters
    ----------
    target, coverage, outside
        See :class:`~sos_vo.homogenise.base.Calibration`.

    Attributes
    ----------
    coefficients : LinearCorrection or None
        a, b, c, d once fitted or set by :meth:`from_coefficients`.
    source : str
        Where the coefficients come from: ``"fit"`` or a citation (presets).
    """

    method = "linear"
    teff_normalisation_k = 1.0
    min_pairs = MIN_LINEAR_PAIRS

    def __init__(self, target: str = "feh", coverage: CoverageModel | None = None,
                 outside: str = DEFAULT_OUTSIDE) -> None:
        super().__init__(target, coverage, outside)
        self.coefficients: LinearCorrection | None = None
        self.source = "fit"

    @classmethod
    def from_coefficients(cls, target: str, coefficients: LinearCorrection, *,
                          source: str = "given coefficients",
                          outside: str = DEFAULT_OUTSIDE) -> LinearCalibration:
        """A calibration with given coefficients and no coverage region (nothing is fitted).

        Parameters
        ----------
        target : str
            ``teff``, ``logg`` or ``feh``.
        coefficients : LinearCorrection
            a, b, c, d (e.g. ``T25_TABLE1[target]``).
        source : str
            Citation of the coefficients, kept in the saved model.
        outside : str
            Outside-coverage policy (moot: :class:`UnboundedCoverage` covers every finite star).
        """
        cal = cls(target=target, coverage=UnboundedCoverage(), outside=outside)
        cal.coefficients = LinearCorrection(*(float(v) for v in (coefficients.a, coefficients.b,
                                                                 coefficients.c, coefficients.d)))
        cal.source = source
        cal._fitted = True
        return cal

    @staticmethod
    def design(x: np.ndarray) -> np.ndarray:
        """Design matrix [1, Teff, log g, [Fe/H]] of inputs ``x`` (n, 3)."""
        return np.column_stack([np.ones(x.shape[0]), x[:, 0], x[:, 1], x[:, 2]])

    def _fit_model(self, x: np.ndarray, delta: np.ndarray) -> None:
        solution, *_ = np.linalg.lstsq(self.design(x), delta, rcond=None)
        self.coefficients = LinearCorrection(*(float(v) for v in solution))
        self.source = "fit"

    def _predict_model(self, x: np.ndarray) -> np.ndarray:
        return self.coefficients.delta(x[:, 0], x[:, 1], x[:, 2])

    def _save_model(self, folder: Path) -> dict[str, Any]:
        c = self.coefficients
        (folder / LINEAR_FILE).write_text(json.dumps({
            "equation": "delta = a + b*teff + c*logg + d*feh (teff in K)",
            "a": c.a, "b": c.b, "c": c.c, "d": c.d, "source": self.source}, indent=1))
        return {"file": LINEAR_FILE}

    def _load_model(self, folder: Path, state: dict[str, Any]) -> None:
        path = folder / state.get("file", LINEAR_FILE)
        if not path.is_file():
            raise ModelFormatError(f"linear calibration file {path} is missing")
        data = json.loads(path.read_text())
        try:
            self.coefficients = LinearCorrection(*(float(data[k]) for k in "abcd"))
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelFormatError(f"{path}: bad or missing coefficient ({exc})") from None
        self.source = str(data.get("source", "fit"))


def linear_calibrations(coefficients: dict[str, LinearCorrection], *,
                        source: str = "given coefficients") -> dict[str, LinearCalibration]:
    """One :class:`LinearCalibration` per label from a label -> :class:`LinearCorrection` map."""
    return {lab: LinearCalibration.from_coefficients(lab, coefficients[lab], source=source)
            for lab in LABELS}


def t25_table1() -> dict[str, LinearCalibration]:
    """The preset of T25 Table 1: one :class:`LinearCalibration` per label, no coverage limit."""
    return linear_calibrations(T25_TABLE1, source=T25_TABLE1_SOURCE)
