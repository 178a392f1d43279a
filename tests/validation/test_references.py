import pytest
from astropy.table import Table

from sos_vo.exceptions import SchemaError
from sos_vo.validation.references import (
    APOKASC3,
    COMPARISONS,
    HR24_MEMBERS,
    NETOPIL_2016,
    ZHANG_2023,
    adql_select,
    sql_column_name,
    with_roles,
)


def test_adql_quotes_vizier_names_and_aliases_roles():
    q = adql_select(HR24_MEMBERS, where="\"Name\" = 'NGC_2682'")
    assert q == ('SELECT "Name" AS cluster, "GaiaDR3" AS source_id, "Prob" AS prob '
                 'FROM "J/A+A/686/A42/members" WHERE "Name" = \'NGC_2682\'')
    assert '"[Fe/H]HQS" AS feh' in adql_select(NETOPIL_2016, roles=["cluster", "feh"])


def test_unverified_tables_need_explicit_names():
    with pytest.raises(SchemaError, match="TAP table name is not known"):
        adql_select(ZHANG_2023)
    with pytest.raises(SchemaError, match="no column known for role"):
        adql_select(HR24_MEMBERS, roles=["feh"])


def test_with_roles_renames_and_reports_missing():
    t = Table({"Name": ["a"], "GaiaDR3": [1], "Prob": [0.5]})
    assert with_roles(t, HR24_MEMBERS.columns, "HR24").colnames == ["cluster", "source_id", "prob"]
    with pytest.raises(SchemaError, match="GaiaDR3"):
        with_roles(Table({"Name": ["a"]}), HR24_MEMBERS.columns, "HR24")


def test_sql_names_follow_the_table_mapping_rule():
    assert sql_column_name("[Fe/H]HQS") == "fe_h_hqs"
    assert sql_column_name("e_[Fe/H]HQS") == "e_fe_h_hqs"
    assert sql_column_name("2MASS") == "c_2mass"
    with pytest.raises(SchemaError, match="no letters or digits"):
        sql_column_name("[/]")
    q = adql_select(NETOPIL_2016, roles=["cluster", "feh"], names="sql")
    assert q == "SELECT cluster AS cluster, fe_h_hqs AS feh FROM vizier.j_a_a_585_a150_tablea1"
    with pytest.raises(ValueError, match="names="):
        adql_select(NETOPIL_2016, names="dachs")


def test_upload_join_qualifies_columns():
    join = 'JOIN TAP_UPLOAD.sosvo_ids AS u ON t."GaiaDR3" = u.source_id'
    q = adql_select(APOKASC3, ["source_id", "logg"], alias="t", join=join, where='t."loggSeis" > 0')
    assert q == ('SELECT t."GaiaDR3" AS source_id, t."loggSeis" AS logg FROM "J/ApJS/276/69/table4" '
                 'AS t JOIN TAP_UPLOAD.sosvo_ids AS u ON t."GaiaDR3" = u.source_id '
                 'WHERE t."loggSeis" > 0')


def test_comparison_presets_name_known_roles():
    for preset in COMPARISONS.values():
        if preset.table.table is not None:  # verified or guessed names: every role is defined
            keys = ("source_id",) if preset.match == "source_id" else ("ra", "dec")
            assert set(keys) <= set(preset.table.columns)
            assert set(preset.columns.values()) <= set(preset.table.columns)
