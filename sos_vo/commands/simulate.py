"""``sos-vo simulate``: write a synthetic sky (archive tables + truth) for a cone."""

from __future__ import annotations

import argparse
import logging

from ._options import cone_radius_deg, dec_deg, non_negative_int, path_text, positive_int, ra_deg

NAME = "simulate"
HELP = ("Write synthetic archive tables (Gaia DR3, distances, Andrae [M/H], SDSS, SkyMapper, "
        "best neighbours, SoS-Spectro, PASTEL) and their truth for a cone. SYNTHETIC data.")

log = logging.getLogger(__name__)

SKY_FORMATS = ("ecsv", "votable")
"""File formats of a sky folder (sos_vo.simulate.sky.FORMATS; listed here so that --help does
not import the simulator)."""


class _Center(argparse.Action):
    """``--center RA DEC``: RA any finite number, Dec in [-90, 90]."""

    def __call__(self, parser, namespace, values, option_string=None):
        try:
            center = (ra_deg(values[0]), dec_deg(values[1]))
        except argparse.ArgumentTypeError as exc:
            raise argparse.ArgumentError(self, str(exc)) from None
        setattr(namespace, self.dest, center)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``sos-vo simulate``."""
    parser.add_argument("--center", nargs=2, action=_Center, metavar=("RA", "DEC"), required=True,
                        help="cone centre, ICRS degrees (Dec in [-90, 90])")
    parser.add_argument("--radius", type=cone_radius_deg, metavar="DEG", required=True,
                        help="cone radius, degrees, in (0, 90]")
    parser.add_argument("--seed", type=non_negative_int, default=0, help="random seed (default 0)")
    parser.add_argument("--out", type=path_text, required=True, metavar="FOLDER",
                        help="output folder")
    parser.add_argument("--n-stars", type=positive_int, default=None, metavar="N",
                        help="number of Gaia sources (default: density x cone area)")
    parser.add_argument("--format", choices=SKY_FORMATS, default="votable", help="file format")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace an existing sky folder written by sos-vo")


def run(args: argparse.Namespace) -> int:
    """Simulate and write; print one line per table.

    The folder is written under a temporary name and renamed when complete, so an interrupted
    run leaves no folder without its manifest.
    """
    from ..io import atomic_path, check_outputs
    from ..simulate import simulate_sky

    check_outputs([(args.out, "folder")], overwrite=args.overwrite)
    sky = simulate_sky(center=tuple(args.center), radius=args.radius, n_stars=args.n_stars,
                       seed=args.seed)
    with atomic_path(args.out, overwrite=args.overwrite) as tmp:
        paths = sky.write(tmp, format=args.format)
    for name, table in sky.tables.items():
        print(f"{name}: {len(table)} rows")
    print(f"truth: {len(sky.truth)} rows; {len(paths)} files written to {args.out} (SYNTHETIC data)")
    return 0
