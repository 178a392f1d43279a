"""Chunked queries against the local DaCHS mirror: same rows as one job, resume, re-split."""

import numpy as np
import pytest

from sos_vo.archives import gaia, regions
from sos_vo.archives.chunking import ChunkCache, iter_chunked, plan_chunks, run_chunked
from sos_vo.archives.tap import TapClient

pytestmark = pytest.mark.dachs

REGION = "circle 52 8 2.5deg"
ORDER = 4  # 13.4 deg^2 cells: a handful of chunks for a 19.6 deg^2 cone


def _ids(table):
    return sorted(np.asarray(table["source_id"]).tolist())


class CountingClient(TapClient):
    """Counts jobs; optionally dies (as if killed) after ``die_after`` jobs."""

    def __init__(self, url, die_after=None, **kw):
        super().__init__(url, **kw)
        self.die_after = die_after
        self.queries = []

    def run(self, adql, **kw):
        if self.die_after is not None and len(self.queries) >= self.die_after:
            raise KeyboardInterrupt("killed")
        self.queries.append(adql)
        return super().run(adql, **kw)


def _build(region):
    return lambda chunk: gaia.region_query(region, chunk)


def test_chunked_equals_single_job(dachs_url):
    region = regions.parse_region(REGION)
    single = TapClient(dachs_url).run(gaia.region_query(region))
    client = CountingClient(dachs_url)
    chunked = run_chunked(client, _build(region), region, order=ORDER,
                          single_job_max_area_deg2=0, cache_dir=False, use_async=False,
                          progress=False)
    assert len(client.queries) == len(plan_chunks(region, ORDER)) > 1
    assert _ids(chunked) == _ids(single)


def test_iter_chunked_yields_each_chunk_in_cell_order(dachs_url):
    region = regions.parse_region(REGION)
    kw = {"order": ORDER, "single_job_max_area_deg2": 0, "cache_dir": False,
          "use_async": False, "progress": False}
    parts = list(iter_chunked(TapClient(dachs_url), _build(region), region, **kw))
    cells = plan_chunks(region, ORDER)
    assert len(parts) == len(cells)
    for cell, part in zip(cells, parts, strict=True):
        lo, hi = cell.source_id_range()
        ids = np.asarray(part["source_id"])
        assert np.all((ids >= lo) & (ids <= hi))
    whole = run_chunked(TapClient(dachs_url), _build(region), region, **kw)
    assert (np.concatenate([np.asarray(p["source_id"]) for p in parts]).tolist()
            == np.asarray(whole["source_id"]).tolist())


def test_killed_run_resumes_without_refetching(dachs_url, tmp_path):
    region = regions.parse_region(REGION)
    n_chunks = len(plan_chunks(region, ORDER))
    kw = {"order": ORDER, "single_job_max_area_deg2": 0, "cache_dir": tmp_path,
          "use_async": False, "progress": False}
    first = CountingClient(dachs_url, die_after=2)
    with pytest.raises(KeyboardInterrupt):
        run_chunked(first, _build(region), region, **kw)
    second = CountingClient(dachs_url)
    result = run_chunked(second, _build(region), region, **kw)
    assert len(second.queries) == n_chunks - 2
    assert not set(second.queries) & set(first.queries)
    third = CountingClient(dachs_url)
    again = run_chunked(third, _build(region), region, **kw)
    assert third.queries == []
    assert _ids(result) == _ids(again) == _ids(TapClient(dachs_url).run(gaia.region_query(region)))


def test_overflowing_chunk_is_split(dachs_url, tmp_path):
    region = regions.parse_region(REGION)
    single = TapClient(dachs_url).run(gaia.region_query(region))
    limit = len(single) // 3  # the whole region and its largest order-4 chunk overflow
    client = CountingClient(dachs_url, row_limit=limit)
    result = run_chunked(client, _build(region), region, order=ORDER, cache_dir=tmp_path,
                         use_async=False, progress=False)
    assert _ids(result) == _ids(single)
    cache = ChunkCache(tmp_path, client.url, _build(region)("{chunk}"))
    assert any(p.suffix == ".split" for p in cache.folder.iterdir())
    assert any(name.startswith(f"o{ORDER + 1}_") for name in cache.finished())
