"""Robust error statistics of the Survey of Surveys papers.

Turchi et al. (2025, hereafter T25) Table 4 lists the mean, median, standard deviation and
MAD of the *absolute* test-set errors |pred - true|; the earlier SPIE paper (Turchi et al.
2024, SkyMapper only) lists the same statistics of the *signed* error pred - true.
:func:`error_statistics` returns both so that each paper can be compared with.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy.stats import median_abs_deviation

from .exceptions import EmptyInputError

MAD_SCALE = 1.4826
"""Scale factor k of the MAD, ``k * median(|x - median(x)|)``, which makes the MAD equal to the
standard deviation for normally distributed data (T25 footnote 6: "k ~ 1.4826")."""


def _finite(values: np.ndarray | list[float], name: str) -> np.ndarray:
    """Return the finite entries of ``values`` as float64; raise if none is left."""
    arr = np.asarray(values, dtype=np.float64).ravel()
    finite = arr[np.isfinite(arr)]
    if finite.size == 0:
        raise EmptyInputError(
            f"{name}: no finite values (got {arr.size} values, {arr.size - finite.size} NaN/inf)"
        )
    return finite


def mad(x: np.ndarray | list[float], scale: float = MAD_SCALE) -> float:
    """Median absolute deviation scaled to a Gaussian sigma, ignoring NaN/inf.

    ``MAD = k * median(|x - median(x)|)`` with ``k = 1.4826`` (T25 footnote 6), the unscaled
    MAD from :func:`scipy.stats.median_abs_deviation`.  (scipy's ``scale="normal"`` is
    1 / Phi^-1(3/4) = 1.482602...; the paper's rounded k is kept so that our numbers are the
    paper's definition.)

    Parameters
    ----------
    x : array_like
        Values; NaN and infinite entries are ignored.
    scale : float
        The factor k (default :data:`MAD_SCALE`).

    Returns
    -------
    float

    Raises
    ------
    EmptyInputError
        If ``x`` holds no finite value.
    """
    v = _finite(x, "mad")
    return float(scale * median_abs_deviation(v))


def mad_along(x: np.ndarray, axis: int = 0, scale: float = MAD_SCALE) -> np.ndarray:
    """Scaled MAD of an array along ``axis`` (no NaN handling; used per star over ensemble members).

    Parameters
    ----------
    x : numpy.ndarray
        E.g. member predictions of shape (n_members, n_stars).
    axis : int
        Axis to reduce.
    scale : float
        The factor k (T25 footnote 6).
    """
    return scale * median_abs_deviation(x, axis=axis)


@dataclass(frozen=True)
class ErrorStatistics:
    """T25 Table-4 statistics of the test-set errors of one parameter.

    ``abs_*`` are computed on |pred - true| (T25 Table 4 and footnote 6, whose MAD is that of the
    absolute errors); ``signed_*`` on pred - true (SPIE paper).  ``sigma`` is the sample standard
    deviation (ddof=1).  ``rmse`` = sqrt(mean((pred - true)**2)).  ``n`` counts the pairs where
    both values are finite.
    """

    n: int
    abs_mean: float
    abs_median: float
    abs_sigma: float
    abs_mad: float
    signed_mean: float
    signed_median: float
    signed_sigma: float
    signed_mad: float
    rmse: float

    def as_dict(self) -> dict[str, float]:
        """The statistics as a plain dict (JSON-ready)."""
        return asdict(self)


def error_statistics(pred: np.ndarray | list[float], true: np.ndarray | list[float]) -> ErrorStatistics:
    """Table-4 statistics of ``pred - true`` (absolute and signed), RMSE and N.

    Pairs where either value is NaN/inf are ignored.

    Parameters
    ----------
    pred, true : array_like
        Predicted and reference values, same length.

    Returns
    -------
    ErrorStatistics

    Raises
    ------
    ValueError
        If the lengths differ.
    EmptyInputError
        If no pair has two finite values.
    """
    p = np.asarray(pred, dtype=np.float64).ravel()
    t = np.asarray(true, dtype=np.float64).ravel()
    if p.shape != t.shape:
        raise ValueError(f"error_statistics: pred has {p.size} values but true has {t.size}")
    ok = np.isfinite(p) & np.isfinite(t)
    if not ok.any():
        raise EmptyInputError(
            f"error_statistics: no pair with finite pred and true (out of {p.size} pairs)"
        )
    err = p[ok] - t[ok]
    aerr = np.abs(err)
    ddof = 1 if err.size > 1 else 0
    return ErrorStatistics(
        n=int(err.size),
        abs_mean=float(aerr.mean()),
        abs_median=float(np.median(aerr)),
        abs_sigma=float(aerr.std(ddof=ddof)),
        abs_mad=mad(aerr),
        signed_mean=float(err.mean()),
        signed_median=float(np.median(err)),
        signed_sigma=float(err.std(ddof=ddof)),
        signed_mad=mad(err),
        rmse=float(np.sqrt(np.mean(err**2))),
    )


# --------------------------------------------------------------------------------------
# Printing
# --------------------------------------------------------------------------------------
UNIT_DECIMALS = {"K": 1, "dex": 3}
"""Decimals printed for a statistic in K and in dex: the finest precision the papers quote
(the SPIE paper, Turchi et al. 2024, gives 70.5 K and 0.086 dex; T25 Table 4 rounds coarser).
Files (ECSV, JSON) keep full precision; only what is printed is rounded."""

FRACTION_DECIMALS = 3
"""Decimals printed for a fraction (columns named ``*_fraction``)."""

SIGNED_COLUMNS = frozenset({"signed_mean", "signed_median", "median", "median_offset"})
"""Columns of offsets (signed errors, residual medians), printed with their sign."""

SIGNIFICANT_DIGITS = 4
"""Significant digits printed for a float whose unit is neither K nor dex."""


def format_value(value: float, label: str | None = None, *, signed: bool = False) -> str:
    """``value`` as printed in a report: 1 decimal for a Teff (K), 3 for log g and [Fe/H] (dex).

    Parameters
    ----------
    value
        The number (NaN prints as ``nan``).
    label
        ``"teff"``, ``"logg"`` or ``"feh"`` (:data:`sos_vo.schema.LABEL_UNITS`), or a column
        name ending in one (``ml_teff``, ``spec_err_feh``); another or no label prints
        :data:`SIGNIFICANT_DIGITS` significant digits.
    signed
        Always print the sign (offsets).
    """
    from .schema import LABEL_UNITS

    sign = "+" if signed else ""
    label = (label or "").rsplit("_", 1)[-1]
    decimals = UNIT_DECIMALS.get(LABEL_UNITS.get(label, ""))
    if decimals is None:
        return f"{value:{sign}.{SIGNIFICANT_DIGITS}g}"
    return f"{value:{sign}.{decimals}f}"


def format_statistics(table, *, label: str | None = None, label_column: str = "label"):
    """A copy of ``table`` for printing, its float columns as rounded strings.

    The decimals of each row follow the unit of its label (``label_column``, or ``label`` for
    the whole table): :data:`UNIT_DECIMALS`; ``*_fraction`` columns get
    :data:`FRACTION_DECIMALS`; other floats :data:`SIGNIFICANT_DIGITS` significant digits.
    Integer and text columns are kept as they are.

    Parameters
    ----------
    table : astropy.table.Table
        Statistics, e.g. the test-set metrics of a model folder (T25 Table 4 statistics).
    label
        Label of every row when the table has no ``label_column``.
    label_column
        Column naming each row's label.

    Returns
    -------
    astropy.table.Table
        A new table (the input is not modified); print it with ``pprint``.
    """
    from astropy.table import Column, Table

    out = Table(table, copy=True)
    labels = (list(out[label_column]) if label_column in out.colnames
              else [label] * len(out))
    for name in out.colnames:
        column = out[name]
        if column.dtype.kind != "f":
            continue
        values = [float(v) if not np.ma.is_masked(v) else np.nan for v in column]
        if name.endswith("_fraction"):
            text = [f"{v:.{FRACTION_DECIMALS}f}" for v in values]
        else:
            signed = name in SIGNED_COLUMNS
            text = [format_value(v, str(lab), signed=signed)
                    for v, lab in zip(values, labels, strict=True)]
        out[name] = Column(text, name=name, unit=column.unit, description=column.description)
    return out
