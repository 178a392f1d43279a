"""Applicability domains: where a fitted model may be trusted.

Two models of the package answer the same question for different inputs:

* :class:`sos_vo.catalogue.train_area.TrainingAreaModel`: the region of the network inputs
  holding 99% of the training density (T25 Sect. 5.2, the ``train_area`` flag);
* :class:`sos_vo.homogenise.coverage.CoverageModel`: the region of (Teff/5040, log g, [Fe/H])
  covered by a calibration sample (the homogenisation talk, Avdeeva et al. 2025).

Both follow :class:`ApplicabilityDomain` (``contains``, ``save``, ``load``), and
:func:`fraction_inside` works with either.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from .exceptions import EmptyInputError


@runtime_checkable
class ApplicabilityDomain(Protocol):
    """A fitted region of an input space."""

    def contains(self, x: np.ndarray) -> np.ndarray:
        """Boolean array: True where a row of ``x`` (n_rows, n_inputs) lies inside."""
        ...

    def save(self, path: str | os.PathLike, *, overwrite: bool = False) -> Path:
        """Write the fitted region to ``path`` (atomically)."""
        ...

    @classmethod
    def load(cls, path: str | os.PathLike) -> ApplicabilityDomain:
        """Read a region written by :meth:`save`."""
        ...


def fraction_inside(domain: ApplicabilityDomain, x: np.ndarray) -> float:
    """Fraction of the rows of ``x`` with finite inputs that lie inside ``domain``.

    Raises
    ------
    EmptyInputError
        If no row of ``x`` has finite inputs.
    """
    x = np.asarray(x, dtype=np.float64)
    finite = np.all(np.isfinite(x), axis=1)
    if not finite.any():
        raise EmptyInputError(f"fraction_inside: none of {x.shape[0]} rows has finite inputs")
    return float(np.asarray(domain.contains(x[finite])).mean())
