"""The common interface of every survey-to-reference calibration.

A calibration models the offset of one survey's parameter from a reference,
``delta = survey - reference``, as a function of the survey's own (Teff/5040 K, log g, [Fe/H])
(Avdeeva et al. 2025, homogenisation talk, "Trend detection": LAMOST minus the union of APOGEE and GALAH), and corrects
``calibrated = survey - delta`` -- the sign convention of T25 Eq. (2) (Turchi et al. 2025,
Sect. 3: ``Delta f`` = SoS minus PASTEL, corrected = SoS - Delta f).

Every calibration carries a :class:`~sos_vo.homogenise.coverage.CoverageModel` of its
calibration sample and is never extrapolated silently: outside the covered region it raises,
returns NaN, or returns the extrapolated value with ``in_coverage = False``, per the
``outside`` option (:data:`OUTSIDE_POLICIES`).

Models are saved to a folder of JSON/NPZ files (no pickles): ``calibration.json`` (method,
target, options, format version), ``coverage.npz`` and the method's own files.
"""

from __future__ import annotations

import importlib
import json
import os
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from astropy.table import Table

from ..exceptions import EmptyInputError, ModelFormatError, SchemaError
from ..io import atomic_path
from ..schema import LABELS
from .coverage import CoverageModel, OutsideCoverageError

TEFF_NORMALISATION_K = 5040.0
"""Teff is passed to the models as Teff / 5040 K (Avdeeva et al. 2025 talk: "Inputs to the models are
normalized effective temperature (Teff/5040 K), surface gravity (log g), and metallicity").  A
method may declare another divisor (:attr:`Calibration.teff_normalisation_k`): the linear model
of T25 Eq. 2 takes Teff in K, the unit of its Table 1 coefficients."""

INPUT_LABELS: tuple[str, ...] = ("teff", "logg", "feh")
"""Survey columns the calibrations take as inputs, in this order."""

OUTSIDE_POLICIES: tuple[str, ...] = ("raise", "nan", "flag")
"""What predicting outside the coverage region does: ``raise`` an
:class:`~sos_vo.homogenise.coverage.OutsideCoverageError`; return ``nan`` offsets there; or
``flag``: return the model's extrapolated offsets with ``in_coverage = False``."""

DEFAULT_OUTSIDE = "nan"
"""Default :data:`OUTSIDE_POLICIES` entry: an uncovered star gets no calibrated value."""

MIN_PAIRS = 30
"""Fewest matched pairs a calibration accepts by default (our choice: a 4th-order polynomial in
three variables has 35 terms, so fewer pairs than this cannot constrain even the simplest
model); a method may lower it (:attr:`Calibration.min_pairs`)."""

FORMAT_VERSION = 1
"""Version of the saved-calibration folder layout."""

CALIBRATION_FILE = "calibration.json"
COVERAGE_FILE = "coverage.npz"

METHOD_CLASSES = {
    "polynomial": "sos_vo.homogenise.polynomial:PolynomialCalibration",
    "xgboost": "sos_vo.homogenise.xgb:XGBoostCalibration",
    "pysr": "sos_vo.homogenise.pysr_fit:PySRCalibration",
    "linear": "sos_vo.homogenise.linear:LinearCalibration",
}
"""Method name -> class, for :func:`load_calibration` (imported lazily: PySR is optional)."""


def check_target(target: str) -> str:
    """Return ``target`` if it is one of :data:`~sos_vo.schema.LABELS`, else raise ValueError."""
    if target not in LABELS:
        raise ValueError(f"unknown calibration target {target!r}: expected one of {', '.join(LABELS)}")
    return target


def check_outside(outside: str) -> str:
    """Return ``outside`` if it is one of :data:`OUTSIDE_POLICIES`, else raise ValueError."""
    if outside not in OUTSIDE_POLICIES:
        raise ValueError(f"unknown outside-coverage policy {outside!r}: expected one of "
                         f"{', '.join(OUTSIDE_POLICIES)}")
    return outside


def calibration_inputs(teff: Any, logg: Any, feh: Any,
                       teff_scale: float = TEFF_NORMALISATION_K) -> np.ndarray:
    """Stack the model inputs (Teff / ``teff_scale``, log g, [Fe/H]) as (n, 3).

    Parameters
    ----------
    teff, logg, feh : array_like
        The survey's own values (K, dex, dex); NaN is kept (such rows get no prediction).
    teff_scale : float
        Divisor of Teff (default :data:`TEFF_NORMALISATION_K`; 1.0 keeps Teff in K exactly).

    Returns
    -------
    numpy.ndarray
        float64 array of shape (n, 3).
    """
    cols = [np.asarray(v, dtype=np.float64).ravel() for v in (teff, logg, feh)]
    sizes = {c.size for c in cols}
    if len(sizes) != 1:
        raise ValueError(f"calibration inputs differ in length: teff {cols[0].size}, "
                         f"logg {cols[1].size}, feh {cols[2].size}")
    teff = cols[0] if teff_scale == 1.0 else cols[0] / teff_scale
    return np.column_stack([teff, cols[1], cols[2]])


def table_inputs(table: Table, columns: dict[str, str] | None = None,
                 teff_scale: float = TEFF_NORMALISATION_K) -> np.ndarray:
    """Model inputs from a table; ``columns`` maps ``teff``/``logg``/``feh`` to its column names
    (``teff_scale`` as in :func:`calibration_inputs`)."""
    names = {lab: lab for lab in INPUT_LABELS} | (columns or {})
    missing = [names[lab] for lab in INPUT_LABELS if names[lab] not in table.colnames]
    if missing:
        raise SchemaError(f"table lacks calibration input column(s) {', '.join(missing)} "
                          f"(has: {', '.join(table.colnames)})")
    return calibration_inputs(*(np.ma.filled(np.ma.asarray(table[names[lab]], dtype=float), np.nan)
                                for lab in INPUT_LABELS), teff_scale=teff_scale)


@dataclass(frozen=True)
class CalibrationPrediction:
    """Offsets predicted by a calibration.

    Attributes
    ----------
    offset : numpy.ndarray
        ``survey - reference`` predicted per star (subtract it to calibrate); NaN where the
        inputs are not finite, and -- with ``outside="nan"`` -- outside the coverage region.
    in_coverage : numpy.ndarray of bool
        True where the star lies inside the calibration sample's region.
    """

    offset: np.ndarray
    in_coverage: np.ndarray


class Calibration(ABC):
    """Base class: fit on matched pairs, predict the offset, save/load without pickles.

    Parameters
    ----------
    target : str
        The parameter calibrated: ``teff``, ``logg`` or ``feh``.
    coverage : CoverageModel, optional
        The coverage model to fit on the calibration sample (default :class:`CoverageModel()`).
    outside : str
        Default outside-coverage policy, one of :data:`OUTSIDE_POLICIES`.
    """

    method: ClassVar[str] = ""
    teff_normalisation_k: ClassVar[float] = TEFF_NORMALISATION_K
    """Divisor of Teff in the model inputs (see :data:`TEFF_NORMALISATION_K`)."""
    min_pairs: ClassVar[int] = MIN_PAIRS
    """Fewest usable pairs :meth:`fit` accepts."""

    def __init__(self, target: str = "feh", coverage: CoverageModel | None = None,
                 outside: str = DEFAULT_OUTSIDE) -> None:
        self.target = check_target(target)
        self.coverage = coverage if coverage is not None else CoverageModel()
        self.outside = check_outside(outside)
        self.n_pairs = 0
        self._fitted = False

    # ---------------------------------------------------------------- to be implemented
    @abstractmethod
    def _fit_model(self, x: np.ndarray, delta: np.ndarray) -> None:
        """Fit the model on finite inputs ``x`` (n, 3) and offsets ``delta`` (n,)."""

    @abstractmethod
    def _predict_model(self, x: np.ndarray) -> np.ndarray:
        """Model offsets for finite inputs ``x`` (n, 3)."""

    @abstractmethod
    def _save_model(self, folder: Path) -> dict[str, Any]:
        """Write the model's files into ``folder``; return JSON-ready state for calibration.json."""

    @abstractmethod
    def _load_model(self, folder: Path, state: dict[str, Any]) -> None:
        """Restore the model from ``folder`` and the state written by :meth:`_save_model`."""

    # ---------------------------------------------------------------- public API
    @property
    def is_fitted(self) -> bool:
        """True once :meth:`fit` (or :func:`load_calibration`, or a preset) has set the model."""
        return self._fitted

    def inputs(self, teff: Any, logg: Any, feh: Any) -> np.ndarray:
        """Model inputs of this method (:func:`calibration_inputs` with its Teff divisor)."""
        return calibration_inputs(teff, logg, feh, teff_scale=self.teff_normalisation_k)

    def fit(self, teff: Any, logg: Any, feh: Any, delta: Any) -> Calibration:
        """Fit the offset model and the coverage region on matched pairs.

        Parameters
        ----------
        teff, logg, feh : array_like
            The survey's values of the matched stars.
        delta : array_like
            ``survey - reference`` of the target parameter for the same stars.

        Returns
        -------
        Calibration
            ``self``.

        Raises
        ------
        EmptyInputError
            If fewer than :attr:`min_pairs` pairs have finite inputs and offset.
        """
        x = self.inputs(teff, logg, feh)
        y = np.asarray(delta, dtype=np.float64).ravel()
        if y.size != x.shape[0]:
            raise ValueError(f"delta has {y.size} values but the inputs have {x.shape[0]} rows")
        ok = np.all(np.isfinite(x), axis=1) & np.isfinite(y)
        if ok.sum() < self.min_pairs:
            raise EmptyInputError(
                f"{self.method} calibration of {self.target}: {int(ok.sum())} usable pairs out of "
                f"{y.size} (need at least {self.min_pairs} with finite teff, logg, feh and offset)")
        self.coverage.fit(x[ok])
        self._fit_model(x[ok], y[ok])
        self.n_pairs = int(ok.sum())
        self._fitted = True
        return self

    def fit_pairs(self, pairs: Table) -> Calibration:
        """Fit on a table from :func:`~sos_vo.homogenise.pairs.match_pairs`.

        Uses the survey columns ``teff``, ``logg``, ``feh`` and ``ref_<target>``.
        """
        ref = f"ref_{self.target}"
        if ref not in pairs.colnames:
            raise SchemaError(f"pairs table lacks column {ref!r} (has: {', '.join(pairs.colnames)})")
        x = table_inputs(pairs, teff_scale=self.teff_normalisation_k)
        delta = _filled(pairs[self.target]) - _filled(pairs[ref])
        return self.fit(x[:, 0] * self.teff_normalisation_k, x[:, 1], x[:, 2], delta)

    def predict_offset(self, teff: Any, logg: Any, feh: Any,
                       outside: str | None = None) -> CalibrationPrediction:
        """Predicted ``survey - reference`` offsets, honouring the coverage region.

        Parameters
        ----------
        teff, logg, feh : array_like
            The survey's values.
        outside : str, optional
            Overrides the calibration's :data:`OUTSIDE_POLICIES` entry for this call.

        Raises
        ------
        OutsideCoverageError
            With ``outside="raise"`` when any star with finite inputs is outside coverage.
        """
        self._check_fitted()
        policy = check_outside(outside or self.outside)
        x = self.inputs(teff, logg, feh)
        finite = np.all(np.isfinite(x), axis=1)
        inside = self.coverage.contains(x)
        n_out = int(np.count_nonzero(finite & ~inside))
        if policy == "raise" and n_out:
            raise OutsideCoverageError(
                f"{n_out} of {int(finite.sum())} stars lie outside the coverage region of the "
                f"{self.method} {self.target} calibration ({self.coverage.describe()}); pass "
                f"outside='nan' or 'flag' to calibrate the others")
        offset = np.full(x.shape[0], np.nan)
        use = finite if policy == "flag" else finite & inside
        if use.any():
            offset[use] = self._predict_model(x[use])
        return CalibrationPrediction(offset=offset, in_coverage=inside)

    def apply(self, table: Table, columns: dict[str, str] | None = None,
              outside: str | None = None) -> Table:
        """Return a copy of ``table`` with the target calibrated.

        The target column (``columns[target]`` or the target name) is replaced by the
        calibrated value; the original goes to ``<target>_uncalibrated``, the offset to
        ``<target>_offset`` and the coverage flag to ``<target>_in_coverage``.
        """
        self._check_fitted()
        names = {lab: lab for lab in INPUT_LABELS} | (columns or {})
        x = table_inputs(table, names, teff_scale=self.teff_normalisation_k)
        pred = self.predict_offset(x[:, 0] * self.teff_normalisation_k, x[:, 1], x[:, 2], outside)
        out = table.copy()
        col = names[self.target]
        original = _filled(out[col])
        out[f"{self.target}_uncalibrated"] = original
        out[col] = original - pred.offset
        out[f"{self.target}_offset"] = pred.offset
        out[f"{self.target}_in_coverage"] = pred.in_coverage
        unit = getattr(table[col], "unit", None)
        for name in (col, f"{self.target}_uncalibrated", f"{self.target}_offset"):
            out[name].unit = unit
        out.meta[f"{self.target}_calibration"] = f"{self.method} (survey - reference offset removed)"
        return out

    def save(self, path: str | os.PathLike, overwrite: bool = False) -> Path:
        """Write the calibration folder atomically (JSON + NPZ, no pickles); return its path."""
        self._check_fitted()
        with atomic_path(path, overwrite=overwrite) as tmp:
            tmp.mkdir()
            state = self._save_model(tmp)
            self.coverage.save(tmp / COVERAGE_FILE)
            meta = {"format_version": FORMAT_VERSION, "method": self.method, "target": self.target,
                    "outside": self.outside, "n_pairs": self.n_pairs,
                    "teff_normalisation_k": self.teff_normalisation_k, "model": state}
            (tmp / CALIBRATION_FILE).write_text(json.dumps(meta, indent=1))
        return Path(path)

    def _check_fitted(self) -> None:
        if not self.is_fitted:
            raise RuntimeError(f"this {self.method} calibration is not fitted: call fit() first")


def load_calibration(path: str | os.PathLike) -> Calibration:
    """Load a calibration folder written by :meth:`Calibration.save`.

    Raises
    ------
    ModelFormatError
        If the folder lacks files, has another format version or names an unknown method.
    """
    folder = Path(path)
    meta_file = folder / CALIBRATION_FILE
    if not meta_file.is_file():
        raise ModelFormatError(f"{folder} is not a calibration folder: {CALIBRATION_FILE} missing")
    meta = json.loads(meta_file.read_text())
    if meta.get("format_version") != FORMAT_VERSION:
        raise ModelFormatError(f"{meta_file}: format_version {meta.get('format_version')!r}, "
                               f"this sos-vo reads {FORMAT_VERSION}")
    method = meta.get("method")
    if method not in METHOD_CLASSES:
        raise ModelFormatError(f"{meta_file}: unknown method {method!r} "
                               f"(known: {', '.join(METHOD_CLASSES)})")
    module_name, class_name = METHOD_CLASSES[method].split(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    if meta.get("teff_normalisation_k") != cls.teff_normalisation_k:
        raise ModelFormatError(f"{meta_file}: Teff normalisation {meta.get('teff_normalisation_k')!r}"
                               f" K differs from the {method} method's {cls.teff_normalisation_k} K")
    cal = cls(target=meta["target"], outside=meta["outside"])
    cal.coverage = CoverageModel.load(folder / COVERAGE_FILE)
    cal._load_model(folder, meta["model"])
    cal.n_pairs = int(meta["n_pairs"])
    cal._fitted = True
    return cal


def _filled(column: Any) -> np.ndarray:
    """A column as float64 with masked entries as NaN."""
    return np.ma.filled(np.ma.asarray(column, dtype=np.float64), np.nan)
