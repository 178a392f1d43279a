"""``sos-vo simulate``: write a synthetic sky (archive tables + truth) for a cone."""

from __future__ import annotations

import argparse
import logging

from ..simulate import simulate_sky
from ..simulate.sky import FORMATS

NAME = "simulate"
HELP = ("Write synthetic archive tables (Gaia DR3, distances, Andrae [M/H], SDSS, SkyMapper, "
        "best neighbours, SoS-Spectro, PASTEL) and their truth for a cone. SYNTHETIC data.")

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``sos-vo simulate``."""
    parser.add_argument("--center", nargs=2, type=float, metavar=("RA", "DEC"), required=True,
                        help="cone centre, ICRS degrees")
    parser.add_argument("--radius", type=float, metavar="DEG", required=True, help="cone radius, degrees")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--out", required=True, metavar="FOLDER", help="output folder")
    parser.add_argument("--n-stars", type=int, default=None, metavar="N",
                        help="number of Gaia sources (default: density x cone area)")
    parser.add_argument("--format", choices=sorted(FORMATS), default="votable", help="file format")
    parser.add_argument("--overwrite", action="store_true", help="replace existing files")


def run(args: argparse.Namespace) -> int:
    """Simulate and write; print one line per table."""
    sky = simulate_sky(center=tuple(args.center), radius=args.radius, n_stars=args.n_stars, seed=args.seed)
    paths = sky.write(args.out, format=args.format, overwrite=args.overwrite)
    for name, table in sky.tables.items():
        print(f"{name}: {len(table)} rows")
    print(f"truth: {len(sky.truth)} rows; {len(paths)} files written to {args.out} (SYNTHETIC data)")
    return 0
