"""The archive tables sos-vo reads take every column's type, unit and UCD from one schema."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np
import pytest
from astropy.table import Column
from realdata_files import realdata

from sos_vo.archives.tables import (
    ARCHIVE_TABLES,
    GAIA_SOURCE,
    NEIGHBOUR_TABLE,
    PHOTO_ID_COLUMN,
    PHOTO_TABLE,
)
from sos_vo.publish.dachs_rd import sql_type
from sos_vo.schema import (
    DISTANCE_COLUMNS,
    GAIA_COLUMNS,
    NEIGHBOUR_COLUMNS,
    SURVEY_COLUMNS,
    SURVEY_ID_COLUMN,
    SURVEYS,
)
from sos_vo.schema import archive as archive_schema
from sos_vo.schema.column import STR

REAL_GAIA = "1710099405832VAL-result.vot"

VOTABLE_TO_SQL = {"long": "bigint", "int": "integer", "short": "smallint", "float": "real",
                  "double": "double precision", "boolean": "boolean", "char": "text",
                  "unicodeChar": "text"}
"""How TAP services (DaCHS, the Gaia archive) map VOTable datatypes to ADQL types."""


def _numpy_dtype(dtype: str) -> np.dtype:
    return np.dtype("U8") if dtype == STR else np.dtype(dtype)


@pytest.mark.parametrize("key", sorted(ARCHIVE_TABLES))
def test_selected_columns_are_the_shared_schema_columns(key):
    table = ARCHIVE_TABLES[key]
    assert len(set(table.column_names)) == len(table.columns), "a column is selected twice"
    for col in table.columns:
        assert col is archive_schema.column_spec(table.name, col.name)
        # the ADQL type agrees with what the DaCHS RD writer derives from a table's numpy dtype
        data = Column(np.zeros(1, _numpy_dtype(col.dtype)), name=col.name)
        assert col.adql_type == sql_type(data), col.name


def test_every_schema_dtype_has_an_adql_type():
    types = {s.adql_type for specs in archive_schema.TABLE_COLUMNS.values() for s in specs}
    assert types == {"bigint", "integer", "smallint", "real", "double precision", "boolean", "text"}


@pytest.mark.parametrize("survey", SURVEYS)
def test_client_selects_every_archive_column_of_the_joined_table(survey):
    """The joined-table lists and the client's selections describe the same archive tables."""
    selected = {key: set(t.column_names) for key, t in ARCHIVE_TABLES.items()}
    assert set(GAIA_COLUMNS) == selected["gaia_source"] - {"pmra", "pmdec"}
    assert set(DISTANCE_COLUMNS) <= selected["distance"]
    assert set(NEIGHBOUR_COLUMNS) <= selected[NEIGHBOUR_TABLE[survey]]
    photo = ARCHIVE_TABLES[PHOTO_TABLE[survey]]
    renamed = {SURVEY_ID_COLUMN[survey]: PHOTO_ID_COLUMN[survey]}
    archive_names = {renamed.get(c, c) for c in SURVEY_COLUMNS[survey]}
    assert archive_names == set(photo.column_names) - {photo.ra_column, photo.dec_column}
    assert photo.primary == PHOTO_ID_COLUMN[survey] == archive_schema.PHOTOMETRY_ID[survey]


def test_unknown_column_is_named():
    with pytest.raises(KeyError, match="no_such_column"):
        archive_schema.column_spec(archive_schema.GAIA_SOURCE, "no_such_column")


def test_gaia_source_selection_matches_the_real_archive():
    # the FIELD attributes as the archive wrote them (astropy would re-spell the units)
    fields = {f.get("name"): f for f in ET.parse(realdata(REAL_GAIA)).getroot().iter()
              if f.tag.rsplit("}", 1)[-1] == "FIELD"}
    for col in GAIA_SOURCE.columns:
        ref = fields[col.name]
        assert col.adql_type == VOTABLE_TO_SQL[ref.get("datatype")], col.name
        assert col.ucd == ref.get("ucd", ""), col.name
        assert col.unit == ref.get("unit"), col.name
