"""Calibration by a polynomial with cross terms, fitted by linear least squares.

The homogenisation talk (Avdeeva et al. 2025, AI in Astronomy Workshop, Catania; "Test case of FeH: polynomial fitting (4th order)") fits the
LAMOST - (APOGEE u GALAH) [Fe/H] offset with a 4th-order polynomial with crossed terms in
(Teff/5040, log g, [Fe/H]); it "effectively eliminates the trend dependent on [Fe/H]" but
leaves residual offsets at log g < 1 and Teff > 7000 K.

The monomials are those of :class:`sklearn.preprocessing.PolynomialFeatures` (all products
of the three inputs up to the total degree, bias included: 35 terms at degree 4).  Each input
is first centred and scaled by the calibration sample's mean and standard deviation, which
only improves the conditioning of the least-squares problem (the fitted function is the same
polynomial).  The saved model is JSON: exponents, coefficients, centre and scale.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from ..exceptions import ModelFormatError
from ..extras import require
from .base import DEFAULT_OUTSIDE, Calibration
from .coverage import CoverageModel


def _polynomial_features(degree: int):
    """scikit-learn's PolynomialFeatures, imported on first use (the ``homogenise`` extra), so
    that :mod:`sos_vo.homogenise` imports without scikit-learn."""
    return require("sklearn.preprocessing", "survey calibration",
                   "homogenise").PolynomialFeatures(degree, include_bias=True)

POLYNOMIAL_DEGREE = 4
"""Total degree of the polynomial (Avdeeva et al. 2025 talk: "4th-order polynomial with crossed terms")."""

POLYNOMIAL_FILE = "polynomial.json"


class PolynomialCalibration(Calibration):
    """Offset = polynomial of total degree ``degree`` in (Teff/5040, log g, [Fe/H]).

    Parameters
    ----------
    target, coverage, outside
        See :class:`~sos_vo.homogenise.base.Calibration`.
    degree : int
        Total degree (default :data:`POLYNOMIAL_DEGREE`).
    """

    method = "polynomial"

    def __init__(self, target: str = "feh", coverage: CoverageModel | None = None,
                 outside: str = DEFAULT_OUTSIDE, degree: int = POLYNOMIAL_DEGREE) -> None:
        super().__init__(target, coverage, outside)
        if degree < 1:
            raise ValueError(f"polynomial degree must be >= 1, got {degree}")
        self.degree = int(degree)
        self.powers: np.ndarray | None = None
        self.coefficients: np.ndarray | None = None
        self.centre: np.ndarray | None = None
        self.scale: np.ndarray | None = None

    def _design(self, x: np.ndarray) -> np.ndarray:
        """The monomials of ``x``, one column per term, built term by term: the same numbers
        as ``prod(z[:, None, :] ** powers, axis=2)`` (tested) without its (rows x terms x 3)
        intermediate, three times the design matrix."""
        z = (x - self.centre) / self.scale
        out = np.empty((z.shape[0], self.powers.shape[0]))
        for j, p in enumerate(self.powers):
            out[:, j] = np.prod(z ** p[None, :], axis=1)
        return out

    def _fit_model(self, x: np.ndarray, delta: np.ndarray) -> None:
        self.centre = x.mean(axis=0)
        std = x.std(axis=0)
        self.scale = np.where(std > 0, std, 1.0)
        self.powers = _polynomial_features(self.degree).fit(x).powers_
        design = self._design(x)
        if design.shape[0] < design.shape[1]:
            raise ValueError(f"degree-{self.degree} polynomial has {design.shape[1]} terms but only "
                             f"{design.shape[0]} pairs were given")
        self.coefficients, *_ = np.linalg.lstsq(design, delta, rcond=None)

    def _predict_model(self, x: np.ndarray) -> np.ndarray:
        return self._design(x) @ self.coefficients

    def _save_model(self, folder: Path) -> dict[str, Any]:
        (folder / POLYNOMIAL_FILE).write_text(json.dumps({
            "degree": self.degree,
            "inputs": ["teff/5040", "logg", "feh"],
            "centre": self.centre.tolist(), "scale": self.scale.tolist(),
            "powers": self.powers.tolist(), "coefficients": self.coefficients.tolist(),
        }, indent=1))
        return {"file": POLYNOMIAL_FILE, "degree": self.degree}

    def _load_model(self, folder: Path, state: dict[str, Any]) -> None:
        path = folder / state.get("file", POLYNOMIAL_FILE)
        if not path.is_file():
            raise ModelFormatError(f"polynomial calibration file {path} is missing")
        data = json.loads(path.read_text())
        self.degree = int(data["degree"])
        self.centre = np.asarray(data["centre"], dtype=np.float64)
        self.scale = np.asarray(data["scale"], dtype=np.float64)
        self.powers = np.asarray(data["powers"], dtype=np.int64)
        self.coefficients = np.asarray(data["coefficients"], dtype=np.float64)
        if self.powers.shape[0] != self.coefficients.size:
            raise ModelFormatError(f"{path}: {self.powers.shape[0]} monomials but "
                                   f"{self.coefficients.size} coefficients")
