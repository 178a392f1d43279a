"""Label sources: templates, quality rules, TAP_SCHEMA resolution and fetches from the mirror."""

from __future__ import annotations

import numpy as np
import pytest
from astropy.table import Table
from realdata_files import realdata

from sos_vo.archives import apogee, galah, segue
from sos_vo.archives.adql import placeholders
from sos_vo.archives.label_source import (
    LABEL_ROLES,
    LABEL_SCHEMA,
    fetch_labels,
    label_query,
    label_sources,
    one_per_star,
    stream_labels,
    whole_sky,
)
from sos_vo.archives.regions import parse_region
from sos_vo.archives.tap import TapClient
from sos_vo.archives.tap_schema import (
    ResolvedTable,
    SchemaResolutionError,
    bare_name,
    resolve_table,
)

APOGEE_FILE = "apogee_galah_gaia/Apogee_data_filtered_1612.fits"
GALAH_FILE = "apogee_galah_gaia/Galah_data_filtered_1061.fits"


@pytest.fixture
def sql_names(monkeypatch):
    """The mirror serves VizieR tables under their SQL names (conf.vizier_names = sql)."""
    monkeypatch.setenv("SOS_VO_VIZIER_NAMES", "sql")


def _resolved_as_named(src):
    """The source's tables resolved to the names it asks for (no service)."""
    cols = dict(src.columns)
    if src.crossmatch is None:
        return ResolvedTable("http://x/tap", src.table, src.table.strip('"'), cols), None
    main = ResolvedTable("http://x/tap", src.table, src.table,
                         {r: c for r, c in cols.items() if r != "source_id"})
    xmatch = ResolvedTable("http://x/tap", src.crossmatch.table, src.crossmatch.table,
                           {"source_id": cols["source_id"], "match": src.crossmatch.match})
    return main, xmatch


@pytest.mark.parametrize("key", sorted(label_sources()))
def test_every_template_matches_its_roles(key):
    src = label_sources()[key]
    assert set(LABEL_ROLES) <= set(src.columns)
    # the common select list is generated (label_columns); the template names only the
    # survey's extra roles, and source_id for its IS NOT NULL filter
    extra = set(src.columns) - set(LABEL_ROLES)
    join = {"crossmatch_table", "crossmatch_match", "survey_id"} if src.crossmatch else set()
    assert placeholders(src.template) == extra | join | {"source_id", "label_columns", "table",
                                                         "region", "chunk"}
    resolved, xmatch = _resolved_as_named(src)
    adql = label_query(src, resolved, parse_region("circle 10 20 1deg"), crossmatch=xmatch)
    assert f'FROM {resolved.adql_table} AS l' in adql
    alias = "x" if src.crossmatch else "l"
    assert f'{alias}."' + src.columns["source_id"] + '" IS NOT NULL' in adql
    assert "CONTAINS" in adql
    for role in src.columns:
        assert f" AS {role}" in adql
    # output columns in the order of the common label schema, then the extra roles
    select = adql.split("\nFROM ")[0].removeprefix("SELECT ")
    assert [item.rsplit(" AS ", 1)[1] for item in select.split(",\n       ")] == \
        list(LABEL_ROLES) + [r for r in src.columns if r not in LABEL_ROLES]


APOGEE_ADQL_BEFORE = """SELECT l."GaiaEDR3" AS source_id,
       l."APOGEE" AS survey_id,
       l."RAJ2000" AS ra,
       l."DEJ2000" AS dec,
       l."Teff" AS teff,
       l."e_Teff" AS e_teff,
       l."logg" AS logg,
       l."e_logg" AS e_logg,
       l."[Fe/H]" AS feh,
       l."e_[Fe/H]" AS e_feh,
       l."AFlag" AS aspcapflag
FROM "III/286/catalog" AS l
WHERE 1 = CONTAINS(POINT('ICRS', l."RAJ2000", l."DEJ2000"), CIRCLE('ICRS', 10.0, 20.0, 1.0))
  AND 1 = 1
  AND l."GaiaEDR3" IS NOT NULL"""
"""The APOGEE ADQL as rendered when every template spelled out its select list (copied from
that version's output): generating the common list must not change what is sent."""


def test_generated_select_list_sends_the_same_adql():
    src = label_sources()["apogee-dr17"]
    resolved = ResolvedTable("http://x/tap", src.table, src.table.strip('"'), dict(src.columns))
    assert label_query(src, resolved, parse_region("circle 10 20 1deg")) == APOGEE_ADQL_BEFORE


def test_select_list_needs_every_common_role():
    from sos_vo.archives.label_source import label_select_list

    cols = {role: f'l."{role.upper()}"' for role in LABEL_ROLES}
    assert label_select_list(cols).splitlines()[1] == '       l."SURVEY_ID" AS survey_id,'
    del cols["e_feh"]
    with pytest.raises(KeyError, match="e_feh"):
        label_select_list(cols)


def test_vizier_sql_names(sql_names):
    name, cols = label_sources()["apogee-dr17"].names()
    assert name == "vizier.iii_286_catalog"
    assert cols["feh"] == "fe_h" and cols["e_feh"] == "e_fe_h" and cols["source_id"] == "gaiaedr3"
    name, cols = label_sources()["galah-dr3"].names({"galah_dr3": "other.main_star"})
    assert name == "other.main_star" and cols["feh"] == "fe_h"


def test_bare_and_quoted_names():
    assert bare_name('"III/286/catalog"') == "III/286/catalog"
    assert ResolvedTable("u", "", "III/286/catalog", {}).adql_table == '"III/286/catalog"'
    assert ResolvedTable("u", "", "galah_dr3.main_star", {}).adql_table == "galah_dr3.main_star"


def test_apogee_star_bad_bit():
    rows = Table({"aspcapflag": np.array([0, 1 << 23, (1 << 23) | 4, 4], dtype=np.int64),
                  "teff": [5000.0, 5000, 5000, np.nan], "logg": [2.0] * 4, "feh": [0.0] * 4})
    assert apogee.quality(rows).tolist() == [True, False, False, False]
    rows["aspcapflag"] = np.array(["", "STAR_BAD,COLORTE_WARN", "TEFF_WARN", ""])
    assert apogee.quality(rows).tolist() == [True, False, True, False]


def test_galah_and_segue_rules():
    rows = Table({"flag_sp": [0, 1, 0, 0], "flag_fe_h": [0, 0, 8, 0],
                  "teff": [5000.0] * 4, "logg": [2.0] * 4, "feh": [0.0, 0, 0, np.nan]})
    assert galah.quality(rows).tolist() == [True, False, False, False]
    rows = Table({"sspp_flag": ["nnnnn", "nnnnD", "NNNNN", "nnnnn"],
                  "teff": [5000.0, 5000, 5000, -9999], "logg": [2.0] * 4, "feh": [0.0] * 4})
    assert segue.quality(rows).tolist() == [True, False, True, False]


def test_one_per_star_keeps_smallest_feh_error():
    t = Table({"source_id": [3, 1, 3, 3], "e_feh": [0.05, 0.1, 0.02, np.nan], "x": [0, 1, 2, 3]})
    kept = one_per_star(t)
    assert sorted(kept["x"].tolist()) == [1, 2]


class _SchemaOnly:
    """A TAP service that answers only TAP_SCHEMA look-ups, from a dict table -> columns."""

    url = "http://schema-only/tap"

    def __init__(self, tables):
        self.tables = tables
        self.queries = []

    def run(self, adql, maxrec=None, **kwargs):
        import fnmatch
        import re

        self.queries.append(adql)
        value = re.search(r"'([^']*)'", adql).group(1)
        if "TAP_SCHEMA.tables" in adql:
            pattern = value.replace("%", "*").lower()
            return Table({"table_name": [t for t in self.tables
                                         if fnmatch.fnmatchcase(t.lower(), pattern)] or
                          np.zeros(0, dtype="U1")})
        return Table({"column_name": self.tables.get(value, []) or np.zeros(0, dtype="U1")})


SSPP_SERVICE = {
    "sdss_dr16.sppparams": ["specobjid", "ra", "dec", "teffadop", "teffadopunc", "loggadop",
                            "loggadopunc", "fehadop", "fehadopunc", "flag"],
    "gaia_dr3.x1p5__gaia_source__sdss_dr16__specobj": ["id1", "id2", "distance"],
}
"""sppParams without a Gaia id and the Gaia DR3 cross-match, as the Astro Data Lab names them."""


def test_segue_takes_the_gaia_id_from_the_crossmatch():
    from sos_vo.archives.label_source import resolve_source

    src = label_sources()["segue-sspp"]
    client = _SchemaOnly(SSPP_SERVICE)
    name, cols = src.names()
    main, xmatch = resolve_source(client, src, name, cols)
    assert main.table == "sdss_dr16.sppparams" and "source_id" not in main.columns
    assert xmatch.table == "gaia_dr3.x1p5__gaia_source__sdss_dr16__specobj"
    assert xmatch.columns == {"source_id": "id1", "match": "id2"}
    adql = label_query(src, main, whole_sky(), 'x."id1" >= 0', xmatch)
    assert ('JOIN gaia_dr3.x1p5__gaia_source__sdss_dr16__specobj AS x ON x."id2" = l."specobjid"'
            in adql)
    assert adql.startswith('SELECT x."id1" AS source_id,') and 'x."id1" IS NOT NULL' in adql
    # the cross-match table is checked like the survey table, and can be renamed
    client = _SchemaOnly({"sdss_dr16.sppparams": SSPP_SERVICE["sdss_dr16.sppparams"]})
    with pytest.raises(SchemaResolutionError, match="x1p5__gaia_source__sdss_dr16__specobj"):
        resolve_source(client, src, name, cols)
    client = _SchemaOnly({**SSPP_SERVICE, "mine.sspp_gaia": ["gaia_id", "id2"]})
    _, xmatch = resolve_source(client, src, name, {**cols, "source_id": "gaia_id"},
                               {"segue_sspp_gaia": "mine.sspp_gaia"})
    assert xmatch.table == "mine.sspp_gaia" and xmatch.columns["source_id"] == "gaia_id"


def test_label_query_refuses_a_missing_crossmatch():
    src = label_sources()["segue-sspp"]
    main, _ = _resolved_as_named(src)
    with pytest.raises(ValueError, match="cross-match"):
        label_query(src, main, whole_sky())


# --------------------------------------------------------------------------------------------
# against the mirror
# --------------------------------------------------------------------------------------------
@pytest.mark.dachs
def test_apogee_and_galah_all_sky_are_the_real_rows(dachs_url, sql_names, fast_client_kwargs):
    apo = fetch_labels("apogee-dr17", None, tap_url=dachs_url, cache_dir=False, progress=False,
                       use_async=False, **fast_client_kwargs)
    gal = fetch_labels("galah-dr3", None, tap_url=dachs_url, cache_dir=False, progress=False,
                       use_async=False, **fast_client_kwargs)
    real_a = Table.read(realdata(APOGEE_FILE))
    real_g = Table.read(realdata(GALAH_FILE))
    assert tuple(apo.colnames[:len(LABEL_SCHEMA)]) == LABEL_SCHEMA
    for got, real, cols in ((apo, real_a, {"teff": "teff", "e_feh": "fe_h_err", "feh": "fe_h"}),
                            (gal, real_g, {"teff": "teff", "e_feh": "e_fe_h", "feh": "fe_h"})):
        assert len(got) == len(np.unique(real["dr3_source_id"]))
        order = np.argsort(np.asarray(real["dr3_source_id"]))
        got.sort("source_id")
        assert np.array_equal(got["source_id"], np.asarray(real["dr3_source_id"])[order])
        for mine, theirs in cols.items():
            np.testing.assert_allclose(got[mine], np.asarray(real[theirs], float)[order], rtol=1e-6)
    prov = apo.meta["provenance"]
    assert prov["table"] == "vizier.iii_286_catalog" and prov["service"] == dachs_url
    assert prov["columns"]["feh"] == "fe_h" and prov["requested_columns"]["feh"] == "fe_h"
    assert prov["rows"] == {"fetched": 1612, "with_gaia_dr3_id": 1612, "quality": 1612,
                            "one_per_star": 1612}
    assert "vizier.iii_286_catalog" in prov["adql"]


@pytest.mark.dachs
def test_region_fetch_equals_local_selection_and_resumes(dachs_url, sql_names, tmp_path,
                                                         fast_client_kwargs):
    real = Table.read(realdata(GALAH_FILE))
    region = parse_region("circle 60 -60 15deg")
    client = TapClient(dachs_url, **fast_client_kwargs)
    got = fetch_labels("galah-dr3", region, client=client, cache_dir=tmp_path, progress=False,
                       use_async=False)
    inside = region.contains(np.asarray(real["ra_dr2"], float), np.asarray(real["dec_dr2"], float))
    assert inside.sum() > 20
    assert sorted(got["source_id"].tolist()) == sorted(np.asarray(real["dr3_source_id"])[inside].tolist())
    first_jobs = client.jobs_sent
    sent = client.jobs_sent
    from sos_vo.archives.label_source import resolve_source

    src = label_sources()["galah-dr3"]
    resolve_source(client, src, *src.names())  # the survey table and its Gaia cross-match
    resolve_jobs = client.jobs_sent - sent
    sent = client.jobs_sent
    again = fetch_labels("galah-dr3", region, client=client, cache_dir=tmp_path, progress=False,
                         use_async=False)
    assert len(again) == len(got) and again.meta["provenance"]["rows"] == got.meta["provenance"]["rows"]
    # resumed from the cache: only the TAP_SCHEMA look-ups are sent again, no label chunk
    assert client.jobs_sent - sent == resolve_jobs
    assert first_jobs > resolve_jobs


@pytest.mark.dachs
def test_stream_hands_over_the_fetched_rows_chunk_by_chunk(dachs_url, sql_names,
                                                           fast_client_kwargs):
    """A region cut into order-3 cells: the stream's chunks are disjoint, increasing
    source_id ranges whose rows, stacked, are the table of fetch_labels."""
    region = parse_region("circle 60 -60 15deg")
    kw = {"tap_url": dachs_url, "cache_dir": False, "progress": False, "use_async": False,
          "chunk_order": 3, **fast_client_kwargs}
    stream = stream_labels("galah-dr3", region, **kw)
    assert stream.provenance is None
    chunks = [t for t in stream if len(t)]
    assert len(chunks) > 2
    ranges = [(int(t["source_id"].min()), int(t["source_id"].max())) for t in chunks]
    assert all(a[1] < b[0] for a, b in zip(ranges, ranges[1:], strict=False))
    whole = fetch_labels("galah-dr3", region, **kw)
    assert np.concatenate([t["source_id"] for t in chunks]).tolist() == whole["source_id"].tolist()
    for c in ("teff", "e_feh"):
        assert np.array_equal(np.concatenate([t[c] for t in chunks]), whole[c], equal_nan=True)
    assert stream.provenance == whole.meta["provenance"]
    assert stream.provenance["rows"]["one_per_star"] == len(whole)
    # cut differently (order 2), the same stars
    other = fetch_labels("galah-dr3", region, **{**kw, "chunk_order": 2})
    assert sorted(other["source_id"].tolist()) == sorted(whole["source_id"].tolist())


@pytest.mark.dachs
def test_missing_table_lists_closest(dachs_url, fast_client_kwargs):
    client = TapClient(dachs_url, **fast_client_kwargs)
    with pytest.raises(SchemaResolutionError, match=r"closest tables there: .*vizier\.iii_286_catalog"):
        resolve_table(client, "vizier.iii_286_catalogue", {"teff": "teff"})
    with pytest.raises(SchemaResolutionError) as exc:
        fetch_labels("galah-dr3", whole_sky(), client=client, tables={"galah_dr3": "galah_dr4.main_star"},
                     cache_dir=False, progress=False)
    assert "galah_dr4.main_star" in str(exc.value) and "galah_dr3.main_star" in str(exc.value)


@pytest.mark.dachs
def test_renamed_column_lists_closest(dachs_url, fast_client_kwargs):
    client = TapClient(dachs_url, **fast_client_kwargs)
    resolved = resolve_table(client, "GALAH_DR3.MAIN_STAR", {"feh": "FE_H", "sid": "dr3_source_id"})
    assert resolved.table == "galah_dr3.main_star" and resolved.columns == {"feh": "fe_h", "sid": "dr3_source_id"}
    with pytest.raises(SchemaResolutionError, match=r"'fe_h_x' \(feh; closest: fe_h"):
        resolve_table(client, "galah_dr3.main_star", {"feh": "fe_h_x", "teff": "teff"})


@pytest.mark.dachs
def test_empty_region_is_a_clear_error(dachs_url, sql_names, fast_client_kwargs):
    from sos_vo.exceptions import EmptyInputError

    with pytest.raises(EmptyInputError, match="galah-dr3: no star with a Gaia DR3 id"):
        fetch_labels("galah-dr3", parse_region("circle 200 80 0.1deg"), tap_url=dachs_url,
                     cache_dir=False, progress=False, use_async=False, **fast_client_kwargs)


def test_column_overrides_parse_and_apply():
    from sos_vo.archives.label_source import parse_column_overrides

    over = parse_column_overrides(["apogee_dr17.feh=FE_H", "galah-dr3.teff=teff_sp"])
    assert over == {"apogee-dr17": {"feh": "FE_H"}, "galah-dr3": {"teff": "teff_sp"}}
    name, cols = label_sources()["apogee-dr17"].names(None, over["apogee-dr17"])
    assert cols["feh"] == "FE_H" and cols["teff"] == "Teff"
    with pytest.raises(ValueError, match="unknown column role"):
        label_sources()["apogee-dr17"].names(None, {"metallicity": "M_H"})
    with pytest.raises(ValueError, match="KEY.ROLE=NAME"):
        parse_column_overrides(["apogee_dr17=FE_H"])
    with pytest.raises(ValueError, match="unknown label source"):
        parse_column_overrides(["apogee.feh=FE_H"])


@pytest.mark.dachs
def test_column_override_reaches_the_resolver(dachs_url, fast_client_kwargs):
    client = TapClient(dachs_url, **fast_client_kwargs)
    got = fetch_labels("galah-dr3", parse_region("circle 60 -60 10deg"), client=client,
                       columns={"feh": "FE_H", "e_feh": "e_fe_h"}, cache_dir=False,
                       progress=False, use_async=False)
    prov = got.meta["provenance"]
    assert prov["requested_columns"]["feh"] == "FE_H" and prov["columns"]["feh"] == "fe_h"
    with pytest.raises(SchemaResolutionError, match="'fe_h_dr4'"):
        fetch_labels("galah-dr3", parse_region("circle 60 -60 10deg"), client=client,
                     columns={"feh": "fe_h_dr4"}, cache_dir=False, progress=False)


@pytest.mark.dachs
def test_crossmatch_join_runs_on_the_server(dachs_url, fast_client_kwargs):
    """The cross-match join of the label query, run by DaCHS: GALAH DR3 joined to itself on
    sobject_id (main_star carries dr3_source_id in the mirror) returns the real stars and
    labels of the region."""
    import dataclasses

    from sos_vo.archives.label_source import GaiaCrossmatch, all_finite_labels

    joined = dataclasses.replace(
        label_sources()["galah-dr3"], key="galah-dr3-self-joined",
        crossmatch=GaiaCrossmatch(table="galah_dr3.main_star", match="sobject_id",
                                  table_key="galah_dr3_self"))
    region = parse_region("circle 60 -60 15deg")
    got = fetch_labels(joined, region, tap_url=dachs_url, quality=all_finite_labels,
                       cache_dir=False, progress=False, use_async=False, **fast_client_kwargs)
    prov = got.meta["provenance"]
    assert 'JOIN galah_dr3.main_star AS x ON x."sobject_id" = l."sobject_id"' in prov["adql"]
    assert prov["crossmatch"]["columns"] == {"source_id": "dr3_source_id", "match": "sobject_id"}
    real = Table.read(realdata(GALAH_FILE))
    inside = region.contains(np.asarray(real["ra_dr2"], float), np.asarray(real["dec_dr2"], float))
    real = real[inside]
    assert len(real) > 20 and len(got) == len(np.unique(real["dr3_source_id"]))
    real.sort("dr3_source_id")
    got.sort("source_id")
    assert np.array_equal(got["source_id"], np.asarray(real["dr3_source_id"]))
    assert np.array_equal(got["survey_id"], np.asarray(real["sobject_id"]).astype(str))
    for mine, theirs in (("teff", "teff"), ("logg", "logg"), ("feh", "fe_h"), ("e_feh", "e_fe_h")):
        np.testing.assert_allclose(got[mine], np.asarray(real[theirs], float), rtol=1e-6)
