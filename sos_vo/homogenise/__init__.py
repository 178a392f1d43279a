"""Homogenising spectroscopic surveys (Avdeeva et al. 2025, AI in Astronomy Workshop, Catania; T25 Sect. 3).

Calibrate one survey against a reference (the talk: LAMOST against the union of APOGEE and
GALAH) as a function of (Teff/5040 K, log g, [Fe/H]) with a 4th-order polynomial
(:class:`PolynomialCalibration`), XGBoost (:class:`XGBoostCalibration`) or, as an optional
extra, PySR symbolic regression (:class:`PySRCalibration`), or with the plane of T25 Eq. 2
(:class:`LinearCalibration`; T25 Table 1 is its preset :func:`t25_table1`, the PASTEL
recalibration of :mod:`sos_vo.labels.recalibration`); judge it with binned residuals
(:func:`calibration_diagnostics`); never apply it outside the calibration sample's coverage
silently (:class:`CoverageModel`); average the calibrated surveys into SoS-Spectro-like labels
(:func:`combine_surveys`).
"""

from .base import (
    DEFAULT_OUTSIDE,
    OUTSIDE_POLICIES,
    TEFF_NORMALISATION_K,
    Calibration,
    CalibrationPrediction,
    calibration_inputs,
    load_calibration,
)
from .combine import COMBINE_WEIGHTS, combine_surveys
from .coverage import (
    COVERAGE_METHODS,
    CoverageModel,
    OutsideCoverageError,
    UnboundedCoverage,
    coverage_fraction,
)
from .diagnostics import binned_residuals, calibration_diagnostics, plot_residual_diagnostics
from .linear import T25_TABLE1, LinearCalibration, LinearCorrection, t25_table1
from .pairs import match_pairs, union_references
from .polynomial import PolynomialCalibration
from .pysr_fit import MissingExtraError, PySRCalibration
from .workflow import homogenise_survey
from .xgb import XGBoostCalibration

METHODS = {"polynomial": PolynomialCalibration, "xgboost": XGBoostCalibration, "pysr": PySRCalibration,
           "linear": LinearCalibration}
"""Calibration classes by method name (as used by ``sos-vo validate homogenise --methods``)."""

__all__ = [
    "COMBINE_WEIGHTS", "COVERAGE_METHODS", "DEFAULT_OUTSIDE", "METHODS", "OUTSIDE_POLICIES",
    "TEFF_NORMALISATION_K", "Calibration", "CalibrationPrediction", "CoverageModel",
    "LinearCalibration", "LinearCorrection", "MissingExtraError", "OutsideCoverageError",
    "PolynomialCalibration", "PySRCalibration", "T25_TABLE1", "UnboundedCoverage",
    "XGBoostCalibration", "binned_residuals", "calibration_diagnostics", "calibration_inputs",
    "combine_surveys", "coverage_fraction", "homogenise_survey", "load_calibration", "match_pairs",
    "plot_residual_diagnostics", "t25_table1", "union_references",
]
