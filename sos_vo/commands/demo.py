"""``sos-vo demo``: the whole chain on the synthetic sky, in one command."""

from __future__ import annotations

import argparse

from ._options import cone_radius_deg, non_negative_int, path_text, positive_int

NAME = "demo"
HELP = ("Run the whole chain on a SYNTHETIC sky: simulate the archive tables, apply the cuts, "
        "recalibrate the labels, train an ensemble per survey, predict and write the catalogue.")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``sos-vo demo``."""
    from ._choices import DEMO_EPOCHS, DEMO_N_MEMBERS, DEMO_N_STARS, DEMO_RADIUS_DEG

    parser.add_argument("--out", type=path_text, default="demo_output", metavar="FOLDER",
                        help="output folder (default demo_output)")
    parser.add_argument("--seed", type=non_negative_int, default=1, help="seed of the sky and the ensemble")
    parser.add_argument("--n-stars", type=positive_int, default=DEMO_N_STARS, help="Gaia sources simulated")
    parser.add_argument("--radius", type=cone_radius_deg, default=DEMO_RADIUS_DEG, help="cone radius, deg")
    parser.add_argument("--members", type=positive_int, default=DEMO_N_MEMBERS,
                        help=f"ensemble members (default {DEMO_N_MEMBERS}; T25 uses 10)")
    parser.add_argument("--epochs", type=positive_int, default=DEMO_EPOCHS, help="epoch cap")
    parser.add_argument("--blocks", type=positive_int, default=None, help="hidden blocks (default T25's 18)")
    parser.add_argument("--format", choices=("fits", "votable"), default="fits",
                        help="catalogue format")
    parser.add_argument("--per-network", action="store_true",
                        help="train network by network instead of fused in one graph")
    parser.add_argument("--overwrite", action="store_true", help="reuse a non-empty --out folder")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")


def run(args: argparse.Namespace) -> int:
    """Run the demo and print what it produced."""
    from .. import api
    from ..stats import format_statistics

    result = api.demo(args.out, seed=args.seed, n_stars=args.n_stars, radius=args.radius,
                      n_members=args.members, epochs=args.epochs, n_blocks=args.blocks,
                      overwrite=args.overwrite, progress=not args.no_progress, fmt=args.format,
                      fused=not args.per_network)
    for survey, report in result.cut_reports.items():
        print(f"\n== {survey}: quality cuts (T25 Sect. 2) ==")
        report.pprint(max_lines=-1, max_width=-1)
    for survey, report in result.test_reports.items():
        print(f"\n== {survey}: test-set errors (T25 Table 4 statistics) ==")
        format_statistics(report).pprint(max_lines=-1, max_width=-1)
    print(f"\nSYNTHETIC demo catalogue: {result.n_rows} rows -> {result.catalogue} "
          f"({result.seconds:.0f} s)")
    return 0
