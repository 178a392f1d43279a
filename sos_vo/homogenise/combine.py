"""Averaged multi-survey labels: how SoS-Spectro is made from calibrated surveys.

SoS-Spectro (T25 Sect. 3; Tsantaki et al. 2022, Appendix A) is built by calibrating some
surveys onto a common scale (LAMOST Teff, RAVE [Fe/H]) and then averaging, per star, all the
surveys that observed it.  :func:`combine_surveys` does the averaging, with one of two named
weightings (:data:`COMBINE_WEIGHTS`):

``inverse_variance`` (default)
    value = sum(w x) / sum(w) with w = 1 / err**2, error = 1 / sqrt(sum(w)).  A survey value
    without a finite positive error cannot be weighted and is left out (counted in the table
    meta ``n_dropped_no_error``).
``equal``
    value = mean(x) (the plain "average of all surveys" of T25 Sect. 3), error =
    sqrt(sum(err**2)) / n (NaN if an error is missing).

Either way, ``<prefix>scatter_<label>`` is the (weighted) standard deviation of the surveys
around the mean (NaN for a single survey): compare it with the formal error to spot
disagreeing surveys.  The output uses the column names of
:data:`sos_vo.schema.SPEC_COLUMNS` (``spec_teff``, ``spec_err_teff``, ...).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from astropy.table import Table

from ..exceptions import EmptyInputError, SchemaError
from ..schema import LABEL_UNITS, LABELS

COMBINE_WEIGHTS: tuple[str, ...] = ("inverse_variance", "equal")
"""Named weightings of :func:`combine_surveys` (see the module docstring)."""

SPEC_PREFIX = "spec_"
"""Prefix of the averaged columns: ``spec_teff``, ``spec_err_teff`` (see sos_vo.schema.SPEC_COLUMNS)."""


def _column(table: Table, name: str, survey: str) -> np.ndarray:
    if name not in table.colnames:
        raise SchemaError(f"survey {survey!r}: column {name!r} missing (has: {', '.join(table.colnames)})")
    return np.ma.filled(np.ma.asarray(table[name], dtype=np.float64), np.nan)


def combine_surveys(surveys: Mapping[str, Table], key: str = "gaia_dr3_id",
                    labels: Sequence[str] = LABELS, weights: str = "inverse_variance",
                    value_column: str = "{label}", error_column: str = "err_{label}",
                    prefix: str = SPEC_PREFIX, allow_empty: bool = False) -> Table:
    """Average calibrated surveys star by star.

    Parameters
    ----------
    surveys : mapping of str to Table
        Survey name -> table with ``key`` and, for each label, the value and error columns
        (already calibrated onto the common scale, e.g. by
        :meth:`~sos_vo.homogenise.base.Calibration.apply`).  A survey lacking a label's columns
        does not contribute to that label; each key may appear once per survey.
    key : str
        Star identifier column shared by the surveys (Gaia DR3 source_id by default).
    labels : sequence of str
        Parameters to average.
    weights : str
        One of :data:`COMBINE_WEIGHTS`.
    value_column, error_column : str
        Templates of the input column names (``{label}`` is replaced).
    prefix : str
        Prefix of the output columns.
    allow_empty : bool
        Return an empty table where no star has a finite value (a part of a partitioned
        homogenisation, :func:`sos_vo.labels.build.homogenise_spilled`) instead of raising.

    Returns
    -------
    astropy.table.Table
        One row per star with any finite value: ``key``, and per label ``<prefix><label>``,
        ``<prefix>err_<label>``, ``<prefix>scatter_<label>``, ``n_<label>`` (surveys averaged),
        plus ``surveys`` (comma-separated names that contributed).
    """
    if weights not in COMBINE_WEIGHTS:
        raise ValueError(f"unknown weights {weights!r}: expected one of {', '.join(COMBINE_WEIGHTS)}")
    if not surveys:
        raise EmptyInputError("combine_surveys: no survey given")
    names = list(surveys)
    ids_per_survey = {}
    for name in names:
        table = surveys[name]
        if key not in table.colnames:
            raise SchemaError(f"survey {name!r}: key column {key!r} missing")
        ids = np.asarray(table[key])
        uniq, counts = np.unique(ids, return_counts=True)
        if np.any(counts > 1):
            raise ValueError(f"survey {name!r}: {int(np.sum(counts > 1))} {key} values appear more "
                             f"than once (e.g. {uniq[counts > 1][0]}); average repeats first")
        ids_per_survey[name] = ids
    all_ids = np.unique(np.concatenate([ids_per_survey[n] for n in names]))
    n_star = all_ids.size
    contributed = np.zeros((n_star, len(names)), dtype=bool)
    out = Table()
    out[key] = all_ids
    any_value = np.zeros(n_star, dtype=bool)
    dropped = 0
    for label in labels:
        vcol, ecol = value_column.format(label=label), error_column.format(label=label)
        rows, vals, errs, which = [], [], [], []
        for j, name in enumerate(names):
            table = surveys[name]
            if vcol not in table.colnames:
                continue
            v = _column(table, vcol, name)
            e = _column(table, ecol, name) if ecol in table.colnames else np.full(v.size, np.nan)
            ok = np.isfinite(v)
            if weights == "inverse_variance":
                good_err = np.isfinite(e) & (e > 0)
                dropped += int(np.count_nonzero(ok & ~good_err))
                ok &= good_err
            rows.append(np.searchsorted(all_ids, ids_per_survey[name][ok]))
            vals.append(v[ok])
            errs.append(e[ok])
            which.append(np.full(int(ok.sum()), j))
        value = np.full(n_star, np.nan)
        error = np.full(n_star, np.nan)
        scatter = np.full(n_star, np.nan)
        count = np.zeros(n_star, dtype=np.int16)
        if rows:
            r, v, e, s = (np.concatenate(a) for a in (rows, vals, errs, which))
            contributed[r, s] = True
            count = np.bincount(r, minlength=n_star).astype(np.int16)
            has = count > 0
            if weights == "inverse_variance":
                w = 1.0 / e**2
            else:
                w = np.ones_like(v)
            sw = np.bincount(r, w, minlength=n_star)
            value[has] = np.bincount(r, w * v, minlength=n_star)[has] / sw[has]
            if weights == "inverse_variance":
                error[has] = 1.0 / np.sqrt(sw[has])
            else:
                var = np.bincount(r, e**2, minlength=n_star)  # NaN propagates from missing errors
                error[has] = np.sqrt(var[has]) / count[has]
            dev2 = np.bincount(r, w * (v - value[r]) ** 2, minlength=n_star)
            multi = count > 1
            scatter[multi] = np.sqrt(dev2[multi] / sw[multi])
            any_value |= has
        unit = LABEL_UNITS.get(label)
        out[f"{prefix}{label}"] = value
        out[f"{prefix}err_{label}"] = error
        out[f"{prefix}scatter_{label}"] = scatter
        for col in (f"{prefix}{label}", f"{prefix}err_{label}", f"{prefix}scatter_{label}"):
            out[col].unit = unit
        out[f"n_{label}"] = count
    out["surveys"] = [",".join(n for n, used in zip(names, flags, strict=True) if used)
                      for flags in contributed]
    out = out[any_value]
    if len(out) == 0 and not allow_empty:
        raise EmptyInputError(f"combine_surveys: no finite {', '.join(labels)} value in "
                              f"{len(names)} survey(s) {', '.join(names)}")
    out.meta["combine_weights"] = weights
    out.meta["n_dropped_no_error"] = dropped
    return out
