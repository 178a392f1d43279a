"""Joining labelled stars to Gaia DR3 and the photometry by source_id (TAP_UPLOAD)."""

from __future__ import annotations

import numpy as np
import pytest
from astropy.table import Table
from dachs_mirror.labels import LABEL_SKY_OVERRIDES

from sos_vo.archives import gaia
from sos_vo.archives.label_join import (
    UPLOAD_TABLE,
    astrometry_rows,
    fetch_by_ids,
    joined_by_ids_query,
    training_rows,
)
from sos_vo.archives.label_source import whole_sky
from sos_vo.archives.tap import TapClient
from sos_vo.exceptions import EmptyInputError


def test_upload_query_is_the_region_query_with_another_from():
    region = gaia.joined_query("sdss", whole_sky())
    ids = joined_by_ids_query("sdss")
    assert f"FROM TAP_UPLOAD.{UPLOAD_TABLE} AS u\nJOIN gaiadr3.gaia_source AS g ON g.source_id = u.source_id" in ids
    assert ids.replace(f"FROM TAP_UPLOAD.{UPLOAD_TABLE} AS u\nJOIN gaiadr3.gaia_source AS g ON "
                       "g.source_id = u.source_id", "FROM gaiadr3.gaia_source AS g") == region
    over = joined_by_ids_query("skymapper", tables={"gaia_source": "labelsky.gaia_source"})
    assert "JOIN labelsky.gaia_source AS g" in over and "g.phot_g_mean_mag <=" in over
    assert "g.ruwe <=" not in joined_by_ids_query("sdss", server_cuts=False)


def test_no_ids_is_an_error():
    with pytest.raises(EmptyInputError):
        fetch_by_ids(TapClient("http://127.0.0.1:1/tap"), "SELECT 1", [], cache_dir=False)


@pytest.mark.dachs
def test_upload_join_equals_the_region_join_and_splits_on_overflow(dachs_url, tmp_path,
                                                                  fast_client_kwargs):
    stars = Table.read(_fixture("labelsky.gaia_source.ecsv"))
    ids = np.asarray(stars["source_id"], dtype=np.int64)
    client = TapClient(dachs_url, **fast_client_kwargs)
    by_region = client.run(gaia.joined_query("sdss", whole_sky(), tables=LABEL_SKY_OVERRIDES))
    assert 0 < len(by_region) < ids.size
    rows = training_rows(ids, "sdss", client=client, tables=LABEL_SKY_OVERRIDES,
                         cache_dir=tmp_path, progress=False, chunk_rows=1000)
    assert sorted(rows["source_id"].tolist()) == sorted(by_region["source_id"].tolist())
    assert rows.meta["chunks"] == 3 and rows.meta["jobs"] == 3
    # the same again: every chunk from the cache, no job
    again = training_rows(ids, "sdss", client=client, tables=LABEL_SKY_OVERRIDES,
                          cache_dir=tmp_path, progress=False, chunk_rows=1000)
    assert again.meta["chunks_from_cache"] == 3 and again.meta["jobs"] == 0
    # a row limit below a chunk's rows: the chunk is split, never truncated
    small = TapClient(dachs_url, row_limit=400, **fast_client_kwargs)
    split = training_rows(ids, "sdss", client=small, tables=LABEL_SKY_OVERRIDES, cache_dir=False,
                          progress=False, chunk_rows=2000)
    assert sorted(split["source_id"].tolist()) == sorted(by_region["source_id"].tolist())
    assert split.meta["chunks"] > 2
    astro = astrometry_rows(ids[:50], client=client, tables=LABEL_SKY_OVERRIDES, cache_dir=False,
                            progress=False)
    assert sorted(astro["source_id"].tolist()) == sorted(ids[:50].tolist())
    sel = np.isin(stars["source_id"], astro["source_id"])
    np.testing.assert_allclose(np.sort(astro["pmra"]), np.sort(np.asarray(stars["pmra"])[sel]),
                               rtol=1e-6)


def _fixture(name: str):
    import os
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    path = Path(os.environ.get("SOS_VO_DACHS_FIXTURES", root / "build" / "dachs")) / "fixture" \
        / "labels" / name
    if not path.exists():
        pytest.skip(f"{path} missing (run tools/setup_dachs.sh)")
    return path


@pytest.mark.dachs
def test_astrometry_kept_near_pastel_gives_the_pairs_of_all_stars(dachs_url, monkeypatch,
                                                                 fast_client_kwargs):
    """On the mirror's label sky and PASTEL: the astrometry streamed and kept only near a PASTEL
    entry (upload chunks of 500 ids) gives the PASTEL pairs of the astrometry of every star."""
    from sos_vo.archives.pastel import fetch_pastel
    from sos_vo.prepare.crossmatch import join_pastel, near_pastel, pastel_sky

    monkeypatch.setenv("SOS_VO_VIZIER_NAMES", "sql")
    stars = Table.read(_fixture("labelsky.gaia_source.ecsv"))
    ids = np.asarray(stars["source_id"], dtype=np.int64)
    client = TapClient(dachs_url, **fast_client_kwargs)
    pastel = fetch_pastel(None, tap_url=dachs_url, tables=LABEL_SKY_OVERRIDES, **fast_client_kwargs)
    every = astrometry_rows(ids, client=client, tables=LABEL_SKY_OVERRIDES, cache_dir=False,
                            progress=False)
    sky = pastel_sky(pastel)
    kept = astrometry_rows(ids, client=client, tables=LABEL_SKY_OVERRIDES, cache_dir=False,
                           progress=False, chunk_rows=500, keep=lambda t: near_pastel(t, sky))
    assert kept.meta["rows"] == len(every) == ids.size and kept.meta["chunks"] > 1
    assert 0 < kept.meta["kept"] == len(kept) < len(every) // 4

    def pairs(astro):
        m = join_pastel({"gaiadr3.gaia_source": astro, "B/pastel/pastel": pastel})
        return sorted(zip(m["pastel_id"].tolist(), m["source_id"].tolist(),
                          np.asarray(m["match_distance"]).tolist(), strict=True))

    want = pairs(every)
    assert len(want) >= 100
    assert pairs(kept) == want
