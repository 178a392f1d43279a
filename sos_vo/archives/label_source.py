"""Spectroscopic label sources over TAP, one common label schema.

Each survey module (:mod:`.apogee`, :mod:`.galah`, :mod:`.lamost`, :mod:`.gaia_eso`,
:mod:`.segue`, :mod:`.sos_dr2`, :mod:`.pastel`) defines one :class:`LabelSource`: the service
(a ``conf`` item), the table and column names with what was verified about them and from
where, an ADQL template in ``sos_vo/tap_queries/`` and the survey's own quality rule.
:func:`fetch_labels` then

1. resolves the table and columns against the service's ``TAP_SCHEMA``
   (:func:`sos_vo.archives.tap_schema.resolve_table`; a clear error listing the closest names
   when one is absent), and the cross-match table that gives the Gaia DR3 id of a survey table
   without one (:class:`GaiaCrossmatch`, joined on the server);
2. runs the template over the region (or the whole sky), chunked by Gaia DR3 ``source_id``
   HEALPix cells and cached on disk (:func:`sos_vo.archives.chunking.iter_chunked`: a killed
   fetch resumes without refetching finished chunks; overflowing chunks are split);
3. applies the survey's documented quality rule and keeps one row per Gaia DR3 source_id,
   chunk by chunk (the chunks are disjoint source_id ranges); :func:`stream_labels` hands
   the chunks over one at a time (:class:`LabelStream`), :func:`fetch_labels` in one table.

Common label schema (:data:`LABEL_SCHEMA`): ``source_id`` (Gaia DR3; Gaia EDR3 ids are the same
numbers, Gaia DR3 documentation Sect. 1.1), ``survey_id`` (the survey's own identifier, as
text), ``ra``, ``dec`` (deg, as the survey lists them), ``teff``, ``e_teff`` (K), ``logg``,
``e_logg``, ``feh``, ``e_feh`` (dex), ``survey`` (the source key).  ``meta['provenance']``
holds the service, the resolved table and column names, the ADQL and the row counts.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from astropy.table import Table, vstack

from ..exceptions import EmptyInputError
from .adql import render
from .chunking import iter_chunked
from .conf import setting, sql_table_name, table_name
from .positional_match import GaiaPositionalMatch, is_positional, nearest_per_entry
from .regions import MocRegion, Region, from_healpix
from .tap import TapClient
from .tap_schema import ResolvedTable, SchemaResolutionError, quote_column, resolve_table

log = logging.getLogger(__name__)

LABEL_SCHEMA: tuple[str, ...] = ("source_id", "survey_id", "ra", "dec", "teff", "e_teff", "logg",
                                 "e_logg", "feh", "e_feh", "survey")
"""Columns of every table :func:`fetch_labels` returns, in this order."""

LABEL_ROLES: tuple[str, ...] = ("source_id", "survey_id", "ra", "dec", "teff", "e_teff", "logg",
                                "e_logg", "feh", "e_feh")
"""Roles every source maps to one of its columns (flags are extra roles of each source)."""

ALL_SKY_CHUNK_ORDER = 2
"""An all-sky label fetch is tried as one job first; when it reaches the row limit it is split
into the HEALPix cells of this order (192 cells of 215 deg^2; our choice: a few thousand rows
per job for the largest surveys, LAMOST LRS ~10 M rows), and a cell over the limit further.
A region larger than ``conf.single_job_max_area_deg2`` is cut into cells of this order too:
label tables are thousands of times sparser than gaia_source, whose ``conf.chunk_order`` (5)
would send hundreds of nearly empty jobs."""

DUPLICATE_RULE = "smallest e_feh"
"""Which entry a star keeps when a survey lists it more than once (APOGEE: two telescopes or
fields; GALAH, LAMOST: repeat visits): the one with the smallest [Fe/H] error, ties by the
first listed.  Our choice; the surveys' own "best entry" flags are not served uniformly."""


@dataclass(frozen=True)
class GaiaCrossmatch:
    """A table of the same service that gives the Gaia DR3 ``source_id`` of a survey's rows.

    For a survey table without a Gaia DR3 id (SDSS ``sppParams``), the label query joins the
    survey table (alias ``l``) to this table (alias ``x``) on ``x.<match> = l.<survey_id>``;
    the source's ``source_id`` role then names a column of this table.

    Attributes
    ----------
    table : str
        Table name as the service spells it in ADQL.
    match : str
        Column holding the survey's identifier (the ``survey_id`` role's values).
    table_key : str
        Key of the table-name override (``--table KEY=NAME``).
    verified : str
        What was checked about the names, and where.
    """

    table: str
    match: str
    table_key: str
    verified: str = ""


@dataclass(frozen=True)
class LabelSource:
    """One spectroscopic survey table serving Teff, log g, [Fe/H] over TAP.

    Attributes
    ----------
    key : str
        Name used on the command line (``apogee-dr17``).
    title : str
        Survey and release.
    citation : str
        The paper of the release.
    conf_item : str
        :mod:`sos_vo.archives.conf` item holding the TAP URL.
    table : str
        Table name as the service spells it in ADQL (VizieR names quoted).
    columns : dict
        Role -> column name (the :data:`LABEL_ROLES` plus the flag roles of ``quality``).
    template : str
        ADQL template in ``sos_vo/tap_queries/`` (placeholders: ``table``, ``region``,
        ``chunk``, ``label_columns`` -- the common select list, :func:`label_select_list` --
        ``source_id`` and one per extra role).
    quality : callable
        ``quality(rows) -> bool mask``: the survey's documented quality rule on fetched rows
        (columns named by role).
    quality_doc : str
        The rule in words, with its source.
    verified : str
        What was checked about the names, and where; what remains a guess.
    vizier : bool
        True for a TAPVizieR table (names map to SQL identifiers on a DaCHS mirror, see
        :func:`sos_vo.archives.conf.sql_table_name`).
    labels : tuple
        Which of teff, logg, feh the survey provides (others are NaN).
    crossmatch : GaiaCrossmatch, optional
        Where the Gaia DR3 id comes from when the survey table has none (its template then
        has the placeholders ``crossmatch_table`` and ``crossmatch_match``).
    positional : GaiaPositionalMatch, optional
        Used only when the service's table turns out to have no column for the ``source_id``
        role: the Gaia DR3 id then comes from a positional match on the server
        (:mod:`sos_vo.archives.positional_match`).
    """

    key: str
    title: str
    citation: str
    conf_item: str
    table: str
    columns: dict[str, str]
    template: str
    quality: Callable[[Table], np.ndarray]
    quality_doc: str
    verified: str
    vizier: bool = False
    labels: tuple[str, ...] = ("teff", "logg", "feh")
    extra: dict[str, Any] = field(default_factory=dict)
    crossmatch: GaiaCrossmatch | None = None
    positional: GaiaPositionalMatch | None = None

    @property
    def table_key(self) -> str:
        """Logical key of the table for name overrides (``--table KEY=NAME``)."""
        return self.key.replace("-", "_")

    def names(self, tables: Mapping[str, str] | None = None,
              columns: Mapping[str, str] | None = None) -> tuple[str, dict[str, str]]:
        """Table and column names to ask the service for, after the overrides.

        A VizieR table under ``conf.vizier_names = 'sql'`` (a DaCHS mirror) gets the SQL
        mapping of the table (:func:`~sos_vo.archives.conf.sql_table_name`) and of each column
        (:func:`sos_vo.validation.references.sql_column_name`).  ``columns`` (role -> name,
        ``--column KEY.ROLE=NAME``) replaces column names as given, after that mapping.
        """
        unknown = set(columns or {}) - set(self.columns)
        if unknown:
            raise ValueError(f"{self.key}: unknown column role(s) {', '.join(sorted(unknown))}; "
                             f"roles: {', '.join(self.columns)}")
        sql = self.vizier and str(setting("vizier_names")) == "sql"
        name = table_name(self.table_key, self.table, vizier=self.vizier, overrides=dict(tables or {}))
        cols = dict(self.columns)
        if sql:
            from ..validation.references import sql_column_name

            cols = {role: sql_column_name(c) for role, c in cols.items()}
            if name == self.table:
                name = sql_table_name(self.table)
        cols.update(columns or {})
        return name, cols

    def url(self, tap_url: str | None = None) -> str:
        """TAP URL: ``tap_url`` > ``$SOS_VO_<CONF_ITEM>`` > ``conf``."""
        return str(setting(self.conf_item, tap_url))


LABEL_SOURCES: dict[str, LabelSource] = {}
"""Every label source by key, filled by :func:`register` from the survey modules."""


def register(source: LabelSource) -> LabelSource:
    """Add ``source`` to :data:`LABEL_SOURCES` and return it."""
    LABEL_SOURCES[source.key] = source
    return source


def label_sources() -> dict[str, LabelSource]:
    """All label sources (imports the survey modules, which register themselves)."""
    from . import apogee, gaia_eso, galah, lamost, pastel, segue, sos_dr2  # noqa: F401

    return LABEL_SOURCES


def get_source(key: str) -> LabelSource:
    """The label source ``key``; ValueError naming the known keys otherwise."""
    sources = label_sources()
    if key not in sources:
        raise ValueError(f"unknown label source {key!r}: expected one of {', '.join(sources)}")
    return sources[key]


SELECT_INDENT = " " * len("SELECT ")
"""Indentation of the select list's continuation lines (aligned under the first column)."""


def label_select_list(columns: Mapping[str, str]) -> str:
    """The select list of the common label schema, the ``{label_columns}`` of every template.

    One ``<column> AS <role>`` per :data:`LABEL_ROLES` entry, in that order, one per line
    aligned under ``SELECT`` (so the ADQL stays readable in the provenance); ``columns`` maps
    each role to its resolved, delimited ADQL column.  The templates hold only what is
    particular to a survey: the extra columns of its quality rule, its table and filters.
    """
    missing = [role for role in LABEL_ROLES if role not in columns]
    if missing:
        raise KeyError(f"label select list needs columns for {', '.join(missing)}")
    return f",\n{SELECT_INDENT}".join(f"{columns[role]} AS {role}" for role in LABEL_ROLES)


def label_query(source: LabelSource, resolved: ResolvedTable, region: Region,
                chunk: str = "1 = 1", crossmatch: ResolvedTable | None = None) -> str:
    """ADQL of ``source``'s template with the resolved names, for ``region`` and ``chunk``.

    ``crossmatch`` (required when ``source.crossmatch`` is set): the resolved cross-match
    table, roles ``source_id`` and ``match``; its columns take the alias ``x``.
    """
    if source.positional is not None and source.crossmatch is None \
            and is_positional(resolved, crossmatch):
        from .positional_match import positional_query

        return positional_query(source.positional, resolved, crossmatch, region, chunk)
    alias = "l"
    cols = {role: resolved.adql_column(role, alias) for role in resolved.columns}
    extra: dict[str, str] = {}
    if source.crossmatch is not None:
        if crossmatch is None:
            raise ValueError(f"{source.key}: the label query needs the resolved cross-match "
                             f"table {source.crossmatch.table}")
        cols["source_id"] = crossmatch.adql_column("source_id", CROSSMATCH_ALIAS)
        extra = {"crossmatch_table": crossmatch.adql_table,
                 "crossmatch_match": crossmatch.adql_column("match", CROSSMATCH_ALIAS)}
    where = region.adql(cols["ra"], cols["dec"], cols["source_id"])
    return render(source.template, region=where, chunk=chunk, table=resolved.adql_table,
                  label_columns=label_select_list(cols), **cols, **extra)


CROSSMATCH_ALIAS = "x"
"""ADQL alias of a source's cross-match table (:class:`GaiaCrossmatch`)."""


def resolve_source(client: TapClient, source: LabelSource, name: str, cols: Mapping[str, str],
                   tables: Mapping[str, str] | None = None
                   ) -> tuple[ResolvedTable, ResolvedTable | None]:
    """Resolve ``source``'s table (and its cross-match table, if any) against TAP_SCHEMA.

    ``name``, ``cols``: the names of :meth:`LabelSource.names`.  With a cross-match, the
    ``source_id`` role is a column of the cross-match table and is resolved there, with the
    ``match`` column; the other roles are resolved on the survey table.  A source with a
    positional fallback whose table lacks the ``source_id`` column gets its other roles
    resolved and, as second table, its Gaia DR3 table
    (:meth:`~sos_vo.archives.positional_match.GaiaPositionalMatch.resolve`).
    """
    xm = source.crossmatch
    if xm is None and source.positional is not None:
        try:
            return resolve_table(client, name, cols), None
        except SchemaResolutionError as exc:
            main = resolve_table(client, name, {r: c for r, c in cols.items() if r != "source_id"})
            log.info("%s: %s; Gaia DR3 ids by position instead", source.key, exc)
            return main, source.positional.resolve(client, tables)
    if xm is None:
        return resolve_table(client, name, cols), None
    main = resolve_table(client, name, {r: c for r, c in cols.items() if r != "source_id"})
    xname = table_name(xm.table_key, xm.table, overrides=dict(tables or {}))
    return main, resolve_table(client, xname, {"source_id": cols["source_id"], "match": xm.match})


def _filled(column) -> np.ndarray:
    return np.ma.filled(np.ma.asarray(column, dtype=np.float64), np.nan)


def normalise(rows: Table, source: LabelSource) -> Table:
    """Server rows -> :data:`LABEL_SCHEMA` (float64 labels with NaN, int64 ids, text ids)."""
    out = Table()
    sid = np.ma.filled(np.ma.asarray(rows["source_id"]), 0)
    out["source_id"] = np.asarray(sid, dtype=np.int64)
    out["survey_id"] = np.asarray([str(v) for v in np.ma.filled(np.ma.asarray(rows["survey_id"]).astype(str), "")])
    for c in ("ra", "dec"):
        out[c] = _filled(rows[c])
        out[c].unit = "deg"
    for lab, unit in (("teff", "K"), ("logg", "dex"), ("feh", "dex")):
        for c in (lab, f"e_{lab}"):
            out[c] = _filled(rows[c]) if c in rows.colnames else np.full(len(rows), np.nan)
            out[c].unit = unit
    out["survey"] = np.full(len(rows), source.key)
    for c in rows.colnames:  # the source's extra roles (flags, published ML values) as served
        if c not in out.colnames:
            out[c] = rows[c]
    return out


def one_per_star_rows(source_id: np.ndarray, e_feh: np.ndarray) -> np.ndarray:
    """Indices (ascending) of the rows :data:`DUPLICATE_RULE` keeps, one per ``source_id``."""
    source_id = np.asarray(source_id)
    if source_id.size == 0:
        return np.zeros(0, dtype=np.intp)
    e_feh = np.asarray(e_feh, dtype=np.float64)
    err = np.where(np.isfinite(e_feh), e_feh, np.inf)
    order = np.lexsort((np.arange(source_id.size), err, source_id))
    ids = source_id[order]
    first = np.r_[True, ids[1:] != ids[:-1]]
    return np.sort(order[first])


def one_per_star(table: Table) -> Table:
    """Keep one row per ``source_id`` (:data:`DUPLICATE_RULE`)."""
    if len(table) == 0:
        return table
    return table[one_per_star_rows(np.asarray(table["source_id"]), table["e_feh"])]


@dataclass(frozen=True)
class WholeSky(MocRegion):
    """The whole sky: no constraint in the ADQL (``1 = 1``), every row kept."""

    exact_on_server: bool = field(default=True, init=False)

    def adql(self, ra: str = "ra", dec: str = "dec", source_id: str = "source_id") -> str:
        return "1 = 1"

    def describe(self) -> str:
        return "all sky"


def whole_sky() -> Region:
    """The whole sky as a region (the 12 HEALPix cells of order 0)."""
    return WholeSky(moc_=from_healpix(0, range(12)).moc_)


def fetch_labels(source: LabelSource | str, region: Region | None = None, *,
                 tap_url: str | None = None, tables: Mapping[str, str] | None = None,
                 cache_dir: str | os.PathLike | None | bool = None, use_async: bool = True,
                 progress: bool = True, chunk_order: int | None = None,
                 client: TapClient | None = None, quality=None,
                 columns: Mapping[str, str] | None = None, **client_kwargs) -> Table:
    """Labels of ``source`` in ``region`` (None: the whole sky), in :data:`LABEL_SCHEMA`.

    All the chunks of :func:`stream_labels` in one table.

    Parameters
    ----------
    source : LabelSource or str
        The source or its key.
    region : Region, optional
        Sky region; None fetches the whole sky in HEALPix chunks of :data:`ALL_SKY_CHUNK_ORDER`.
    tap_url : str, optional
        Overrides the source's ``conf`` URL.
    tables : mapping, optional
        Table-name overrides by key (``apogee_dr17=...``).
    cache_dir, use_async, progress
        See :func:`sos_vo.archives.chunking.run_chunked`.
    chunk_order : int, optional
        HEALPix order of the chunks (default :data:`ALL_SKY_CHUNK_ORDER`).
    columns : mapping, optional
        Column-name overrides of this source, role -> name (:meth:`LabelSource.names`).
    quality : callable, optional
        Replaces the source's quality rule (``sos-vo query --compare`` keeps rows with
        published ML values instead).

    Returns
    -------
    Table
        :data:`LABEL_SCHEMA` columns, one row per Gaia DR3 source_id, quality rule applied;
        ``meta['provenance']``: service, resolved names, ADQL, row counts.

    Raises
    ------
    SchemaResolutionError
        The table or a column is not in the service's TAP_SCHEMA.
    EmptyInputError
        No row with a Gaia DR3 id in the region.
    """
    stream = stream_labels(source, region, tap_url=tap_url, tables=tables, cache_dir=cache_dir,
                           use_async=use_async, progress=progress, chunk_order=chunk_order,
                           client=client, quality=quality, columns=columns, **client_kwargs)
    parts = list(stream)
    nonempty = [t for t in parts if len(t)] or parts[:1]
    unique = vstack(nonempty, metadata_conflicts="silent") if len(nonempty) > 1 else nonempty[0]
    unique.meta["provenance"] = stream.provenance
    return unique


@dataclass
class LabelStream:
    """The labels of one source, chunk by chunk (:func:`stream_labels`).

    Iterating yields, per HEALPix chunk of the fetch, its rows in :data:`LABEL_SCHEMA` with the
    quality rule applied and one row per source_id (:data:`DUPLICATE_RULE`).  The chunks are
    disjoint ranges of Gaia DR3 source_id (:mod:`sos_vo.archives.chunking`), so keeping one
    row per star chunk by chunk keeps the rows one pass over all the rows would (a source
    matched by position yields its rows after the last chunk, :attr:`match`).  After the
    iteration, :attr:`provenance` holds what ``meta['provenance']`` of :func:`fetch_labels`
    holds; an iteration that kept no row raises :class:`~sos_vo.exceptions.EmptyInputError`.
    """

    source: LabelSource
    rows: Iterable[Table]
    """The server's rows, chunk by chunk (:func:`sos_vo.archives.chunking.iter_chunked`)."""
    quality: Callable[[Table], np.ndarray] | None
    resolved: ResolvedTable
    crossmatch: ResolvedTable | None
    region: Region
    all_sky: bool
    url: str
    match: _PositionalStep | None = None
    """The positional match to Gaia DR3 (None: the table has Gaia ids).  The chunks cut on the
    Gaia candidates' source_id, so an entry within the search radius of a chunk's border has
    candidates in two chunks: each chunk's rows are reduced to the nearest candidate per entry
    and held, and after the last chunk the held rows are merged (:meth:`_PositionalStep.merged`:
    the nearest over all chunks, the candidate counts summed) and go through the quality and
    one-per-star rules as one part, yielded last (the chunks before yield empty tables).  An
    entry thus keeps one Gaia source, its nearest, and a Gaia source one entry."""
    provenance: dict[str, Any] | None = None

    def _parts(self) -> Iterator[Table]:
        """The server's rows, chunk by chunk; for a positional match the chunks' reduced rows
        held, then merged into one part after the last."""
        if self.match is None:
            yield from self.rows
            return
        for rows in self.rows:
            self.match(rows)
            yield rows[:0]
        merged = self.match.merged()
        if merged is not None:
            yield merged

    def __iter__(self) -> Iterator[Table]:
        src, rule = self.source, self.quality or self.source.quality
        n_fetched = n_id = n_kept = n_unique = 0
        for rows in self._parts():
            table = normalise(rows, src)
            has_id = table["source_id"] > 0
            flags = rule(rows) if len(rows) else np.zeros(0, dtype=bool)
            kept = table[has_id & np.asarray(flags, dtype=bool)]
            unique = one_per_star(kept)
            n_fetched += len(table)
            n_id += int(has_id.sum())
            n_kept += len(kept)
            n_unique += len(unique)
            yield unique
        if n_unique == 0:
            where = "the whole sky" if self.all_sky else self.region.describe()
            raise EmptyInputError(f"{src.key}: no star with a Gaia DR3 id passes the quality rule "
                                  f"in {where} ({n_fetched} rows fetched from "
                                  f"{self.resolved.table} at {self.url})")
        self.provenance = {
            "source": src.key, "title": src.title, "citation": src.citation,
            **self.resolved.provenance(),
            **({} if self.crossmatch is None else {"crossmatch": self.crossmatch.provenance()
                                                   if self.match is None else self.match.provenance(
                                                       self.resolved, self.crossmatch, self.region)}),
            "adql": label_query(src, self.resolved, self.region, crossmatch=self.crossmatch),
            "region": "all sky" if self.all_sky else self.region.describe(),
            "quality_rule": src.quality_doc if self.quality is None
            else getattr(self.quality, "__doc__", ""), "duplicates": DUPLICATE_RULE,
            "rows": {"fetched": n_fetched, "with_gaia_dr3_id": n_id, "quality": n_kept,
                     "one_per_star": n_unique},
        }
        log.info("%s: %d rows fetched, %d with a Gaia id, %d pass the quality rule, %d stars",
                 src.key, n_fetched, n_id, n_kept, n_unique)


def stream_labels(source: LabelSource | str, region: Region | None = None, *,
                  tap_url: str | None = None, tables: Mapping[str, str] | None = None,
                  cache_dir: str | os.PathLike | None | bool = None, use_async: bool = True,
                  progress: bool = True, chunk_order: int | None = None,
                  client: TapClient | None = None, quality=None,
                  columns: Mapping[str, str] | None = None, **client_kwargs) -> LabelStream:
    """The labels of :func:`fetch_labels`, chunk by chunk (a :class:`LabelStream`).

    The service is checked and the names resolved here (errors before any row is fetched);
    the chunks are fetched (or read from the cache) as the stream is iterated.  Parameters
    as :func:`fetch_labels`.
    """
    src = get_source(source) if isinstance(source, str) else source
    client = client or TapClient(src.url(tap_url), **client_kwargs)
    client.check_service()
    name, cols = src.names(tables, columns)
    resolved, xres = resolve_source(client, src, name, cols, tables)
    all_sky = region is None
    reg = whole_sky() if all_sky else region
    order = ALL_SKY_CHUNK_ORDER if chunk_order is None else chunk_order
    sid = (resolved.adql_column("source_id", "l") if xres is None
           else xres.adql_column("source_id", CROSSMATCH_ALIAS))
    rows = iter_chunked(
        client, lambda chunk: label_query(src, resolved, reg, chunk.replace("g.source_id", sid),
                                          xres),
        reg, order=order, single_job_max_area_deg2=reg.area_deg2 + 1.0 if all_sky else None,
        cache_dir=cache_dir, use_async=use_async, progress=progress,
        description=f"{src.key} labels")
    positional = src.positional is not None and is_positional(resolved, xres)
    return LabelStream(src, rows, quality, resolved, xres, reg, all_sky, client.url,
                       match=_PositionalStep(src, client, cache_dir, use_async)
                       if positional else None)


@dataclass
class _PositionalStep:
    """The per-chunk step of a label source matched to Gaia DR3 by position
    (:mod:`.positional_match`), and its counts summed over the chunks."""

    source: LabelSource
    client: TapClient
    cache_dir: str | os.PathLike | None | bool
    use_async: bool
    held: list[Table] = field(default_factory=list)
    """Each chunk's rows reduced to the nearest candidate per entry (one row per entry and
    chunk; an entry has rows in two chunks only near a chunk's border)."""
    matched: Table | None = None
    """:meth:`merged`'s ``xm_candidates`` and ``xm_no_pm`` (the provenance's counts)."""

    def __call__(self, rows: Table) -> Table:
        """One chunk's joined rows -> one row per label entry, its nearest Gaia candidate in
        the chunk (held for :meth:`merged`)."""
        out = nearest_per_entry(rows, self.source.positional)
        if len(out):
            self.held.append(out)
        return out

    def merged(self) -> Table | None:
        """The held rows of all chunks -> one row per label entry: the nearest candidate over
        all chunks, ``xm_candidates`` summed (:func:`nearest_per_entry` on their stack);
        None when no chunk had a match."""
        parts, self.held = self.held, []
        if not parts:
            self.matched = Table({"xm_candidates": np.zeros(0, np.int64),
                                  "xm_no_pm": np.zeros(0, bool)})
            return None
        out = nearest_per_entry(vstack(parts, metadata_conflicts="silent")
                                if len(parts) > 1 else parts[0], self.source.positional)
        self.matched = out[["xm_candidates", "xm_no_pm"]]
        return out

    def provenance(self, resolved: ResolvedTable, gaia: ResolvedTable,
                   region: Region) -> dict[str, Any]:
        """The ``crossmatch`` entry of the fetch's provenance (one ``COUNT`` job, cached)."""
        from . import positional_match as pm

        adql = pm.count_query(resolved, region)
        n = pm.count_entries(self.client, adql, cache_dir=self.cache_dir,
                             use_async=self.use_async)
        matched = self.matched if self.matched is not None else Table(
            {"xm_candidates": np.zeros(0, np.int64), "xm_no_pm": np.zeros(0, bool)})
        return pm.provenance(self.source.positional, gaia, pm.match_counts(matched, n), adql)


def flag_is_zero(*roles: str) -> Callable[[Table], np.ndarray]:
    """Quality rule: every flag column of ``roles`` is 0 (masked counts as failing)."""
    def rule(rows: Table) -> np.ndarray:
        ok = np.ones(len(rows), dtype=bool)
        for role in roles:
            v = np.ma.asarray(rows[role])
            ok &= ~np.ma.getmaskarray(v) & (np.ma.filled(v, 1) == 0)
        return ok
    return rule


def bit_clear(role: str, bit: int) -> Callable[[Table], np.ndarray]:
    """Quality rule: bit ``bit`` of integer flag ``role`` is not set (masked counts as clear)."""
    def rule(rows: Table) -> np.ndarray:
        v = np.ma.filled(np.ma.asarray(rows[role]), 0).astype(np.int64)
        return (v >> bit) & 1 == 0
    return rule


def all_finite_labels(rows: Table) -> np.ndarray:
    """Quality rule used with the others: Teff, log g and [Fe/H] all present."""
    return np.all([np.isfinite(_filled(rows[c])) for c in ("teff", "logg", "feh")], axis=0)


def template_placeholders(source: LabelSource) -> set[str]:
    """Placeholders of ``source``'s template other than ``table``, ``region``, ``chunk`` and
    the generated ``label_columns``."""
    from .adql import placeholders
    from .tables import ARCHIVE_TABLES

    return (placeholders(source.template) - {"table", "region", "chunk", "label_columns",
                                             "crossmatch_table", "crossmatch_match"}
            - set(ARCHIVE_TABLES))


__all__ = ["LABEL_SCHEMA", "LABEL_SOURCES", "GaiaCrossmatch", "GaiaPositionalMatch", "LabelSource",
           "LabelStream", "fetch_labels", "get_source", "label_sources", "quote_column",
           "stream_labels"]


def parse_column_overrides(items) -> dict[str, dict[str, str]]:
    """``["apogee_dr17.feh=FE_H", ...]`` -> ``{"apogee-dr17": {"feh": "FE_H"}}`` (keys as
    ``--table`` spells them, ``-`` or ``_``)."""
    out: dict[str, dict[str, str]] = {}
    for item in items or ():
        key, sep, name = str(item).partition("=")
        src, dot, role = key.partition(".")
        if not sep or not dot or not name.strip() or not role.strip():
            raise ValueError(f"column override {item!r} is not of the form KEY.ROLE=NAME")
        source = get_source(src.strip().replace("_", "-"))
        out.setdefault(source.key, {})[role.strip()] = name.strip()
    return out
