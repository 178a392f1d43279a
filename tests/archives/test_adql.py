"""ADQL templates: placeholders, reserved-word quoting, output columns = the joined contract."""

import re

import pytest

from sos_vo.archives import adql, gaia, regions
from sos_vo.schema import joined_columns


def _select_names(query: str) -> list[str]:
    select = re.search(r"SELECT(.*?)FROM", query, re.S).group(1)
    names = []
    for item in select.split(","):
        item = item.strip()
        names.append(item.split(" AS ")[-1].split(".")[-1].strip())
    return names


@pytest.mark.parametrize("survey", ["sdss", "skymapper"])
def test_joined_template_columns(survey):
    q = gaia.joined_query(survey, regions.parse_region("circle 10 10 1"))
    names = _select_names(q)
    # every joined column comes from the server except the [M/H] error proxy, which
    # join_survey derives (sos_vo.prepare.crossmatch.andrae_mh_error)
    expected = [c for c in joined_columns(survey) if c != "mh_andrae_err"]
    assert names[: len(expected)] == expected


def test_reserved_schema_quoted_and_comments_gone():
    q = gaia.joined_query("sdss", regions.parse_region("circle 10 10 1"))
    assert '"external".gaiaedr3_distance' in q
    assert "--" not in q
    assert "{" not in q


def test_cuts_block_can_be_dropped():
    r = regions.parse_region("circle 10 10 1")
    assert "ruwe <=" in gaia.joined_query("sdss", r)
    assert "ruwe <=" not in gaia.joined_query("sdss", r, server_cuts=False)


def test_missing_placeholder():
    with pytest.raises(KeyError, match="pastel"):
        adql.render("vizier_pastel_region")


def test_vizier_and_skymapper_templates(monkeypatch):
    from sos_vo.archives import sdss, vizier

    r = regions.parse_region("circle 10 10 1")
    q = adql.render("vizier_pastel_region", region=r.adql("p.RAJ2000", "p.DEJ2000"),
                    pastel=vizier.VIZIER_TABLES["pastel"])
    assert 'FROM "B/pastel/pastel" AS p' in q and "p.RAJ2000" in q
    assert "fGetNearbyObjEq(10.0, 10.0, 60.0)" in sdss.cone_sql(r)
    with pytest.raises(Exception, match="Gaia queries only"):
        vizier.query_table("pastel", regions.parse_region("healpix 3 5"),
                           tap_url="http://127.0.0.1:9/tap")
