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

Steps 1 and 2 run on the label rows filed on disk by Gaia DR3 source_id range
(:mod:`sos_vo.labels.spill`) one partition at a time (:func:`homogenise_spilled`): every step
but the calibration fits reads the rows of one star only, and the fits read a sample of at most
:data:`MAX_FIT_PAIRS` pairs per survey (all of them below it), so the memory does not grow with
the number of label rows and the result does not depend on the partitions (tested).

The result, :meth:`LabelBuild.spectro_table`, has the layout of ``sos_spectro.main``
(:data:`sos_vo.schema.SOS_SPECTRO_TABLE`), which :func:`sos_vo.pipeline.prepare_survey` joins.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from astropy.table import Table, vstack
from tqdm.auto import tqdm

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
from .spill import LABEL_VALUE_COLUMNS, LabelSpill

DEFAULT_REFERENCE: tuple[str, ...] = ("apogee-dr17", "galah-dr3")
"""Reference surveys: the union of APOGEE and GALAH (Avdeeva et al. 2025, homogenisation talk, "Trend detection")."""
DEFAULT_METHOD = "polynomial"
"""Calibration method (Avdeeva et al. 2025, homogenisation talk: 4th-order polynomial with cross terms; XGBoost is
better at the edges and is available as ``"xgboost"``)."""
DEFAULT_WEIGHTS = "inverse_variance"
"""Weighting of the star-by-star average (:mod:`sos_vo.homogenise.combine`)."""
KEY = "source_id"


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

    combined: Table | None
    report: Table
    calibrations: dict[str, dict[str, Any]] = field(default_factory=dict)
    provenance: dict[str, Any] = field(default_factory=dict)

    def spectro_table(self) -> Table:
        """The combined labels in the ``sos_spectro.main`` layout (not recalibrated)."""
        parts = SpectroParts()
        parts.add(self.combined)
        return parts.table()


class SpectroParts:
    """Combined rows (:func:`sos_vo.homogenise.combine_surveys` output), part by part, kept in
    the ``sos_spectro.main`` layout only: ``source_id``, the six labels as float32, ``n_surveys``
    (int16) and ``surveys``, 42 bytes a star (the ``surveys`` text is one shared string per
    combination of surveys, an 8-byte reference per star)."""

    def __init__(self) -> None:
        self.columns: dict[str, list[np.ndarray]] = {}
        self.units: dict[str, Any] = {}
        self.combinations: dict[str, int] = {}
        self.codes: list[np.ndarray] = []

    def add(self, c: Table) -> None:
        """Append the rows of a combined table (source_id order, after the rows added so far)."""
        cols = {KEY: np.asarray(c[KEY], dtype=np.int64)}
        for lab in LABELS:
            cols[lab] = np.asarray(c[f"spec_{lab}"], dtype=np.float32)
            cols[f"e_{lab}"] = np.asarray(c[f"spec_err_{lab}"], dtype=np.float32)
            self.units[lab] = self.units[f"e_{lab}"] = c[f"spec_{lab}"].unit
        for k, v in cols.items():
            self.columns.setdefault(k, []).append(v)
        text, inverse = np.unique(np.asarray(c["surveys"], dtype=str), return_inverse=True)
        codes = np.array([self.combinations.setdefault(str(s), len(self.combinations))
                          for s in text], dtype=np.int32)
        self.codes.append(codes[inverse.ravel()])

    def table(self) -> Table:
        """The rows added, one table (the parts are released column by column, so the rows
        are held about once, not twice)."""
        cols = {}
        for k in list(self.columns):
            cols[k] = np.concatenate(self.columns.pop(k))
        codes = np.concatenate(self.codes) if self.codes else np.zeros(0, dtype=np.int32)
        self.codes = []
        text = np.empty(len(self.combinations), dtype=object)
        text[list(self.combinations.values())] = list(self.combinations)
        n = np.array([len(s.split(",")) if s else 0 for s in text], dtype=np.int16)
        cols["n_surveys"] = n[codes]
        cols["surveys"] = text[codes]
        del codes
        out = Table(cols, copy=False)
        for k, unit in self.units.items():
            out[k].unit = unit
        return out


def homogenise_labels(surveys: Mapping[str, Table | Iterable[Table]], *,
                      reference: Sequence[str] = DEFAULT_REFERENCE, method: str = DEFAULT_METHOD,
                      outside: str = "nan", weights: str = DEFAULT_WEIGHTS,
                      partition_rows: int | None = None,
                      work_dir: str | os.PathLike | None = None,
                      progress: bool = False) -> LabelBuild:
    """Put several surveys' labels on the reference scale and average them per star.

    The rows are filed on disk by source_id range (:class:`sos_vo.labels.spill.LabelSpill`,
    in a temporary folder under ``work_dir``, removed at the end) and homogenised partition by
    partition (:func:`homogenise_spilled`); this function then holds the whole combined table
    (:attr:`LabelBuild.combined`), which :func:`sos_vo.labels.real_model.label_stage` does not.

    Parameters
    ----------
    surveys : mapping
        Survey key -> label-schema table (:data:`sos_vo.archives.label_source.LABEL_SCHEMA`)
        or an iterable of such tables (chunks); one row per source_id is kept
        (:data:`~sos_vo.archives.label_source.DUPLICATE_RULE`).
    reference : sequence of str
        Surveys whose union is the reference scale; those present must be among ``surveys``.
    method : str
        Calibration method (:data:`sos_vo.homogenise.METHODS`).
    outside : str
        Outside-coverage policy (:data:`sos_vo.homogenise.OUTSIDE_POLICIES`).
    weights : str
        Star-by-star averaging (:data:`sos_vo.homogenise.COMBINE_WEIGHTS`).
    partition_rows : int, optional
        Rows of one partition (:data:`sos_vo.labels.spill.PARTITION_ROWS`); the result does
        not depend on it (tested).
    work_dir : path, optional
        Where the temporary folder of the filed rows goes (None: the system's).
    progress : bool
        tqdm bars over the partitions.

    Raises
    ------
    SchemaError
        No reference survey among ``surveys`` while other surveys need calibrating.
    EmptyInputError
        No survey given, or no star left.
    """
    if not surveys:
        raise EmptyInputError("no label survey given")
    _check_method(method)
    parts: list[Table] = []
    with LabelSpill(work_dir) as spill:
        for name, chunks in surveys.items():
            for chunk in ([chunks] if isinstance(chunks, Table) else chunks):
                spill.add(name, chunk)
        build = homogenise_spilled(spill, reference=reference, method=method, outside=outside,
                                   weights=weights, partition_rows=partition_rows,
                                   progress=progress, on_combined=parts.append)
    nonempty = [t for t in parts if len(t)]
    combined = (vstack(nonempty, metadata_conflicts="silent") if len(nonempty) > 1
                else nonempty[0])
    combined.meta = {"combine_weights": weights,
                     "n_dropped_no_error": build.provenance["n_dropped_no_error"]}
    build.combined = combined
    return build


def _check_method(method: str) -> None:
    if method not in METHODS:
        raise ValueError(f"unknown homogenisation method {method!r}: expected one of "
                         f"{', '.join(METHODS)}")


MAX_FIT_PAIRS = 250_000
"""Pairs of a survey with the reference kept for its calibration fits and the report's median
offsets (our choice).  Below it every pair is used and the results equal those of all the pairs
(the pairs are in source_id order either way); above it the sample is the pairs with the
:data:`MAX_FIT_PAIRS` smallest :func:`pair_hash` values of their source_id: a uniform sample
that depends on the stars only, not on how the rows are partitioned.  Why a cap: the fits of
:data:`sos_vo.homogenise.METHODS` (least squares, XGBoost, symbolic regression) need their
whole sample in memory, and the pairs of a reference survey with the reference union are the
survey itself (APOGEE DR17 ~0.65 M stars); a degree-4, 35-term polynomial is fixed to a
fraction of its scatter by far fewer pairs.  The report's ``n_pairs`` counts all pairs."""

_PAIR_COLUMNS: tuple[str, ...] = (*LABELS, *(f"ref_{lab}" for lab in LABELS))


def pair_hash(source_id: np.ndarray) -> np.ndarray:
    """A fixed pseudo-random 64-bit value per source_id (the SplitMix64 finaliser, Steele et
    al. 2014, OOPSLA), which orders the pairs for the :data:`MAX_FIT_PAIRS` sample."""
    z = np.asarray(source_id, dtype=np.int64).astype(np.uint64)
    with np.errstate(over="ignore"):
        z = z + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


class _PairSample:
    """The pairs of one survey with the reference, partition by partition, at most
    ``cap`` (+ one partition's) kept: ``source_id`` and the six columns the fits read."""

    def __init__(self, cap: int) -> None:
        self.cap = int(cap)
        self.n_total = 0
        self.cols: dict[str, np.ndarray] = {}

    def add(self, pairs: Table) -> None:
        self.n_total += len(pairs)
        new = {KEY: np.asarray(pairs[KEY], dtype=np.int64)}
        new.update({c: np.asarray(pairs[c], dtype=np.float64) for c in _PAIR_COLUMNS})
        self.cols = new if not self.cols else {c: np.concatenate([self.cols[c], new[c]])
                                              for c in new}
        if self.cols[KEY].size > self.cap:
            self._keep_smallest_hashes()

    def _keep_smallest_hashes(self) -> None:
        ids = self.cols[KEY]
        keep = np.sort(np.lexsort((ids, pair_hash(ids)))[:self.cap])
        self.cols = {c: v[keep] for c, v in self.cols.items()}

    def table(self) -> Table | None:
        """The sample in source_id order (None without pairs)."""
        if not self.cols:
            return None
        order = np.argsort(self.cols[KEY], kind="stable")
        return Table({c: v[order] for c, v in self.cols.items()})


def _partition_table(rec: np.ndarray) -> Table:
    """Filed rows (:data:`sos_vo.labels.spill.RECORD`) -> the homogenise layout (``teff``,
    ``err_teff``, ...)."""
    out = Table({KEY: rec["source_id"]})
    for lab in LABELS:
        out[lab] = rec[lab]
        out[f"err_{lab}"] = rec[f"e_{lab}"]
    return out


def homogenise_spilled(spill: LabelSpill, *, reference: Sequence[str] = DEFAULT_REFERENCE,
                       method: str = DEFAULT_METHOD, outside: str = "nan",
                       weights: str = DEFAULT_WEIGHTS, partition_rows: int | None = None,
                       progress: bool = False,
                       on_combined: Callable[[Table], Any] | None = None) -> LabelBuild:
    """The homogenisation of the surveys filed in ``spill``, partition by partition.

    Pass 1, per partition: the reference union (:func:`sos_vo.homogenise.union_references`)
    and each survey's pairs with it (:func:`sos_vo.homogenise.match_pairs`), which feed a
    sample of at most :data:`MAX_FIT_PAIRS` pairs per survey; then the calibration fits and
    the report's median offsets on those samples.  Pass 2, per partition: the calibration
    offsets applied and the surveys averaged per star
    (:func:`sos_vo.homogenise.combine_surveys`); each partition's combined rows (source_id
    order, the partitions in source_id order) are given to ``on_combined``.  Every step but
    the fits reads the rows of one star only, so the result does not depend on the partitions.

    Returns
    -------
    LabelBuild
        With ``combined`` None (the rows went to ``on_combined``).
    """
    _check_method(method)
    names = list(spill.surveys)
    refs = [k for k in reference if k in names]
    others = [k for k in names if k not in refs]
    if others and not refs:
        raise SchemaError(f"reference survey(s) {', '.join(reference)} not among the fetched "
                          f"surveys ({', '.join(names)}): cannot put {', '.join(others)} on "
                          "their scale (choose --reference)")
    parts = spill.partitions(partition_rows)
    n_stars = dict.fromkeys(names, 0)
    samples = {name: _PairSample(MAX_FIT_PAIRS) for name in names}
    for cells in tqdm(parts, desc="label pairs", unit="part", disable=not progress):
        tables = {name: _partition_table(spill.read(name, cells)) for name in names}
        for name, t in tables.items():
            n_stars[name] += len(t)
        try:
            union = union_references({k: tables[k] for k in refs}, key=KEY)
        except EmptyInputError:
            continue
        for name, t in tables.items():
            try:
                samples[name].add(match_pairs(t, union, key=KEY))
            except EmptyInputError:
                continue
        del tables, union
    rows, calibrations, usable = [], {}, []
    for name in names:
        row: dict[str, Any] = {"survey": name, "n_stars": n_stars[name], "role": "reference"
                               if name in refs else "calibrated"}
        pairs = samples[name].table()
        row["n_pairs"] = samples[name].n_total
        for lab in LABELS:
            before = (np.asarray(pairs[lab], float) - np.asarray(pairs[f"ref_{lab}"], float)) \
                if pairs is not None else np.array([])
            row[f"offset_{lab}"] = _median(before)
        if name in refs:
            usable.append(name)
            for lab in LABELS:
                row[f"offset_after_{lab}"] = row[f"offset_{lab}"]
                row[f"outside_{lab}"] = 0
            rows.append(row)
            continue
        if pairs is None or row["n_pairs"] < MIN_PAIRS:
            row["role"] = f"left out: {row['n_pairs']} stars in common with the reference " \
                          f"(need {MIN_PAIRS})"
            for lab in LABELS:
                row[f"offset_after_{lab}"] = float("nan")
                row[f"outside_{lab}"] = 0
            rows.append(row)
            continue
        calibrations[name] = {}
        for lab in LABELS:
            cal = METHODS[method](target=lab, outside=outside).fit_pairs(pairs)
            calibrations[name][lab] = cal
            row[f"outside_{lab}"] = 0  # counted in pass 2
            p_off = _offsets(cal, *(np.asarray(pairs[k], float) for k in LABELS))[0]
            row[f"offset_after_{lab}"] = _median(np.asarray(pairs[lab], float) - p_off
                                                 - np.asarray(pairs[f"ref_{lab}"], float))
        usable.append(name)
        rows.append(row)
    del samples
    by_name = {r["survey"]: r for r in rows}
    n_combined = n_full = dropped = 0
    for cells in tqdm(parts, desc="label combine", unit="part", disable=not progress):
        tables = {}
        for name in usable:
            t = _partition_table(spill.read(name, cells))
            if name in calibrations:
                orig = {lab: np.asarray(t[lab], float) for lab in LABELS}
                finite = np.all([np.isfinite(orig[k]) for k in LABELS], axis=0)
                out = t.copy()
                for lab, cal in calibrations[name].items():
                    offset, inside = _offsets(cal, orig["teff"], orig["logg"], orig["feh"])
                    out[lab] = orig[lab] - offset
                    by_name[name][f"outside_{lab}"] += int(np.count_nonzero(finite & ~inside))
                t = out
            tables[name] = t
        part = combine_surveys(tables, key=KEY, weights=weights, allow_empty=True)
        dropped += int(part.meta["n_dropped_no_error"])
        if len(part) == 0:
            continue
        n_combined += len(part)
        n_full += int(np.all([np.isfinite(np.asarray(part[f"spec_{lab}"], float))
                              for lab in LABELS], axis=0).sum())
        if on_combined is not None:
            on_combined(part)
        del tables, part
    if n_combined == 0:
        raise EmptyInputError(f"combine_surveys: no finite {', '.join(LABELS)} value in "
                              f"{len(usable)} survey(s) {', '.join(usable)}")
    report = Table(rows=rows)
    prov = {"reference": list(refs), "method": method, "outside": outside, "weights": weights,
            "surveys": list(names), "left_out": [r["survey"] for r in rows
                                                 if str(r["role"]).startswith("left out")],
            "n_stars": n_combined, "n_stars_all_three_labels": n_full,
            "n_dropped_no_error": dropped, "max_fit_pairs": MAX_FIT_PAIRS}
    return LabelBuild(combined=None, report=report, calibrations=calibrations, provenance=prov)


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
