"""Coverage of a calibration sample: which stars a calibration may be applied to.

The homogenisation talk (Avdeeva et al. 2025, AI in Astronomy Workshop, Catania; "UMAP: coverage exploration" and "Generalization challenges") finds that
about a third of LAMOST lies outside the region covered by the LAMOST-GALAH/APOGEE overlap and
splits the overlap into its most populated 95% and least populated 5%.  It does not say how a
region is drawn in the (Teff/5040, log g, [Fe/H]) space the calibrations use, so we offer two
named choices:

``knn`` (default)
    Each input is scaled by the calibration sample's median and MAD (T25 footnote 6).  A star
    is covered when the distance to its k-th nearest calibration star (k =
    :data:`COVERAGE_K`) is at most the :data:`COVERAGE_QUANTILE` quantile of the same distance
    among the calibration stars themselves (leave-one-out).  This is a local density threshold:
    it excludes empty holes inside the sample's outline and the sparsest tail of the sample
    itself, the analogue of the talk's "least populated" group.
``hull``
    The convex hull of the scaled calibration sample (scipy Delaunay).  It covers everything
    between the outermost calibration stars, holes included.

A calibration given by published coefficients has no calibration sample to draw a region
from: :class:`UnboundedCoverage` (method ``"none"``) covers every star with finite inputs.
T25 (Sect. 3.1) applies its Eq. 2 with the Table 1 coefficients to the whole SoS-Spectro
catalogue in this way.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
from scipy.spatial import Delaunay

from ..domain import fraction_inside
from ..exceptions import EmptyInputError, ModelFormatError, SosVoError
from ..extras import require
from ..io import atomic_path
from ..stats import mad


def _nearest_neighbors(**kwargs):
    """scikit-learn's NearestNeighbors, imported on first use (the ``homogenise`` extra: a
    one-line hint instead of a traceback where it is missing; the package imports without it)."""
    return require("sklearn.neighbors", "survey calibration", "homogenise").NearestNeighbors(**kwargs)

COVERAGE_METHODS: tuple[str, ...] = ("knn", "hull")
"""Named ways of drawing the coverage region (see the module docstring)."""

COVERAGE_K = 10
"""k of the kNN coverage test (our choice: enough neighbours that one stray star does not make
a region look populated; small enough to follow the sample's shape)."""

COVERAGE_QUANTILE = 0.99
"""Quantile of the calibration stars' own k-th-neighbour distances used as the threshold: the
1% sparsest calibration stars mark the edge (our choice; the talk splits its sample at 95%)."""


class OutsideCoverageError(SosVoError, ValueError):
    """A calibration was asked to predict outside its coverage region with ``outside='raise'``."""


class CoverageModel:
    """The region of input space covered by a calibration sample.

    Parameters
    ----------
    method : str
        One of :data:`COVERAGE_METHODS`.
    k : int
        Neighbour rank for ``knn``.
    quantile : float
        Threshold quantile for ``knn``, in (0, 1].
    """

    def __init__(self, method: str = "knn", k: int = COVERAGE_K,
                 quantile: float = COVERAGE_QUANTILE) -> None:
        if method not in COVERAGE_METHODS:
            raise ValueError(f"unknown coverage method {method!r}: expected one of "
                             f"{', '.join(COVERAGE_METHODS)}")
        if k < 1:
            raise ValueError(f"coverage k must be >= 1, got {k}")
        if not 0.0 < quantile <= 1.0:
            raise ValueError(f"coverage quantile must be in (0, 1], got {quantile}")
        self.method = method
        self.k = int(k)
        self.quantile = float(quantile)
        self.centre: np.ndarray | None = None
        self.scale: np.ndarray | None = None
        self.points: np.ndarray | None = None
        self.threshold = np.nan
        self._index: Any = None  # sklearn NearestNeighbors or scipy Delaunay

    def describe(self) -> str:
        """One line naming the method and its parameters."""
        if self.method == "knn":
            return (f"kNN: distance to the {self.k}th calibration neighbour <= {self.threshold:.4g} "
                    f"(the {self.quantile:g} quantile), inputs scaled by median/MAD")
        return "convex hull of the calibration sample, inputs scaled by median/MAD"

    def fit(self, x: np.ndarray) -> CoverageModel:
        """Learn the region from the calibration inputs ``x`` of shape (n, d), all finite."""
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 2 or not np.all(np.isfinite(x)):
            raise ValueError("coverage inputs must be a finite 2-D array (n_stars, n_inputs)")
        need = self.k + 1 if self.method == "knn" else x.shape[1] + 1
        if x.shape[0] < need:
            raise EmptyInputError(f"coverage ({self.method}) needs at least {need} calibration "
                                  f"stars, got {x.shape[0]}")
        self.centre = np.median(x, axis=0)
        scale = np.array([mad(x[:, j]) for j in range(x.shape[1])])
        spread = x.std(axis=0)
        self.scale = np.where(scale > 0, scale, np.where(spread > 0, spread, 1.0))
        self.points = (x - self.centre) / self.scale
        self._build()
        if self.method == "knn":
            dist, _ = self._index.kneighbors(self.points, n_neighbors=self.k + 1)
            self.threshold = float(np.quantile(dist[:, self.k], self.quantile))
        return self

    def _build(self) -> None:
        if self.method == "knn":
            self._index = _nearest_neighbors(n_neighbors=self.k + 1).fit(self.points)
        else:
            self._index = Delaunay(self.points)

    def contains(self, x: np.ndarray) -> np.ndarray:
        """Boolean array: True where a row of ``x`` is inside the region (False for NaN rows)."""
        if self._index is None:
            raise RuntimeError("coverage model is not fitted")
        x = np.asarray(x, dtype=np.float64)
        inside = np.zeros(x.shape[0], dtype=bool)
        finite = np.all(np.isfinite(x), axis=1)
        if not finite.any():
            return inside
        z = (x[finite] - self.centre) / self.scale
        if self.method == "knn":
            dist, _ = self._index.kneighbors(z, n_neighbors=self.k)
            inside[finite] = dist[:, self.k - 1] <= self.threshold
        else:
            inside[finite] = self._index.find_simplex(z) >= 0
        return inside

    def save(self, path: str | os.PathLike, *, overwrite: bool = False) -> Path:
        """Write the model as a NPZ file (no pickles)."""
        if self.points is None:
            raise RuntimeError("coverage model is not fitted")
        with atomic_path(path, overwrite=overwrite) as tmp:
            with open(tmp, "wb") as fh:
                np.savez(fh, method=np.array(self.method), k=np.array(self.k),
                         quantile=np.array(self.quantile), threshold=np.array(self.threshold),
                         centre=self.centre, scale=self.scale, points=self.points)
        return Path(path)

    @classmethod
    def load(cls, path: str | os.PathLike) -> CoverageModel:
        """Read a model written by :meth:`save` (or by :meth:`UnboundedCoverage.save`)."""
        path = Path(path)
        if not path.is_file():
            raise ModelFormatError(f"coverage file {path} is missing")
        with np.load(path, allow_pickle=False) as data:
            if "method" in data and str(data["method"]) == UnboundedCoverage.method:
                return UnboundedCoverage()
            try:
                model = cls(method=str(data["method"]), k=int(data["k"]),
                            quantile=float(data["quantile"]))
                model.threshold = float(data["threshold"])
                model.centre = data["centre"]
                model.scale = data["scale"]
                model.points = data["points"]
            except KeyError as exc:
                raise ModelFormatError(f"coverage file {path} lacks {exc}") from None
        model._build()
        return model


class UnboundedCoverage(CoverageModel):
    """No region: every star with finite inputs is covered (method ``"none"``).

    For calibrations given by published coefficients rather than fitted on a sample here
    (T25 Table 1), and for calibrations that are by design applied to every star (T25 Sect.
    3.1 corrects the whole SoS-Spectro catalogue with Eq. 2).  Saved and loaded like a
    :class:`CoverageModel`.
    """

    method = "none"

    def __init__(self) -> None:  # no parameters: nothing is fitted
        self.k = 0
        self.quantile = 1.0
        self.centre = self.scale = self.points = None
        self.threshold = np.nan
        self._index = None

    def describe(self) -> str:
        """One line naming the (absent) region."""
        return "no coverage region: every star with finite inputs is covered"

    def fit(self, x: np.ndarray) -> UnboundedCoverage:
        """Check ``x`` is a finite 2-D array; there is nothing to learn."""
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 2 or not np.all(np.isfinite(x)):
            raise ValueError("coverage inputs must be a finite 2-D array (n_stars, n_inputs)")
        return self

    def contains(self, x: np.ndarray) -> np.ndarray:
        """True for every row of ``x`` with finite inputs (False for NaN rows)."""
        return np.all(np.isfinite(np.asarray(x, dtype=np.float64)), axis=1)

    def save(self, path: str | os.PathLike, *, overwrite: bool = False) -> Path:
        """Write the method name as a NPZ file (no pickles)."""
        with atomic_path(path, overwrite=overwrite) as tmp:
            with open(tmp, "wb") as fh:
                np.savez(fh, method=np.array(self.method))
        return Path(path)


def coverage_fraction(model: CoverageModel, x: np.ndarray) -> float:
    """Fraction of the rows of ``x`` with finite inputs that lie inside ``model``'s region
    (:func:`sos_vo.domain.fraction_inside`)."""
    return fraction_inside(model, x)
