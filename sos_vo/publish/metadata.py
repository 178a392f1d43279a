"""Column metadata (unit, UCD, description, dtype) for every table the package writes.

Every writer in :mod:`sos_vo.publish` takes an astropy Table plus optional column metadata
and resolves, column by column, the unit, UCD and description it will write:

1. the metadata passed by the caller (``columns=``), then
2. the catalogue defaults of :data:`sos_vo.schema.CATALOGUE_COLUMNS` (by column name), then
3. what the Table column itself carries (``col.unit``, ``col.description``,
   ``col.meta["ucd"]``).

Column metadata is a :class:`sos_vo.schema.Column`; the metadata written is that column with
its T25 Table 6 name folded into the description (:func:`written_column`).

Logarithmic units
-----------------
log g and [Fe/H] are logarithms: log10(g / [cm s-2]) and log10 of an abundance ratio
relative to the Sun.  Astropy calls both ``dex`` (a *function unit*), which neither the FITS
standard (4.0, Sect. 4.3) nor VOUnit 1.0 (the unit syntax of VOTable 1.4) lists: astropy's
VOUnit parser even reads a bare ``dex`` as a deci-prefixed unit.  What each product writes
(checked with astropy 8.0, STILTS 3.4.7 votlint and fitsverify 4.20 in
tests/publish/test_votable_fits.py and test_cds.py):

* VOTable: version **1.3**, whose ``unit`` attribute follows the CDS "Standards for
  Astronomical Catalogues" syntax, which has logarithmic units: ``[cm/s2]`` for log g and
  ``[-]`` for [Fe/H] (:data:`CDS_LOG_UNITS`, the VizieR convention).  astropy reads them back
  without warnings as ``dex(cm / s2)`` and ``dex``; ``stilts votlint`` is silent; TOPCAT
  shows them.  (BINARY2 is part of VOTable 1.3.)
* CDS ReadMe: the same ``[cm/s2]`` and ``[-]``.
* FITS: ``TUNIT = 'dex'``.  FITS has no unit for a logarithm of a dimensionless ratio;
  fitsverify does not check TUNIT; astropy reads it as ``UnrecognizedUnit('dex')`` with a
  UnitsWarning (astropy's own writer drops such units altogether).  The physical base of
  log g (cm s-2) is spelled out in TCOMM, i.e. in the column description.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace

import astropy.units as u
import numpy as np
from astropy.table import Column as TableColumn
from astropy.table import MaskedColumn, Table

from ..exceptions import SchemaError
from ..schema import CATALOGUE_COLUMNS, Column

LOG_UNIT = "dex"
"""Unit string written for logarithmic quantities (log g, [Fe/H]) in VOTable and FITS."""

CDS_LOG_UNITS = {"phys.gravity": "[cm/s2]", "phys.abund": "[-]"}
"""CDS ReadMe unit for a ``dex`` column, by the UCD atom it describes (CDS standard units,
https://vizier.cds.unistra.fr/vizier/doc/catstd-3.2.htx)."""

FLAG_UCD = "meta.code.qual"
"""UCD for quality flags (UCD1+ list)."""


def written_column(col: Column) -> Column:
    """``col`` as the writers attach it: a paper name that differs from the column name is
    appended to the description (``... [T25 Table 6: ml_[Fe/H]]``) and cleared, so that applying
    this twice changes nothing."""
    if not col.paper_name:
        return col
    description = col.description
    if col.paper_name != col.name:
        description = f"{description} [T25 Table 6: {col.paper_name}]"
    return replace(col, description=description, paper_name="")


CATALOGUE_META: dict[str, Column] = {c.name: written_column(c) for c in CATALOGUE_COLUMNS}
"""Default metadata of the catalogue columns (T25 Table 6), by name, as written."""

ColumnsArg = Mapping[str, Column] | Iterable[Column] | None


def _as_mapping(columns: ColumnsArg) -> dict[str, Column]:
    if columns is None:
        return {}
    if isinstance(columns, Mapping):
        return {k: written_column(v) for k, v in columns.items()}
    return {c.name: written_column(c) for c in columns}


def _unit_string(col: TableColumn) -> str | None:
    if col.unit is None:
        return None
    return col.unit.to_string()


def resolve_metadata(table: Table, columns: ColumnsArg = None, *,
                     use_catalogue_defaults: bool = True) -> list[Column]:
    """Metadata for every column of ``table``, in table order (see the module docstring)."""
    given = _as_mapping(columns)
    out = []
    for name in table.colnames:
        col = table[name]
        if name in given:
            out.append(given[name])
        elif use_catalogue_defaults and name in CATALOGUE_META:
            out.append(CATALOGUE_META[name])
        else:
            out.append(Column(name, unit=_unit_string(col), ucd=col.meta.get("ucd", "") or "",
                              description=col.description or ""))
    return out


def check_required(table: Table, required: Sequence[str], what: str = "table") -> None:
    """Raise SchemaError naming every column of ``required`` that ``table`` lacks."""
    missing = [c for c in required if c not in table.colnames]
    if missing:
        raise SchemaError(f"{what} lacks {len(missing)} required column(s): {', '.join(missing)} "
                          f"(it has {len(table.colnames)} columns, {len(table)} rows)")


def check_complete(metas: Sequence[Column]) -> None:
    """Raise SchemaError naming the columns without a description or a UCD."""
    no_desc = [m.name for m in metas if not m.description.strip()]
    no_ucd = [m.name for m in metas if not m.ucd.strip()]
    problems = []
    if no_desc:
        problems.append(f"no description for {', '.join(no_desc)}")
    if no_ucd:
        problems.append(f"no UCD for {', '.join(no_ucd)}")
    if problems:
        raise SchemaError("column metadata incomplete: " + "; ".join(problems)
                          + " (pass columns=[Column(...)] or strict=False)")


def _cast_column(col: TableColumn, meta: Column) -> TableColumn:
    """Return ``col`` cast to ``meta.dtype``; refuse NaN or non-integral values for integers."""
    target = np.dtype(meta.dtype) if meta.dtype not in (None, "str") else None
    if meta.dtype == "str" and col.dtype.kind not in "US":
        raise SchemaError(f"column {meta.name!r} must hold strings, found dtype {col.dtype}")
    if target is None or col.dtype == target:
        return col
    data = np.asarray(col)
    mask = np.ma.getmaskarray(col) if isinstance(col, MaskedColumn) else np.zeros(len(col), bool)
    if target.kind in "iub":
        if data.dtype.kind == "f":
            bad = ~np.isfinite(data) & ~mask
            if bad.any():
                rows = np.flatnonzero(bad)
                raise SchemaError(
                    f"column {meta.name!r} must be {target} but holds {bad.sum()} NaN/inf value(s) "
                    f"(rows {', '.join(map(str, rows[:5]))}{', ...' if len(rows) > 5 else ''}); "
                    "fill them (e.g. 0 for missing identifiers) before writing")
            frac = (data != np.round(data)) & ~mask
            if frac.any():
                raise SchemaError(f"column {meta.name!r} must be {target} but holds {frac.sum()} "
                                  f"non-integral value(s), e.g. {data[frac][0]!r}")
        elif data.dtype.kind not in "iub":
            raise SchemaError(f"column {meta.name!r} must be {target}, found dtype {col.dtype}")
    elif target.kind == "f" and data.dtype.kind not in "iuf":
        raise SchemaError(f"column {meta.name!r} must be {target}, found dtype {col.dtype}")
    new = col.copy()
    filled = np.where(mask, 0, data) if target.kind in "iub" and data.dtype.kind == "f" else data
    cast = filled.astype(target)
    if isinstance(col, MaskedColumn):
        return MaskedColumn(cast, name=col.name, mask=mask, unit=col.unit, description=col.description,
                            meta=new.meta)
    return TableColumn(cast, name=col.name, unit=col.unit, description=col.description, meta=new.meta)


def prepare_table(table: Table, columns: ColumnsArg = None, *, required: Sequence[str] = (),
                  strict: bool = True, use_catalogue_defaults: bool = True,
                  what: str = "table") -> tuple[Table, list[Column]]:
    """Check ``table`` and return a copy ready for the writers with its resolved metadata.

    Parameters
    ----------
    table : astropy.table.Table
        Table to write.
    columns : mapping or iterable of Column, optional
        Metadata overriding the catalogue defaults and what the columns carry.
    required : sequence of str
        Columns that must be present (e.g. :data:`sos_vo.schema.CATALOGUE_NAMES`).
    strict : bool
        If True, every column needs a description and a UCD.
    use_catalogue_defaults : bool
        Look columns up in :data:`CATALOGUE_META` by name.
    what : str
        Name of the table in error messages.

    Returns
    -------
    (Table, list of Column)
        The copy (columns cast to the declared dtypes, metadata attached as ``unit``,
        ``description`` and ``meta["ucd"]``) and the metadata in column order.

    Raises
    ------
    SchemaError
        Missing required columns, incomplete metadata (strict), NaN or non-integral values
        in an integer column, or a dtype that cannot be cast.
    """
    check_required(table, required, what)
    metas = resolve_metadata(table, columns, use_catalogue_defaults=use_catalogue_defaults)
    if strict:
        check_complete(metas)
    out = Table(meta=dict(table.meta))
    for meta in metas:
        col = _cast_column(table[meta.name], meta)
        col = col.copy()
        col.unit = None  # units are written as strings by each writer (see module docstring)
        col.description = meta.description or None
        if meta.ucd:
            col.meta["ucd"] = meta.ucd
        out[meta.name] = col
    return out, metas


def unit_string(meta: Column, fmt: str) -> str | None:
    """Unit of ``meta`` in the syntax ``fmt`` ("cds" for VOTable 1.3 and ReadMe, or "fits").

    ``dex`` becomes ``[cm/s2]`` (log g) or ``[-]`` in CDS syntax (:data:`CDS_LOG_UNITS`, chosen
    by the last UCD word) and stays ``dex`` in FITS (see the module docstring).  Other units
    are converted with astropy; a unit astropy cannot express in ``fmt`` is written as given.
    """
    if not meta.unit:
        return None
    if meta.unit == LOG_UNIT:
        if fmt == "fits":
            return LOG_UNIT
        main = meta.ucd.split(";")[-1]
        return next((unit for atom, unit in CDS_LOG_UNITS.items() if main.startswith(atom)), "[-]")
    try:
        return u.Unit(meta.unit).to_string(fmt)
    except ValueError:
        return meta.unit
