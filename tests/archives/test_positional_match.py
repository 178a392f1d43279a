"""Gaia DR3 ids by position for a label table without one (Gaia-ESO): the nearest-candidate step,
the run-time choice from TAP_SCHEMA, and the server-side match on the mirror."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from astropy.coordinates import SkyCoord
from astropy.table import Table, vstack
from test_label_sources import _SchemaOnly

from sos_vo.archives import positional_match as pm
from sos_vo.archives.gaia_eso import LABEL_EPOCH, POSITIONAL
from sos_vo.archives.label_source import (
    fetch_labels,
    label_query,
    label_sources,
    resolve_source,
    whole_sky,
)
from sos_vo.archives.regions import parse_region
from sos_vo.archives.tap import TapClient
from sos_vo.archives.tap_schema import SchemaResolutionError
from sos_vo.prepare.crossmatch import GAIA_EPOCH, propagate_positions

MAS = 1.0 / 3.6e6
"""One milliarcsecond in degrees."""


def _pairs() -> Table:
    """Label rows with their Gaia candidates (the joined query's columns), made up so that:

    * entry A has two candidates within 1 arcsec (0.1 and 0.6 arcsec at J2000): source 11 wins;
    * entry B's star moves 2.4 arcsec between J2000 and J2016: within the radius only once its
      Gaia position is moved back with the proper motion;
    * entry C's only candidate is 3 arcsec away: no match;
    * entry D's candidate has no proper motion (not moved), 0.3 arcsec away.
    """
    dt = LABEL_EPOCH - GAIA_EPOCH
    ra0, dec0 = 150.0, -30.0
    cosd = np.cos(np.deg2rad(dec0))
    rows = []
    # (survey_id, label ra, label dec, source_id, gaia ra(2016), gaia dec(2016), pmra, pmdec)
    rows.append(("A", ra0, dec0, 11, ra0, dec0 + 100 * MAS, 0.0, 0.0))
    rows.append(("A", ra0, dec0, 12, ra0 + 600 * MAS / cosd, dec0, 0.0, 0.0))
    pmdec_b = 150.0  # mas/yr: 2.4 arcsec in 16 yr
    rows.append(("B", ra0 + 0.1, dec0, 21, ra0 + 0.1, dec0 - pmdec_b * dt * MAS + 50 * MAS, 0.0,
                 pmdec_b))
    rows.append(("C", ra0 + 0.2, dec0, 31, ra0 + 0.2, dec0 + 3000 * MAS, 0.0, 0.0))
    rows.append(("D", ra0 + 0.3, dec0, 41, ra0 + 0.3, dec0 + 300 * MAS, np.nan, np.nan))
    t = Table(rows=rows, names=("survey_id", "ra", "dec", "source_id", "xm_gaia_ra", "xm_gaia_dec",
                                "xm_gaia_pmra", "xm_gaia_pmdec"))
    for c in ("teff", "e_teff", "logg", "e_logg", "feh", "e_feh"):
        t[c] = np.ones(len(t))
    return t


def test_nearest_candidate_after_proper_motion():
    got = pm.nearest_per_entry(_pairs(), POSITIONAL)
    got.sort("survey_id")
    assert got["survey_id"].tolist() == ["A", "B", "D"]  # C: 3 arcsec, no candidate
    assert got["source_id"].tolist() == [11, 21, 41]
    assert got["xm_candidates"].tolist() == [2, 1, 1]
    np.testing.assert_allclose(got["xm_distance"], [0.1, 0.05, 0.3], atol=1e-6)
    assert got["xm_no_pm"].tolist() == [False, False, True]
    assert not set(pm.ROW_COLUMNS) & set(got.colnames)
    # without the propagation (label epoch = Gaia's), B's star is 2.35 arcsec away: no match
    import dataclasses

    still = pm.nearest_per_entry(_pairs(), dataclasses.replace(POSITIONAL, label_epoch=GAIA_EPOCH))
    assert sorted(still["survey_id"].tolist()) == ["A", "D"]


def test_nearest_step_is_the_same_per_chunk_and_on_the_stack():
    pairs = _pairs()
    once = pm.nearest_per_entry(pairs, POSITIONAL)
    # A's two candidates in different chunks, as when they straddle a HEALPix cell boundary
    chunks = [pm.nearest_per_entry(pairs[[0, 2, 3]], POSITIONAL),
              pm.nearest_per_entry(pairs[[1, 4]], POSITIONAL)]
    stacked = pm.nearest_per_entry(vstack(chunks), POSITIONAL)
    for t in (once, stacked):
        t.sort("survey_id")
    for c in ("survey_id", "source_id", "xm_candidates", "xm_distance", "xm_no_pm"):
        assert stacked[c].tolist() == once[c].tolist()
    assert pm.nearest_per_entry(once, POSITIONAL)["xm_candidates"].tolist() == \
        once["xm_candidates"].tolist()
    assert len(pm.nearest_per_entry(pairs[:0], POSITIONAL)) == 0


def test_match_counts():
    got = pm.nearest_per_entry(_pairs(), POSITIONAL)
    assert pm.match_counts(got, 5) == {"entries": 5, "no_candidate": 2, "one_candidate": 2,
                                       "several_candidates": 1, "nearest_without_proper_motion": 1}
    assert pm.match_counts(got, None)["no_candidate"] is None


def test_search_circle_holds_the_motion():
    # 1 arcsec + 500 mas/yr over the 16 yr between J2000.0 and J2016.0
    assert POSITIONAL.search_radius_arcsec == pytest.approx(9.0)


GES_COLUMNS = ["object", "raj2000", "dej2000", "teff", "e_teff", "logg", "e_logg", "fe_h", "e_fe_h"]
GAIA_COLUMNS = ["source", "ra_icrs", "de_icrs", "pmra", "pmde", "epoch"]


def test_the_gaia_id_column_decides_at_run_time(monkeypatch):
    monkeypatch.setenv("SOS_VO_VIZIER_NAMES", "sql")
    src = label_sources()["gaia-eso"]
    name, cols = src.names()
    # the table has a Gaia id: used as for any source, no positional match
    client = _SchemaOnly({name: [*GES_COLUMNS, "gaiadr3"], "vizier.i_355_gaiadr3": GAIA_COLUMNS})
    main, gaia = resolve_source(client, src, name, cols)
    assert gaia is None and main.columns["source_id"] == "gaiadr3"
    adql = label_query(src, main, whole_sky(), "1 = 1", gaia)
    assert 'l."gaiadr3" IS NOT NULL' in adql and "JOIN" not in adql
    # no Gaia id: the Gaia DR3 table of the same service, joined by position
    client = _SchemaOnly({name: GES_COLUMNS, "vizier.i_355_gaiadr3": GAIA_COLUMNS})
    main, gaia = resolve_source(client, src, name, cols)
    assert "source_id" not in main.columns and gaia.table == "vizier.i_355_gaiadr3"
    adql = label_query(src, main, whole_sky(), 'x."source" BETWEEN 1 AND 2', gaia)
    assert adql.startswith('SELECT x."source" AS source_id,')
    assert ("JOIN vizier.i_355_gaiadr3 AS x\n  ON 1 = CONTAINS(POINT('ICRS', x.\"ra_icrs\", "
            "x.\"de_icrs\"), CIRCLE('ICRS', l.\"raj2000\", l.\"dej2000\", 0.0025))") in adql
    assert 'x."source" BETWEEN 1 AND 2' in adql and 'x."pmde" AS xm_gaia_pmdec' in adql
    # the Gaia table is renamed with --table gaia_eso_gaia=NAME
    client = _SchemaOnly({name: GES_COLUMNS, "mine.gaia": GAIA_COLUMNS})
    _, gaia = resolve_source(client, src, name, cols, {"gaia_eso_gaia": "mine.gaia"})
    assert gaia.table == "mine.gaia"
    # another missing column is named as before, not hidden by the fallback
    client = _SchemaOnly({name: GES_COLUMNS[:-1], "vizier.i_355_gaiadr3": GAIA_COLUMNS})
    with pytest.raises(SchemaResolutionError, match="'e_fe_h'"):
        resolve_source(client, src, name, cols)


def test_missing_gaia_table_names_the_closest():
    src = label_sources()["gaia-eso"]
    name, cols = src.names()
    client = _SchemaOnly({name.strip('"'): ["Object", "RAJ2000", "DEJ2000", "Teff", "e_Teff",
                                            "logg", "e_logg", "[Fe/H]", "e_[Fe/H]"],
                          "I/355/gaiadr3x": ["Source"], "I/355/paramp": ["Source"]})
    with pytest.raises(SchemaResolutionError,
                       match=r"table 'I/355/gaiadr3' is not in TAP_SCHEMA.*closest tables there: "
                             r"I/355/gaiadr3x") as exc:
        resolve_source(client, src, name, cols)
    assert len(str(exc.value).splitlines()) == 1


def test_count_query():
    src = label_sources()["gaia-eso"]
    main, _ = resolve_source(_SchemaOnly({src.table.strip('"'): [
        "Object", "RAJ2000", "DEJ2000", "Teff", "e_Teff", "logg", "e_logg", "[Fe/H]", "e_[Fe/H]"],
        "I/355/gaiadr3": ["Source", "RA_ICRS", "DE_ICRS", "pmRA", "pmDE"]}), src, *src.names())
    adql = pm.count_query(main, parse_region("circle 10 20 1deg"))
    assert adql.startswith("SELECT COUNT(*) AS n_entries\nFROM \"J/A+A/676/A129/catalog\" AS l")
    assert "CONTAINS(POINT('ICRS', l.\"RAJ2000\", l.\"DEJ2000\")" in adql
    assert pm.count_query(main, whole_sky()).endswith("WHERE 1 = 1")
    # a MOC region is constrained on Gaia ids on the server: no count without them
    from sos_vo.archives.regions import from_healpix

    assert pm.count_query(main, from_healpix(3, [5, 6])) is None


# --------------------------------------------------------------------------------------------
# against the mirror
# --------------------------------------------------------------------------------------------
def _fixture_dir() -> Path:
    root = Path(__file__).resolve().parents[2]
    return Path(os.environ.get("SOS_VO_DACHS_FIXTURES", root / "build" / "dachs"))


def _truth() -> Table:
    path = _fixture_dir() / "fixture" / "labels" / "vizier.j_a_a_676_a129_catalog.truth.ecsv"
    if not path.exists():
        pytest.skip(f"no Gaia-ESO truth file {path} (the mirror predates the positional match)")
    return Table.read(path)


@pytest.fixture
def sql_names(monkeypatch):
    monkeypatch.setenv("SOS_VO_VIZIER_NAMES", "sql")


@pytest.mark.dachs
def test_gaia_eso_ids_by_position_on_the_mirror(dachs_url, sql_names, fast_client_kwargs):
    truth = _truth()
    got = fetch_labels("gaia-eso", None, tap_url=dachs_url, cache_dir=False, progress=False,
                       use_async=False, **fast_client_kwargs)
    prov = got.meta["provenance"]
    xm = prov["crossmatch"]
    assert xm["method"] == "position" and xm["table"] == "vizier.i_355_gaiadr3"
    assert "source_id" not in prov["columns"]  # the mirror's Gaia-ESO table has no Gaia id
    # every entry got the Gaia id it was built from; the unmatched ones none
    want = {o: int(s) for o, s, f in zip(truth["Object"], truth["source_id"], truth["findable"],
                                         strict=True) if s > 0 and f}
    assert len(got) == len(set(want.values())) and len(got) > 300
    assert all(want[o] == s for o, s in zip(got["survey_id"], got["source_id"], strict=True))
    # the J2000 positions were made from Gaia's with the proper motions: the match moves them back
    assert float(np.max(got["xm_distance"])) < 1e-3
    # two entries on one star: the one-per-star rule keeps the smaller [Fe/H] error
    assert not any(str(o).endswith("-BIS") for o in got["survey_id"])
    assert prov["rows"]["with_gaia_dr3_id"] == len(want) and prov["rows"]["one_per_star"] == len(got)
    n = np.asarray(truth["candidates"])
    assert xm["label_entries"] == {
        "entries": len(truth), "no_candidate": int(np.sum((n == 0) | ~truth["findable"])),
        "one_candidate": int(np.sum((n == 1) & truth["findable"])),
        "several_candidates": int(np.sum(n > 1)), "nearest_without_proper_motion": 0}
    assert xm["label_entries"]["several_candidates"] >= 1 and xm["label_entries"]["no_candidate"] >= 1
    assert "COUNT(*)" in xm["count_adql"] and "CONTAINS(POINT('ICRS', x." in prov["adql"]


@pytest.mark.dachs
def test_proper_motions_matter_on_the_mirror(dachs_url, sql_names):
    """Without the propagation some Gaia-ESO entries would lie outside the 1 arcsec radius."""
    truth = _truth()
    labels = _fixture_dir() / "fixture" / "labels"
    ges = Table.read(labels / "vizier.j_a_a_676_a129_catalog.ecsv")
    gaia = Table.read(labels / "vizier.i_355_gaiadr3.ecsv")
    row = {int(s): i for i, s in enumerate(gaia["Source"])}
    ids = dict(zip(truth["Object"], truth["source_id"], strict=True))
    keep = [i for i, o in enumerate(ges["Object"]) if ids[o] > 0 and not str(o).endswith("-BIS")]
    g = gaia[[row[int(ids[ges["Object"][i]])] for i in keep]]
    label = SkyCoord(ges["RAJ2000"][keep], ges["DEJ2000"][keep], unit="deg")
    raw = label.separation(SkyCoord(g["RA_ICRS"], g["DE_ICRS"], unit="deg")).arcsec
    moved = SkyCoord(*propagate_positions(g["RA_ICRS"], g["DE_ICRS"], g["pmRA"], g["pmDE"],
                                          LABEL_EPOCH - GAIA_EPOCH), unit="deg")
    assert np.sum(raw > POSITIONAL.radius_arcsec) >= 5
    assert float(np.max(label.separation(moved).arcsec)) < 1e-3


@pytest.mark.dachs
def test_region_fetch_resumes_without_jobs(dachs_url, sql_names, tmp_path, fast_client_kwargs):
    truth = _truth()
    region = parse_region("circle 240 40 15deg")
    client = TapClient(dachs_url, **fast_client_kwargs)
    got = fetch_labels("gaia-eso", region, client=client, cache_dir=tmp_path, progress=False,
                       use_async=False)
    assert len(got) > 10 and set(got["source_id"].tolist()) <= set(truth["source_id"].tolist())
    sent = client.jobs_sent
    src = label_sources()["gaia-eso"]
    resolve_source(client, src, *src.names())
    resolve_jobs = client.jobs_sent - sent
    sent = client.jobs_sent
    again = fetch_labels("gaia-eso", region, client=client, cache_dir=tmp_path, progress=False,
                         use_async=False)
    # the chunks and the entry count come from the cache: only the TAP_SCHEMA look-ups again
    assert client.jobs_sent - sent == resolve_jobs
    assert json.dumps(again.meta["provenance"]["crossmatch"]) == \
        json.dumps(got.meta["provenance"]["crossmatch"])


@pytest.mark.dachs
def test_missing_gaia_table_on_the_mirror(dachs_url, sql_names, fast_client_kwargs):
    _truth()  # a mirror from before the positional match still has the Gaia id
    with pytest.raises(SchemaResolutionError, match=r"vizier\.i_355_gaiadr2.*vizier\.i_355_gaiadr3"):
        fetch_labels("gaia-eso", None, tap_url=dachs_url, tables={"gaia_eso_gaia": "vizier.i_355_gaiadr2"},
                     cache_dir=False, progress=False, use_async=False, **fast_client_kwargs)


# --------------------------------------------------------------------------------------------
# an entry at a chunk border: candidates in two HEALPix chunks
# --------------------------------------------------------------------------------------------
class _BorderService(_SchemaOnly):
    """A TAP service holding the joined rows of the positional query: answers TAP_SCHEMA
    look-ups, the entry ``COUNT`` and each chunk's ``source_id BETWEEN lo AND hi`` (an
    unchunked query overflows, so the fetch is cut into HEALPix chunks)."""

    def __init__(self, tables, rows: Table, n_entries: int):
        super().__init__(tables)
        self.rows, self.n_entries, self.chunks = rows, n_entries, []

    def check_service(self) -> None:
        pass

    def run(self, adql, maxrec=None, **kwargs):
        import re

        from sos_vo.archives.exceptions import QueryOverflowError

        if "TAP_SCHEMA" in adql:
            return super().run(adql, maxrec)
        if "COUNT(*)" in adql:
            return Table({"n_entries": [self.n_entries]})
        cut = re.search(r"BETWEEN (\d+) AND (\d+)", adql)
        if cut is None:
            raise QueryOverflowError("row limit", 10)
        lo, hi = int(cut.group(1)), int(cut.group(2))
        sid = np.asarray(self.rows["source_id"])
        if ((sid >= lo) & (sid <= hi)).any():
            self.chunks.append((lo, hi))
        return self.rows[(sid >= lo) & (sid <= hi)]


def _border_rows(order: int) -> tuple[Table, tuple[int, int]]:
    """Label entries and Gaia candidates around the border of two adjacent HEALPix cells a, b
    of ``order`` (label epoch = Gaia's, no proper motion: the separations are those drawn,
    along the great circle from b's centre to a's, which crosses the border at ``x``):

    * entry ``EDGE`` on the border: candidate in cell a at 0.6 arcsec, candidate in cell b at
      0.3 arcsec (the nearest);
    * entry ``INSIDE`` in cell a, 30 arcsec from the border, one candidate at 0.2 arcsec;
    * entries ``TWIN-A`` (in a, 0.5 arcsec from the border) and ``TWIN-B`` (in b) whose only
      candidate is one Gaia source in b, 0.7 and 0.4 arcsec away; TWIN-B has the smaller
      [Fe/H] error, so the one-per-star rule keeps it.
    """
    import astropy.units as u
    from astropy_healpix import HEALPix

    from sos_vo.gaia_dr3 import SOURCE_ID_ORDER, source_id_shift

    hp = HEALPix(nside=2**order, order="nested")
    level12 = HEALPix(nside=2**SOURCE_ID_ORDER, order="nested")
    a = 100
    b = int(next(n for n in hp.neighbours(a) if n >= 0))
    ca, cb = (SkyCoord(*hp.healpix_to_lonlat([k]), frame="icrs")[0] for k in (a, b))
    towards_a, full = cb.position_angle(ca), cb.separation(ca)

    def cell(c: SkyCoord) -> int:
        return int(hp.lonlat_to_healpix(c.ra, c.dec))

    lo, hi = 0.0 * u.deg, full  # cb + lo is in b, cb + hi in a
    for _ in range(80):
        m = (lo + hi) / 2
        if cell(cb.directional_offset_by(towards_a, m)) == b:
            lo = m
        else:
            hi = m
    assert cell(cb.directional_offset_by(towards_a, hi)) == a
    x = (lo + hi) / 2

    def at(arcsec: float) -> SkyCoord:  # positive: into cell a; negative: into cell b
        return cb.directional_offset_by(towards_a, x + arcsec * u.arcsec)

    def gaia_id(c: SkyCoord, k: int) -> int:
        return (int(level12.lonlat_to_healpix(c.ra, c.dec)) << source_id_shift()) + k

    inside = at(30.0)
    pairs = [  # (entry, entry position, candidate position)
        ("EDGE", at(0.0), at(0.6)), ("EDGE", at(0.0), at(-0.3)),
        ("INSIDE", inside, inside.directional_offset_by(0 * u.deg, 0.2 * u.arcsec)),
        ("TWIN-A", at(0.5), at(-0.2)), ("TWIN-B", at(-0.6), at(-0.2))]
    rows = [(gaia_id(c, k), name, e.ra.deg, e.dec.deg, c.ra.deg, c.dec.deg, 0.0, 0.0)
            for k, (name, e, c) in enumerate(pairs)]
    rows[4] = (rows[3][0], *rows[4][1:])  # the twins' candidate is one Gaia source
    t = Table(rows=rows, names=("source_id", "survey_id", "ra", "dec", "xm_gaia_ra",
                                "xm_gaia_dec", "xm_gaia_pmra", "xm_gaia_pmdec"))
    for c, v in (("teff", 5000.0), ("e_teff", 50.0), ("logg", 4.0), ("e_logg", 0.1),
                 ("feh", -0.2), ("e_feh", 0.05)):
        t[c] = np.full(len(t), v)
    t["e_feh"][4] = 0.02
    from sos_vo.gaia_dr3 import source_id_to_healpix

    cells = source_id_to_healpix(np.asarray(t["source_id"]), order).tolist()
    assert cells == [a, b, a, b, b]  # EDGE's candidates straddle the border
    return t, (a, b)


def test_entry_at_a_chunk_border_keeps_its_nearest_candidate_once(monkeypatch):
    """An entry whose candidates lie in two HEALPix chunks comes out once, with the nearest
    over both chunks, and counts as an entry with several candidates."""
    monkeypatch.setenv("SOS_VO_VIZIER_NAMES", "sql")
    import dataclasses

    from sos_vo.archives.label_source import stream_labels

    order = 2
    rows, (a, b) = _border_rows(order)
    src = label_sources()["gaia-eso"]
    src = dataclasses.replace(src, positional=dataclasses.replace(
        src.positional, label_epoch=GAIA_EPOCH))  # no propagation: separations as drawn
    name, cols = src.names()
    service = _BorderService({name: GES_COLUMNS, "vizier.i_355_gaiadr3": GAIA_COLUMNS},
                             rows, n_entries=4)
    stream = stream_labels(src, None, client=service, cache_dir=False, progress=False,
                           use_async=False, chunk_order=order)
    parts = list(stream)
    got = vstack([p for p in parts if len(p)])
    # the fetch was cut: EDGE's candidates came in the two chunks a and b
    assert len(service.chunks) == 2
    got.sort("survey_id")
    assert got["survey_id"].tolist() == ["EDGE", "INSIDE", "TWIN-B"]
    assert got["source_id"].tolist() == [rows["source_id"][1], rows["source_id"][2],
                                         rows["source_id"][4]]
    np.testing.assert_allclose(got["xm_distance"], [0.3, 0.2, 0.4], atol=1e-6)
    assert got["xm_candidates"].tolist() == [2, 1, 1]
    assert len(set(got["source_id"].tolist())) == len(got)  # one row per Gaia source
    prov = stream.provenance
    assert prov["crossmatch"]["label_entries"] == {
        "entries": 4, "no_candidate": 0, "one_candidate": 3, "several_candidates": 1,
        "nearest_without_proper_motion": 0}
    assert prov["rows"] == {"fetched": 4, "with_gaia_dr3_id": 4, "quality": 4,
                            "one_per_star": 3}
