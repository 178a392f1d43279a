"""External recalibration of SoS-Spectro labels on PASTEL (T25 Sect. 3.1, Eq. 2, Table 1).

T25 = Turchi et al. (2025), Survey of Surveys II.  The difference SoS-Spectro minus PASTEL
of each parameter f in {Teff, log g, [Fe/H]} is modelled as (Eq. 2)::

    Delta f = a + b * Teff_SoS + c * logg_SoS + d * [Fe/H]_SoS

evaluated on the *uncorrected* SoS values of the star (all three parameters are corrected
from the same original triplet, not one after the other), and the corrected label is::

    f_corrected = f_SoS - Delta f

Sign check: T25 quotes mean corrections of -36.8 K, 0.05 dex and -0.008 dex; with Table 1
and a PASTEL-like, dwarf-dominated sample, Delta f averages about -25..-37 K and +0.04..0.05
dex, so the quoted numbers are means of Delta f itself (the opposite convention would give
+37 K and -0.05 dex).  The [Fe/H] mean is too close to zero for its sign to discriminate.
See ``tests/labels/test_recalibration.py``.

A star lacking any of its three SoS parameters gets NaN for every corrected parameter (its
Delta f cannot be evaluated).

The model, its fit and its evaluation are those of the package's calibration framework:
:class:`sos_vo.homogenise.linear.LinearCalibration` (method ``"linear"``), with T25 Table 1 as
its preset (:data:`sos_vo.homogenise.linear.T25_TABLE1`, :func:`sos_vo.homogenise.linear.t25_table1`).
This module adds what is particular to the PASTEL recalibration: the column names of the SoS
and PASTEL tables, the physical range check, the pairing of every PASTEL measurement with its
star, and the before/after statistics.  Coverage: T25 correct every SoS-Spectro star with Eq. 2,
so the recalibration (preset or refitted) is applied with
:class:`~sos_vo.homogenise.coverage.UnboundedCoverage`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import astropy.units as u
import numpy as np
from astropy.table import Table, join

from ..exceptions import EmptyInputError, LabelRangeError
from ..homogenise.coverage import UnboundedCoverage
from ..homogenise.linear import (
    MIN_LINEAR_PAIRS,
    T25_TABLE1,
    T25_TABLE1_SOURCE,
    LinearCalibration,
    LinearCorrection,
)
from ..prepare.columns import float_values, require_columns
from ..schema import LABELS
from ..stats import mad

LABEL_UNITS = {"teff": u.K, "logg": "dex", "feh": "dex"}

SOS_LABEL_COLUMNS: dict[str, str] = {"teff": "spec_teff", "logg": "spec_logg", "feh": "spec_feh"}
"""Default label columns of a SoS-Spectro table (:data:`sos_vo.schema.SPEC_COLUMNS`)."""

SOS_ARCHIVE_LABEL_COLUMNS: dict[str, str] = {"teff": "teff", "logg": "logg", "feh": "feh"}
"""Label columns of the SoS-Spectro archive table (``sos_spectro.main``), for ``columns=``."""

PASTEL_LABEL_COLUMNS: dict[str, str] = {"teff": "pastel_teff", "logg": "pastel_logg",
                                        "feh": "pastel_feh"}
"""Default label columns of a PASTEL table (:func:`sos_vo.prepare.crossmatch.join_pastel`
output, see :class:`sos_vo.labels.pastel.PastelColumns`)."""

LABEL_RANGES: dict[str, tuple[float, float]] = {
    "teff": (2000.0, 50000.0),
    "logg": (-1.0, 6.5),
    "feh": (-6.0, 1.5),
}
"""Physical sanity bounds (inclusive) on input labels, K and dex.  Not from T25 (whose
catalogue filters, Sect. 5.2, are narrower and applied to the ML output): wide enough for
any star the spectroscopic surveys and PASTEL list, narrow enough to catch unit slips
(Teff in kK, log g in cgs g, [Fe/H] as Z)."""

MIN_FIT_PAIRS = MIN_LINEAR_PAIRS
"""Fewest complete SoS-PASTEL pairs :func:`fit_recalibration` accepts
(:data:`sos_vo.homogenise.linear.MIN_LINEAR_PAIRS`: 4 unknowns; T25 used about 15 000 pairs)."""

__all__ = [
    "LABEL_RANGES", "MIN_FIT_PAIRS", "PASTEL_LABEL_COLUMNS", "SOS_ARCHIVE_LABEL_COLUMNS",
    "SOS_LABEL_COLUMNS", "T25_MEAN_CORRECTIONS", "T25_TABLE1", "LinearCorrection",
    "RecalibrationFit", "as_calibrations", "check_label_ranges", "corrections",
    "fit_recalibration", "recalibrate",
]

Coefficients = Mapping[str, LinearCorrection | LinearCalibration]
"""Label -> Eq. 2 coefficients (:class:`LinearCorrection`) or a fitted/preset
:class:`LinearCalibration`."""

T25_MEAN_CORRECTIONS = {"teff": -36.8, "logg": 0.05, "feh": -0.008}
"""T25 Sect. 3.1: "On average, the computed error correction values are -36.8 K for Teff,
0.05 dex for log g, and -0.008 dex for [Fe/H]" (a check on the sign convention)."""


def _labels(table: Table, columns: dict[str, str], what: str) -> dict[str, np.ndarray]:
    require_columns(table, [columns[k] for k in LABELS], what)
    return {k: float_values(table, columns[k], LABEL_UNITS[k]) for k in LABELS}


def check_label_ranges(values: dict[str, np.ndarray], columns: dict[str, str],
                       ranges: dict[str, tuple[float, float]] = LABEL_RANGES) -> None:
    """Raise :class:`LabelRangeError` if a finite label lies outside ``ranges``.

    The message names the column, the number of rows outside and the most extreme value.
    Missing (NaN) labels are allowed.
    """
    for key, v in values.items():
        lo, hi = ranges[key]
        with np.errstate(invalid="ignore"):
            bad = (v < lo) | (v > hi)
        if bad.any():
            worst = v[bad][np.argmax(np.abs(v[bad] - (lo + hi) / 2))]
            raise LabelRangeError(
                f"column {columns[key]!r}: {int(bad.sum())} row(s) outside the physical range "
                f"[{lo:g}, {hi:g}] {LABEL_UNITS[key]}, e.g. {worst:g}"
            )


def as_calibrations(coefficients: Coefficients = T25_TABLE1) -> dict[str, LinearCalibration]:
    """Label -> :class:`LinearCalibration` of ``coefficients`` (Table 1 by default).

    :class:`LinearCorrection` values become calibrations with no coverage limit
    (:meth:`LinearCalibration.from_coefficients`); calibrations are passed through.
    """
    missing = [k for k in LABELS if k not in coefficients]
    if missing:
        raise ValueError(f"recalibration coefficients lack {', '.join(missing)}")
    out: dict[str, LinearCalibration] = {}
    for k in LABELS:
        c = coefficients[k]
        if isinstance(c, LinearCalibration):
            out[k] = c
        else:
            source = T25_TABLE1_SOURCE if c == T25_TABLE1[k] else "given coefficients"
            out[k] = LinearCalibration.from_coefficients(k, c, source=source)
    return out


def _offsets(values: dict[str, np.ndarray], calibrations: dict[str, LinearCalibration]
             ) -> dict[str, np.ndarray]:
    """Delta f of every label, all evaluated on the original SoS (Teff, log g, [Fe/H]).

    Applied to every star (``outside="flag"``): T25 correct the whole SoS-Spectro catalogue.
    """
    return {k: calibrations[k].predict_offset(values["teff"], values["logg"], values["feh"],
                                              outside="flag").offset for k in LABELS}


def corrections(table: Table, coefficients: Coefficients = T25_TABLE1,
                columns: dict[str, str] = SOS_LABEL_COLUMNS) -> dict[str, np.ndarray]:
    """Delta f of T25 Eq. 2 for each label, evaluated on the SoS values of ``table``."""
    v = _labels(table, columns, "recalibration")
    check_label_ranges(v, columns)
    return _offsets(v, as_calibrations(coefficients))


def recalibrate(table: Table, coefficients: Coefficients = T25_TABLE1,
                columns: dict[str, str] = SOS_LABEL_COLUMNS) -> Table:
    """Return a copy of ``table`` with the label columns replaced by ``SoS - Delta f``.

    Parameters
    ----------
    table
        SoS-Spectro labels (default columns ``spec_teff``, ``spec_logg``, ``spec_feh``).
    coefficients
        Per-label :class:`LinearCorrection` or :class:`LinearCalibration`; default T25 Table 1,
        or the output of :func:`fit_recalibration` (its ``coefficients`` or ``calibrations``).
    columns
        Label -> column name.

    Raises
    ------
    SchemaError
        A label column is missing or has a wrong unit.
    LabelRangeError
        A label lies outside :data:`LABEL_RANGES`.
    """
    v = _labels(table, columns, "recalibration")
    check_label_ranges(v, columns)
    calibrations = as_calibrations(coefficients)
    offsets = _offsets(v, calibrations)
    out = table.copy()
    for k in LABELS:
        unit = out[columns[k]].unit
        out[columns[k]] = v[k] - offsets[k]
        out[columns[k]].unit = unit
    out.meta["recalibration"] = {k: vars(calibrations[k].coefficients) for k in LABELS}
    return out


@dataclass
class RecalibrationFit:
    """Result of :func:`fit_recalibration`: the fitted :class:`LinearCalibration` per label, its
    coefficients (same structure as :data:`T25_TABLE1`) and the residual statistics of SoS
    minus PASTEL before and after."""

    coefficients: dict[str, LinearCorrection]
    stats: Table
    calibrations: dict[str, LinearCalibration]


def _pairs(sos: Table, pastel: Table, key: str | None, sos_columns: dict[str, str],
           pastel_columns: dict[str, str]) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    s = _labels(sos, sos_columns, "recalibration fit (SoS table)")
    p = _labels(pastel, pastel_columns, "recalibration fit (PASTEL table)")
    check_label_ranges(s, sos_columns)
    check_label_ranges(p, pastel_columns)
    if key is None:
        if len(sos) != len(pastel):
            raise ValueError(f"without key the SoS ({len(sos)} rows) and PASTEL ({len(pastel)} "
                             "rows) tables must be row-aligned matched pairs")
        return s, p
    require_columns(sos, [key], "recalibration fit (SoS table)")
    require_columns(pastel, [key], "recalibration fit (PASTEL table)")
    left = Table({key: np.asarray(sos[key]), **{f"sos_{k}": s[k] for k in LABELS}})
    right = Table({key: np.asarray(pastel[key]), **{f"pastel_{k}": p[k] for k in LABELS}})
    both = join(left, right, keys=key, join_type="inner")  # one row per PASTEL measurement
    return ({k: np.asarray(both[f"sos_{k}"]) for k in LABELS},
            {k: np.asarray(both[f"pastel_{k}"]) for k in LABELS})


def fit_recalibration(sos: Table, pastel: Table, *, key: str | None = None,
                      sos_columns: dict[str, str] = SOS_LABEL_COLUMNS,
                      pastel_columns: dict[str, str] = PASTEL_LABEL_COLUMNS) -> RecalibrationFit:
    """Refit T25 Eq. 2 on SoS-PASTEL matched pairs (:class:`LinearCalibration`, least squares).

    Parameters
    ----------
    sos, pastel
        SoS-Spectro and PASTEL labels.  With ``key=None`` row i of ``sos`` and row i of
        ``pastel`` are the same star; otherwise the tables are joined on column ``key``
        (e.g. ``"source_id"``), keeping every PASTEL measurement of a star as a pair (T25
        fitted ~15 000 measurements of ~14 000 stars).
    key
        Join column present in both tables, or None for row-aligned tables.
    sos_columns, pastel_columns
        Label -> column name in each table.

    Returns
    -------
    RecalibrationFit
        ``calibrations[label]`` (a fitted :class:`LinearCalibration`, no coverage limit),
        ``coefficients[label]`` (its :class:`LinearCorrection`) and ``stats``, one row per
        label: ``n`` pairs used, ``median``/``mad`` of SoS minus PASTEL before the correction
        and ``median_after``/``mad_after``/``rms_after`` after it (MAD scaled by 1.4826).

    Raises
    ------
    EmptyInputError
        Fewer than :data:`MIN_FIT_PAIRS` pairs with all six values finite.
    """
    s, p = _pairs(sos, pastel, key, sos_columns, pastel_columns)
    ok = np.logical_and.reduce([np.isfinite(s[k]) & np.isfinite(p[k]) for k in LABELS])
    n = int(ok.sum())
    if n < MIN_FIT_PAIRS:
        raise EmptyInputError(f"recalibration fit: {n} complete SoS-PASTEL pairs, need at least "
                              f"{MIN_FIT_PAIRS}")
    x = {k: s[k][ok] for k in LABELS}
    design = LinearCalibration.design(np.column_stack([x["teff"], x["logg"], x["feh"]]))
    calibrations, coefficients, rows = {}, {}, []
    for k in LABELS:
        diff = s[k][ok] - p[k][ok]
        cal = LinearCalibration(target=k, coverage=UnboundedCoverage())
        cal.fit(x["teff"], x["logg"], x["feh"], diff)
        calibrations[k], coefficients[k] = cal, cal.coefficients
        sol = np.array([cal.coefficients.a, cal.coefficients.b, cal.coefficients.c,
                        cal.coefficients.d])
        after = diff - design @ sol
        rows.append((k, n, float(np.median(diff)), mad(diff), float(np.median(after)),
                     mad(after), float(np.sqrt(np.mean(after**2)))))
    stats = Table(rows=rows, names=("label", "n", "median", "mad", "median_after", "mad_after",
                                    "rms_after"))
    return RecalibrationFit(coefficients, stats, calibrations)
