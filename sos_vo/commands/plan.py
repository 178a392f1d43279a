"""``sos-vo plan REGION``: rows, TAP jobs, download size and run time, before fetching anything."""

from __future__ import annotations

import argparse
import json

from ._options import positive_float, positive_int

NAME = "plan"
HELP = ("Estimate the Gaia DR3 rows, TAP jobs, download size and run time of a region from a "
        "HEALPix source-density model; nothing is fetched.")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``sos-vo plan``."""
    from ..scale.plan import (
        DEFAULT_BANDWIDTH_MB_S,
        DEFAULT_PREDICT_STARS_PER_S,
        DEFAULT_PREPARE_ROWS_PER_S,
    )

    parser.add_argument("region", metavar="REGION",
                        help="'circle RA DEC RADIUS', 'box RA DEC W H', 'polygon ...', "
                             "'healpix ORDER IPIX...', 'moc ...' or a region file")
    parser.add_argument("--survey", choices=["sdss", "skymapper", "both"], default="sdss",
                        help="photometric survey ('both' plans the two queries)")
    parser.add_argument("--workers", type=positive_int, default=1, help="parallel workers (default 1)")
    parser.add_argument("--bandwidth", type=positive_float, default=DEFAULT_BANDWIDTH_MB_S, metavar="MB/S",
                        help=f"archive download rate (default {DEFAULT_BANDWIDTH_MB_S})")
    parser.add_argument("--prepare-rate", type=positive_float, default=DEFAULT_PREPARE_ROWS_PER_S,
                        metavar="ROWS/S", help="cuts+features rows/s per worker")
    parser.add_argument("--predict-rate", type=positive_float, default=DEFAULT_PREDICT_STARS_PER_S,
                        metavar="STARS/S", help="ensemble stars/s per worker")
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")


def run(args: argparse.Namespace) -> int:
    """Print the plan (one per survey with ``--survey both``)."""
    from ..scale.plan import plan_region

    surveys = ("sdss", "skymapper") if args.survey == "both" else (args.survey,)
    plans = [plan_region(args.region, s, workers=args.workers, bandwidth_mb_s=args.bandwidth,
                         prepare_rows_per_s=args.prepare_rate,
                         predict_stars_per_s=args.predict_rate) for s in surveys]
    if args.json:
        body = [p.to_dict() for p in plans]
        print(json.dumps(body[0] if len(body) == 1 else body, indent=1))
    else:
        print("\n\n".join(str(p) for p in plans))
    return 0
