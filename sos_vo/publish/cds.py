"""CDS-ready output for a VizieR submission: ReadMe (byte-by-byte description) + fixed-width data.

Built with CDS's own ``cdspyreadme``.  The folder written holds

``ReadMe``
    title, authors, abstract, description (with the provenance), file summary and the
    byte-by-byte description with units in CDS syntax (``[cm/s2]`` for log g, ``[-]`` for
    [Fe/H]; see :mod:`sos_vo.publish.metadata`), value limits, ``?`` for columns with blanks,
    and the column notes as ``Note (n): ...``;
``<name>.dat``
    the fixed-width data file, written by cdspyreadme (``CDSTable.makeCDSTable``);
``<name>.mrt`` (``mrt=True``)
    the same table as a single AAS Machine-Readable Table (header + data), which STILTS
    (``ifmt=mrt``) and astropy (``format="ascii.mrt"``) read.  Neither library writes one
    that does: cdspyreadme's ``CDSTablesMaker.toMRT`` (1.9.2) leaves a blank line and an empty
    ``Table:`` that STILTS refuses ("Unparsable MRT format line"), and astropy's
    ``ascii.mrt`` writer (8.0) stops on float32 columns (ValueError) and masked float32
    columns (TypeError), which the catalogue has.  So the MRT is the three header lines
    (Title, Authors, Table) put before cdspyreadme's own byte-by-byte block, taken from the
    ReadMe, and cdspyreadme's data file.

CDS asks for plain ASCII: any non-ASCII character in the title, authors, descriptions, notes
or a text value is refused with :class:`CDSFormatError` naming the field and the character.
"""

from __future__ import annotations

import io
import os
import re
import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from astropy.table import MaskedColumn, Table

from ..exceptions import EmptyInputError, SosVoError
from ..io import atomic_path
from .metadata import ColumnsArg, prepare_table, unit_string
from .provenance import Provenance, resolve_provenance

README_WIDTH = 80
"""CDS ReadMe lines are at most 80 characters (CDS "Standards for Astronomical Catalogues")."""

DIMENSIONLESS = "---"
"""CDS unit of a dimensionless or unitless column."""

DEFAULT_DATA_NAME = "table1.dat"


class CDSFormatError(SosVoError, ValueError):
    """Text that cannot go into a CDS ReadMe (non-ASCII characters, empty title, ...)."""


def check_ascii(field: str, text: str) -> str:
    """Return ``text`` if it is printable ASCII, else raise CDSFormatError naming ``field``."""
    for i, ch in enumerate(text):
        if ord(ch) > 126 or (ord(ch) < 32 and ch not in "\n"):
            raise CDSFormatError(
                f"{field} contains the non-ASCII character {ch!r} (U+{ord(ch):04X}) at position {i}: "
                f"...{text[max(0, i - 20):i + 20]!r}...; CDS ReadMe files must be plain ASCII "
                "(write e.g. 'Teff' for 'T_eff', 'deg' for the degree sign)")
    return text


def _cds_ready_column(col) -> MaskedColumn | np.ndarray:
    """Booleans as 0/1 integers; NaN as masked blanks (cdspyreadme marks them with '?')."""
    data = np.asarray(col)
    mask = np.ma.getmaskarray(col) if isinstance(col, MaskedColumn) else np.zeros(len(col), bool)
    if data.dtype.kind == "b":
        data = data.astype(np.int8)
    elif data.dtype.kind == "f":
        mask = mask | ~np.isfinite(data)
    elif data.dtype.kind == "S":
        data = np.char.decode(data, "ascii")
    if mask.any():
        return MaskedColumn(data, mask=mask, name=col.name)
    return MaskedColumn(data, name=col.name) if isinstance(col, MaskedColumn) else data


def _wrap_note(number: int, text: str) -> list[str]:
    head = f"Note ({number}): "
    return textwrap.wrap(head + text, width=README_WIDTH, subsequent_indent=" " * 4)


def _tidy_readme(text: str) -> str:
    """Drop the blank line and doubled rule that cdspyreadme's template leaves after a byte-by-byte
    block (``"...\n\n----"``, ``"----\n\n----"``)."""
    rule = "-" * README_WIDTH
    text = re.sub(rf"\n{rule}\n\n{rule}\n", f"\n{rule}\n", text)
    return re.sub(rf"(\S)\n\n({rule}\n)", r"\1\n\2", text)


def _mrt_text(readme: str, data_name: str, data: str, title: str, authors: str,
              table_description: str) -> str:
    """AAS MRT: Title/Authors/Table lines, the byte-by-byte block of ``readme``, the data."""
    lines = readme.splitlines()
    start = next(i for i, ln in enumerate(lines)
                 if ln.startswith(f"Byte-by-byte Description of file: {data_name}"))
    block = []
    for ln in lines[start:]:
        if not ln.strip():
            break
        block.append(ln)
    while len(block) > 1 and block[-1].startswith("-") and block[-2].startswith("-"):
        block.pop()  # cdspyreadme's template adds a second closing rule
    head = [f"Title: {title}", f"Authors: {authors}", f"Table: {table_description}",
            "=" * README_WIDTH]
    return "\n".join(head + block) + "\n" + data


def write_cds(table: Table, path: str | os.PathLike, *, title: str, authors: Sequence[str],
              description: str | None = None, abstract: str | None = None,
              table_description: str | None = None, notes: Mapping[str, str] | None = None,
              keywords: Sequence[str] = (), catalogue_name: str = "", bibcode: str = "",
              data_name: str = DEFAULT_DATA_NAME, mrt: bool = True, columns: ColumnsArg = None,
              provenance: Provenance | dict | None = None, required: Sequence[str] = (),
              strict: bool = True, overwrite: bool = False) -> Path:
    """Write a CDS-ready folder (``ReadMe`` + fixed-width ``data_name`` [+ MRT]).

    Parameters
    ----------
    table : astropy.table.Table
        Table to write.
    path : path-like
        Output folder (written atomically: complete or absent).
    title : str
        Catalogue title.
    authors : sequence of str
        Authors as CDS writes them (``"Turchi A."``); the first is the first author.
    description : str, optional
        Description of the data (the provenance is appended).
    abstract : str, optional
        Abstract of the accompanying paper.
    table_description : str, optional
        One-line explanation of the data file in the file summary.
    notes : mapping of column name to str, optional
        Column notes (``Note (n): ...`` below the byte-by-byte description).
    keywords : sequence of str
        Keywords (ReadMe ``Keywords:`` line).
    catalogue_name, bibcode : str
        VizieR designation and bibcode if already known.
    data_name : str
        Name of the data file.
    mrt : bool
        Also write ``<data_name stem>.mrt`` (AAS MRT, one file).
    columns, provenance, required, strict, overwrite
        As in :func:`sos_vo.publish.votable.write_votable`.

    Returns
    -------
    pathlib.Path
        The folder.

    Raises
    ------
    CDSFormatError
        Non-ASCII text, an empty title or no authors, or a note for an unknown column.
    """
    import cdspyreadme
    from cdspyreadme import CDSTablesMaker

    notes = dict(notes or {})
    if not title.strip():
        raise CDSFormatError("the CDS ReadMe needs a title (--title)")
    if not authors:
        raise CDSFormatError("the CDS ReadMe needs at least one author (--author)")
    if len(table) == 0:
        raise EmptyInputError("the table has no rows: a CDS data file needs at least one")
    unknown = sorted(set(notes) - set(table.colnames))
    if unknown:
        raise CDSFormatError(f"notes given for unknown column(s): {', '.join(unknown)}")
    prepared, metas = prepare_table(table, columns, required=required, strict=strict)
    prov = resolve_provenance(table.meta, provenance)
    full_description = " ".join(p for p in (description, prov.text()) if p)
    table_description = table_description or title
    texts = {"title": title, "description": full_description, "abstract": abstract or "",
             "table description": table_description, "keywords": "; ".join(keywords),
             **{f"author {a!r}": a for a in authors},
             **{f"description of column {m.name!r}": m.description for m in metas},
             **{f"note on column {k!r}": v for k, v in notes.items()}}
    for field, text in texts.items():
        check_ascii(field, text)
    for m in metas:
        if prepared[m.name].dtype.kind in "US":
            for value in np.unique(np.ma.filled(np.ma.asarray(prepared[m.name]).astype(str), "")):
                check_ascii(f"a value of column {m.name!r}", str(value))

    cds_table = Table([_cds_ready_column(prepared[m.name]) for m in metas], names=prepared.colnames)
    maker = CDSTablesMaker()
    maker.title = title
    maker.author = authors[0]
    maker.authors = ", ".join(authors)
    maker.abstract = abstract or description or title
    maker.more_description = full_description
    maker.keywords = ", ".join(keywords)
    maker.catalogue = catalogue_name
    maker.date = prov.date[:4]
    added = maker.addTable(cds_table, name=data_name, description=table_description)
    added.notes = []
    for number, meta in enumerate((m for m in metas if m.name in notes), 1):
        added.notes += _wrap_note(number, notes[meta.name])
    numbers = {m.name: i for i, m in enumerate((m for m in metas if m.name in notes), 1)}
    for meta, cds_col in zip(metas, added.get_column(), strict=True):
        cds_col.unit = unit_string(meta, "cds") or DIMENSIONLESS
        cds_col.description = meta.description + (f" ({numbers[meta.name]})"
                                                  if meta.name in numbers else "")

    with atomic_path(path, overwrite=overwrite) as tmp:
        tmp.mkdir()
        maker.setReadmeTemplate(str(Path(cdspyreadme.__file__).parent / "ReadMe.template"),
                                {"seealso": "", "bibcode": f"={bibcode}" if bibcode else ""})
        added.makeCDSTable(outfolder=str(tmp))  # cdspyreadme >= 1.8 (outfolder)
        buffer = io.StringIO()
        maker.makeReadMe(out=buffer)
        (tmp / "ReadMe").write_text(_tidy_readme(buffer.getvalue()), encoding="ascii")
        if mrt:
            readme = (tmp / "ReadMe").read_text(encoding="ascii")
            data = (tmp / data_name).read_text(encoding="ascii")
            (tmp / (Path(data_name).stem + ".mrt")).write_text(
                _mrt_text(readme, data_name, data, title, ", ".join(authors), table_description),
                encoding="ascii")
    return Path(path)

