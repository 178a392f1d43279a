"""Real training labels from fetched surveys: homogenise, combine, recalibrate on PASTEL.

T25 (Turchi et al. 2025, Sect. 3) trained on SoS-Spectro: several spectroscopic surveys put on
one scale and averaged star by star (Tsantaki et al. 2022), then recalibrated on PASTEL (Eq. 2,
Table 1).  This module rebuilds that chain on labels fetched with
:func:`sos_vo.archives.label_source.fetch_labels` (common label schema):

1. :func:`homogenise_labels` -- the reference is the union of the ``reference`` surveys
   (default APOGEE DR17 and GALAH DR3, as in the homogenisation talk (Avdeeva et al. 2025, AI in Astronomy Workshop, Catania); stars in both get the equal-weight
   mean, :func:`sos_vo.homogenise.union_references`).  Every other survey is calibrated on it
   with ``method`` (:data:`sos_vo.homogenise.METHODS`) per parameter, fitted on the stars the
   survey shares with the reference, the offsets evaluated on the survey's *original* (Teff, log
   g, [Fe/H]) for all three parameters.  Outside the calibration sample's coverage the
   ``outside`` policy applies (default ``"nan"``: such a value is left out, never extrapolated
   silently; the count is reported).  A survey sharing fewer than
   :data:`sos_vo.homogenise.base.MIN_PAIRS` stars with the reference cannot be calibrated and
   is left out (reported, not silent).
2. The calibrated surveys are averaged per Gaia DR3 source_id
   (:func:`sos_vo.homogenise.combine_surveys`, ``weights`` default ``"inverse_variance"``): one
   row per star, its error, the survey-to-survey scatter and which surveys contributed.
3. :func:`refit_recalibration` re-fits T25 Eq. 2 on the combined labels against PASTEL entries
   matched by position (:func:`sos_vo.prepare.crossmatch.join_pastel`), every PASTEL entry of a
   star one pair (as T25 fitted ~15 000 entries), and :func:`coefficients_table` sets the fitted
   coefficients next to T25 Table 1.

The result, :meth:`LabelBuild.spectro_table`, has the layout of ``sos_spectro.main``
(:data:`sos_vo.schema.SOS_SPECTRO_TABLE`), which :func:`sos_vo.pipeline.prepare_survey` joins.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from astropy.table import Table

from ..exceptions import EmptyInputError, SchemaError
from ..homogenise import METHODS, combine_surveys, match_pairs, union_references
from ..homogenise.base import MIN_PAIRS
from ..schema import LABELS
from .recalibration import (
    PASTEL_LABEL_COLUMNS,
    SOS_ARCHIVE_LABEL_COLUMNS,
    T25_TABLE1,
    RecalibrationFit,
    fit_recalibration,
)

DEFAULT_REFERENCE: tuple[str, ...] = ("apogee-dr17", "galah-dr3")
"""Reference surveys: the union of APOGEE and GALAH (Avdeeva et al. 2025, homogenisation talk, "Trend detection")."""
DEFAULT_METHOD = "polynomial"
"""Calibration method (Avdeeva et al. 2025, homogenisation talk: 4th-order polynomial with cross terms; XGBoost is
better at the edges and is available as ``"xgboost"``)."""
DEFAULT_WEIGHTS = "inverse_variance"
"""Weighting of the star-by-star average (:mod:`sos_vo.homogenise.combine`)."""
KEY = "source_id"


LABEL_VALUE_COLUMNS: tuple[str, ...] = ("teff", "e_teff", "logg", "e_logg", "feh", "e_feh")
"""The label-schema columns the homogenisation reads, besides ``source_id``."""


def compact_labels(t: Table) -> Table:
    """A label-schema table reduced to ``source_id`` and :data:`LABEL_VALUE_COLUMNS` (float64,
    NaN where missing): what :func:`homogenise_labels` reads, 56 bytes a row.  ``meta`` is
    kept (provenance)."""
    out = Table({KEY: np.asarray(t[KEY], dtype=np.int64)}, meta=dict(t.meta))
    for col in LABEL_VALUE_COLUMNS:
        out[col] = np.ma.filled(np.ma.asarray(t[col], dtype=float), np.nan)
        if getattr(t[col], "unit", None) is not None:
            out[col].unit = t[col].unit
    return out


def _survey_table(t: Table) -> Table:
    """Label-schema rows -> the homogenise layout (``teff``, ``err_teff``, ...)."""
    out = Table({KEY: np.asarray(t[KEY], dtype=np.int64)})
    for lab in LABELS:
        out[lab] = np.ma.filled(np.ma.asarray(t[lab], dtype=float), np.nan)
        out[f"err_{lab}"] = np.ma.filled(np.ma.asarray(t[f"e_{lab}"], dtype=float), np.nan)
    return out


OFFSET_CHUNK_ROWS = 200_000
"""Stars whose calibration offsets are evaluated at a time (our choice: bounds the design
matrices and coverage look-ups of a multi-million-row survey to ~0.1 GB)."""


def _offsets(cal, teff: np.ndarray, logg: np.ndarray, feh: np.ndarray,
             chunk_rows: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``cal.predict_offset`` in chunks of rows: (offset, in_coverage), each star evaluated
    on its own, so the result equals one call on all rows."""
    chunk_rows = OFFSET_CHUNK_ROWS if chunk_rows is None else chunk_rows
    offset = np.empty(teff.size)
    inside = np.empty(teff.size, dtype=bool)
    for start in range(0, teff.size, chunk_rows):
        sl = slice(start, start + chunk_rows)
        pred = cal.predict_offset(teff[sl], logg[sl], feh[sl])
        offset[sl], inside[sl] = pred.offset, pred.in_coverage
    return offset, inside


def _median(x: np.ndarray) -> float:
    x = x[np.isfinite(x)]
    return float(np.median(x)) if x.size else float("nan")


@dataclass
class LabelBuild:
    """What :func:`homogenise_labels` produced.

    Attributes
    ----------
    combined : Table
        :func:`sos_vo.homogenise.combine_surveys` output (``spec_<label>``, ``spec_err_<label>``,
        ``spec_scatter_<label>``, ``n_<label>``, ``surveys``), one row per star.
    report : Table
        One row per survey: stars, pairs with the reference, whether calibrated, the median
        survey-minus-reference offset before and after calibration, values outside coverage.
    calibrations : dict
        Survey -> {label -> fitted calibration}.
    provenance : dict
        Options and counts, JSON-ready.
    """

    combined: Table
    report: Table
    calibrations: dict[str, dict[str, Any]] = field(default_factory=dict)
    provenance: dict[str, Any] = field(default_factory=dict)

    def spectro_table(self) -> Table:
        """The combined labels in the ``sos_spectro.main`` layout (not recalibrated)."""
        c = self.combined
        out = Table({KEY: np.asarray(c[KEY], dtype=np.int64)})
        for lab in LABELS:
            out[lab] = np.asarray(c[f"spec_{lab}"], dtype=np.float32)
            out[lab].unit = c[f"spec_{lab}"].unit
            out[f"e_{lab}"] = np.asarray(c[f"spec_err_{lab}"], dtype=np.float32)
            out[f"e_{lab}"].unit = c[f"spec_{lab}"].unit
        out["n_surveys"] = np.asarray([len(s.split(",")) if s else 0 for s in c["surveys"]],
                                      dtype=np.int16)
        out["surveys"] = c["surveys"]
        return out


def homogenise_labels(surveys: Mapping[str, Table], *,
                      reference: Sequence[str] = DEFAULT_REFERENCE, method: str = DEFAULT_METHOD,
                      outside: str = "nan", weights: str = DEFAULT_WEIGHTS) -> LabelBuild:
    """Put several surveys' labels on the reference scale and average them per star.

    Parameters
    ----------
    surveys : mapping
        Survey key -> label-schema table (:data:`sos_vo.archives.label_source.LABEL_SCHEMA`),
        one row per source_id.
    reference : sequence of str
        Surveys whose union is the reference scale; those present must be among ``surveys``.
    method : str
        Calibration method (:data:`sos_vo.homogenise.METHODS`).
    outside : str
        Outside-coverage policy (:data:`sos_vo.homogenise.OUTSIDE_POLICIES`).
    weights : str
        Star-by-star averaging (:data:`sos_vo.homogenise.COMBINE_WEIGHTS`).

    Raises
    ------
    SchemaError
        No reference survey among ``surveys`` while other surveys need calibrating.
    EmptyInputError
        No survey given, or no star left.
    """
    if not surveys:
        raise EmptyInputError("no label survey given")
    if method not in METHODS:
        raise ValueError(f"unknown homogenisation method {method!r}: expected one of "
                         f"{', '.join(METHODS)}")
    tables = {k: _survey_table(t) for k, t in surveys.items()}
    refs = [k for k in reference if k in tables]
    others = [k for k in tables if k not in refs]
    if others and not refs:
        raise SchemaError(f"reference survey(s) {', '.join(reference)} not among the fetched "
                          f"surveys ({', '.join(tables)}): cannot put {', '.join(others)} on "
                          "their scale (choose --reference)")
    union = union_references({k: tables[k] for k in refs}, key=KEY) if refs else None
    calibrated: dict[str, Table] = {}
    rows, calibrations = [], {}
    for name, t in tables.items():
        row: dict[str, Any] = {"survey": name, "n_stars": len(t), "role": "reference"
                               if name in refs else "calibrated"}
        pairs = None
        if union is not None:
            try:
                pairs = match_pairs(t, union, key=KEY)
            except EmptyInputError:
                pairs = None
        row["n_pairs"] = 0 if pairs is None else len(pairs)
        for lab in LABELS:
            before = (np.asarray(pairs[lab], float) - np.asarray(pairs[f"ref_{lab}"], float)) \
                if pairs is not None else np.array([])
            row[f"offset_{lab}"] = _median(before)
        if name in refs:
            calibrated[name] = t
            for lab in LABELS:
                row[f"offset_after_{lab}"] = row[f"offset_{lab}"]
                row[f"outside_{lab}"] = 0
            rows.append(row)
            continue
        if pairs is None or len(pairs) < MIN_PAIRS:
            row["role"] = f"left out: {row['n_pairs']} stars in common with the reference " \
                          f"(need {MIN_PAIRS})"
            for lab in LABELS:
                row[f"offset_after_{lab}"] = float("nan")
                row[f"outside_{lab}"] = 0
            rows.append(row)
            continue
        orig = {lab: np.asarray(t[lab], float) for lab in LABELS}
        out = t.copy()
        calibrations[name] = {}
        for lab in LABELS:
            cal = METHODS[method](target=lab, outside=outside).fit_pairs(pairs)
            calibrations[name][lab] = cal
            offset, inside = _offsets(cal, orig["teff"], orig["logg"], orig["feh"])
            out[lab] = orig[lab] - offset
            finite = np.all([np.isfinite(orig[k]) for k in LABELS], axis=0)
            row[f"outside_{lab}"] = int(np.count_nonzero(finite & ~inside))
            p_off = _offsets(cal, *(np.asarray(pairs[k], float) for k in LABELS))[0]
            row[f"offset_after_{lab}"] = _median(np.asarray(pairs[lab], float) - p_off
                                                 - np.asarray(pairs[f"ref_{lab}"], float))
        calibrated[name] = out
        rows.append(row)
    report = Table(rows=rows)
    usable = {k: v for k, v in calibrated.items()}
    combined = combine_surveys(usable, key=KEY, weights=weights)
    full = np.all([np.isfinite(np.asarray(combined[f"spec_{lab}"], float)) for lab in LABELS], axis=0)
    prov = {"reference": list(refs), "method": method, "outside": outside, "weights": weights,
            "surveys": list(tables), "left_out": [r["survey"] for r in rows
                                                  if str(r["role"]).startswith("left out")],
            "n_stars": len(combined), "n_stars_all_three_labels": int(full.sum()),
            "n_dropped_no_error": int(combined.meta.get("n_dropped_no_error", 0))}
    return LabelBuild(combined=combined, report=report, calibrations=calibrations, provenance=prov)


def refit_recalibration(spectro: Table, pastel_matched: Table) -> RecalibrationFit:
    """T25 Eq. 2 re-fitted on combined labels (``sos_spectro.main`` layout) and PASTEL entries
    matched to Gaia DR3 (:func:`sos_vo.prepare.crossmatch.join_pastel` output), on source_id."""
    return fit_recalibration(spectro, pastel_matched, key=KEY,
                             sos_columns=SOS_ARCHIVE_LABEL_COLUMNS,
                             pastel_columns=PASTEL_LABEL_COLUMNS)


def coefficients_table(fit: RecalibrationFit) -> Table:
    """Fitted Eq. 2 coefficients next to T25 Table 1, one row per parameter."""
    rows = []
    for lab in LABELS:
        f, t = fit.coefficients[lab], T25_TABLE1[lab]
        stats = fit.stats[list(fit.stats["label"]).index(lab)]
        rows.append((lab, int(stats["n"]), f.a, f.b, f.c, f.d, t.a, t.b, t.c, t.d,
                     float(stats["median"]), float(stats["mad"]), float(stats["mad_after"])))
    return Table(rows=rows, names=("label", "n_pairs", "a", "b", "c", "d", "a_T25", "b_T25",
                                   "c_T25", "d_T25", "median_before", "mad_before", "mad_after"))
