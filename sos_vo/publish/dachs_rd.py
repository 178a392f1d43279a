"""Write a GAVO DaCHS resource descriptor (RD) for tables sos-vo produced or mirrors.

A data centre publishes a catalogue with DaCHS by putting a *resource directory* under its
inputs folder (``/var/gavo/inputs/<name>``) and importing it::

    <name>/q.rd             the resource descriptor written here
    <name>/data/<t>.vot     one VOTable per table (imported with DaCHS's voTableGrammar)

    dachs imp <name>/q       # creates <schema>.<table>, ADQL-queryable over TAP
    dachs serve reload

Column names, units, UCDs and descriptions come from the table (astropy ``Column.unit``,
``Column.description``, ``Column.meta['ucd']``) or from an explicit column specification;
tables with ``pos.eq.ra;meta.main`` / ``pos.eq.dec;meta.main`` columns get DaCHS's
``//scs#q3cindex`` mixin (a q3c index so that ADQL cone and polygon queries are fast).
See the DaCHS reference documentation, "Resource Descriptor Element Reference".
"""

from __future__ import annotations

import datetime
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import numpy as np
from astropy.table import Table

from ..archives.exceptions import ArchiveError
from ..io import atomic_path, check_writable
from ..schema import CATALOGUE_COLUMNS, Column
from ..schema.column import adql_type, dtype_name

INTEGER_NULLS = {"smallint": -32768, "integer": -2147483648, "bigint": -9223372036854775808}
"""VOTable null values of integer columns (the most negative value of each type)."""

SQL_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")
"""DaCHS schema, table and column names must be plain (unquoted) SQL identifiers."""


def sql_type(column) -> str:
    """PostgreSQL type DaCHS uses for an astropy column (:func:`sos_vo.schema.adql_type` of its dtype)."""
    try:
        return adql_type(column.dtype)
    except ValueError:
        raise ArchiveError(f"column {column.name!r} has dtype {column.dtype}, which a DaCHS RD "
                           "cannot hold (use numbers, booleans or strings)") from None


def _unit_text(unit) -> str | None:
    """VOUnit spelling of an astropy unit; astropy's own where VOUnit has none (``dex``, the
    logarithms of the catalogue, see :mod:`sos_vo.publish.metadata`)."""
    if unit is None:
        return None
    try:
        return unit.to_string("vounit") or None
    except ValueError:
        return unit.to_string() or None


def columns_from_table(table: Table, ucds: Mapping[str, str] | None = None) -> list[Column]:
    """Column specifications (dtype, unit, UCD, description) read from an astropy Table."""
    ucds = dict(ucds or {})
    out = []
    for col in table.itercols():
        sql_type(col)  # refuse a dtype without an ADQL type here, naming the column
        out.append(Column(col.name, dtype=dtype_name(col.dtype), unit=_unit_text(col.unit),
                          ucd=ucds.get(col.name, col.meta.get("ucd", "")),
                          description=col.description or ""))
    return out


def _check_identifier(kind: str, name: str) -> str:
    if not SQL_IDENTIFIER.match(name):
        raise ArchiveError(f"DaCHS {kind} name {name!r} is not a lower-case SQL identifier "
                           "(letters, digits and _, not starting with a digit); for VizieR "
                           "names use sos_vo.archives.conf.sql_table_name")
    return name


def _column_xml(col: Column, primary: str | None) -> str:
    _check_identifier("column", col.name)
    attrs = [f"name={quoteattr(col.name)}", f"type={quoteattr(col.adql_type)}"]
    if col.unit:
        attrs.append(f"unit={quoteattr(col.unit)}")
    if col.ucd:
        attrs.append(f"ucd={quoteattr(col.ucd)}")
    # DaCHS takes descriptions as plain text; keep them on one line.
    attrs.append(f"description={quoteattr(' '.join(col.description.split()) or col.name)}")
    if col.name == primary:
        attrs.append('required="True"')
    elif col.adql_type in INTEGER_NULLS:
        # integers need an explicit VOTable null value (DaCHS warns otherwise)
        return ("    <column " + " ".join(attrs) + ">"
                f'<values nullLiteral="{INTEGER_NULLS[col.adql_type]}"/></column>')
    return "    <column " + " ".join(attrs) + "/>"


def _make_xml(name: str, columns: Sequence[Column]) -> list[str]:
    """``<make>`` element; VOTable booleans arrive as integers, so they are mapped explicitly."""
    booleans = [c.name for c in columns if c.adql_type == "boolean"]
    if not booleans:
        return [f"    <make table={quoteattr(name)}/>"]
    maps = [f'        <map key={quoteattr(b)} nullExpr="None">bool(@{b})</map>' for b in booleans]
    return [f"    <make table={quoteattr(name)}>", '      <rowmaker idmaps="*">', *maps,
            "      </rowmaker>", "    </make>"]


def _has_position(columns: Sequence[Column]) -> bool:
    ucds = {c.ucd for c in columns}
    return "pos.eq.ra;meta.main" in ucds and "pos.eq.dec;meta.main" in ucds


def rd_xml(schema: str, tables: Mapping[str, Sequence[Column]], *, title: str,
           description: str, resdir: str, creator: str = "sos-vo",
           primary: Mapping[str, str] | None = None,
           table_descriptions: Mapping[str, str] | None = None) -> str:
    """The text of an RD publishing ``tables`` (name -> columns) in ``schema``.

    Each table ``t`` is filled from ``data/t.vot``; ``resdir`` is the resource directory
    relative to DaCHS's inputs folder (the folder the RD lives in).
    """
    _check_identifier("schema", schema)
    primary = dict(primary or {})
    table_descriptions = dict(table_descriptions or {})
    today = datetime.date.today().isoformat()
    parts = [
        f"<resource schema={quoteattr(schema)} resdir={quoteattr(resdir)}>",
        f'  <meta name="title">{escape(title)}</meta>',
        f'  <meta name="description">{escape(description)}</meta>',
        f'  <meta name="creationDate">{today}T00:00:00Z</meta>',
        '  <meta name="subject">stars</meta>',
        f'  <meta name="creator.name">{escape(creator)}</meta>',
        '  <meta name="content.type">Catalog</meta>',
        "",
    ]
    for name, columns in tables.items():
        _check_identifier("table", name)
        key = primary.get(name)
        key_attr = f" primary={quoteattr(key)}" if key else ""
        parts.append(f'  <table id={quoteattr(name)} onDisk="True" adql="True"{key_attr}>')
        parts.append(f'    <meta name="description">'
                     f'{escape(table_descriptions.get(name, title))}</meta>')
        if _has_position(columns):
            parts.append("    <mixin>//scs#q3cindex</mixin>")
        parts.extend(_column_xml(c, key) for c in columns)
        parts.append("  </table>")
        parts.append("")
    for name, columns in tables.items():
        parts += [
            f"  <data id={quoteattr('import_' + name)}>",
            f"    <sources>data/{name}.vot</sources>",
            "    <voTableGrammar/>",
            *_make_xml(name, columns),
            "  </data>",
            "",
        ]
    parts.append("</resource>")
    return "\n".join(parts) + "\n"


def _votable_ready(table: Table, columns: Sequence[Column]) -> Table:
    """A copy with exactly ``columns``, in order, masked values kept as VOTable nulls."""
    missing = [c.name for c in columns if c.name not in table.colnames]
    if missing:
        raise ArchiveError(f"table lacks column(s) {', '.join(missing)} named in the RD")
    out = Table(table[[c.name for c in columns]], masked=False, copy=True)
    out.meta.clear()
    for c in columns:
        col = out[c.name]
        if col.dtype.kind == "U":  # fixed-width text, no astropy "object" columns
            out[c.name] = col.astype(str)
        if np.ma.isMaskedArray(col) and col.dtype.kind in "iu":
            col.fill_value = np.iinfo(col.dtype).min
    return out


def write_rd(folder: str | os.PathLike, schema: str, tables: Mapping[str, Table], *,
             title: str, description: str, columns: Mapping[str, Sequence[Column]] | None = None,
             primary: Mapping[str, str] | None = None,
             table_descriptions: Mapping[str, str] | None = None,
             creator: str = "sos-vo", overwrite: bool = False) -> Path:
    """Write a DaCHS resource directory: ``folder/q.rd`` and ``folder/data/<table>.vot``.

    Parameters
    ----------
    folder : path
        The resource directory; its name is the first part of the RD id
        (``dachs imp <folder name>/q``) once copied under ``/var/gavo/inputs``.
    schema : str
        Database schema of the tables (an SQL identifier).
    tables : mapping
        Table name -> astropy Table with the rows to publish.
    columns : mapping, optional
        Table name -> column specifications; by default read from each table.
    primary : mapping, optional
        Table name -> primary-key column.
    overwrite : bool
        Replace an existing ``folder``.

    Returns
    -------
    Path of the RD file.
    """
    folder = check_writable(folder, overwrite)
    specs = {name: list((columns or {}).get(name) or columns_from_table(t))
             for name, t in tables.items()}
    text = rd_xml(schema, specs, title=title, description=description, resdir=folder.name,
                  creator=creator,
                  primary=primary, table_descriptions=table_descriptions)
    with atomic_path(folder, overwrite=overwrite) as tmp:
        (tmp / "data").mkdir(parents=True)
        (tmp / "q.rd").write_text(text)
        for name, table in tables.items():
            _votable_ready(table, specs[name]).write(tmp / "data" / f"{name}.vot",
                                                     format="votable")
    return Path(folder) / "q.rd"


def write_catalogue_rd(catalogue: Table, folder: str | os.PathLike, *, schema: str = "sosvo",
                       table: str = "sos_ml", title: str = "Survey of Surveys ML catalogue",
                       description: str | None = None, overwrite: bool = False) -> Path:
    """RD for a catalogue written by sos-vo (columns of T25 Table 6, see ``schema.CATALOGUE_COLUMNS``).

    Units, UCDs and descriptions come from :data:`sos_vo.schema.CATALOGUE_COLUMNS` for the
    catalogue's columns, from the table itself for any others.
    """
    known = {c.name: c for c in CATALOGUE_COLUMNS}
    specs = []
    for col in columns_from_table(catalogue):
        ref = known.get(col.name)
        if ref is not None:
            col = replace(col, unit=ref.unit, ucd=ref.ucd,
                          description=f"{ref.description} (T25 Table 6: {ref.paper_name})")
        specs.append(col)
    primary = "sosid" if "sosid" in catalogue.colnames else None
    description = description or (
        "Teff, log g and [Fe/H] from Gaia DR3 + SDSS/SkyMapper photometry with an ensemble of "
        "multi-layer perceptrons (method of Turchi et al. 2025), produced by sos-vo.")
    return write_rd(folder, schema, {table: catalogue}, title=title, description=description,
                    columns={table: specs}, primary={table: primary} if primary else None,
                    overwrite=overwrite)
