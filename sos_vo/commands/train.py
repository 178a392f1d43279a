"""``sos-vo train``: train an ensemble for one survey and save it as a model folder."""

from __future__ import annotations

import argparse

from ._options import non_negative_int, path_text, positive_int

NAME = "train"
HELP = ("Train the SoS-ML ensemble (T25 Sect. 4-5) for one survey on archive tables (a folder "
        "written by 'sos-vo simulate' or a query) and save it as a model folder.")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``sos-vo train``."""
    from ..ml.options import (
        BATCH_SIZE,
        EPOCHS,
        INPUT_COLOUR_CHOICES,
        INPUT_COLOURS,
        LR_SCHEDULE,
        LR_SCHEDULES,
        N_BLOCKS,
        N_MEMBERS,
    )
    from ..schema import SURVEYS

    parser.add_argument("tables", type=path_text, metavar="TABLES", help="folder of archive tables")
    parser.add_argument("--survey", choices=SURVEYS, required=True, help="photometric survey")
    parser.add_argument("--out", type=path_text, required=True, metavar="FOLDER", help="model folder to write")
    parser.add_argument("--members", type=positive_int, default=N_MEMBERS,
                        help=f"ensemble members / random splits (T25: {N_MEMBERS})")
    parser.add_argument("--epochs", type=positive_int, default=EPOCHS, help=f"epoch cap (default {EPOCHS})")
    parser.add_argument("--blocks", type=positive_int, default=N_BLOCKS,
                        help=f"hidden blocks (T25: {N_BLOCKS})")
    parser.add_argument("--batch-size", type=positive_int, default=BATCH_SIZE,
                        help=f"mini-batch size (not in the papers; default {BATCH_SIZE})")
    parser.add_argument("--lr-schedule", choices=LR_SCHEDULES, default=LR_SCHEDULE,
                        help=f"learning-rate schedule (not in the papers; default {LR_SCHEDULE}; "
                             "'cosine' when the epoch cap, not early stopping, ends training)")
    parser.add_argument("--input-colours", choices=INPUT_COLOUR_CHOICES, default=INPUT_COLOURS,
                        help="colour inputs derived from the T25 features inside the model "
                             f"(default {INPUT_COLOURS}; 'none' = the T25 inputs only)")
    parser.add_argument("--seed", type=non_negative_int, default=0, help="ensemble seed")
    parser.add_argument("--fused", action="store_true",
                        help="train all members x labels in one graph (faster; same semantics)")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing folder")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    """Train and print the test report (T25 Table 4 statistics)."""
    from .. import api
    from ..io import check_outputs
    from ..ml.modelio import read_metadata
    from ..ml.options import NetworkOptions

    check_outputs([(args.out, "folder")], inputs=[args.tables], overwrite=args.overwrite)
    options = NetworkOptions(epochs=args.epochs, n_blocks=args.blocks, batch_size=args.batch_size,
                             lr_schedule=args.lr_schedule, input_colours=args.input_colours)
    folder = api.train(args.tables, args.survey, args.out, n_members=args.members, options=options,
                       seed=args.seed, overwrite=args.overwrite, progress=not args.no_progress,
                       fused=args.fused)
    from astropy.table import Table

    from ..stats import format_statistics

    format_statistics(Table(rows=read_metadata(folder)["metrics"])).pprint(max_lines=-1,
                                                                           max_width=-1)
    print(f"model written to {folder}")
    return 0
