"""``sos-vo predict``: predict with installed model folders and write the final catalogue."""

from __future__ import annotations

import argparse

from ..exceptions import SchemaError
from ._options import path_text

NAME = "predict"
HELP = ("Predict Teff, log g, [Fe/H] and e_ML with trained model folders (numpy only, no "
        "TensorFlow) and write the final catalogue (T25 Table 6).")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``sos-vo predict``."""
    from ._choices import CATALOGUE_FORMATS as FORMATS

    parser.add_argument("tables", type=path_text, metavar="TABLES", help="folder of archive tables")
    parser.add_argument("--model", action="append", required=True, metavar="[SURVEY=]NAME|FOLDER",
                        help="installed model name ('sos-vo models list') or model folder, "
                             "optionally prefixed by its survey (repeat for both surveys); the "
                             "survey is read from the folder otherwise")
    parser.add_argument("--out", type=path_text, required=True, metavar="FILE",
                        help="catalogue (.fits or .vot; a folder for cds)")
    parser.add_argument("--format", default=None, choices=FORMATS,
                        help="output format (default: from the suffix of --out)")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing file")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def parse_models(specs: list[str]) -> dict[str, str]:
    """``["sdss=path", "name2"]`` -> ``{"sdss": "path", <survey of name2>: <folder of name2>}``."""
    from ..ml.modelfolder import ModelFolder
    from ..ml.registry import find_model

    models: dict[str, str] = {}
    for spec in specs:
        survey, sep, folder = spec.partition("=")
        if not sep:
            survey, folder = "", spec
        folder = str(find_model(folder))  # a path, or the name of an installed model
        survey = survey or ModelFolder(folder).survey
        if survey in models:
            raise SchemaError(f"two model folders for survey {survey!r}: {models[survey]} and {folder}")
        models[survey] = folder
    return models


def run(args: argparse.Namespace) -> int:
    """Predict and write; print the row counts."""
    from .. import api
    from ..io import check_outputs
    from ..publish.writers import guess_format

    fmt = args.format or guess_format(args.out)
    models = parse_models(args.model)
    check_outputs([(args.out, "folder" if fmt == "cds" else "file")],
                  inputs=[args.tables, *models.values()], overwrite=args.overwrite)
    catalogue = api.predict(args.tables, models, out=args.out, fmt=fmt,
                            overwrite=args.overwrite, progress=not args.no_progress)
    print(f"{len(catalogue)} rows written to {args.out} ({catalogue.meta.get('counts', '')})")
    return 0
