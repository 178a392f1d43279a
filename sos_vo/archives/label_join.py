"""Gaia DR3 + distances + Andrae [M/H] + SDSS/SkyMapper rows for labelled stars, by source_id.

The labelled stars of a real training set are scattered over the sky (a survey's fields), so
they are not fetched by region but by identifier: their Gaia DR3 ``source_id`` values are
uploaded (TAP ``UPLOAD``, ``TAP_UPLOAD.sosvo_label_ids``) and joined on the server with the
same tables, joins, one-to-one rule and Gaia cuts as ``sos-vo query``
(``sos_vo/tap_queries/gaia_<survey>_joined.adql``; :func:`joined_by_ids_query` replaces its
``FROM`` by the upload join, so the two queries cannot drift apart).

* Chunked: :data:`UPLOAD_CHUNK_ROWS` ids per job (sorted, so a chunk is a contiguous
  source_id range).
* Cached and resumable: each finished chunk is saved (atomically, ECSV) under
  ``cache_dir/<hash of endpoint and query>/ids_<i>_<hash of the ids>.ecsv``; a killed run
  started again loads the finished chunks and sends only the others.
* Retries (HTTP 429/5xx, time-outs) are :class:`~sos_vo.archives.tap.TapClient`'s; a chunk
  whose result reaches the row limit (:class:`~sos_vo.archives.exceptions.QueryOverflowError`)
  is split in two, down to one id.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from astropy.table import Table, vstack
from tqdm.auto import tqdm

from ..exceptions import EmptyInputError
from ..schema import check_survey
from .adql import quote_table_name, render, template_text
from .chunking import ChunkCache, query_cache
from .conf import table_name
from .exceptions import ArchiveError, QueryOverflowError
from .gaia import GAIA_CUTS, JOINED_TEMPLATE
from .tables import ARCHIVE_TABLES
from .tap import TapClient

log = logging.getLogger(__name__)

UPLOAD_TABLE = "sosvo_label_ids"
"""Name of the uploaded id table (``TAP_UPLOAD.sosvo_label_ids``, one column ``source_id``)."""
UPLOAD_CHUNK_ROWS = 8_000
"""Ids per job: the id-upload chunk of :data:`sos_vo.archives.gaia.ASTROMETRY_CHUNK_ROWS` (an
int64 VOTable row is well under 100 bytes, so an upload stays under DaCHS's 500 000-byte
synchronous upload limit; the ESA archive accepts far larger uploads)."""
FROM_LINE = "FROM {gaia_source} AS g"


def joined_by_ids_query(survey: str, *, server_cuts: bool = True,
                        tables: dict[str, str] | None = None) -> str:
    """ADQL of the joined Gaia + distance + Andrae + ``survey`` rows of uploaded source_ids."""
    check_survey(survey)
    name = JOINED_TEMPLATE[survey]
    text = template_text(name)
    if FROM_LINE not in text:  # pragma: no cover - guards the template's shape
        raise ArchiveError(f"template {name} has no line {FROM_LINE!r}")
    adql = render(name, region="1 = 1", chunk="1 = 1",
                  drop_blocks=() if server_cuts else ("gaia_cuts",), tables=tables, **GAIA_CUTS)
    gaia = quote_table_name(table_name("gaia_source", ARCHIVE_TABLES["gaia_source"].name,
                                       overrides=tables))
    old = f"FROM {gaia} AS g"
    new = (f"FROM TAP_UPLOAD.{UPLOAD_TABLE} AS u\nJOIN {gaia} AS g ON g.source_id = u.source_id")
    return adql.replace(old, new, 1)


@dataclass(frozen=True)
class IdChunk:
    """One block of uploaded ids, with the other uploaded columns of their rows (its name keys
    the cache file)."""

    index: int
    ids: np.ndarray
    columns: dict[str, np.ndarray] | None = None

    @property
    def name(self) -> str:
        digest = hashlib.sha256(np.ascontiguousarray(self.ids, dtype=np.int64).tobytes())
        for c, values in sorted((self.columns or {}).items()):
            digest.update(c.encode())
            digest.update(np.ascontiguousarray(values).tobytes())
        return f"ids_{self.index:06d}_{digest.hexdigest()[:12]}"

    def halves(self) -> list[IdChunk]:
        mid = self.ids.size // 2
        cols = self.columns or {}
        return [IdChunk(self.index * 2, self.ids[:mid], {c: v[:mid] for c, v in cols.items()} or None),
                IdChunk(self.index * 2 + 1, self.ids[mid:],
                        {c: v[mid:] for c, v in cols.items()} or None)]

    def upload(self, key: str) -> Table:
        """The uploaded table: ``key`` (the ids) and the other columns."""
        return Table({key: self.ids, **(self.columns or {})})


@dataclass
class UploadStats:
    """Counts of one id-upload run (:func:`iter_by_ids`), filled while it streams."""

    uploaded_ids: int = 0
    chunks: int = 0
    chunks_from_cache: int = 0
    jobs: int = 0
    rows: int = 0

    def meta(self) -> dict[str, int]:
        """``uploaded_ids``, ``chunks``, ``chunks_from_cache``, ``jobs`` (the stacked table's
        ``meta`` of :func:`fetch_by_ids`)."""
        return {"uploaded_ids": self.uploaded_ids, "chunks": self.chunks,
                "chunks_from_cache": self.chunks_from_cache, "jobs": self.jobs}


def iter_by_ids(client: TapClient, query: str, ids, *, chunk_rows: int | None = None,
                cache_dir: str | os.PathLike | None | bool = None, use_async: bool = False,
                progress: bool = True, description: str = "upload chunks",
                stats: UploadStats | None = None, columns: Mapping[str, np.ndarray] | None = None,
                upload_table: str = UPLOAD_TABLE, key: str = "source_id") -> Iterator[Table]:
    """Run ``query`` (which joins ``TAP_UPLOAD.sosvo_label_ids``) for all ``ids``, chunk by chunk.

    The ids are made unique and sorted, so the chunks are yielded in increasing, disjoint
    ``source_id`` ranges (a chunk split on overflow yields its halves in order).  Each chunk's
    rows come from the cache when it holds them, else from one TAP job (then cached).  Only the
    chunk being yielded is held here: a caller that keeps what it needs of each chunk and drops
    the rest holds one chunk at a time.

    The arguments are checked when this is called (an empty ``ids`` raises
    :class:`~sos_vo.exceptions.EmptyInputError` at once); the jobs run as the result is
    iterated.  ``stats`` (optional) is filled as the chunks go by.  ``chunk_rows``: ids per
    job (default :data:`UPLOAD_CHUNK_ROWS`).

    Other uploads (:func:`pastel_gaia_rows`): ``columns`` are further columns uploaded with
    the ids (one value per id, in the order of ``ids``; the first row of a repeated id is
    kept), the table is ``TAP_UPLOAD.<upload_table>`` and its id column ``key``; the columns'
    values are part of each chunk's cache key.
    """
    ids, first = np.unique(np.asarray(ids, dtype=np.int64), return_index=True)
    extra = {c: np.asarray(v)[first] for c, v in (columns or {}).items()}
    if ids.size == 0:
        raise EmptyInputError("no Gaia DR3 source_id to upload")
    chunk_rows = UPLOAD_CHUNK_ROWS if chunk_rows is None else chunk_rows
    if chunk_rows < 1:
        raise ValueError(f"chunk_rows must be >= 1, got {chunk_rows}")
    stats = UploadStats() if stats is None else stats
    stats.uploaded_ids = int(ids.size)
    cache = query_cache(client, f"{query}\n-- upload chunk {chunk_rows}", cache_dir)
    queue = [IdChunk(i, ids[s:s + chunk_rows], {c: v[s:s + chunk_rows] for c, v in extra.items()}
                     or None) for i, s in enumerate(range(0, ids.size, chunk_rows))]
    return _chunks(client, query, queue, cache, use_async, progress, description, stats,
                   upload_table, key)


def _chunks(client: TapClient, query: str, queue: list[IdChunk], cache: ChunkCache | None,
            use_async: bool, progress: bool, description: str, stats: UploadStats,
            upload_table: str = UPLOAD_TABLE, key: str = "source_id") -> Iterator[Table]:
    """The generator behind :func:`iter_by_ids` (cache, retries on overflow, progress)."""
    jobs0 = client.jobs_sent
    bar = tqdm(total=len(queue), desc=description, unit="chunk", disable=not progress)
    try:
        while queue:
            chunk = queue.pop(0)
            table = cache.get(chunk) if cache is not None else None
            if table is not None:
                stats.chunks_from_cache += 1
            else:
                try:
                    table = client.run(query, use_async=use_async,
                                       uploads={upload_table: chunk.upload(key)})
                except QueryOverflowError:
                    if chunk.ids.size <= 1:
                        raise
                    queue[0:0] = chunk.halves()
                    bar.total += 1
                    continue
                finally:
                    stats.jobs = client.jobs_sent - jobs0
                if cache is not None:
                    cache.put(chunk, table)
            stats.chunks += 1
            stats.rows += len(table)
            bar.update(1)
            yield table
            del table
    finally:
        bar.close()


def fetch_by_ids(client: TapClient, query: str, ids, *, chunk_rows: int | None = None,
                 cache_dir: str | os.PathLike | None | bool = None, use_async: bool = False,
                 progress: bool = True, description: str = "upload chunks") -> Table:
    """All chunks of :func:`iter_by_ids` stacked in one table.

    Returns
    -------
    Table
        The stacked rows; ``meta``: ``uploaded_ids``, ``chunks``, ``chunks_from_cache``,
        ``jobs``.
    """
    stats = UploadStats()
    results = list(iter_by_ids(client, query, ids, chunk_rows=chunk_rows, cache_dir=cache_dir,
                               use_async=use_async, progress=progress, description=description,
                               stats=stats))
    out = stack_chunks(results)
    out.meta.update(stats.meta())
    return out


def stack_chunks(tables: Sequence[Table]) -> Table:
    """The non-empty ``tables`` stacked (the first one when all are empty), ``meta`` cleared."""
    nonempty = [t for t in tables if len(t)] or list(tables[:1])
    out = vstack(nonempty, metadata_conflicts="silent") if len(nonempty) > 1 else nonempty[0]
    out.meta.clear()
    return out


def training_rows(ids, survey: str, *, client: TapClient, server_cuts: bool = True,
                  tables: dict[str, str] | None = None,
                  cache_dir: str | os.PathLike | None | bool = None, use_async: bool = False,
                  progress: bool = True, chunk_rows: int | None = None) -> Table:
    """Joined rows (the columns of ``sos-vo query``'s server rows) of the labelled stars ``ids``
    with a one-to-one ``survey`` counterpart that pass the server-side Gaia cuts, all in one
    table (:func:`training_chunks` stacked)."""
    stats = UploadStats()
    rows = stack_chunks(list(training_chunks(ids, survey, client=client, server_cuts=server_cuts,
                                             tables=tables, cache_dir=cache_dir,
                                             use_async=use_async, progress=progress,
                                             chunk_rows=chunk_rows, stats=stats)))
    rows.meta.update(stats.meta())
    rows.meta["query"] = joined_by_ids_query(survey, server_cuts=server_cuts, tables=tables)
    return rows


def training_chunks(ids, survey: str, *, client: TapClient, server_cuts: bool = True,
                    tables: dict[str, str] | None = None,
                    cache_dir: str | os.PathLike | None | bool = None, use_async: bool = False,
                    progress: bool = True, chunk_rows: int | None = None,
                    stats: UploadStats | None = None) -> Iterator[Table]:
    """The rows of :func:`training_rows`, one upload chunk at a time (:func:`iter_by_ids`: in
    increasing, disjoint ``source_id`` ranges); the ADQL is :func:`joined_by_ids_query`."""
    query = joined_by_ids_query(survey, server_cuts=server_cuts, tables=tables)
    return iter_by_ids(client, query, ids, chunk_rows=chunk_rows, cache_dir=cache_dir,
                       use_async=use_async, progress=progress,
                       description=f"Gaia x {survey} by id", stats=stats)


def astrometry_query(tables: dict[str, str] | None = None) -> str:
    """ADQL of ``source_id`` and :data:`sos_vo.archives.gaia.ASTROMETRY_COLUMNS` of the
    uploaded ids."""
    from .gaia import ASTROMETRY_COLUMNS

    gaia = quote_table_name(table_name("gaia_source", ARCHIVE_TABLES["gaia_source"].name,
                                       overrides=tables))
    cols = ", ".join(f"g.{c}" for c in ASTROMETRY_COLUMNS)
    return (f"SELECT u.source_id AS source_id, {cols} FROM TAP_UPLOAD.{UPLOAD_TABLE} AS u "
            f"JOIN {gaia} AS g ON g.source_id = u.source_id")


def astrometry_rows(ids, *, client: TapClient, tables: dict[str, str] | None = None,
                    cache_dir: str | os.PathLike | None | bool = None, use_async: bool = False,
                    progress: bool = True, chunk_rows: int | None = None,
                    keep: Callable[[Table], np.ndarray] | None = None) -> Table:
    """``source_id`` and :data:`sos_vo.archives.gaia.ASTROMETRY_COLUMNS` of ``ids`` (J2016.0
    positions and proper motions, for the PASTEL match), uploaded and cached like
    :func:`training_rows`.

    ``keep`` (optional) is called on each upload chunk as it arrives and returns the boolean
    mask of the rows to keep; the others are dropped at once, so only the kept rows and one
    chunk are held (:func:`sos_vo.prepare.crossmatch.near_pastel` keeps the stars a PASTEL
    match can use).

    Returns
    -------
    Table
        The kept rows; ``meta``: ``query``, ``rows`` (rows fetched, kept or not), ``kept``,
        ``jobs`` and the counts of :meth:`UploadStats.meta`.
    """
    query = astrometry_query(tables)
    stats = UploadStats()
    kept = []
    for chunk in iter_by_ids(client, query, ids, chunk_rows=chunk_rows, cache_dir=cache_dir,
                             use_async=use_async, progress=progress,
                             description="Gaia astrometry by id", stats=stats):
        kept.append(chunk if keep is None else chunk[np.asarray(keep(chunk), dtype=bool)])
        del chunk
    rows = stack_chunks(kept)
    rows.meta.update(stats.meta())
    rows.meta.update({"query": query, "rows": stats.rows, "kept": len(rows)})
    return rows


PASTEL_UPLOAD_TABLE = "sosvo_pastel_positions"
"""Uploaded PASTEL positions (``TAP_UPLOAD.sosvo_pastel_positions``: ``pastel_key``, the row
number, and ``pastel_ra``, ``pastel_dec``, J2000, degrees)."""
PASTEL_TEMPLATE = "pastel_gaia_positional"


def pastel_search_radius_arcsec() -> float:
    """Radius of the server-side search around a PASTEL position: the PASTEL match radius
    (:data:`sos_vo.prepare.crossmatch.PASTEL_MATCH_RADIUS_ARCSEC`) plus the largest proper
    motion the Gaia-ESO positional search is sized for
    (:data:`sos_vo.archives.positional_match.MAX_PROPER_MOTION_MAS_YR`) over the 16 years
    between J2000 and Gaia DR3's J2016.0, plus the margin of
    :data:`sos_vo.prepare.crossmatch.NEAR_PASTEL_MARGIN_ARCSEC` (9.001 arcsec)."""
    from ..prepare.crossmatch import (
        GAIA_EPOCH,
        NEAR_PASTEL_MARGIN_ARCSEC,
        PASTEL_EPOCH,
        PASTEL_MATCH_RADIUS_ARCSEC,
    )
    from .positional_match import MAX_PROPER_MOTION_MAS_YR

    return (PASTEL_MATCH_RADIUS_ARCSEC + NEAR_PASTEL_MARGIN_ARCSEC
            + MAX_PROPER_MOTION_MAS_YR * abs(GAIA_EPOCH - PASTEL_EPOCH) / 1e3)


def pastel_gaia_query(tables: dict[str, str] | None = None) -> str:
    """ADQL of the Gaia DR3 sources (``source_id`` and
    :data:`sos_vo.archives.gaia.ASTROMETRY_COLUMNS`) within :func:`pastel_search_radius_arcsec`
    of the uploaded PASTEL positions (template ``pastel_gaia_positional``)."""
    return render(PASTEL_TEMPLATE, tables=tables,
                  search_radius_deg=repr(pastel_search_radius_arcsec() / 3600.0))


def pastel_gaia_rows(pastel: Table, *, client: TapClient, tables: dict[str, str] | None = None,
                     cache_dir: str | os.PathLike | None | bool = None, use_async: bool = False,
                     progress: bool = True, chunk_rows: int | None = None) -> Table:
    """Gaia DR3 astrometry around PASTEL entries, by a positional join on the Gaia service.

    The distinct J2000 positions of ``pastel`` (``RAJ2000``/``DEJ2000``, the layout of
    :func:`sos_vo.archives.pastel.fetch_pastel`) are uploaded, chunked, cached and retried by
    :func:`iter_by_ids`, and joined on the server to ``gaia_source`` (name resolved with the
    ``tables`` overrides) with ``CONTAINS``/``CIRCLE`` of radius
    :func:`pastel_search_radius_arcsec`.  Which Gaia source an entry is paired with is left to
    :func:`sos_vo.prepare.crossmatch.join_pastel` on the returned rows: every source within
    the match radius of an entry's position at J2000 is among them (for proper motions up to
    :data:`sos_vo.archives.positional_match.MAX_PROPER_MOTION_MAS_YR`), so the nearest is too.

    Returns
    -------
    Table
        ``source_id, ra, dec, pmra, pmdec``, one row per Gaia source (sorted by ``source_id``);
        ``meta``: ``query``, ``uploaded_positions``, ``rows`` (source-position pairs),
        ``sources``, ``jobs``, ``chunks``, ``chunks_from_cache``.
    """
    from .gaia import ASTROMETRY_COLUMNS

    query = pastel_gaia_query(tables)
    ra = np.ma.filled(np.ma.asarray(pastel["RAJ2000"], dtype=float), np.nan)
    dec = np.ma.filled(np.ma.asarray(pastel["DEJ2000"], dtype=float), np.nan)
    ok = np.isfinite(ra) & np.isfinite(dec)
    pos = np.unique(np.column_stack([ra[ok], dec[ok]]), axis=0) if ok.any() else np.zeros((0, 2))
    cols = ["source_id", *ASTROMETRY_COLUMNS]
    stats = UploadStats()
    pieces = []
    if len(pos):
        for chunk in iter_by_ids(client, query, np.arange(len(pos), dtype=np.int64),
                                 columns={"pastel_ra": pos[:, 0], "pastel_dec": pos[:, 1]},
                                 upload_table=PASTEL_UPLOAD_TABLE, key="pastel_key",
                                 chunk_rows=chunk_rows, cache_dir=cache_dir, use_async=use_async,
                                 progress=progress, description="PASTEL x Gaia by position",
                                 stats=stats):
            pieces.append(chunk[cols])
    rows = stack_chunks(pieces) if pieces else Table(
        names=cols, dtype=(np.int64, *([np.float64] * len(ASTROMETRY_COLUMNS))))
    n_pairs = len(rows)
    if len(rows):
        _, first = np.unique(np.asarray(rows["source_id"], dtype=np.int64), return_index=True)
        rows = rows[first]
    rows.meta.update(stats.meta())
    rows.meta.update({"query": query, "uploaded_positions": int(len(pos)), "rows": n_pairs,
                      "sources": len(rows)})
    return rows
