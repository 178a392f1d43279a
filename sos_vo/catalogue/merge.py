"""The final SoS catalogue: merge SDSS and SkyMapper predictions, filter, add SoS-Spectro
(T25 Sect. 5.2, Table 6).

T25 = Turchi et al. (2025).  Steps of :func:`build_catalogue`:

1. :func:`merge_predictions`: one row per Gaia DR3 source.  "we merged the SM and SDSS
   datasets by averaging the predictions obtained on stars in common"; ``source`` is
   ``SDSS``, ``SM`` or ``SDSS+SM``.  The paper is silent on the errors of the average; we
   use :data:`ERROR_COMBINATION` = ``"mean"``, the mean of the two e_ML.  Why: both
   predictions start from the same Gaia/Andrae priors and were trained on the same SoS-Spectro
   labels, and e_ML is dominated by e_train (the test-set error against those labels,
   T25 Eq. 4), so the two errors are strongly correlated and averaging does not reduce them;
   for fully correlated errors the error of the mean is the mean of the errors.
   ``"quadrature"`` (``sqrt(e1**2 + e2**2) / 2``, independent errors) is available.
2. :func:`apply_catalogue_filters`: the filters of T25 Sect. 5.2 on the merged values, with
   a :class:`~sos_vo.prepare.cuts.CutReport` of how many rows each removed (T25: 1557 of
   ~19 million).  A NaN value fails its filter.
3. SoS-Spectro rows are added: stars with spectroscopic labels get ``spec_*`` values; those
   without an ML estimate (no match, failed the cuts, or removed by the filters) become rows
   with NaN ``ml_*``, empty ``source`` and false flags.
4. Columns exactly :data:`sos_vo.schema.CATALOGUE_COLUMNS` (names, dtypes, units,
   descriptions, UCDs in ``meta['ucd']``), integer ids 0 where unknown, SoSid from
   :mod:`sos_vo.catalogue.sosid`; rows sorted by SoSid.

Prediction tables (one per survey, the output of the ML stage, see
:func:`make_prediction_table`) carry :data:`PREDICTION_COLUMNS` plus the survey id column
(``sdss_objid`` or ``sm_object_id``) and optionally ``gaia_dr2_id``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import astropy.units as u
import numpy as np
from astropy.table import Column, MaskedColumn, Table

from ..exceptions import EmptyInputError, SchemaError
from ..prepare.columns import float_values, require_columns, require_rows
from ..prepare.cuts import CutReport, CutStep
from ..schema import (
    CATALOGUE_COLUMNS,
    LABEL_UNITS,
    LABELS,
    SPEC_COLUMNS,
    SURVEY_ID_COLUMN,
    SURVEY_SHORT,
    check_survey,
)
from .sosid import assign_sosids

ML_COLUMNS: tuple[str, ...] = tuple(c for k in LABELS for c in (f"ml_{k}", f"ml_err_{k}"))
"""ML values and their e_ML (T25 Eq. 4), as in :data:`sos_vo.schema.CATALOGUE_COLUMNS`."""

PREDICTION_COLUMNS: tuple[str, ...] = ("source_id", "ra", "dec", *ML_COLUMNS,
                                       "train_set", "train_area")
"""Columns of a per-survey prediction table (plus ``SURVEY_ID_COLUMN[survey]``)."""

SPECTRO_COLUMNS: tuple[str, ...] = ("source_id", "ra", "dec", *SPEC_COLUMNS)
"""Columns the SoS-Spectro table must carry (optional: gaia_dr2_id, sdss_objid, sm_object_id)."""

SPECTRO_ONLY_SOURCE = "Spectro"
"""``source`` of a row with SoS-Spectro labels but no ML values (T25 Table 6 leaves it blank;
an explicit value lets a program select these rows)."""
ERROR_COMBINATION = "mean"
"""Error of the SDSS+SM average: ``"mean"`` of the two e_ML (default) or ``"quadrature"``."""

# T25 Sect. 5.2 filters on the final ML parameters and errors
TEFF_RANGE = (3000.0, 8000.0)
"""T25 Sect. 5.2: rows with Teff < 3000 K or Teff > 8000 K removed."""
LOGG_RANGE = (-0.5, 5.5)
"""T25 Sect. 5.2: log g < -0.5 or log g > 5.5 dex removed."""
FEH_RANGE = (-3.5, 1.0)
"""T25 Sect. 5.2: [Fe/H] < -3.5 or [Fe/H] > 1.0 dex removed."""
MAX_RELATIVE_ERR_TEFF = 0.10
"""T25 Sect. 5.2: e_ML on Teff > 10% (of ml_teff) removed."""
MAX_ERR_LOGG = 1.0
"""T25 Sect. 5.2: e_ML on log g > 1.0 dex removed."""
MAX_ERR_FEH = 1.0
"""T25 Sect. 5.2: e_ML on [Fe/H] > 1.0 dex removed."""

T25_52 = "T25 Sect. 5.2"
_UNITS = {k: (u.K if k == "teff" else "dex") for k in LABELS}


def make_prediction_table(joined: Table, survey: str, median: Mapping[str, np.ndarray],
                          e_ml: Mapping[str, np.ndarray], train_set: np.ndarray,
                          train_area: np.ndarray) -> Table:
    """Assemble a prediction table from the ML outputs for the rows of ``joined``.

    Parameters
    ----------
    joined
        The predicted rows (``source_id``, ``ra``, ``dec``, survey id, optional
        ``gaia_dr2_id``), in the order of the arrays.
    survey
        ``"sdss"`` or ``"skymapper"``.
    median, e_ml
        Per label (``teff``, ``logg``, ``feh``): ensemble median and e_ML (T25 Eq. 4).
    train_set, train_area
        Booleans per row: in the training set; inside the training area.
    """
    check_survey(survey)
    id_col = SURVEY_ID_COLUMN[survey]
    require_columns(joined, ["source_id", "ra", "dec", id_col], f"prediction table ({survey})")
    n = len(joined)
    out = Table()
    for name in ("source_id", "ra", "dec", id_col, "gaia_dr2_id"):
        if name in joined.colnames:
            out[name] = joined[name]
    for k in LABELS:
        for name, arr in ((f"ml_{k}", median[k]), (f"ml_err_{k}", e_ml[k])):
            arr = np.asarray(arr, dtype=np.float64)
            if arr.shape != (n,):
                raise SchemaError(f"{name}: {arr.shape[0] if arr.ndim else 0} values for {n} rows")
            out[name] = Column(arr, unit=LABEL_UNITS[k])
    out["train_set"] = np.asarray(train_set, dtype=bool)
    out["train_area"] = np.asarray(train_area, dtype=bool)
    return out


def _int_ids(table: Table, name: str) -> np.ndarray:
    """Integer id column with masked/absent entries as 0."""
    if name not in table.colnames:
        return np.zeros(len(table), dtype=np.int64)
    return np.asarray(np.ma.filled(table[name], 0), dtype=np.int64)


def _unique_ids(table: Table, what: str) -> np.ndarray:
    ids = _int_ids(table, "source_id")
    if ids.size and ids.min() <= 0:
        raise SchemaError(f"{what}: {int((ids <= 0).sum())} row(s) without a Gaia DR3 source_id")
    uniq, counts = np.unique(ids, return_counts=True)
    if (counts > 1).any():
        raise SchemaError(f"{what}: {int((counts > 1).sum())} duplicated source_id(s), "
                          f"e.g. {int(uniq[counts > 1][0])}")
    return ids


def merge_predictions(predictions: Mapping[str, Table], *,
                      error_combination: str = ERROR_COMBINATION) -> Table:
    """One row per Gaia DR3 source from the per-survey prediction tables (step 1).

    Returns a table with ``source_id``, ``ra``, ``dec``, ``gaia_dr2_id``, ``sdss_objid``,
    ``sm_object_id``, the averaged ``ml_*`` (K/dex), ``source``, and ``{sdss,sm}_train_set``,
    ``{sdss,sm}_train_area``.
    """
    if error_combination not in ("mean", "quadrature"):
        raise ValueError(f"error_combination must be 'mean' or 'quadrature', not "
                         f"{error_combination!r}")
    if not predictions:
        raise EmptyInputError("merge: no prediction tables")
    per_survey, all_ids = {}, []
    for survey, table in predictions.items():
        check_survey(survey)
        what = f"prediction table ({survey})"
        require_columns(table, (*PREDICTION_COLUMNS, SURVEY_ID_COLUMN[survey]), what)
        require_rows(table, what)
        ids = _unique_ids(table, what)
        per_survey[survey] = (table, ids)
        all_ids.append(ids)
    ids = np.unique(np.concatenate(all_ids))
    n = ids.size
    out = Table({"source_id": ids})
    ra, dec = np.full(n, np.nan), np.full(n, np.nan)
    dr2 = np.zeros(n, dtype=np.int64)
    present = {}
    values = {c: [] for c in ML_COLUMNS}
    for survey in ("sdss", "skymapper"):
        short = SURVEY_SHORT[survey].lower()
        has = np.zeros(n, dtype=bool)
        objid = np.zeros(n, dtype=np.int64)
        train_set, train_area = np.zeros(n, bool), np.zeros(n, bool)
        if survey in per_survey:
            table, sids = per_survey[survey]
            pos = np.searchsorted(ids, sids)
            has[pos] = True
            objid[pos] = _int_ids(table, SURVEY_ID_COLUMN[survey])
            fill = np.isnan(ra[pos])
            ra[pos[fill]] = float_values(table, "ra", u.deg)[fill]
            dec[pos[fill]] = float_values(table, "dec", u.deg)[fill]
            t_dr2 = _int_ids(table, "gaia_dr2_id")
            dr2[pos] = np.where(dr2[pos] == 0, t_dr2, dr2[pos])
            train_set[pos] = np.asarray(np.ma.filled(table["train_set"], False), bool)
            train_area[pos] = np.asarray(np.ma.filled(table["train_area"], False), bool)
            for c in ML_COLUMNS:
                v = np.full(n, np.nan)
                v[pos] = float_values(table, c, _UNITS[c.rsplit("_", 1)[-1]])
                values[c].append(v)
        present[survey] = has
        out[SURVEY_ID_COLUMN[survey]] = objid
        out[f"{short}_train_set"] = train_set
        out[f"{short}_train_area"] = train_area
    out["ra"], out["dec"], out["gaia_dr2_id"] = ra, dec, dr2
    for k in LABELS:
        v = np.array(values[f"ml_{k}"])            # (n_surveys, n)
        e = np.array(values[f"ml_err_{k}"])
        count = np.isfinite(v).sum(axis=0)
        with np.errstate(invalid="ignore"):
            mean_v = np.where(count > 0, np.nansum(v, axis=0) / np.maximum(count, 1), np.nan)
            if error_combination == "mean":
                comb = np.nansum(np.where(np.isfinite(v), e, np.nan), axis=0) / np.maximum(count, 1)
            else:
                comb = np.sqrt(np.nansum(np.where(np.isfinite(v), e, np.nan) ** 2, axis=0)) \
                    / np.maximum(count, 1)
        out[f"ml_{k}"] = Column(mean_v, unit=LABEL_UNITS[k])
        out[f"ml_err_{k}"] = Column(np.where(count > 0, comb, np.nan), unit=LABEL_UNITS[k])
    both = present["sdss"] & present["skymapper"]
    out["source"] = np.where(both, "SDSS+SM", np.where(present["sdss"], "SDSS", "SM"))
    out.meta["error_combination"] = error_combination
    return out


def _within(v: np.ndarray, lo: float, hi: float) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return (v >= lo) & (v <= hi)


def catalogue_filters() -> list[tuple[str, str, Callable[[Table], np.ndarray]]]:
    """The T25 Sect. 5.2 filters as (name, source, keep-predicate on a merged table)."""
    f = float_values
    return [
        (f"teff_in_{TEFF_RANGE[0]:g}-{TEFF_RANGE[1]:g}K", T25_52,
         lambda t: _within(f(t, "ml_teff", u.K), *TEFF_RANGE)),
        (f"logg_in_{LOGG_RANGE[0]:g}-{LOGG_RANGE[1]:g}", T25_52,
         lambda t: _within(f(t, "ml_logg", "dex"), *LOGG_RANGE)),
        (f"feh_in_{FEH_RANGE[0]:g}-{FEH_RANGE[1]:g}", T25_52,
         lambda t: _within(f(t, "ml_feh", "dex"), *FEH_RANGE)),
        (f"err_teff<={MAX_RELATIVE_ERR_TEFF:.0%}_of_teff", T25_52,
         lambda t: f(t, "ml_err_teff", u.K) <= MAX_RELATIVE_ERR_TEFF * f(t, "ml_teff", u.K)),
        (f"err_logg<={MAX_ERR_LOGG:g}", T25_52, lambda t: f(t, "ml_err_logg", "dex") <= MAX_ERR_LOGG),
        (f"err_feh<={MAX_ERR_FEH:g}", T25_52, lambda t: f(t, "ml_err_feh", "dex") <= MAX_ERR_FEH),
    ]


def apply_catalogue_filters(merged: Table) -> tuple[Table, CutReport]:
    """Apply the T25 Sect. 5.2 filters (step 2); return kept rows and sequential counts."""
    require_columns(merged, ML_COLUMNS, "catalogue filters")
    keep = np.ones(len(merged), dtype=bool)
    report = CutReport("catalogue")
    for name, source, predicate in catalogue_filters():
        with np.errstate(invalid="ignore"):
            passed = np.asarray(predicate(merged), dtype=bool)
        before = int(keep.sum())
        keep &= passed
        report.steps.append(CutStep(name, source, before, before - int(keep.sum())))
    return merged[keep], report


def _spectro(spectro: Table) -> tuple[np.ndarray, Table]:
    require_columns(spectro, SPECTRO_COLUMNS, "SoS-Spectro table")
    ids = _unique_ids(spectro, "SoS-Spectro table")
    return ids, spectro


def build_catalogue(predictions: Mapping[str, Table], spectro: Table | None = None, *,
                    registry: Table | None = None,
                    error_combination: str = ERROR_COMBINATION) -> Table:
    """Build the final catalogue of T25 Table 6.

    Parameters
    ----------
    predictions
        Survey name (``"sdss"``, ``"skymapper"``) -> prediction table
        (:data:`PREDICTION_COLUMNS` + survey id column; see :func:`make_prediction_table`).
        May be empty if ``spectro`` is given.
    spectro
        SoS-Spectro labels (:data:`SPECTRO_COLUMNS`; the recalibrated ``spec_*`` values), or
        None.
    registry
        SoSids of earlier releases (``sosid``, ``gaia_dr3_id``), see
        :func:`sos_vo.catalogue.sosid.assign_sosids`.
    error_combination
        ``"mean"`` (default) or ``"quadrature"``, see :data:`ERROR_COMBINATION`.

    Returns
    -------
    astropy.table.Table
        Exactly the columns of :data:`sos_vo.schema.CATALOGUE_COLUMNS`, sorted by SoSid.
        ``meta["filter_report"]`` holds the per-filter counts (list of dicts) and
        ``meta["counts"]`` the number of ML rows, spectro-only rows and total.
    """
    if predictions:
        merged = merge_predictions(predictions, error_combination=error_combination)
        ml, report = apply_catalogue_filters(merged)
    elif spectro is None:
        raise EmptyInputError("build_catalogue: no predictions and no SoS-Spectro table")
    else:
        ml, report = merge_predictions_empty(), CutReport("catalogue")
    ml_ids = np.asarray(ml["source_id"], dtype=np.int64)
    if spectro is not None:
        spec_ids, spectro = _spectro(spectro)
        ids = np.union1d(ml_ids, spec_ids)
    else:
        spec_ids = np.zeros(0, dtype=np.int64)
        ids = ml_ids
    if ids.size == 0:
        raise EmptyInputError("build_catalogue: no rows left (every ML row was filtered out and "
                              "no SoS-Spectro rows were given)")
    n = ids.size
    pos_ml = np.searchsorted(ids, ml_ids)
    pos_sp = np.searchsorted(ids, spec_ids)
    cols: dict[str, np.ndarray] = {}
    cols["gaia_dr3_id"] = ids
    for name in ("gaia_dr2_id", "sdss_objid", "sm_object_id"):
        v = np.zeros(n, dtype=np.int64)
        v[pos_ml] = _int_ids(ml, name)
        if spectro is not None:
            s = _int_ids(spectro, name)
            v[pos_sp] = np.where(v[pos_sp] == 0, s, v[pos_sp])
        cols[name] = v
    for name in ("ra", "dec"):
        v = np.full(n, np.nan)
        v[pos_ml] = float_values(ml, name, u.deg)
        if spectro is not None:
            s = float_values(spectro, name, u.deg)
            v[pos_sp] = np.where(np.isnan(v[pos_sp]), s, v[pos_sp])
        cols[name] = v
    for name in SPEC_COLUMNS:
        v = np.full(n, np.nan)
        if spectro is not None:
            v[pos_sp] = float_values(spectro, name, "K" if "teff" in name else "dex")
        cols[name] = v
    for name in ML_COLUMNS:
        v = np.full(n, np.nan)
        v[pos_ml] = float_values(ml, name)
        cols[name] = v
    source = np.full(n, SPECTRO_ONLY_SOURCE, dtype="<U7")  # rows with SoS-Spectro labels only
    source[pos_ml] = np.asarray(ml["source"], dtype=str)
    cols["source"] = source
    for name in ("sdss_train_set", "sm_train_set", "sdss_train_area", "sm_train_area"):
        v = np.zeros(n, dtype=bool)
        v[pos_ml] = np.asarray(ml[name], dtype=bool)
        cols[name] = v
    if np.isnan(cols["ra"]).any() or np.isnan(cols["dec"]).any():
        raise SchemaError(f"build_catalogue: {int(np.isnan(cols['ra']).sum())} row(s) without "
                          "Gaia DR3 coordinates (ra/dec)")
    cols["sosid"] = assign_sosids(cols["ra"], cols["dec"], ids, registry=registry)
    order = np.argsort(cols["sosid"], kind="stable")
    out = Table()
    for spec in CATALOGUE_COLUMNS:
        data = cols[spec.name][order]
        data = data.astype(spec.dtype if spec.dtype != "str" else "<U7")
        if spec.name == "gaia_dr2_id":  # 0 = unknown: null in every format, not a fake id
            col = MaskedColumn(data, mask=data == 0, name=spec.name, unit=spec.unit,
                               description=spec.description)
        else:
            col = Column(data, name=spec.name, unit=spec.unit, description=spec.description)
        col.meta["ucd"] = spec.ucd
        col.meta["paper_name"] = spec.paper_name
        out.add_column(col)
    out.meta["filter_report"] = [
        {"filter": s.name, "source": s.source, "n_before": s.n_before,
         "n_removed": s.n_removed, "n_after": s.n_after} for s in report.steps]
    out.meta["error_combination"] = error_combination
    out.meta["counts"] = {"ml_rows": int(ml_ids.size),
                          "spectro_only_rows": int(np.setdiff1d(spec_ids, ml_ids).size),
                          "total": int(n)}
    return out


def merge_predictions_empty() -> Table:
    """An empty merged-prediction table (for a catalogue of SoS-Spectro rows only)."""
    t = Table({"source_id": np.zeros(0, np.int64), "ra": np.zeros(0), "dec": np.zeros(0),
               "gaia_dr2_id": np.zeros(0, np.int64), "sdss_objid": np.zeros(0, np.int64),
               "sm_object_id": np.zeros(0, np.int64), "source": np.zeros(0, "<U7")})
    for c in ML_COLUMNS:
        t[c] = np.zeros(0)
    for c in ("sdss_train_set", "sm_train_set", "sdss_train_area", "sm_train_area"):
        t[c] = np.zeros(0, bool)
    return t
