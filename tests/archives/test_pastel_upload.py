"""The metal-poor PASTEL entries sent by position to the Gaia service (T25 Sect. 4.3):
uploads with extra columns (sos_vo.archives.label_join.iter_by_ids), the positional join
(pastel_gaia_rows) and the selection of the entries (sos_vo.archives.pastel)."""

from __future__ import annotations

import re

import numpy as np
import pytest
from astropy.coordinates import angular_separation
from astropy.table import Table

from sos_vo.archives.exceptions import QueryOverflowError
from sos_vo.archives.label_join import (
    PASTEL_UPLOAD_TABLE,
    IdChunk,
    iter_by_ids,
    pastel_gaia_rows,
    pastel_search_radius_arcsec,
)
from sos_vo.archives.pastel import metal_poor_entries
from sos_vo.prepare.crossmatch import join_pastel


class _Gaia:
    """A Gaia service that runs the positional join on a local ``gaia_source`` table: the
    radius is read from the query's CIRCLE, the separations computed at J2016.0 as the server
    would.  ``limit``: a result longer than this raises QueryOverflowError (a row limit)."""

    url = "http://gaia.invalid/tap"

    def __init__(self, gaia: Table, limit: int | None = None):
        self.gaia, self.limit, self.jobs_sent, self.uploads, self.queries = gaia, limit, 0, [], []

    def run(self, adql, use_async=False, uploads=None):
        self.jobs_sent += 1
        self.queries.append(adql)
        (name, up), = uploads.items()
        self.uploads.append((name, up))
        radius = float(re.search(r"u\.pastel_dec, ([0-9.e-]+)\)\)", adql).group(1))
        rows = []
        for key, ra, dec in zip(up["pastel_key"], up["pastel_ra"], up["pastel_dec"], strict=True):
            sep = np.rad2deg(angular_separation(np.deg2rad(np.asarray(self.gaia["ra"], float)),
                                                np.deg2rad(np.asarray(self.gaia["dec"], float)),
                                                np.deg2rad(ra), np.deg2rad(dec)))
            for i in np.flatnonzero(sep <= radius):
                rows.append((key, *[self.gaia[c][i] for c in ("source_id", "ra", "dec", "pmra", "pmdec")]))
        if self.limit is not None and len(rows) > self.limit:
            raise QueryOverflowError("row limit", self.limit)
        return Table(rows=rows or None, names=("pastel_key", "source_id", "ra", "dec", "pmra", "pmdec"),
                     dtype=(np.int64, np.int64, float, float, float, float))


def _pastel(ra, dec, feh, ids=None) -> Table:
    n = len(ra)
    return Table({"ID": ids if ids is not None else [f"S{i}" for i in range(n)],
                  "RAJ2000": np.asarray(ra, float), "DEJ2000": np.asarray(dec, float),
                  "Teff": np.full(n, 5000.0), "e_Teff": np.full(n, 50.0), "logg": np.full(n, 3.0),
                  "e_logg": np.full(n, 0.1), "[Fe/H]": np.asarray(feh, float),
                  "e_[Fe/H]": np.full(n, 0.05), "bibcode": ["2000X"] * n})


def test_metal_poor_entries_take_the_median_per_pastel_star():
    t = _pastel(np.arange(7.0), np.zeros(7), [-1.5, -0.5, -1.2, -0.9, -1.0, np.nan, -2.0],
                ids=["A", "B", "B", "B", "C", "D", "D"])
    got = metal_poor_entries(t)
    # A: -1.5; B: median(-0.5, -1.2, -0.9) = -0.9 (out); C: -1.0 not < -1 (T25: strict);
    # D: median over its finite entries, -2.0 (both entries kept)
    assert got["ID"].tolist() == ["A", "D", "D"]
    assert len(metal_poor_entries(t, max_feh=-0.8)) == 7  # B and C join: every entry
    assert len(metal_poor_entries(t[:0])) == 0


def test_extra_upload_columns_stay_with_their_ids_and_key_the_cache(tmp_path):
    gaia = Table({"source_id": np.arange(1, 5, dtype=np.int64), "ra": [10.0, 20.0, 30.0, 40.0],
                  "dec": np.zeros(4), "pmra": np.zeros(4), "pmdec": np.zeros(4)})
    client = _Gaia(gaia, limit=1)
    keys = np.array([3, 1, 2, 1], dtype=np.int64)  # unsorted, one repeated (its first row kept)
    ra = np.array([30.0, 10.0, 20.0, 99.0])
    query = "SELECT ... CIRCLE('ICRS', u.pastel_ra, u.pastel_dec, 0.001))"
    out = list(iter_by_ids(client, query, keys, columns={"pastel_ra": ra, "pastel_dec": np.zeros(4)},
                           upload_table=PASTEL_UPLOAD_TABLE, key="pastel_key", chunk_rows=3,
                           cache_dir=tmp_path, progress=False))
    # a chunk of three positions (three rows) is over the limit: split down to single keys
    assert [t["source_id"].tolist() for t in out] == [[1], [2], [3]]
    assert all(name == PASTEL_UPLOAD_TABLE for name, _ in client.uploads)
    sent = {int(k): float(r) for _, up in client.uploads
            for k, r in zip(up["pastel_key"], up["pastel_ra"], strict=True)}
    assert sent == {1: 10.0, 2: 20.0, 3: 30.0}
    # the cache key covers the columns: other positions for the same keys are fetched again
    a = IdChunk(0, np.array([1, 2]), {"pastel_ra": np.array([1.0, 2.0])})
    b = IdChunk(0, np.array([1, 2]), {"pastel_ra": np.array([1.0, 2.5])})
    assert a.name != b.name and IdChunk(0, np.array([1, 2])).name != a.name
    assert [h.columns["pastel_ra"].tolist() for h in a.halves()] == [[1.0], [2.0]]


def test_positional_join_returns_every_source_the_match_needs():
    """A fast star (400 mas/yr: 6.4 arcsec between J2000 and J2016.0) is found and, moved to
    J2000, wins over a slow neighbour 0.8 arcsec from the entry; a source 12 arcsec away is
    not returned; each source is returned once although two entries share it."""
    ra0, dec0 = 150.0, 20.0
    deg = 1 / 3600.0
    gaia = Table({"source_id": np.array([11, 12, 13], dtype=np.int64),
                  "ra": [ra0, ra0, ra0 + 12 * deg / np.cos(np.deg2rad(dec0))],
                  "dec": [dec0 + 6.4 * deg, dec0 + 0.8 * deg, dec0],
                  "pmra": [0.0, 0.0, 0.0], "pmdec": [400.0, 0.0, 0.0]})
    pastel = _pastel([ra0, ra0], [dec0, dec0], [-1.5, -1.6], ids=["P", "P"])
    client = _Gaia(gaia)
    rows = pastel_gaia_rows(pastel, client=client, cache_dir=False, progress=False)
    assert pastel_search_radius_arcsec() == pytest.approx(1.0 + 1e-3 + 500.0 * 16 / 1e3)
    assert "1 = CONTAINS(POINT('ICRS', g.ra, g.dec), CIRCLE('ICRS', u.pastel_ra, u.pastel_dec" \
        in client.queries[0]
    assert f"TAP_UPLOAD.{PASTEL_UPLOAD_TABLE} AS u" in client.queries[0]
    assert rows["source_id"].tolist() == [11, 12]
    assert rows.meta["uploaded_positions"] == 1 and rows.meta["rows"] == 2 and rows.meta["jobs"] == 1
    matched = join_pastel({"gaiadr3.gaia_source": rows, "B/pastel/pastel": pastel})
    assert matched["source_id"].tolist() == [11, 11]
    # with the table-name overrides
    pastel_gaia_rows(pastel, client=client, tables={"gaia_source": "labelsky.gaia_source"},
                     cache_dir=False, progress=False)
    assert "JOIN labelsky.gaia_source AS g" in client.queries[-1]
