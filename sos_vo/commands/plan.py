"""``sos-vo plan REGION``: rows, TAP jobs, download size and run time, before fetching anything."""

from __future__ import annotations

import argparse
import json

from ..scale.plan import (
    DEFAULT_BANDWIDTH_MB_S,
    DEFAULT_PREDICT_STARS_PER_S,
    DEFAULT_PREPARE_ROWS_PER_S,
    plan_region,
)

NAME = "plan"
HELP = ("Estimate the Gaia DR3 rows, TAP jobs, download size and run time of a region from a "
        "HEALPix source-density model; nothing is fetched.")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``sos-vo plan``."""
    parser.add_argument("region", metavar="REGION",
                        help="'circle RA DEC RADIUS', 'box RA DEC W H', 'polygon ...', "
                             "'healpix ORDER IPIX...', 'moc ...' or a region file")
    parser.add_argument("--survey", choices=["sdss", "skymapper", "both"], default="sdss",
                        help="'both' with --build-model only")
    parser.add_argument("--workers", type=int, default=1, help="parallel workers (default 1)")
    parser.add_argument("--bandwidth", type=float, default=DEFAULT_BANDWIDTH_MB_S, metavar="MB/S",
                        help=f"archive download rate (default {DEFAULT_BANDWIDTH_MB_S})")
    parser.add_argument("--prepare-rate", type=float, default=DEFAULT_PREPARE_ROWS_PER_S,
                        metavar="ROWS/S", help="cuts+features rows/s per worker")
    parser.add_argument("--predict-rate", type=float, default=DEFAULT_PREDICT_STARS_PER_S,
                        metavar="STARS/S", help="ensemble stars/s per worker")
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    parser.add_argument("--build-model", metavar="LABELS",
                        help="estimate 'sos-vo build-model' instead (labels: 'surveys', 'sos-dr2' "
                        "or source keys; REGION may be 'all-sky'); --survey both allowed")


def run(args: argparse.Namespace) -> int:
    """Print the plan."""
    if args.build_model:
        from ..archives.query import surveys_for
        from ..labels.real_model import label_keys
        from ..scale.build_plan import plan_build

        build = plan_build(args.region, surveys_for(args.survey), label_keys(args.build_model),
                           bandwidth_mb_s=args.bandwidth)
        print(json.dumps(build.to_dict(), indent=1) if args.json else build)
        return 0
    if args.survey == "both":
        raise ValueError("--survey both needs --build-model")
    plan = plan_region(args.region, args.survey, workers=args.workers,
                       bandwidth_mb_s=args.bandwidth, prepare_rows_per_s=args.prepare_rate,
                       predict_stars_per_s=args.predict_rate)
    print(json.dumps(plan.to_dict(), indent=1) if args.json else plan)
    return 0
