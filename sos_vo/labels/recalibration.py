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
"""

from __future__ import annotations

from dataclasses import dataclass

import astropy.units as u
import numpy as np
from astropy.table import Table, join

from ..exceptions import EmptyInputError, LabelRangeError
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

MIN_FIT_PAIRS = 10
"""Fewest complete SoS-PASTEL pairs :func:`fit_recalibration` accepts (4 unknowns; T25 used
about 15 000 pairs)."""


@dataclass(frozen=True)
class LinearCorrection:
    """Coefficients of T25 Eq. 2 for one parameter: Delta f = a + b*Teff + c*logg + d*[Fe/H]."""

    a: float
    b: float
    c: float
    d: float

    def delta(self, teff: np.ndarray, logg: np.ndarray, feh: np.ndarray) -> np.ndarray:
        """Evaluate Delta f (SoS minus PASTEL) on the SoS values (Teff in K, logg/[Fe/H] in dex)."""
        return (self.a + self.b * np.asarray(teff, dtype=np.float64)
                + self.c * np.asarray(logg, dtype=np.float64)
                + self.d * np.asarray(feh, dtype=np.float64))


T25_TABLE1: dict[str, LinearCorrection] = {
    "teff": LinearCorrection(112.0, -6.66e-3, -28.1, -40.7),
    "logg": LinearCorrection(0.159, -2.21e-5, -0.00242, -0.0689),
    "feh": LinearCorrection(0.0769, -3.84e-7, -0.0186, -0.0262),
}
"""T25 Table 1 ("Fitted correction coefficients"), the default coefficients."""

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


def corrections(table: Table, coefficients: dict[str, LinearCorrection] = T25_TABLE1,
                columns: dict[str, str] = SOS_LABEL_COLUMNS) -> dict[str, np.ndarray]:
    """Delta f of T25 Eq. 2 for each label, evaluated on the SoS values of ``table``."""
    v = _labels(table, columns, "recalibration")
    check_label_ranges(v, columns)
    return {k: coefficients[k].delta(v["teff"], v["logg"], v["feh"]) for k in LABELS}


def recalibrate(table: Table, coefficients: dict[str, LinearCorrection] = T25_TABLE1,
                columns: dict[str, str] = SOS_LABEL_COLUMNS) -> Table:
    """Return a copy of ``table`` with the label columns replaced by ``SoS - Delta f``.

    Parameters
    ----------
    table
        SoS-Spectro labels (default columns ``spec_teff``, ``spec_logg``, ``spec_feh``).
    coefficients
        Per-label :class:`LinearCorrection`; default T25 Table 1, or the output of
        :func:`fit_recalibration` (its ``coefficients``).
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
    out = table.copy()
    for k in LABELS:
        delta = coefficients[k].delta(v["teff"], v["logg"], v["feh"])
        unit = out[columns[k]].unit
        out[columns[k]] = v[k] - delta
        out[columns[k]].unit = unit
    out.meta["recalibration"] = {k: vars(coefficients[k]) for k in LABELS}
    return out


@dataclass
class RecalibrationFit:
    """Result of :func:`fit_recalibration`: coefficients (same structure as
    :data:`T25_TABLE1`) and the residual statistics of SoS minus PASTEL before and after."""

    coefficients: dict[str, LinearCorrection]
    stats: Table


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
    """Refit T25 Eq. 2 by ordinary least squares on SoS-PASTEL matched pairs.

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
        ``coefficients[label]`` (a :class:`LinearCorrection`) and ``stats``, one row per
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
    design = np.column_stack([np.ones(n), s["teff"][ok], s["logg"][ok], s["feh"][ok]])
    coefficients, rows = {}, []
    for k in LABELS:
        diff = s[k][ok] - p[k][ok]
        sol, *_ = np.linalg.lstsq(design, diff, rcond=None)
        coefficients[k] = LinearCorrection(*(float(x) for x in sol))
        after = diff - design @ sol
        rows.append((k, n, float(np.median(diff)), mad(diff), float(np.median(after)),
                     mad(after), float(np.sqrt(np.mean(after**2)))))
    stats = Table(rows=rows, names=("label", "n", "median", "mad", "median_after", "mad_after",
                                    "rms_after"))
    return RecalibrationFit(coefficients, stats)
