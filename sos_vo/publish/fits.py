"""FITS binary-table writer: TUNIT, TUCD, TCOMM, provenance keywords, CHECKSUM/DATASUM.

astropy's :func:`astropy.io.fits.table_to_hdu` writes ``TUNITn`` only.  We add ``TUCDn`` (the
column's UCD, a widely used convention of the HEASARC/CDS, ignored by fitsverify) and
``TCOMMn`` (the column description, FITS convention registered with the IAU FITS Working
Group), and the provenance keywords of :meth:`sos_vo.publish.provenance.Provenance.fits_cards`.
Long strings use the ``CONTINUE`` convention (part of the FITS standard since 4.0,
Sect. 4.2.1.2).  ``CHECKSUM``/``DATASUM`` are written in every HDU (FITS 4.0 Appendix J).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from pathlib import Path

from astropy.io import fits
from astropy.table import Table
from astropy.units import UnitsWarning

from ..io import atomic_path
from ..schema import Column
from .metadata import ColumnsArg, prepare_table, unit_string
from .provenance import PROVENANCE_META_KEY, Provenance, resolve_provenance

DEFAULT_EXTNAME = "SOS_ML"
"""EXTNAME of the table HDU when the caller gives none."""


def build_hdu(table: Table, metas: Sequence[Column], prov: Provenance, *,
              extname: str = DEFAULT_EXTNAME, description: str | None = None) -> fits.BinTableHDU:
    """Binary-table HDU of a table prepared by :func:`sos_vo.publish.metadata.prepare_table`."""
    clean = table.copy(copy_data=False)
    clean.meta = {}
    for col in clean.itercols():
        col.meta = {}
        col.description = None
    hdu = fits.table_to_hdu(clean)
    header = hdu.header
    for i, meta in enumerate(metas, 1):
        if header[f"TTYPE{i}"] != meta.name:  # pragma: no cover - astropy keeps column order
            raise RuntimeError(f"column order changed writing {meta.name}")
        header.comments[f"TTYPE{i}"] = meta.description[:47] if meta.description else ""
        unit = unit_string(meta, "fits")
        if unit:
            hdu.columns[i - 1].unit = unit  # keeps astropy's column definitions in sync
        # astropy regroups its own column keywords on writing; TUCDn/TCOMMn follow them
        if meta.ucd:
            header[f"TUCD{i}"] = (meta.ucd, "UCD1+")
        if meta.description:
            header[f"TCOMM{i}"] = meta.description
    header["EXTNAME"] = (extname, "table name")
    header["LONGSTRN"] = ("OGIP 1.0", "CONTINUE long-string convention is used")
    if description:
        header["COMMENT"] = description
    for key, value, comment in prov.fits_cards():
        header[key] = (value, _fitting_comment(key, value, comment))
    return hdu


CARD_LENGTH = 80
"""Characters of a FITS header card (FITS 4.0, Sect. 4.1)."""


def _fitting_comment(key: str, value, comment: str) -> str:
    """``comment`` if it fits on the card of ``key = value``, else no comment.

    astropy cuts a comment that does not fit and prints a VerifyWarning to the user (e.g. for
    a long synthetic data-release name); leaving the comment out keeps the value whole and the
    output quiet.  A value too long for one card is written with CONTINUE cards, which carry
    the comment.
    """
    used = len(str(fits.Card(key, value)).rstrip())
    if used > CARD_LENGTH:
        return comment
    return comment if used + len(" / ") + len(comment) <= CARD_LENGTH else ""


def write_fits(table: Table, path: str | os.PathLike, *, columns: ColumnsArg = None,
               provenance: Provenance | dict | None = None, required: Sequence[str] = (),
               strict: bool = True, extname: str = DEFAULT_EXTNAME, description: str | None = None,
               overwrite: bool = False) -> Path:
    """Write ``table`` as a FITS binary table with full column metadata and provenance.

    Parameters
    ----------
    table, path, columns, provenance, required, strict, overwrite
        As in :func:`sos_vo.publish.votable.write_votable`.
    extname : str
        EXTNAME of the table HDU.
    description : str, optional
        Table description (a COMMENT card).

    Returns
    -------
    pathlib.Path
        The written file.
    """
    prepared, metas = prepare_table(table, columns, required=required, strict=strict)
    prov = resolve_provenance(table.meta, provenance)
    prepared.meta.pop(PROVENANCE_META_KEY, None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnitsWarning)
        hdu = build_hdu(prepared, metas, prov, extname=extname, description=description)
    primary = fits.PrimaryHDU()
    primary.header["CREATOR"] = (f"sos-vo {prov.package_version}", "software that wrote this file")
    primary.header["DATE"] = (prov.date, "file creation date (UTC)")
    with atomic_path(path, overwrite=overwrite) as tmp:
        fits.HDUList([primary, hdu]).writeto(tmp, checksum=True)
    return Path(path)
