"""Helpers shared by the calibration tests: residuals after a correction and their binned medians."""

from __future__ import annotations

import numpy as np

from sos_vo.homogenise.diagnostics import bin_edges, binned_residuals


def corrected_residuals(cal, te) -> np.ndarray:
    """``delta - offset`` of the test sample ``te = (teff, logg, feh, delta)`` after ``cal``."""
    teff, logg, feh, delta = te
    return delta - cal.predict_offset(teff, logg, feh, outside="flag").offset


def worst_binned_median(te, after: np.ndarray, min_count: int = 100) -> float:
    """Largest |median| of ``after`` over the 10 bins of Teff, log g and [Fe/H] holding at least
    ``min_count`` stars (NaN if any such median is NaN)."""
    worst = []
    for x in te[:3]:
        t = binned_residuals(x, after, bin_edges(x, 10))
        worst.append(np.abs(t["median"][t["n"] >= min_count]))
    return float(np.max(np.concatenate(worst), initial=0.0))
