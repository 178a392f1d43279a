"""Large regions: HEALPix chunks, re-split on overflow, on-disk cache, progress.

A Gaia query is split by the HEALPix cell of its sources: Gaia DR3 ``source_id`` carries the
level-12 nested HEALPix index (``source_id // 2**35``), so the chunk of cell ``(order,
ipix)`` is the exact, disjoint constraint ``source_id BETWEEN lo AND hi`` — the chunks of a
region partition its rows, and their union is exactly what one query would return.

* A region no larger than ``conf.single_job_max_area_deg2`` is tried as one job first.
* Otherwise (or when that job overflows) it is cut into the cells of order
  ``conf.chunk_order`` that cover it (its MOC at that order, widened by one ring).
* A chunk whose job reaches the row limit (:class:`QueryOverflowError`) is replaced by its
  four children, down to ``conf.max_chunk_order``; past that it is an error.
* Every finished chunk is saved (atomically, ECSV) under ``cache_dir/<key>/``, where
  ``<key>`` is a hash of the endpoint and the query with the chunk left open; a run killed
  mid-way and started again loads the finished chunks and fetches only the others.
* A tqdm bar counts chunks and rows.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from astropy.table import Table, vstack
from tqdm.auto import tqdm

from ..gaia_dr3 import SOURCE_ID_ORDER as GAIA_SOURCE_ID_ORDER
from ..gaia_dr3 import healpix_source_id_range, moc_cells
from ..io import atomic_path
from .conf import setting
from .exceptions import ArchiveError, QueryOverflowError
from .regions import Region
from .tap import TapClient

log = logging.getLogger(__name__)

CACHE_FORMAT_VERSION = 1


@dataclass(frozen=True)
class Chunk:
    """One HEALPix cell (nested) whose Gaia sources form one job; ``order=-1``: no split."""

    order: int
    ipix: int

    @property
    def name(self) -> str:
        return "all" if self.order < 0 else f"o{self.order}_{self.ipix}"

    def source_id_range(self) -> tuple[int, int]:
        """Inclusive Gaia source_id range of the cell."""
        return healpix_source_id_range(self.order, self.ipix)

    def adql(self, column: str = "g.source_id") -> str:
        if self.order < 0:
            return "1 = 1"
        lo, hi = self.source_id_range()
        return f"{column} BETWEEN {lo} AND {hi}"

    def children(self) -> list[Chunk]:
        return [Chunk(self.order + 1, 4 * self.ipix + k) for k in range(4)]


WHOLE_REGION = Chunk(-1, 0)


def plan_chunks(region: Region, order: int | None = None) -> list[Chunk]:
    """The cells of ``order`` (default ``conf.chunk_order``) covering ``region``."""
    order = int(setting("chunk_order", order))
    if not 0 <= order <= GAIA_SOURCE_ID_ORDER:
        raise ArchiveError(f"chunk order {order} outside 0..{GAIA_SOURCE_ID_ORDER}")
    return [Chunk(order, int(c)) for c in moc_cells(region.moc(order), order)]


class ChunkCache:
    """Finished chunks of one query at one endpoint, on disk.

    Parameters
    ----------
    root : path
        Cache folder (``conf.cache_dir``, default ``~/.cache/sos-vo/tap``).
    endpoint : str
        TAP URL.
    query : str
        The query with the chunk constraint left open (its identity).
    """

    def __init__(self, root: str | os.PathLike, endpoint: str, query: str):
        digest = hashlib.sha256(f"v{CACHE_FORMAT_VERSION}\n{endpoint}\n{query}".encode())
        self.folder = Path(root) / digest.hexdigest()[:24]
        self.folder.mkdir(parents=True, exist_ok=True)
        info = self.folder / "query.json"
        if not info.exists():
            with atomic_path(info, overwrite=True) as tmp:
                tmp.write_text(json.dumps({"endpoint": endpoint, "query": query}, indent=1))

    def _path(self, chunk: Chunk) -> Path:
        return self.folder / f"{chunk.name}.ecsv"

    def get(self, chunk: Chunk) -> Table | None:
        path = self._path(chunk)
        return Table.read(path, format="ascii.ecsv") if path.exists() else None

    def put(self, chunk: Chunk, table: Table) -> None:
        with atomic_path(self._path(chunk), overwrite=True) as tmp:
            table.write(tmp, format="ascii.ecsv")

    def is_split(self, chunk: Chunk) -> bool:
        return (self.folder / f"{chunk.name}.split").exists()

    def mark_split(self, chunk: Chunk) -> None:
        (self.folder / f"{chunk.name}.split").touch()

    def finished(self) -> list[str]:
        return sorted(p.stem for p in self.folder.glob("*.ecsv"))


def default_cache_dir() -> Path:
    configured = str(setting("cache_dir") or "")
    return Path(configured) if configured else Path.home() / ".cache" / "sos-vo" / "tap"


def query_cache(client: TapClient, query: str,
                cache_dir: str | os.PathLike | None | bool = None) -> ChunkCache | None:
    """The cache of ``query`` at ``client``'s endpoint: under ``cache_dir`` (None:
    :func:`default_cache_dir`); None when ``cache_dir`` is False (no cache)."""
    if cache_dir is False:
        return None
    return ChunkCache(default_cache_dir() if cache_dir is None else Path(cache_dir), client.url,
                      query)


def run_cached(client: TapClient, adql: str, *,
               cache_dir: str | os.PathLike | None | bool = None,
               use_async: bool = True) -> Table:
    """One job, its result cached like a chunk (a resumed run reads it and does not resend it).

    For the small queries a build sends whole (a count, the PASTEL entries of a region)."""
    cache = query_cache(client, adql, cache_dir)
    rows = cache.get(WHOLE_REGION) if cache is not None else None
    if rows is None:
        rows = client.run(adql, use_async=use_async)
        if cache is not None:
            cache.put(WHOLE_REGION, rows)
    return rows


def run_chunked(client: TapClient, build_adql: Callable[[str], str], region: Region, *,
                order: int | None = None, max_order: int | None = None,
                single_job_max_area_deg2: float | None = None,
                cache_dir: str | os.PathLike | None | bool = None, use_async: bool = True,
                progress: bool = True, description: str = "TAP chunks") -> Table:
    """Run a Gaia query over ``region``, chunked as the module docstring says: all the rows
    of :func:`iter_chunked` in one table (chunks stacked in cell order)."""
    results = list(iter_chunked(client, build_adql, region, order=order, max_order=max_order,
                                single_job_max_area_deg2=single_job_max_area_deg2,
                                cache_dir=cache_dir, use_async=use_async, progress=progress,
                                description=description))
    if not results:
        raise ArchiveError("no chunk covers the region")  # pragma: no cover
    nonempty = [t for t in results if len(t)] or results[:1]
    return vstack(nonempty, metadata_conflicts="silent") if len(nonempty) > 1 else nonempty[0]


def iter_chunked(client: TapClient, build_adql: Callable[[str], str], region: Region, *,
                 order: int | None = None, max_order: int | None = None,
                 single_job_max_area_deg2: float | None = None,
                 cache_dir: str | os.PathLike | None | bool = None, use_async: bool = True,
                 progress: bool = True, description: str = "TAP chunks") -> Iterator[Table]:
    """The rows of a Gaia query over ``region``, one table per finished chunk, in cell order.

    The chunks partition the rows by ``source_id`` range (module docstring), so a caller may
    process them one at a time and hold one chunk's rows only.

    Parameters
    ----------
    client : TapClient
        The endpoint.
    build_adql : callable
        ``build_adql(chunk_constraint) -> ADQL``; the constraint is on ``g.source_id``.
    region : Region
        The region (its constraint is already inside ``build_adql``'s ADQL; it is used
        here to plan the chunks and, for MOC regions, to filter rows on (ra, dec)).
    cache_dir : path, None or False
        Chunk cache folder; None: :func:`default_cache_dir`; False: no cache.

    Yields
    ------
    Table
        The rows of one chunk (possibly none).
    """
    max_order = int(setting("max_chunk_order", max_order))
    single_max = float(setting("single_job_max_area_deg2", single_job_max_area_deg2))
    cache = query_cache(client, build_adql("{chunk}"), cache_dir)

    if region.area_deg2 <= single_max:
        queue = [WHOLE_REGION]
    else:
        queue = plan_chunks(region, order)
    rows = 0
    bar = tqdm(total=len(queue), unit="chunk", desc=description, disable=not progress)
    try:
        while queue:
            chunk = queue.pop(0)
            if cache is not None and cache.is_split(chunk):
                kids = plan_chunks(region, order) if chunk == WHOLE_REGION else chunk.children()
                queue[0:0] = kids
                bar.total += len(kids) - 1
                bar.refresh()
                continue
            table = cache.get(chunk) if cache is not None else None
            if table is None:
                try:
                    table = client.run(build_adql(chunk.adql()), use_async=use_async)
                except QueryOverflowError:
                    if chunk != WHOLE_REGION and chunk.order >= max_order:
                        raise ArchiveError(
                            f"HEALPix cell {chunk.name} still holds more than the row limit of "
                            f"{client.row_limit} rows at order {chunk.order}; raise "
                            "conf.row_limit") from None
                    kids = plan_chunks(region, order) if chunk == WHOLE_REGION \
                        else chunk.children()
                    log.info("chunk %s overflowed: split into %d", chunk.name, len(kids))
                    if cache is not None:
                        cache.mark_split(chunk)
                    queue[0:0] = kids
                    bar.total += len(kids) - 1
                    bar.refresh()
                    continue
                if not region.exact_on_server and len(table):
                    table = table[region.contains(table["ra"], table["dec"])]
                if cache is not None:
                    cache.put(chunk, table)
            rows += len(table)
            bar.set_postfix(rows=rows)
            bar.update(1)
            yield table
    finally:
        bar.close()
