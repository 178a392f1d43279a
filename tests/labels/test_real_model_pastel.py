"""The metal-poor PASTEL stars of a build (T25 Sect. 4.3): sos_vo.labels.real_model.metal_poor_stars."""

from __future__ import annotations

import numpy as np
from astropy.table import Table

from sos_vo.labels.real_model import metal_poor_stars


class _Gaia:
    """Answers the positional join with every Gaia row within the radius of an upload row."""

    url = "http://gaia.invalid/tap"

    def __init__(self, gaia: Table):
        self.gaia, self.jobs_sent = gaia, 0

    def run(self, adql, use_async=False, uploads=None):
        from astropy.coordinates import angular_separation

        self.jobs_sent += 1
        radius = float(adql.rsplit(", ", 1)[1].split(")")[0])
        (up,) = uploads.values()
        rows = []
        for ra, dec in zip(up["pastel_ra"], up["pastel_dec"], strict=True):
            sep = np.rad2deg(angular_separation(np.deg2rad(np.asarray(self.gaia["ra"], float)),
                                                np.deg2rad(np.asarray(self.gaia["dec"], float)),
                                                np.deg2rad(ra), np.deg2rad(dec)))
            rows += [self.gaia[i] for i in np.flatnonzero(sep <= radius)]
        return Table(rows=rows, names=self.gaia.colnames) if rows else self.gaia[:0]


def test_metal_poor_stars_are_the_matched_stars_with_median_below_minus_one():
    deg = 1 / 3600.0
    gaia = Table({"source_id": np.array([1, 2, 3, 4], dtype=np.int64),
                  "ra": [10.0, 20.0, 30.0, 40.0 + 5 * deg], "dec": np.zeros(4),
                  "pmra": np.zeros(4), "pmdec": np.zeros(4)})
    # star 1: metal-poor; 2: one entry -1.3 of a PASTEL star of median -0.95 (not selected);
    # 3: metal-poor by PASTEL ID median; 4: metal-poor, 5 arcsec from its Gaia source (no pair)
    pastel = Table({"ID": ["A", "B", "B", "C", "C", "C", "D"],
                    "RAJ2000": [10.0, 20.0, 20.0, 30.0, 30.0, 30.0, 40.0],
                    "DEJ2000": np.zeros(7), "Teff": np.full(7, 5000.0), "e_Teff": np.full(7, 50.0),
                    "logg": np.full(7, 2.0), "e_logg": np.full(7, 0.1),
                    "[Fe/H]": [-2.0, -1.3, -0.6, -1.4, -0.8, -1.1, -1.8], "e_[Fe/H]": np.full(7, 0.1),
                    "bibcode": ["X"] * 7})
    got = metal_poor_stars(pastel, client=_Gaia(gaia), cache_dir=False, progress=False)
    assert got.ids.tolist() == [1, 3]
    p = got.provenance
    assert (p["entries"], p["pastel_stars"], p["uploaded_positions"]) == (5, 3, 3)
    assert (p["gaia_sources"], p["matched_entries"], p["matched_stars"]) == (3, 4, 2)
    none = metal_poor_stars(pastel[1:3], client=_Gaia(gaia), cache_dir=False, progress=False)
    assert none.ids.size == 0 and none.provenance["uploaded_positions"] == 0


def test_metal_poor_stars_do_not_depend_on_the_upload_chunks(monkeypatch):
    """Positions uploaded 1 to 7 at a time give the stars, astrometry and counts of one upload:
    a Gaia source near two entries' positions in different chunks is one source, and a star
    whose entries' positions fall in different chunks gets all of them."""
    from sos_vo.archives import label_join

    deg = 1 / 3600.0
    # source 2 lies between the positions of entries B1 and B2 (0.3 and 0.5 arcsec), source 3
    # 0.9 arcsec from B2: B2 pairs with 2 (nearest); E's two positions, 0.4 arcsec apart, both
    # pair with source 5
    gaia = Table({"source_id": np.array([1, 2, 3, 5, 6], dtype=np.int64),
                  "ra": [10.0, 20.0 + 0.3 * deg, 20.0 + 1.7 * deg, 50.0 + 0.2 * deg, 60.0],
                  "dec": np.zeros(5), "pmra": np.zeros(5), "pmdec": np.zeros(5)})
    pastel = Table({"ID": ["A", "B", "B", "E", "E", "F"],
                    "RAJ2000": [10.0, 20.0, 20.0 + 0.8 * deg, 50.0, 50.0 + 0.4 * deg, 60.0],
                    "DEJ2000": np.zeros(6), "Teff": np.full(6, 5000.0), "e_Teff": np.full(6, 50.0),
                    "logg": np.full(6, 2.0), "e_logg": np.full(6, 0.1),
                    "[Fe/H]": [-2.0, -1.5, -1.7, -1.2, -1.4, -0.2], "e_[Fe/H]": np.full(6, 0.1),
                    "bibcode": ["X"] * 6})
    runs = {}
    for chunk_rows in (*range(1, 8), 50_000):
        monkeypatch.setattr(label_join, "UPLOAD_CHUNK_ROWS", chunk_rows)
        runs[chunk_rows] = metal_poor_stars(pastel, client=_Gaia(gaia), cache_dir=False,
                                            progress=False)
    want = runs[50_000]
    assert want.ids.tolist() == [1, 2, 5]
    assert want.provenance["jobs"] == 1 and want.provenance["matched_entries"] == 5
    for chunk_rows, got in runs.items():
        assert got.ids.tolist() == want.ids.tolist(), chunk_rows
        assert got.provenance["jobs"] == -(-want.provenance["uploaded_positions"] // chunk_rows)
        same = {k: v for k, v in got.provenance.items() if k != "jobs"}
        assert same == {k: v for k, v in want.provenance.items() if k != "jobs"}, chunk_rows
        for c in want.astrometry.colnames:
            np.testing.assert_array_equal(np.asarray(got.astrometry[c]),
                                          np.asarray(want.astrometry[c]))
