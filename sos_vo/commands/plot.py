"""``sos-vo plot``: Kiel diagram, error histograms or one-to-one plots as PNG or PDF."""

from __future__ import annotations

import argparse

from ._options import path_text

NAME = "plot"
HELP = ("Plot a catalogue like Turchi et al. (2025): 'kiel' (hexbins coloured by e_ML, Fig. 6), "
        "'errors' (log-scale error histograms, Fig. 4), 'one-to-one' (test-set density vs reference).")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``sos-vo plot``."""
    from ._choices import PLOT_KINDS

    parser.add_argument("kind", choices=PLOT_KINDS, help="which figure")
    parser.add_argument("table", type=path_text, metavar="TABLE", help="catalogue or test-set table")
    parser.add_argument("--out", type=path_text, required=True, metavar="FILE", help="output .png or .pdf")
    parser.add_argument("--prefix", default="ml_", help="column prefix of the values (ml_ or spec_)")
    parser.add_argument("--colour-by", default="feh", choices=("teff", "logg", "feh"),
                        help="kiel: parameter whose e_ML colours the bins")
    parser.add_argument("--truth-prefix", default="spec_", help="one-to-one: reference columns")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing file")


def run(args: argparse.Namespace) -> int:
    """Draw the figure with :mod:`sos_vo.publish.plots`."""
    from pathlib import Path

    from ..exceptions import SosVoError
    from ..io import check_outputs
    from ..publish import plots
    from ..publish.writers import read_table

    if Path(args.out).suffix.lower() not in (".png", ".pdf"):
        raise SosVoError(f"--out {args.out}: give a .png or .pdf file name")
    check_outputs([(args.out, "file")], inputs=[args.table], overwrite=args.overwrite)
    table = read_table(args.table)
    if args.kind == "kiel":
        out = plots.plot_kiel(table, args.out, prefix=args.prefix, colour_by=args.colour_by,
                              overwrite=args.overwrite)
    elif args.kind == "errors":
        out = plots.plot_error_histograms(table, args.out, prefix=args.prefix,
                                          overwrite=args.overwrite)
    else:
        out = plots.plot_one_to_one(table, args.out, truth_prefix=args.truth_prefix,
                                    pred_prefix=args.prefix, overwrite=args.overwrite)
    print(f"wrote {out}")
    return 0
