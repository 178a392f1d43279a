"""Gaia DR3 ids for a label table without one: a positional cross-match run on the server.

Some label tables carry no Gaia id at all (the Gaia-ESO DR5.1 catalogue of Hourihane et al.
2023, :mod:`.gaia_eso`).  A source declares a :class:`GaiaPositionalMatch`; what happens is
decided at run time from the service's ``TAP_SCHEMA``
(:func:`sos_vo.archives.label_source.resolve_source`):

* if the table has the column of the source's ``source_id`` role, it is used as for every other
  source (the positional match is not run);
* otherwise the label table (alias ``l``) is joined, on the same service, to a Gaia DR3 table
  (alias ``x``; on TAPVizieR ``"I/355/gaiadr3"``, resolved against ``TAP_SCHEMA`` like every
  table and renamed with ``--table <key>=NAME``) with
  ``1 = CONTAINS(POINT(x.ra, x.dec), CIRCLE(l.ra, l.dec, search radius))`` inside each HEALPix
  chunk of :func:`sos_vo.archives.chunking.run_chunked` (the chunks cut on ``x.source_id``).
  The point is Gaia's, so a server can use its positional index on the (much larger) Gaia table.

On the rows that come back (one per label entry and Gaia candidate), :func:`nearest_per_entry`
moves each Gaia position from J2016.0 to the label table's epoch with its proper motion
(:func:`sos_vo.prepare.crossmatch.propagate_positions`; a candidate without proper motion is
not moved), keeps the candidates within :data:`MATCH_RADIUS_ARCSEC` and, for every label entry,
the nearest one; ``xm_candidates`` counts the candidates within the radius, ``xm_distance`` is
the separation (arcsec).  The step is valid on one chunk's rows and again on any stack of its
outputs (the counts of one entry add up over chunks, the nearest wins), so it can run chunk by
chunk.  The chunks cut on the Gaia candidates' ``source_id``, so an entry within the search
radius of a chunk's border has candidates in two chunks: the label stream holds each chunk's
output and applies the step once more to their stack after the last chunk
(:class:`sos_vo.archives.label_source.LabelStream`), so that every entry keeps its nearest
candidate over all chunks, once.  Two label entries on one Gaia star are then left to
:func:`sos_vo.archives.label_source.one_per_star`, on that merged table.  The provenance
reports how many label entries of the region had no, one and several candidates within the
radius (:func:`match_counts`; the number of entries comes from one ``COUNT`` job, cached like
the chunks).  The label fetch's
``rows.fetched`` then counts the entries with a match, not the joined rows.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
from astropy.coordinates import angular_separation
from astropy.table import Table

from ..prepare.crossmatch import GAIA_EPOCH, propagate_positions
from .adql import render
from .conf import setting, sql_table_name, table_name
from .regions import Region
from .tap import TapClient
from .tap_schema import ResolvedTable, resolve_table

log = logging.getLogger(__name__)

MATCH_RADIUS_ARCSEC = 1.0
"""Largest separation (arcsec) between a label position and a Gaia DR3 position moved to the
label epoch.  Our choice: the papers name no radius (T25 Sect. 2 matches with the best-neighbour
algorithm of Marrese et al. 2017, 2019); the same value as the PASTEL match of
:data:`sos_vo.prepare.crossmatch.PASTEL_MATCH_RADIUS_ARCSEC`, tighter than the Astro Data Lab's
1.5 arcsec nearest-neighbour table used for SEGUE (:mod:`.segue`)."""

MAX_PROPER_MOTION_MAS_YR = 500.0
"""Fastest Gaia source (total proper motion, mas/yr) the server-side search is sized for.  Our
choice: the search circle is drawn around the label position with Gaia's J2016.0 positions
(index-friendly), so it must hold the motion between the two epochs; a faster star is not a
candidate and its entry counts as having none."""

GAIA_TABLE_COLUMNS: dict[str, str] = {"source_id": "Source", "ra": "RA_ICRS", "dec": "DE_ICRS",
                                      "pmra": "pmRA", "pmdec": "pmDE"}
"""Role -> column of TAPVizieR's Gaia DR3 table ``"I/355/gaiadr3"`` (ICRS at epoch J2016.0).
Verified in public code only: ``Source``, ``RA_ICRS``, ``DE_ICRS``, ``pmRA``, ``pmDE`` are read
from ``"I/355/gaiadr3"`` over TAPVizieR by several public scripts (e.g. the workflow
``.github/workflows/pastel-cdn.yml`` of the repository omegaflow/omegaflow cross-matches on
``RA_ICRS``/``DE_ICRS`` with ``pmRA``/``pmDE``); the epoch J2016.0 is Gaia DR3's reference
epoch (Gaia Collaboration, Vallenari et al. 2023, A&A 674, A1), not read from the table."""

ROW_COLUMNS = ("xm_gaia_ra", "xm_gaia_dec", "xm_gaia_pmra", "xm_gaia_pmdec")
"""Gaia columns the positional query returns with each label row (dropped by
:func:`nearest_per_entry`)."""


@dataclass(frozen=True)
class GaiaPositionalMatch:
    """Where and how a label table without a Gaia id is matched to Gaia DR3 by position.

    Attributes
    ----------
    table : str
        Gaia DR3 table on the label source's service, as it spells it in ADQL.
    table_key : str
        Key of the table-name override (``--table KEY=NAME``).
    label_epoch : float
        Epoch (Julian year) of the label table's positions.
    epoch_doc : str
        Where :attr:`label_epoch` comes from (or that it is assumed).
    template : str
        ADQL template of the joined query (``sos_vo/tap_queries/``).
    columns : dict
        Role -> column of the Gaia table (``source_id``, ``ra``, ``dec``, ``pmra``, ``pmdec``).
    vizier : bool
        A TAPVizieR table (SQL names on a DaCHS mirror, as for :class:`LabelSource`).
    radius_arcsec, max_pm_mas_yr : float
        :data:`MATCH_RADIUS_ARCSEC`, :data:`MAX_PROPER_MOTION_MAS_YR`.
    verified : str
        What was checked about the names, and where.
    """

    table: str
    table_key: str
    label_epoch: float
    epoch_doc: str
    template: str
    columns: dict[str, str] = field(default_factory=lambda: dict(GAIA_TABLE_COLUMNS))
    vizier: bool = True
    radius_arcsec: float = MATCH_RADIUS_ARCSEC
    max_pm_mas_yr: float = MAX_PROPER_MOTION_MAS_YR
    verified: str = ""

    @property
    def search_radius_arcsec(self) -> float:
        """Radius of the server-side search around a label position: the match radius plus the
        largest motion (:attr:`max_pm_mas_yr`) over the epoch difference."""
        return self.radius_arcsec + self.max_pm_mas_yr * abs(self.label_epoch - GAIA_EPOCH) / 1e3

    def names(self, tables: Mapping[str, str] | None = None) -> tuple[str, dict[str, str]]:
        """Gaia table and column names after the overrides (SQL names on a DaCHS mirror)."""
        name = table_name(self.table_key, self.table, vizier=self.vizier,
                          overrides=dict(tables or {}))
        cols = dict(self.columns)
        if self.vizier and str(setting("vizier_names")) == "sql":
            from ..validation.references import sql_column_name

            cols = {role: sql_column_name(c) for role, c in cols.items()}
            if name == self.table:
                name = sql_table_name(self.table)
        return name, cols

    def resolve(self, client: TapClient, tables: Mapping[str, str] | None = None) -> ResolvedTable:
        """The Gaia table checked against ``TAP_SCHEMA`` (SchemaResolutionError naming the
        closest tables when it is absent)."""
        name, cols = self.names(tables)
        return resolve_table(client, name, cols)


def is_positional(resolved: ResolvedTable, gaia: ResolvedTable | None) -> bool:
    """True when the label table resolved without a Gaia id and a Gaia table was resolved."""
    return gaia is not None and "source_id" not in resolved.columns \
        and {"ra", "dec", "pmra", "pmdec"} <= set(gaia.columns)


def positional_query(match: GaiaPositionalMatch, resolved: ResolvedTable, gaia: ResolvedTable,
                     region: Region, chunk: str = "1 = 1") -> str:
    """ADQL of the joined query: label rows (alias ``l``) with their Gaia candidates (``x``)."""
    from .label_source import CROSSMATCH_ALIAS, label_select_list

    cols = {role: resolved.adql_column(role, "l") for role in resolved.columns}
    cols["source_id"] = gaia.adql_column("source_id", CROSSMATCH_ALIAS)
    where = region.adql(cols["ra"], cols["dec"], cols["source_id"])
    extra = {f"gaia_{role}": gaia.adql_column(role, CROSSMATCH_ALIAS)
             for role in ("ra", "dec", "pmra", "pmdec")}
    return render(match.template, region=where, chunk=chunk, table=resolved.adql_table,
                  label_columns=label_select_list(cols), gaia_table=gaia.adql_table,
                  search_radius_deg=repr(match.search_radius_arcsec / 3600.0), **cols, **extra)


def count_query(resolved: ResolvedTable, region: Region) -> str | None:
    """ADQL counting the label entries of ``region``; None when the region's server constraint
    is on Gaia ids (a MOC region), which a table without Gaia ids cannot answer."""
    marker = "\x00"
    where = region.adql(resolved.adql_column("ra", "l"), resolved.adql_column("dec", "l"), marker)
    if marker in where:
        return None
    return render("labels_positional_count", region=where, table=resolved.adql_table)


def count_entries(client: TapClient, adql: str | None, *,
                  cache_dir: str | os.PathLike | None | bool = None,
                  use_async: bool = True) -> int | None:
    """Run :func:`count_query`'s ADQL (cached like a chunk: a resumed fetch does not resend it)."""
    if adql is None:
        return None
    from .chunking import run_cached

    rows = run_cached(client, adql, cache_dir=cache_dir, use_async=use_async)
    return int(np.asarray(rows[rows.colnames[0]])[0]) if len(rows) else 0


def _float(column) -> np.ndarray:
    return np.ma.filled(np.ma.asarray(column, dtype=np.float64), np.nan)


def nearest_per_entry(rows: Table, match: GaiaPositionalMatch) -> Table:
    """Label rows with their Gaia candidates -> one row per label entry with a match.

    ``rows``: the joined query's rows (columns of the common label schema plus
    :data:`ROW_COLUMNS`) or outputs of this function, stacked.  Candidates are moved to
    ``match.label_epoch`` (no proper motion: not moved), kept within ``match.radius_arcsec``,
    and each entry (``survey_id``, ``ra``, ``dec``) keeps the nearest; ``xm_candidates`` counts
    its candidates within the radius (summed over stacked outputs), ``xm_distance`` (arcsec) is
    the nearest's separation, ``xm_no_pm`` marks a nearest candidate without proper motion.
    Ties (equal separation) go to the smaller Gaia ``source_id``.
    """
    if "xm_candidates" not in rows.colnames:
        rows = Table(rows, copy=True)
        if len(rows):
            pmra, pmdec = _float(rows["xm_gaia_pmra"]), _float(rows["xm_gaia_pmdec"])
            gra, gdec = propagate_positions(_float(rows["xm_gaia_ra"]), _float(rows["xm_gaia_dec"]),
                                            pmra, pmdec, match.label_epoch - GAIA_EPOCH)
            sep = np.rad2deg(angular_separation(*np.deg2rad([gra, gdec, _float(rows["ra"]),
                                                             _float(rows["dec"])]))) * 3600.0
            no_pm = ~(np.isfinite(pmra) & np.isfinite(pmdec))
        else:
            sep, no_pm = np.zeros(0), np.zeros(0, dtype=bool)
        rows.remove_columns([c for c in ROW_COLUMNS if c in rows.colnames])
        rows["xm_distance"] = sep
        rows["xm_distance"].unit = "arcsec"
        rows["xm_candidates"] = np.ones(len(rows), dtype=np.int64)
        rows["xm_no_pm"] = no_pm
        rows = rows[np.isfinite(sep) & (sep <= match.radius_arcsec)]
    if len(rows) == 0:
        return rows
    keys = np.char.add(np.char.add(np.asarray(rows["survey_id"]).astype(str), "|"),
                       np.char.add(np.char.add(_float(rows["ra"]).astype(str), "|"),
                                   _float(rows["dec"]).astype(str)))
    sid = np.ma.filled(np.ma.asarray(rows["source_id"]), 0).astype(np.int64)
    order = np.lexsort((sid, np.asarray(rows["xm_distance"], float), keys))
    first = np.r_[True, keys[order][1:] != keys[order][:-1]]
    group = np.cumsum(first) - 1
    total = np.bincount(group, weights=np.asarray(rows["xm_candidates"])[order]).astype(np.int64)
    out = rows[order[first]]
    out["xm_candidates"] = total
    return out


def match_counts(matched: Table, n_entries: int | None) -> dict[str, int | None]:
    """How many label entries had no, one and several Gaia candidates within the radius.

    ``matched``: :func:`nearest_per_entry`'s output for the whole region (before the quality
    rule); ``n_entries``: label entries in the region (:func:`count_entries`; None: not counted,
    then ``no_candidate`` is None too).
    """
    n = np.asarray(matched["xm_candidates"]) if len(matched) else np.zeros(0, dtype=np.int64)
    no_pm = int(np.sum(np.asarray(matched["xm_no_pm"], bool))) if len(matched) else 0
    return {"entries": n_entries,
            "no_candidate": None if n_entries is None else int(n_entries - len(matched)),
            "one_candidate": int(np.sum(n == 1)), "several_candidates": int(np.sum(n > 1)),
            "nearest_without_proper_motion": no_pm}


def provenance(match: GaiaPositionalMatch, gaia: ResolvedTable, counts: Mapping[str, object],
               count_adql: str | None) -> dict[str, object]:
    """JSON-ready record of the positional match (the ``crossmatch`` entry of a label fetch)."""
    return {"method": "position", **gaia.provenance(),
            "match_radius_arcsec": match.radius_arcsec,
            "search_radius_arcsec": match.search_radius_arcsec,
            "max_proper_motion_mas_yr": match.max_pm_mas_yr,
            "gaia_epoch": GAIA_EPOCH, "label_epoch": match.label_epoch,
            "label_epoch_source": match.epoch_doc,
            "nearest": "nearest Gaia DR3 source within the radius, per label entry",
            "label_entries": dict(counts), "count_adql": count_adql}


__all__ = ["GAIA_TABLE_COLUMNS", "MATCH_RADIUS_ARCSEC", "MAX_PROPER_MOTION_MAS_YR",
           "GaiaPositionalMatch", "count_entries", "count_query", "is_positional", "match_counts",
           "nearest_per_entry", "positional_query", "provenance"]
