"""PASTEL metal-poor augmentation of the training labels (T25 Sect. 4.3, App. C.1).

T25 = Turchi et al. (2025).  Sect. 4.3: "We thus enriched the SoS-Spectro reference sample by
adding metal-poor stars from the PASTEL catalog ... We selected stars with [Fe/H] < -1 dex in
common with the SDSS and SM samples, yielding an additional 139 and 267 stars".

:func:`augment_with_pastel` takes a joined (photometric) table and a PASTEL table keyed by
Gaia DR3 ``source_id`` and returns the joined table with the label columns
(:data:`sos_vo.schema.SPEC_COLUMNS`) filled from PASTEL for those stars, plus a boolean
column :data:`PASTEL_FLAG_COLUMN`.

Choices left open by T25, named here:

* PASTEL lists several measurements per star (Soubiran et al. 2016); we take the **median**
  of each parameter over a star's measurements (:data:`PASTEL_AGGREGATE`), and the median of
  the quoted errors.  The [Fe/H] < -1 selection is applied to that median.
* "additional ... stars": by default PASTEL labels only fill stars *without* a SoS-Spectro
  label (``prefer="sos"``); ``prefer="pastel"`` replaces SoS labels of metal-poor PASTEL
  stars instead.
* PASTEL labels are on the reference scale already and are *not* recalibrated.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from astropy.table import Table

from ..prepare.columns import float_values, require_columns, require_rows
from ..schema import LABEL_UNITS, LABELS

PASTEL_MAX_FEH = -1.0
"""T25 Sect. 4.3: PASTEL stars with [Fe/H] < -1 dex (strict) are added."""

PASTEL_FLAG_COLUMN = "label_from_pastel"
"""Boolean column added by :func:`augment_with_pastel`: True where the labels are PASTEL's."""

PASTEL_AGGREGATE = "median"
"""How several PASTEL measurements of one star are combined (see module docstring)."""


@dataclass(frozen=True)
class PastelColumns:
    """Column names of the PASTEL table.  Defaults: the output of
    :func:`sos_vo.prepare.crossmatch.join_pastel` (``schema.PASTEL_MATCH_COLUMNS``: Gaia DR3
    ``source_id`` and ``pastel_teff``, ``pastel_e_teff``, ...).  Error columns may be absent
    (errors become NaN)."""

    source_id: str = "source_id"
    teff: str = "pastel_teff"
    logg: str = "pastel_logg"
    feh: str = "pastel_feh"
    e_teff: str = "pastel_e_teff"
    e_logg: str = "pastel_e_logg"
    e_feh: str = "pastel_e_feh"


def _median_per_star(ids: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Unique ids and the NaN-ignoring median of ``values`` per id."""
    order = np.argsort(ids, kind="stable")
    ids_sorted, values_sorted = ids[order], values[order]
    uniq, start = np.unique(ids_sorted, return_index=True)
    out = np.full(len(uniq), np.nan)
    for i, (a, b) in enumerate(zip(start, list(start[1:]) + [len(ids_sorted)], strict=True)):
        chunk = values_sorted[a:b]
        chunk = chunk[np.isfinite(chunk)]
        if chunk.size:
            out[i] = np.median(chunk)
    return uniq, out


def pastel_per_star(pastel: Table, columns: PastelColumns = PastelColumns()) -> Table:
    """One row per Gaia DR3 source_id: median label and median error of its PASTEL entries."""
    require_columns(pastel, [columns.source_id, columns.teff, columns.logg, columns.feh],
                    "PASTEL table")
    ids = np.asarray(pastel[columns.source_id]).astype(np.int64)
    out = Table({"source_id": np.unique(ids)})
    for k in LABELS:
        unit = "K" if k == "teff" else "dex"
        out[f"spec_{k}"] = _median_per_star(ids, float_values(pastel, getattr(columns, k), unit))[1]
        err_col = getattr(columns, f"e_{k}")
        err = (float_values(pastel, err_col, unit) if err_col in pastel.colnames
               else np.full(len(pastel), np.nan))
        out[f"spec_err_{k}"] = _median_per_star(ids, err)[1]
    return out


def augment_with_pastel(joined: Table, pastel: Table, *,
                        columns: PastelColumns = PastelColumns(),
                        joined_id: str = "source_id",
                        max_feh: float = PASTEL_MAX_FEH,
                        prefer: Literal["sos", "pastel"] = "sos") -> Table:
    """Add PASTEL labels of metal-poor stars of the photometric sample (T25 Sect. 4.3).

    Parameters
    ----------
    joined
        Joined table (after cuts); may already carry SoS-Spectro labels in
        :data:`sos_vo.schema.SPEC_COLUMNS` (missing columns are created as NaN).
    pastel
        PASTEL measurements with a Gaia DR3 source_id column.
    columns
        PASTEL column names.
    joined_id
        Gaia DR3 source_id column of ``joined``.
    max_feh
        Stars with median PASTEL [Fe/H] < ``max_feh`` are used (T25: -1 dex).
    prefer
        ``"sos"``: PASTEL fills only stars without a SoS-Spectro label (any of the three
        missing); ``"pastel"``: PASTEL replaces the SoS labels of those stars.

    Returns
    -------
    astropy.table.Table
        A copy of ``joined`` with ``spec_*`` columns (float64, K/dex) and a boolean
        :data:`PASTEL_FLAG_COLUMN`.
    """
    if prefer not in ("sos", "pastel"):
        raise ValueError(f"prefer must be 'sos' or 'pastel', not {prefer!r}")
    require_columns(joined, [joined_id], "PASTEL augmentation (joined table)")
    require_rows(joined, "PASTEL augmentation (joined table)")
    per_star = pastel_per_star(pastel, columns)
    per_star = per_star[np.isfinite(per_star["spec_feh"]) & (per_star["spec_feh"] < max_feh)]
    out = joined.copy()
    n = len(out)
    for k in LABELS:
        for name in (f"spec_{k}", f"spec_err_{k}"):
            unit = LABEL_UNITS[k]
            values = (float_values(out, name, "K" if k == "teff" else "dex")
                      if name in out.colnames else np.full(n, np.nan))
            out[name] = values
            out[name].unit = unit
    ids = np.asarray(out[joined_id]).astype(np.int64)
    ref = np.asarray(per_star["source_id"])  # sorted by pastel_per_star
    if len(ref):
        pos = np.clip(np.searchsorted(ref, ids), 0, len(ref) - 1)
        matched = ref[pos] == ids
    else:
        pos, matched = np.zeros(n, dtype=np.intp), np.zeros(n, dtype=bool)
    if prefer == "sos":
        has_sos = np.logical_and.reduce([np.isfinite(out[f"spec_{k}"]) for k in LABELS])
        use = matched & ~has_sos
    else:
        use = matched
    for k in LABELS:
        for name in (f"spec_{k}", f"spec_err_{k}"):
            col = np.asarray(out[name])
            col[use] = np.asarray(per_star[name])[pos[use]]
            out[name][:] = col
    out[PASTEL_FLAG_COLUMN] = use
    out.meta["pastel_added"] = int(use.sum())
    return out
