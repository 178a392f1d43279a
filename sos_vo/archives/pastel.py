"""PASTEL (Soubiran et al. 2016, A&A 591, A118; VizieR B/pastel) for the label recalibration.

PASTEL is the external reference of T25 Sect. 3.1 (Eq. 2 is fitted on SoS minus PASTEL), not
one of the averaged surveys, and it has no Gaia DR3 id: :func:`fetch_pastel` returns its
entries in a region with the VizieR column labels that
:func:`sos_vo.prepare.crossmatch.join_pastel` matches by position (J2000, proper motions
propagated).  Table and column names: :data:`sos_vo.validation.references.PASTEL` (verified
in public code; see its note), resolved against TAP_SCHEMA at run time like every label source.

Position labels over TAP (:data:`POSITION_LABELS`): astroquery scripts read ``RAJ2000`` /
``DEJ2000`` from ``B/pastel/pastel`` through VizieR's web service (which can add computed J2000
columns), while the one public **TAP** query found, the workflow
``.github/workflows/pastel-cdn.yml`` of the repository omegaflow/omegaflow, selects and
constrains ``RAdeg`` / ``DEdeg`` of ``"B/pastel/pastel"`` on TAPVizieR (a note in that repository
says its column lists were checked against TAP_SCHEMA).  Neither is settled by the ReadMe, so
both are tried, in that order; the output keeps the labels ``RAJ2000``/``DEJ2000``.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from astropy.table import MaskedColumn, Table

from ..schema import PASTEL_TABLE
from ..validation.references import PASTEL, sql_column_name
from .adql import render
from .conf import setting, sql_table_name, table_name
from .regions import Region
from .tap import TapClient
from .tap_schema import SchemaResolutionError, resolve_table

TABLE_KEY = "pastel"
"""Key of the table-name override (``--table pastel=NAME``), as in :mod:`.vizier`."""

COLUMNS: dict[str, str] = {"id": "ID", "ra": "RAJ2000", "dec": "DEJ2000", "teff": "Teff",
                           "e_teff": "e_Teff", "logg": "logg", "e_logg": "e_logg", "feh": "[Fe/H]",
                           "e_feh": "e_[Fe/H]", "bibcode": "bibcode"}
"""Role -> VizieR label (:data:`sos_vo.validation.references.PASTEL` plus the errors); also
the labels of the returned table."""

POSITION_LABELS: tuple[tuple[str, str], ...] = (("RAJ2000", "DEJ2000"), ("RAdeg", "DEdeg"))
"""Position labels asked of TAP_SCHEMA, in order (module docstring: which was seen where)."""


def fetch_pastel(region: Region | None, *, tap_url: str | None = None,
                 tables: Mapping[str, str] | None = None, use_async: bool = False,
                 client: TapClient | None = None, cache_dir=False, **client_kwargs) -> Table:
    """PASTEL entries in ``region`` (None: the whole catalogue), all bibliographic entries.

    Returns
    -------
    Table
        Columns ``ID, RAJ2000, DEJ2000, Teff, e_Teff, logg, e_logg, [Fe/H], e_[Fe/H],
        bibcode`` (the layout of ``B/pastel/pastel`` that
        :func:`sos_vo.prepare.crossmatch.join_pastel` reads); ``meta['provenance']``.

    ``cache_dir`` (None: the default cache, False: none) keeps the answer on disk like the
    chunks of :mod:`.chunking` (one query: the whole region is one chunk).
    """
    client = client or TapClient(str(setting("pastel_tap_url", tap_url)), **client_kwargs)
    client.check_service()
    default = f'"{PASTEL.table or PASTEL_TABLE}"'
    name = table_name(TABLE_KEY, default, vizier=True, overrides=dict(tables or {}))
    sql = str(setting("vizier_names")) == "sql"
    if sql and name == default:
        name = sql_table_name(default)
    first: SchemaResolutionError | None = None
    for ra, dec in POSITION_LABELS:
        cols = {**COLUMNS, "ra": ra, "dec": dec}
        if sql:
            cols = {k: sql_column_name(v) for k, v in cols.items()}
        try:
            resolved = resolve_table(client, name, cols)
            break
        except SchemaResolutionError as exc:
            first = first or exc
    else:
        assert first is not None
        raise first
    sel = {role: resolved.adql_column(role, "p") for role in COLUMNS}
    where = "1 = 1" if region is None else region.adql(sel["ra"], sel["dec"])
    adql = render("labels_pastel", region=where,
                  table=resolved.adql_table, **sel)
    from .chunking import run_cached

    rows = run_cached(client, adql, cache_dir=cache_dir, use_async=use_async)
    out = Table()
    for role, label in COLUMNS.items():
        col = rows[role]
        if role in ("id", "bibcode"):
            out[label] = np.asarray(np.ma.filled(np.ma.asarray(col).astype(str), ""))
        else:
            v = np.ma.filled(np.ma.asarray(col, dtype=float), np.nan)
            out[label] = MaskedColumn(v, mask=~np.isfinite(v))
    out.meta["provenance"] = {"source": "pastel", **resolved.provenance(), "adql": adql,
                              "rows": {"fetched": len(out)}}
    return out


def metal_poor_entries(pastel: Table, max_feh: float | None = None) -> Table:
    """The entries of the PASTEL stars whose median [Fe/H] is below ``max_feh``.

    The candidates of the metal-poor augmentation (T25 Sect. 4.3: PASTEL stars with
    [Fe/H] < -1 dex, :data:`sos_vo.labels.pastel.PASTEL_MAX_FEH` by default).  A star is a
    PASTEL ``ID`` here, with the median over its entries as
    :data:`sos_vo.labels.pastel.PASTEL_AGGREGATE` (*choice*: before the match to Gaia, the ID
    is PASTEL's own star identifier); every entry of such a star is kept, so that the
    augmentation (:func:`sos_vo.labels.pastel.augment_with_pastel`, which takes the median
    per Gaia DR3 star again) sees all of them.  Entries without a finite [Fe/H] count for no
    median.
    """
    from ..labels.pastel import PASTEL_MAX_FEH

    max_feh = PASTEL_MAX_FEH if max_feh is None else max_feh
    if len(pastel) == 0:
        return pastel[:0]
    ids = np.asarray(pastel["ID"]).astype(str)
    feh = np.ma.filled(np.ma.asarray(pastel["[Fe/H]"], dtype=float), np.nan)
    uniq, inverse = np.unique(ids, return_inverse=True)
    median = np.full(len(uniq), np.nan)
    for i in np.unique(inverse[np.isfinite(feh)]):
        median[i] = np.median(feh[(inverse == i) & np.isfinite(feh)])
    keep = np.isfinite(median[inverse]) & (median[inverse] < max_feh)
    return pastel[keep]
