"""Matched pairs of a survey and its reference, and the union of several references.

The homogenisation talk (Avdeeva et al. 2025, AI in Astronomy Workshop, Catania) calibrates LAMOST on "the union of GALAH and APOGEE ... because LAMOST
shows a consistent metallicity trend when compared to both surveys".  It does not say which
value a star observed by both references gets; :func:`union_references` averages them with
equal weights (named choice :data:`UNION_WEIGHTS`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from astropy.table import Table

from ..exceptions import EmptyInputError, SchemaError
from ..schema import LABELS
from .combine import combine_surveys

UNION_WEIGHTS = "equal"
"""Weighting of stars present in several references (see :mod:`~sos_vo.homogenise.combine`)."""


def union_references(references: Mapping[str, Table], key: str = "gaia_dr3_id",
                     labels: Sequence[str] = LABELS, weights: str = UNION_WEIGHTS) -> Table:
    """One reference table from several (e.g. APOGEE and GALAH), averaging shared stars.

    The result has ``key``, ``<label>``, ``err_<label>``, ``n_<label>`` and ``surveys``.
    """
    return combine_surveys(references, key=key, labels=labels, weights=weights, prefix="")


def match_pairs(survey: Table, reference: Table, key: str = "gaia_dr3_id",
                labels: Sequence[str] = LABELS) -> Table:
    """Stars in both ``survey`` and ``reference``, matched on ``key``.

    Parameters
    ----------
    survey, reference : astropy.table.Table
        Both with ``key`` and the label columns (``teff``, ``logg``, ``feh``; ``err_<label>``
        optional).  Keys must be unique in each table.

    Returns
    -------
    astropy.table.Table
        ``key``, the survey's ``<label>`` (and ``err_<label>``) and the reference's
        ``ref_<label>`` (and ``ref_err_<label>``).

    Raises
    ------
    EmptyInputError
        If the tables share no star.
    """
    for name, table in (("survey", survey), ("reference", reference)):
        missing = [c for c in (key, *labels) if c not in table.colnames]
        if missing:
            raise SchemaError(f"{name} table lacks column(s) {', '.join(missing)}")
        ids = np.asarray(table[key])
        if np.unique(ids).size != ids.size:
            raise ValueError(f"{name} table: {ids.size - np.unique(ids).size} repeated {key} values")
    _, i_s, i_r = np.intersect1d(np.asarray(survey[key]), np.asarray(reference[key]),
                                 assume_unique=True, return_indices=True)
    if i_s.size == 0:
        raise EmptyInputError(f"survey ({len(survey)} rows) and reference ({len(reference)} rows) "
                              f"share no {key}")
    out = Table()
    out[key] = np.asarray(survey[key])[i_s]
    for label in labels:
        for prefix, table, idx in (("", survey, i_s), ("ref_", reference, i_r)):
            for col in (label, f"err_{label}"):
                if col in table.colnames:
                    out[f"{prefix}{col}"] = table[col][idx]
    return out
