"""The one column model: :class:`sos_vo.schema.Column`, its ADQL type, and that no second class
describing a column exists in the package."""

from __future__ import annotations

import ast
import dataclasses
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from sos_vo.schema import CATALOGUE_COLUMNS, CATALOGUE_NAMES, STR, Column, adql_type
from sos_vo.schema import archive as archive_schema

PACKAGE = Path(__file__).resolve().parents[2] / "sos_vo"

COLUMN_FIELDS = {"name", "unit", "ucd", "description"}
"""Fields that make a class a description of a column."""


@pytest.mark.parametrize("dtype, expected", [
    ("int8", "smallint"), ("uint8", "smallint"), ("int16", "smallint"), ("int32", "integer"),
    ("uint32", "integer"), ("int64", "bigint"), ("float16", "real"), ("float32", "real"),
    ("float64", "double precision"), ("bool", "boolean"), (STR, "text"), ("<U12", "text"),
    ("S4", "text"), (np.dtype("int16"), "smallint"),
])
def test_adql_type_of_numpy_dtypes(dtype, expected):
    assert adql_type(dtype) == expected


@pytest.mark.parametrize("dtype", ["object", "datetime64[s]", "complex128"])
def test_dtype_without_adql_type_is_named(dtype):
    with pytest.raises(ValueError, match=re.escape(str(np.dtype(dtype)))):
        adql_type(dtype)


def test_column_without_dtype_has_no_adql_type():
    with pytest.raises(ValueError, match="'pm' has no dtype"):
        _ = Column("pm", unit="mas/yr").adql_type


def test_column_is_frozen_and_takes_keywords_after_the_name():
    col = Column("ra", dtype="float64", unit="deg", ucd="pos.eq.ra;meta.main")
    with pytest.raises(dataclasses.FrozenInstanceError):
        col.unit = "rad"  # type: ignore[misc]
    with pytest.raises(TypeError):
        Column("ra", "float64")  # type: ignore[misc]
    assert (col.description, col.paper_name) == ("", "")


def test_catalogue_columns_are_t25_table_6():
    assert len(CATALOGUE_COLUMNS) == 24 == len(set(CATALOGUE_NAMES))
    for col in CATALOGUE_COLUMNS:
        assert col.paper_name and col.ucd and col.description and col.dtype, col.name
        col.adql_type  # every catalogue column has one  # noqa: B018


def test_archive_columns_have_dtype_and_description():
    for table, columns in archive_schema.TABLE_COLUMNS.items():
        assert len({c.name for c in columns}) == len(columns), table
        for col in columns:
            assert col.dtype and col.description and col.ucd, (table, col.name)
            assert col.paper_name == "", (table, col.name)


def _column_like_classes() -> list[str]:
    """``module:Class`` of every class in the package whose annotated fields include
    :data:`COLUMN_FIELDS` (read from the source, nothing imported)."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ClassDef):
                fields = {s.target.id for s in node.body
                          if isinstance(s, ast.AnnAssign) and isinstance(s.target, ast.Name)}
                if COLUMN_FIELDS <= fields:
                    found.append(f"{path.relative_to(PACKAGE.parent).with_suffix('')}:{node.name}")
    return found


def test_one_class_describes_a_column():
    assert _column_like_classes() == ["sos_vo/schema/column:Column"]


def test_schema_imports_neither_numpy_nor_astropy():
    probe = ("import sys, sos_vo.schema; "
             "print(sorted(m for m in ('numpy', 'astropy') if m in sys.modules))")
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         timeout=120, check=True)
    assert run.stdout.strip() == "[]"
