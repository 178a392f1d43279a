"""The archive tables sos-vo reads take every column's type, unit and UCD from one schema."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np
import pytest
from astropy.table import Column
from realdata_files import realdata

from sos_vo import archive_schema
from sos_vo.archives.tables import ARCHIVE_TABLES, GAIA_SOURCE
from sos_vo.publish.dachs_rd import sql_type

REAL_GAIA = "1710099405832VAL-result.vot"

VOTABLE_TO_SQL = {"long": "bigint", "int": "integer", "short": "smallint", "float": "real",
                  "double": "double precision", "boolean": "boolean", "char": "text",
                  "unicodeChar": "text"}
"""How TAP services (DaCHS, the Gaia archive) map VOTable datatypes to ADQL types."""


def _numpy_dtype(spec: archive_schema.ColumnSpec) -> np.dtype:
    return np.dtype("U8") if spec.dtype == "str" else np.dtype(spec.dtype)


@pytest.mark.parametrize("key", sorted(ARCHIVE_TABLES))
def test_selected_columns_are_described_by_the_shared_schema(key):
    table = ARCHIVE_TABLES[key]
    assert len(set(table.column_names)) == len(table.columns), "a column is selected twice"
    for col in table.columns:
        spec = archive_schema.column_spec(table.name, col.name)
        assert (col.unit, col.ucd, col.description) == (spec.unit, spec.ucd or "", spec.description)
        # the SQL type agrees with what the DaCHS RD writer derives from the numpy dtype
        assert col.type == sql_type(Column(np.zeros(1, _numpy_dtype(spec)), name=col.name)), col.name


def test_every_schema_dtype_has_an_sql_type():
    dtypes = {s.dtype for specs in archive_schema.TABLE_COLUMNS.values() for s in specs}
    assert dtypes <= set(archive_schema.SQL_TYPES)


def test_unknown_column_is_named():
    with pytest.raises(KeyError, match="no_such_column"):
        archive_schema.column_spec(archive_schema.GAIA_SOURCE, "no_such_column")


def test_gaia_source_selection_matches_the_real_archive():
    # the FIELD attributes as the archive wrote them (astropy would re-spell the units)
    fields = {f.get("name"): f for f in ET.parse(realdata(REAL_GAIA)).getroot().iter()
              if f.tag.rsplit("}", 1)[-1] == "FIELD"}
    for col in GAIA_SOURCE.columns:
        ref = fields[col.name]
        assert col.type == VOTABLE_TO_SQL[ref.get("datatype")], col.name
        assert col.ucd == ref.get("ucd", ""), col.name
        assert col.unit == ref.get("unit"), col.name
