"""Column metadata as the writers attach it: the catalogue defaults, the T25 Table 6 names."""

from __future__ import annotations

from astropy.table import Table

from sos_vo.publish.metadata import CATALOGUE_META, resolve_metadata, written_column
from sos_vo.schema import CATALOGUE_COLUMNS, Column


def test_paper_name_goes_into_the_written_description():
    ml_feh = next(c for c in CATALOGUE_COLUMNS if c.name == "ml_feh")
    written = written_column(ml_feh)
    assert written.description == f"{ml_feh.description} [T25 Table 6: ml_[Fe/H]]"
    assert written.paper_name == ""
    assert written_column(written) == written
    source = next(c for c in CATALOGUE_COLUMNS if c.name == "source")
    assert written_column(source).description == source.description  # same name in the paper


def test_catalogue_columns_passed_as_metadata_equal_the_defaults():
    table = Table({c.name: [0] for c in CATALOGUE_COLUMNS[:6]})
    defaults = resolve_metadata(table)
    assert resolve_metadata(table, CATALOGUE_COLUMNS) == defaults
    assert resolve_metadata(table, CATALOGUE_META) == defaults
    assert resolve_metadata(table, list(CATALOGUE_META.values())) == defaults


def test_caller_metadata_wins_over_defaults_and_table():
    table = Table({"ra": [1.0], "pm": [2.0]})
    table["pm"].description = "from the table"
    metas = resolve_metadata(table, [Column("ra", unit="rad", ucd="pos.eq.ra", description="mine")])
    assert metas[0] == Column("ra", unit="rad", ucd="pos.eq.ra", description="mine")
    assert metas[1] == Column("pm", description="from the table")
