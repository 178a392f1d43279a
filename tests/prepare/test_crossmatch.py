"""join_survey / join_pastel against a direct dict-based computation on a small synthetic sky."""

from __future__ import annotations

import numpy as np
import pytest
from astropy.table import MaskedColumn

from sos_vo import schema
from sos_vo.exceptions import SchemaError
from sos_vo.prepare.crossmatch import andrae_mh_error, join_pastel, join_survey
from sos_vo.simulate import simulate_sky


@pytest.fixture(scope="module")
def sky():
    return simulate_sky(center=(150.0, 0.0), radius=3.0, n_stars=3000, seed=21)


def _rows(table, key):
    return {row[key]: row for row in table}


def _value(x):
    return None if np.ma.is_masked(x) else (x.item() if hasattr(x, "item") else x)


@pytest.mark.parametrize("survey", ["sdss", "skymapper"])
def test_join_matches_a_direct_dict_computation(sky, survey):
    t = sky.tables
    joined = join_survey(t, survey)
    assert joined.colnames[: len(schema.joined_columns(survey))] == list(schema.joined_columns(survey))
    gaia = t["gaiadr3.gaia_source"]
    nb = _rows(t[schema.NEIGHBOUR_TABLES[survey]], "source_id")
    phot = _rows(t[schema.PHOTOMETRY_TABLES[survey]], schema.PHOTOMETRY_ID_COLUMNS[survey])
    dist = _rows(t["external.gaiaedr3_distance"], "source_id")
    andrae = _rows(t["external.xgboost_table1"], "source_id")
    sos = _rows(t["sos_spectro.main"], "source_id")
    expected_ids = [s for s in gaia["source_id"] if s in nb and nb[s]["original_ext_source_id"] in phot]
    assert list(joined["source_id"]) == expected_ids
    id_col = schema.SURVEY_ID_COLUMN[survey]
    for row in joined:
        sid = row["source_id"]
        n = nb[sid]
        p = phot[n["original_ext_source_id"]]
        assert row[id_col] == p[schema.PHOTOMETRY_ID_COLUMNS[survey]]
        assert row["number_of_neighbours"] == n["number_of_neighbours"]
        assert row["number_of_mates"] == n["number_of_mates"]
        assert _value(row["r_med_geo"]) == (_value(dist[sid]["r_med_geo"]) if sid in dist else None)
        assert _value(row["mh_andrae"]) == (_value(andrae[sid]["mh_xgboost"]) if sid in andrae else None)
        for c in schema.SURVEY_COLUMNS[survey]:
            if c == id_col:
                continue
            v = _value(p[c])
            if survey == "sdss" and v == -9999.0:
                v = None
            assert _value(row[c]) == v, c
        if sid in sos:
            assert row["spec_teff"] == sos[sid]["teff"] and row["spec_err_feh"] == sos[sid]["e_feh"]
        else:
            assert np.ma.is_masked(row["spec_teff"])
    # one-to-many cases are kept for the cuts to judge
    assert (joined["number_of_neighbours"] > 1).any() and (joined["number_of_mates"] > 0).any()
    if survey == "sdss":
        assert not (np.ma.compressed(joined["psfmag_u"]) == -9999.0).any()


def test_andrae_error_proxy(sky):
    joined = join_survey(sky.tables, "skymapper")
    ok = ~np.ma.getmaskarray(joined["mh_andrae"])
    expected = andrae_mh_error(np.asarray(joined["mh_andrae"])[ok], np.asarray(joined["phot_g_mean_mag"])[ok])
    assert np.allclose(np.asarray(joined["mh_andrae_err"])[ok], expected, rtol=1e-6)
    assert np.ma.getmaskarray(joined["mh_andrae_err"])[~ok].all()
    g = np.array([12.0, 15.0, 17.0])
    assert np.all(np.diff(andrae_mh_error(np.zeros(3), g)) > 0)
    assert andrae_mh_error(np.array([-2.5]), np.array([15.0]))[0] > andrae_mh_error(np.array([0.0]), np.array([15.0]))[0]


def test_labels_false_and_missing_label_table(sky):
    assert not set(schema.SPEC_COLUMNS) & set(join_survey(sky.tables, "sdss", labels=False).colnames)
    no_sos = {k: v for k, v in sky.tables.items() if k != "sos_spectro.main"}
    assert not set(schema.SPEC_COLUMNS) & set(join_survey(no_sos, "sdss").colnames)


def test_missing_column_or_table_raises_schema_error(sky):
    tables = dict(sky.tables)
    tables["external.gaiaedr3_distance"] = tables["external.gaiaedr3_distance"].copy()
    tables["external.gaiaedr3_distance"].remove_column("r_med_geo")
    with pytest.raises(SchemaError, match=r"external\.gaiaedr3_distance.*r_med_geo"):
        join_survey(tables, "sdss")
    tables = {k: v for k, v in sky.tables.items() if k != "gaiadr3.skymapperdr2_best_neighbour"}
    with pytest.raises(SchemaError, match="skymapperdr2_best_neighbour"):
        join_survey(tables, "skymapper")
    gaia = sky.tables["gaiadr3.gaia_source"].copy()
    gaia.remove_column("ruwe")
    with pytest.raises(SchemaError, match="ruwe"):
        join_survey({**sky.tables, "gaiadr3.gaia_source": gaia}, "sdss")
    with pytest.raises(ValueError):
        join_survey(sky.tables, "panstarrs")


def test_duplicate_keys_raise(sky):
    from astropy.table import vstack

    dist = sky.tables["external.gaiaedr3_distance"]
    with pytest.raises(SchemaError, match="more than once"):
        join_survey({**sky.tables, "external.gaiaedr3_distance": vstack([dist, dist[:1]])}, "sdss")


def test_join_pastel_finds_the_right_star(sky):
    pastel = sky.tables["B/pastel/pastel"]
    matched = join_pastel(sky.tables)
    assert len(matched) == len(pastel) > 0
    assert matched.colnames == list(schema.PASTEL_MATCH_COLUMNS)
    # the synthetic ID carries the Gaia row index of the star: check the match against it
    gaia_ids = np.asarray(sky.tables["gaiadr3.gaia_source"]["source_id"])
    row = np.array([int(s.split()[-1]) for s in np.asarray(matched["pastel_id"]).astype(str)])
    assert np.array_equal(np.asarray(matched["source_id"]), gaia_ids[row])
    assert np.all(np.asarray(matched["match_distance"]) < 0.1)


def test_join_of_a_field_without_survey_rows_is_empty():
    """SkyMapper (a southern survey) has no rows in a northern field (the Pleiades): the join
    has 0 rows and the survey's columns, instead of an IndexError on the empty neighbour table."""
    north = simulate_sky(center=(56.75, 24.12), radius=0.3, n_stars=300, seed=3)
    assert len(north.tables[schema.NEIGHBOUR_TABLES["skymapper"]]) == 0
    joined = join_survey(north.tables, "skymapper")
    assert len(joined) == 0
    assert joined.colnames[: len(schema.joined_columns("skymapper"))] == list(
        schema.joined_columns("skymapper"))
    assert len(join_survey(north.tables, "sdss")) > 0


@pytest.mark.parametrize(("table", "column"), [("gaiadr3.gaia_source", "ra"),
                                               ("gaiadr3.gaia_source", "dec"),
                                               ("B/pastel/pastel", "RAJ2000")])
def test_missing_positions_are_an_error_naming_column_and_rows(sky, table, column):
    """NaN (or masked) positions: a SchemaError naming the table, the column and the row count,
    not astropy's "Catalog coordinates cannot contain NaN entries" nor a silent row drop."""
    tables = dict(sky.tables)
    t = tables[table].copy()
    t[column] = t[column].astype(float)
    t[column][[2, 7, 11]] = np.nan
    tables[table] = t
    with pytest.raises(SchemaError, match=rf"{table!r}: column {column} .* 3 of {len(t)} rows "
                                          r"\(row indices, 0-based: 2, 7, 11\)"):
        join_pastel(tables)
    if table == "gaiadr3.gaia_source":
        with pytest.raises(SchemaError, match=rf"column {column} .* 3 of"):
            join_survey(tables, "sdss")
        masked = sky.tables[table].copy()
        masked[column] = MaskedColumn(masked[column], mask=np.arange(len(masked)) == 4)
        tables[table] = masked
        with pytest.raises(SchemaError, match=rf"column {column} .* 1 of .*0-based: 4\)"):
            join_survey(tables, "skymapper")


def _near_sky(seed: int = 5):
    """Gaia stars (some with large proper motions) and PASTEL entries: at stars' J2000
    positions, at fast stars' J2016.0 positions (a trap for a match without proper motion),
    between two close stars, and far from any star."""
    from astropy.table import Table

    from sos_vo.prepare.crossmatch import GAIA_EPOCH, PASTEL_EPOCH, propagate_positions

    rng = np.random.default_rng(seed)
    n = 4000
    ra = rng.uniform(10.0, 10.5, n)
    dec = rng.uniform(-20.0, -19.5, n)
    ra[1:40:2], dec[1:40:2] = ra[0:40:2] + 0.6 / 3600, dec[0:40:2]  # close pairs, 0.6" apart
    pmra = rng.normal(0.0, 8.0, n)
    pmdec = rng.normal(0.0, 8.0, n)
    fast = np.arange(40, 80)
    pmra[fast], pmdec[fast] = 400.0, -300.0  # 8" in 16 yr
    gaia = Table({"source_id": np.arange(n, dtype=np.int64) + 10**15, "ra": ra, "dec": dec,
                  "pmra": MaskedColumn(pmra, mask=np.arange(n) % 97 == 0), "pmdec": pmdec})
    r2000, d2000 = propagate_positions(ra, dec, gaia["pmra"], pmdec, PASTEL_EPOCH - GAIA_EPOCH)
    at = np.r_[np.arange(0, 40), rng.choice(np.arange(80, n), 300, replace=False)]
    jitter = rng.normal(0.0, 0.4 / 3600, (2, at.size))
    p_ra = np.r_[r2000[at] + jitter[0], ra[fast], rng.uniform(10.0, 10.5, 200)]
    p_dec = np.r_[d2000[at] + jitter[1], dec[fast], rng.uniform(-20.0, -19.5, 200)]
    m = p_ra.size
    pastel = Table({"ID": [f"P{i}" for i in range(m)], "RAJ2000": p_ra, "DEJ2000": p_dec})
    for c in ("Teff", "e_Teff", "logg", "e_logg", "[Fe/H]", "e_[Fe/H]"):
        pastel[c] = MaskedColumn(rng.normal(size=m))
    return gaia, pastel


def _pairs(matched):
    return sorted(zip(matched["pastel_id"].tolist(), matched["source_id"].tolist(),
                      np.asarray(matched["match_distance"]).tolist(), strict=True))


def test_near_pastel_keeps_every_star_the_match_can_use():
    from sos_vo.prepare.crossmatch import near_pastel, pastel_sky

    gaia, pastel = _near_sky()
    every = join_pastel({"gaiadr3.gaia_source": gaia, "B/pastel/pastel": pastel})
    assert len(every) > 300
    near = near_pastel(gaia, pastel_sky(pastel))
    assert 300 < near.sum() < len(gaia) // 2
    # the match on the kept stars alone gives the same pairs, distances included
    kept = join_pastel({"gaiadr3.gaia_source": gaia[near], "B/pastel/pastel": pastel})
    assert _pairs(kept) == _pairs(every)
    # and so does the match on every star when only the kept ones have proper motions (the
    # preparation's view): the fast stars sit at their J2016.0 positions, on PASTEL entries
    no_pm = gaia.copy()
    for c in ("pmra", "pmdec"):
        no_pm[c] = MaskedColumn(np.asarray(gaia[c]), mask=~near | np.ma.getmaskarray(gaia[c]))
    assert _pairs(join_pastel({"gaiadr3.gaia_source": no_pm, "B/pastel/pastel": pastel})) == \
        _pairs(every)
    assert near[40:80].all()  # kept for their J2016.0 positions
    # in chunks (as the astrometry arrives) the same rows are kept
    sky = pastel_sky(pastel)
    chunked = np.concatenate([near_pastel(gaia[i:i + 700], sky) for i in range(0, len(gaia), 700)])
    np.testing.assert_array_equal(chunked, near)


def test_near_pastel_edge_cases():
    from sos_vo.prepare.crossmatch import near_pastel, pastel_sky

    gaia, pastel = _near_sky()
    assert not near_pastel(gaia, pastel_sky(pastel[:0])).any()
    assert near_pastel(gaia[:0], pastel_sky(pastel)).shape == (0,)
    bad = gaia[:5].copy()
    bad["ra"] = MaskedColumn(np.asarray(bad["ra"]), mask=[False, True, False, False, False])
    bad["dec"][2] = np.nan
    got = near_pastel(bad, pastel_sky(pastel))
    assert got[1] and got[2]  # kept, so that join_pastel names them
    broken = pastel.copy()
    broken["RAJ2000"][3] = np.nan
    with pytest.raises(SchemaError, match="RAJ2000"):
        pastel_sky(broken)
