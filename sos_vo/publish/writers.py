"""One entry point for every table the package writes, and a reader that undoes the unit choices."""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from pathlib import Path

import astropy.units as u
from astropy.table import Table

from ..io import read_checked, restore_log_units
from ..schema import CATALOGUE_NAMES
from .fits import write_fits
from .metadata import LOG_UNIT, ColumnsArg
from .provenance import (
    PROVENANCE_META_KEY,
    Provenance,
    provenance_from_fits_header,
    provenance_from_infos,
)
from .votable import write_votable

FORMATS: tuple[str, ...] = ("votable", "votable-tabledata", "fits", "cds")
"""Output formats: VOTable BINARY2, VOTable TABLEDATA, FITS binary table, CDS ReadMe + data."""

SUFFIX_FORMATS = {".vot": "votable", ".xml": "votable", ".votable": "votable",
                  ".fits": "fits", ".fit": "fits", ".fts": "fits"}
"""Format guessed from a file suffix when none is given."""


def guess_format(path: str | os.PathLike) -> str:
    """Format for ``path`` from its suffix (a path without a suffix is a CDS folder)."""
    suffix = Path(path).suffix.lower()
    if suffix in SUFFIX_FORMATS:
        return SUFFIX_FORMATS[suffix]
    if suffix == "":
        return "cds"
    raise ValueError(f"cannot tell the format of {path} from its suffix {suffix!r}: "
                     f"pass one of {', '.join(FORMATS)}")


def write_table(table: Table, path: str | os.PathLike, fmt: str | None = None, *,
                columns: ColumnsArg = None, provenance: Provenance | dict | None = None,
                required: Sequence[str] = (), strict: bool = True, description: str | None = None,
                overwrite: bool = False, **cds_options) -> Path:
    """Write any table of the package in ``fmt`` (see :data:`FORMATS`).

    Parameters
    ----------
    table : astropy.table.Table
        Table to write.
    path : path-like
        Output file (VOTable, FITS) or folder (CDS).
    fmt : str, optional
        One of :data:`FORMATS`; guessed from the suffix of ``path`` if omitted.
    columns, provenance, required, strict, description, overwrite
        As in :func:`sos_vo.publish.votable.write_votable`.
    **cds_options
        Passed to :func:`sos_vo.publish.cds.write_cds` (title, authors, ...).

    Returns
    -------
    pathlib.Path
        What was written.
    """
    fmt = fmt or guess_format(path)
    common = dict(columns=columns, provenance=provenance, required=required, strict=strict,
                  description=description, overwrite=overwrite)
    if fmt in ("votable", "votable-tabledata"):
        return write_votable(table, path, encoding="tabledata" if fmt.endswith("tabledata")
                             else "binary2", **common)
    if fmt == "fits":
        return write_fits(table, path, **common)
    if fmt == "cds":
        from .cds import write_cds

        return write_cds(table, path, **common, **cds_options)
    raise ValueError(f"unknown format {fmt!r}: expected one of {', '.join(FORMATS)}")


def write_catalogue(table: Table, path: str | os.PathLike, fmt: str | None = None,
                    **kwargs) -> Path:
    """Write the final catalogue (T25 Table 6): every column of CATALOGUE_COLUMNS is required."""
    kwargs.setdefault("required", CATALOGUE_NAMES)
    kwargs.setdefault("description", "SoS-ML: Teff, log g and [Fe/H] from Gaia DR3 and "
                      "SDSS/SkyMapper photometry (method of Turchi et al. 2025)")
    return write_table(table, path, fmt, **kwargs)


def _recover_provenance(path: str | os.PathLike, table: Table) -> None:
    """Put the provenance of a file written by this package back into ``table.meta``."""
    fmt = SUFFIX_FORMATS.get(Path(path).suffix.lower())
    if fmt == "fits" and "SOSVOVER" in table.meta:
        table.meta[PROVENANCE_META_KEY] = provenance_from_fits_header(table.meta)
    elif fmt == "votable":
        from astropy.io.votable import parse

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            resources = parse(str(path)).resources
        infos = [i for r in resources for i in r.infos]
        if any(i.name == "sos_vo_version" for i in infos):
            table.meta[PROVENANCE_META_KEY] = provenance_from_infos(infos)


def read_table(path: str | os.PathLike, **kwargs) -> Table:
    """Read a table written by this package, restoring the metadata astropy does not.

    FITS ``TUNIT = 'dex'`` becomes ``u.dex`` again (see :mod:`sos_vo.publish.metadata` for why
    FITS carries the non-standard ``dex``), and ``TUCDn`` / ``TCOMMn`` go back into each
    column's ``meta["ucd"]`` and ``description``; FITS byte strings become ``str`` again.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=f".*'{LOG_UNIT}' did not parse as fits unit",
                                category=u.UnitsWarning)
        table = read_checked(Path(path), lambda p: Table.read(p, **kwargs))  # named errors
    table.convert_bytestring_to_unicode()  # FITS strings come back as bytes: give str, as written
    _recover_provenance(path, table)
    for i, col in enumerate(table.itercols(), 1):
        if f"TUCD{i}" in table.meta:
            col.meta["ucd"] = table.meta.pop(f"TUCD{i}")
        if f"TCOMM{i}" in table.meta:
            col.description = table.meta.pop(f"TCOMM{i}")
        if isinstance(col.unit, u.UnrecognizedUnit) and col.unit.name == LOG_UNIT:
            col.unit = u.dex
    restore_log_units(table)  # a "dex" read by astropy's VOUnit parser (sos_vo.io)
    return table
