"""``sos-vo plan REGION``: rows, TAP jobs, download size and run time, before fetching anything.

``sos-vo plan build-model --all-sky``: CPU-hours and wall time of training the whole model
(SDSS + SkyMapper, T25 Sect. 4-5) from a measured training rate, then the plan of
``sos-vo build-model --all-sky`` (download + training on this machine, one 8-core machine and a
10-node dask cluster, :func:`sos_vo.scale.build_plan.plan_build_model`); ``sos-vo plan REGION
--build-model LABELS`` prints that plan for a region.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..exceptions import SosVoError
from ._options import positive_float, positive_int

NAME = "plan"
HELP = ("Estimate the Gaia DR3 rows, TAP jobs, download size and run time of a region from a "
        "HEALPix source-density model; nothing is fetched.  'plan build-model --all-sky' "
        "projects the CPU-hours of training the whole model from a measured training rate.")
BUILD_MODEL = "build-model"
RATE_FILE = Path("benchmarks") / "results" / "speed-numpy.json"
"""Default measured rate: the speed benchmark's JSON of the numpy engine (docs/benchmarks.md
2c: ``python -m benchmarks.speed --fused --engine numpy --n-stars 150000 --epochs 10 --repeats 3
--no-keras --json benchmarks/results/speed-numpy.json``; median of three whole runs on a quiet
2-core machine, 12 634 training rows, so the fixed costs of a run are included), looked up in the
source tree of the package, then in the
working directory; ``--rate-json`` names another, ``--rate`` gives the number."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``sos-vo plan``."""
    from ._choices import BUILD_ENGINES, PLAN_CLUSTER_NODES, PLAN_CORES_PER_NODE
    from ._choices import PLAN_BANDWIDTH_MB_S as DEFAULT_BANDWIDTH_MB_S
    from ._choices import PLAN_PREDICT_STARS_PER_S as DEFAULT_PREDICT_STARS_PER_S
    from ._choices import PLAN_PREPARE_ROWS_PER_S as DEFAULT_PREPARE_ROWS_PER_S
    from ._choices import PLAN_REBUILD_EPOCHS as DEFAULT_REBUILD_EPOCHS

    parser.add_argument("region", metavar="REGION",
                        help="'circle RA DEC RADIUS', 'box RA DEC W H', 'polygon ...', "
                             "'healpix ORDER IPIX...', 'moc ...' or a region file; or "
                             f"'{BUILD_MODEL}' for the training cost of the model")
    parser.add_argument("--survey", choices=["sdss", "skymapper", "both"], default=None,
                        help="photometric survey (default sdss for a region, both for "
                             f"{BUILD_MODEL}; 'both' plans the two)")
    parser.add_argument("--workers", type=positive_int, default=1,
                        help="parallel workers (default 1)")
    parser.add_argument("--bandwidth", type=positive_float, default=DEFAULT_BANDWIDTH_MB_S,
                        metavar="MB/S",
                        help=f"archive download rate (default {DEFAULT_BANDWIDTH_MB_S})")
    parser.add_argument("--prepare-rate", type=positive_float, default=DEFAULT_PREPARE_ROWS_PER_S,
                        metavar="ROWS/S", help="cuts+features rows/s per worker")
    parser.add_argument("--predict-rate", type=positive_float, default=DEFAULT_PREDICT_STARS_PER_S,
                        metavar="STARS/S", help="ensemble stars/s per worker")
    build = parser.add_argument_group(f"{BUILD_MODEL}")
    build.add_argument("--all-sky", action="store_true",
                       help="the paper's all-sky training samples (T25 Sect. 4.2: ~300 000 SDSS "
                            "and ~800 000 SkyMapper labelled stars, 80%% of them training rows)")
    build.add_argument("--train-rows", type=positive_int, default=None, metavar="N",
                       help="training rows per network instead of the paper's (one survey)")
    build.add_argument("--epochs", type=positive_int, default=DEFAULT_REBUILD_EPOCHS,
                       help=f"epochs per network (default {DEFAULT_REBUILD_EPOCHS})")
    build.add_argument("--cores-per-worker", type=positive_int, default=PLAN_CORES_PER_NODE,
                       help=f"cores of each dask worker and of the one machine of the build "
                       f"plan (default {PLAN_CORES_PER_NODE})")
    build.add_argument("--nodes", type=positive_int, default=PLAN_CLUSTER_NODES,
                       help=f"nodes of the dask cluster of the build plan (default "
                       f"{PLAN_CLUSTER_NODES})")
    build.add_argument("--members", type=positive_int, default=10,
                       help="ensemble members of the build plan (default 10, T25 Sect. 5.1)")
    build.add_argument("--engine", choices=BUILD_ENGINES, default=BUILD_ENGINES[0],
                       help="training engine of the build plan, as 'build-model --engine' "
                       "(default fused)")
    build.add_argument("--unit-members", type=positive_int, default=None, metavar="K",
                       help="members per fused unit of the build plan (default: as "
                       "build-model picks it on each setup)")
    build.add_argument("--rate-json", type=Path, default=None, metavar="FILE",
                       help=f"speed benchmark JSON holding the measured rate, any run of "
                       f"benchmarks/speed.py (default {RATE_FILE}; for the build-model plan "
                       f"with --engine per-network {PER_NETWORK_RATE_FILE}, where present)")
    build.add_argument("--rate", type=positive_float, default=None, metavar="ROWS/CPU-S",
                       help="measured network-rows per CPU-second, instead of a JSON file")
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    parser.add_argument("--build-model", metavar="LABELS",
                        help="estimate the label fetch and joins of 'sos-vo build-model' for "
                        "REGION (or 'all-sky'): rows, TAP jobs, bytes (labels: 'surveys', "
                        f"'sos-dr2' or source keys); '{BUILD_MODEL} --all-sky' gives its training "
                        "CPU-hours")


PER_NETWORK_RATE_FILE = Path("benchmarks") / "results" / "speed-per-network-reduced.json"
"""Default rate of the build-model plan with ``--engine per-network``: the speed benchmark of
that path, network by network with Keras (``python -m benchmarks.speed --n-stars 30000 --members 1
--epochs 5 --repeats 1 --no-keras --predict-rows 20000 --quiet --json
benchmarks/results/speed-per-network-reduced.json``: three networks of 18 blocks on a shared
machine); :data:`RATE_FILE` where it is absent."""


def _build_rate_file(args: argparse.Namespace) -> Path:
    """Default rate file of the build-model plan: that of the engine build-model trains with
    (fused: :data:`RATE_FILE`, the numpy engine's)."""
    return PER_NETWORK_RATE_FILE if args.engine == "per-network" else RATE_FILE


def _rate(args: argparse.Namespace, default: Path = RATE_FILE) -> tuple[float, str]:
    from ..scale.plan import throughput_from_json

    if args.rate is not None:
        if args.rate <= 0:
            raise SosVoError(f"--rate must be > 0, got {args.rate}")
        return float(args.rate), "--rate"
    roots = (Path(__file__).resolve().parents[2], Path.cwd())
    candidates = [args.rate_json] if args.rate_json else [
        root / name for name in dict.fromkeys((default, RATE_FILE)) for root in roots]
    for path in candidates:
        if path.is_file():
            try:
                return throughput_from_json(path)
            except (ValueError, KeyError) as exc:
                raise SosVoError(str(exc)) from None
    raise SosVoError(f"no measured training rate: {candidates[0]} not found; run "
                     f"'python -m benchmarks.speed --fused --engine numpy --repeats 3 --json "
                     f"{RATE_FILE}' or pass --rate")


def run_build_model(args: argparse.Namespace) -> int:
    """Print the projected training cost of the model."""
    from ..ml.inference import available_cpus
    from ..scale.plan import T25_LABELLED_ROWS, T25_TRAIN_FRACTION, project_rebuild

    survey = args.survey or "both"
    surveys = ["sdss", "skymapper"] if survey == "both" else [survey]
    if args.train_rows is not None:
        if len(surveys) != 1 or args.train_rows < 1:
            raise SosVoError("--train-rows needs one --survey and a positive number")
        rows = {surveys[0]: int(args.train_rows)}
    elif args.all_sky:
        rows = {s: int(round(T25_LABELLED_ROWS[s] * T25_TRAIN_FRACTION)) for s in surveys}
    else:
        raise SosVoError(f"plan {BUILD_MODEL}: give --all-sky (the paper's samples) or --train-rows")
    if args.epochs < 1 or args.workers < 1 or args.cores_per_worker < 1:
        raise SosVoError("--epochs, --workers and --cores-per-worker must be >= 1")
    rate, source = _rate(args)
    plan = project_rebuild(rows, rows_per_cpu_second=rate, epochs=args.epochs,
                           cores_here=available_cpus(), workers=args.workers,
                           cores_per_worker=args.cores_per_worker, source=source)
    build = None
    if args.train_rows is None:  # the paper's all-sky samples: download + training, one plan
        build = _build_plan("all-sky", surveys, args.build_model or "surveys", args,
                            *_rate(args, _build_rate_file(args)))
    if args.json:
        body = plan.to_dict()
        if build is not None:
            body["build_model"] = build.to_dict()
        print(json.dumps(body, indent=1))
    else:
        print(plan if build is None else f"{plan}\n\n{build}")
    return 0


def _build_plan(region: str, surveys, labels: str, args: argparse.Namespace, rate: float,
                source: str):
    """Download + training plan of ``sos-vo build-model`` (:func:`plan_build_model`)."""
    from ..labels.real_model import label_keys
    from ..ml.inference import available_cpus
    from ..scale.build_plan import plan_build_model

    try:
        keys = label_keys(labels)
    except ValueError as exc:
        raise SosVoError(str(exc)) from None
    return plan_build_model(region, tuple(surveys), keys, rows_per_cpu_second=rate,
                            rate_source=source, bandwidth_mb_s=args.bandwidth,
                            epochs=args.epochs, n_members=args.members,
                            cores_here=available_cpus(), nodes=args.nodes,
                            cores_per_node=args.cores_per_worker, engine=args.engine,
                            unit_members=args.unit_members)


def run(args: argparse.Namespace) -> int:
    """Print the plan (one per survey with ``--survey both``)."""
    from ..scale.plan import plan_region

    if args.region == BUILD_MODEL:
        return run_build_model(args)
    survey = args.survey or "sdss"
    if args.build_model:
        from ..archives.query import surveys_for

        build = _build_plan(args.region, surveys_for(survey), args.build_model, args,
                            *_rate(args, _build_rate_file(args)))
        print(json.dumps(build.to_dict(), indent=1) if args.json else build)
        return 0
    surveys = ("sdss", "skymapper") if survey == "both" else (survey,)
    plans = [plan_region(args.region, s, workers=args.workers, bandwidth_mb_s=args.bandwidth,
                         prepare_rows_per_s=args.prepare_rate,
                         predict_stars_per_s=args.predict_rate) for s in surveys]
    if args.json:
        body = [p.to_dict() for p in plans]
        print(json.dumps(body[0] if len(body) == 1 else body, indent=1))
    else:
        print("\n\n".join(str(p) for p in plans))
    return 0
