"""``sos-vo export``: write a catalogue (or any table) as VOTable, FITS or CDS-ready files."""

from __future__ import annotations

import argparse

from ..exceptions import SosVoError
from ._options import path_text

NAME = "export"
HELP = ("Write a catalogue (FITS, VOTable, ECSV, ...) as VOTable (BINARY2 or TABLEDATA), FITS "
        "with TUCD/TCOMM and checksums, or a CDS-ready folder (ReadMe + fixed-width data + MRT).")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``sos-vo export``."""
    from ._choices import CATALOGUE_FORMATS as FORMATS

    parser.add_argument("catalogue", type=path_text, metavar="CATALOGUE", help="input table (any format astropy reads)")
    parser.add_argument("--format", choices=FORMATS, required=True, dest="fmt",
                        help="output format (cds writes a folder)")
    parser.add_argument("--out", type=path_text, required=True, metavar="PATH", help="output file or (cds) folder")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing output")
    parser.add_argument("--any-table", action="store_true",
                        help="do not require the catalogue columns (T25 Table 6); every column "
                             "still needs a description and a UCD unless --lenient")
    parser.add_argument("--lenient", action="store_true",
                        help="allow columns without description or UCD")
    cds = parser.add_argument_group("CDS ReadMe (--format cds)")
    cds.add_argument("--title", help="catalogue title")
    cds.add_argument("--author", action="append", default=[], metavar="NAME",
                     help="author as 'Surname I.' (repeat; the first is the first author)")
    cds.add_argument("--description", help="description of the data")
    cds.add_argument("--abstract", help="abstract of the paper")
    cds.add_argument("--keyword", action="append", default=[], help="keyword (repeat)")
    cds.add_argument("--note", action="append", default=[], metavar="COLUMN=TEXT",
                     help="note on a column (repeat)")


def _notes(items: list[str]) -> dict[str, str]:
    notes = {}
    for item in items:
        column, sep, text = item.partition("=")
        if not sep or not column.strip() or not text.strip():
            raise SosVoError(f"--note {item!r}: expected COLUMN=TEXT")
        notes[column.strip()] = text.strip()
    return notes


def run(args: argparse.Namespace) -> int:
    """Read the input and write it with :func:`sos_vo.publish.write_table`."""
    from ..io import check_outputs
    from ..publish.writers import read_table, write_catalogue, write_table

    if args.fmt == "cds" and (not args.title or not args.author):
        raise SosVoError("--format cds needs --title and at least one --author")
    notes = _notes(args.note)
    check_outputs([(args.out, "folder" if args.fmt == "cds" else "file")],
                  inputs=[args.catalogue], overwrite=args.overwrite)
    table = read_table(args.catalogue)
    options = {"overwrite": args.overwrite, "strict": not args.lenient}
    if args.fmt == "cds":
        options.update(title=args.title, authors=args.author, description=args.description,
                       abstract=args.abstract, keywords=args.keyword, notes=notes)
    elif args.description:
        options["description"] = args.description
    writer = write_table if args.any_table else write_catalogue
    out = writer(table, args.out, args.fmt, **options)
    print(f"wrote {len(table)} rows, {len(table.colnames)} columns -> {out} ({args.fmt})")
    return 0
