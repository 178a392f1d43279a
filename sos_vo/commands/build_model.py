"""``sos-vo build-model``: a real model from public archives (labels over TAP, homogenised,
recalibrated on PASTEL, joined to Gaia DR3 and the photometry by source_id, trained)."""

from __future__ import annotations

import argparse
import json

from ..exceptions import SosVoError
from ._choices import BUILD_ENGINES, HOMOGENISE_METHODS, QUERY_SURVEYS, RECALIBRATIONS
from ._choices import HOMOGENISE_METHOD as DEFAULT_METHOD
from ._choices import LABEL_REFERENCE as DEFAULT_REFERENCE
from ._options import non_negative_int, path_text, positive_float, positive_int


class BuildModelError(SosVoError, ValueError):
    """Bad options of ``sos-vo build-model`` (one-line message, exit code 2)."""


NAME = "build-model"
HELP = ("Build a model from real labels: fetch spectroscopic labels over TAP (REGION or "
        "--all-sky), homogenise them, recalibrate on PASTEL (T25 Eq. 2), join Gaia DR3 and the "
        "photometry by source_id, apply the cuts, train and save a model folder.")


def scheduler_address(text: str) -> str:
    """A dask scheduler address: ``[protocol://]host:port``, checked before any work."""
    import argparse
    from urllib.parse import urlsplit

    value = text.strip()
    url = urlsplit(value if "://" in value else f"tcp://{value}")
    try:
        port = url.port
    except ValueError:
        port = None
    if not url.hostname or port is None or "\0" in value:
        raise argparse.ArgumentTypeError(f"{text!r} is not a scheduler address (host:port or "
                                         "tcp://host:port)")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``sos-vo build-model``."""
    from ..ml.options import EPOCHS, N_BLOCKS

    parser.add_argument("region", nargs="?", help="sky region, as for 'sos-vo query' "
                        "(omit with --all-sky)")
    parser.add_argument("--all-sky", action="store_true", help="use every labelled star")
    parser.add_argument("--survey", choices=QUERY_SURVEYS, default="sdss",
                        help="photometric survey (default sdss; 'both' writes OUT/sdss and "
                        "OUT/skymapper)")
    parser.add_argument("--labels", default="surveys",
                        help="'surveys' (APOGEE DR17, GALAH DR3, LAMOST LRS, Gaia-ESO, SEGUE SSPP), "
                        "'sos-dr2' (the published SoS DR2 labels) or comma-separated source keys")
    parser.add_argument("--reference", default=",".join(DEFAULT_REFERENCE),
                        help="surveys whose union is the reference scale (default "
                        f"{','.join(DEFAULT_REFERENCE)})")
    parser.add_argument("--method", choices=HOMOGENISE_METHODS, default=DEFAULT_METHOD,
                        help=f"homogenisation method (default {DEFAULT_METHOD})")
    parser.add_argument("--recalibration", choices=RECALIBRATIONS,
                        help="T25 Eq. 2: refit on PASTEL (default for surveys), t25 (Table 1) or "
                        "none (default for sos-dr2)")
    parser.add_argument("--out", required=True, help="model folder to write")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing --out")
    parser.add_argument("--tap-url", help="TAP service of the Gaia archive tables")
    parser.add_argument("--label-tap-url", help="one TAP service for every label source and "
                        "PASTEL (default: each source's own, sos_vo.archives.conf)")
    parser.add_argument("--table", action="append", default=[], metavar="KEY=NAME",
                        help="override a table name (Gaia keys, label-source keys such as "
                        "apogee_dr17, their Gaia id tables galah_dr3_gaia, segue_sspp_gaia, "
                        "gaia_eso_gaia, or pastel), repeatable")
    parser.add_argument("--column", action="append", default=[], metavar="KEY.ROLE=NAME",
                        help="override a label column name (e.g. apogee_dr17.feh=FE_H; roles: "
                        "source_id, survey_id, ra, dec, teff, e_teff, logg, e_logg, feh, e_feh "
                        "and the source's flags), repeatable")
    parser.add_argument("--cache-dir", help="cache of every TAP result (default "
                        "~/.cache/sos-vo/tap); a killed build resumes from it")
    parser.add_argument("--no-cache", action="store_true", help="do not cache TAP results")
    parser.add_argument("--checkpoint-dir", type=path_text, help="member checkpoints (default "
                        "CACHE_DIR/members); a killed build retrains only unfinished units "
                        "(fused) or members (per-network)")
    parser.add_argument("--engine", choices=BUILD_ENGINES, default=BUILD_ENGINES[0],
                        help="training engine: 'fused' (default; units of K members, each one "
                        "run of the numpy engine, checkpointed unit by unit) or 'per-network' "
                        "(Keras, one network at a time, checkpointed member by member)")
    parser.add_argument("--unit-members", type=positive_int, metavar="K",
                        help="members per fused unit (default: the cores of this machine, or "
                        "of a dask worker with --scheduler, at most --members)")
    parser.add_argument("--scheduler", type=scheduler_address, metavar="ADDRESS",
                        help="train the units (or members) on this dask scheduler "
                        "(tcp://host:8786); per-network: start workers with --nthreads 1")
    parser.add_argument("--members", type=positive_int, default=10, help="ensemble members (default 10)")
    parser.add_argument("--epochs", type=positive_int, default=EPOCHS, help=f"epoch cap (default {EPOCHS})")
    parser.add_argument("--blocks", type=positive_int, default=N_BLOCKS,
                        help=f"hidden blocks (default {N_BLOCKS})")
    parser.add_argument("--seed", type=non_negative_int, default=0)
    parser.add_argument("--timeout", type=positive_float, help="HTTP / job time-out, s")
    parser.add_argument("--json", action="store_true", help="print the provenance as JSON")


def run(args: argparse.Namespace) -> int:
    """Build the model and print what was done."""
    from ..archives.conf import parse_table_names
    from ..archives.label_source import parse_column_overrides
    from ..labels.real_model import build_model
    from ..ml.options import NetworkOptions

    try:
        tables = parse_table_names(",".join(args.table))
        columns = parse_column_overrides(args.column)
    except ValueError as exc:
        raise BuildModelError(str(exc)) from None
    if args.all_sky == (args.region is not None):
        raise BuildModelError("give either a REGION or --all-sky")
    if args.members < 1 or args.epochs < 1 or args.blocks < 1:
        raise BuildModelError("--members, --epochs and --blocks must be >= 1")
    if args.unit_members is not None and args.unit_members < 1:
        raise BuildModelError(f"--unit-members must be >= 1, got {args.unit_members}")
    if args.unit_members is not None and args.engine != "fused":
        raise BuildModelError("--unit-members applies to --engine fused only")
    try:
        result = build_model(
            args.region, all_sky=args.all_sky, survey=args.survey, labels=args.labels,
            reference=[r for r in args.reference.split(",") if r], method=args.method,
            recalibration=args.recalibration, out=args.out, tap_url=args.tap_url,
            label_tap_url=args.label_tap_url, tables=tables or None, columns=columns or None,
            cache_dir=False if args.no_cache else args.cache_dir, n_members=args.members,
            options=NetworkOptions(epochs=args.epochs, n_blocks=args.blocks), seed=args.seed,
            overwrite=args.overwrite, progress=not args.json, timeout=args.timeout,
            checkpoint_dir=False if args.no_cache and args.checkpoint_dir is None
            else args.checkpoint_dir, scheduler=args.scheduler, engine=args.engine,
            unit_members=args.unit_members)
    except ValueError as exc:
        if isinstance(exc, SosVoError):
            raise
        raise BuildModelError(str(exc)) from None
    prov = result.provenance
    if args.json:
        print(json.dumps(prov, indent=1, default=str))
        return 0
    for key, p in prov["label_sources"].items():
        print(f"{key}: {p['table']} at {p['service']}: {p['rows']}")
    if result.homogenisation is not None:
        print("homogenisation (median survey - reference, before / after):")
        print("\n".join(result.homogenisation.pformat(max_width=-1, max_lines=-1)))
    if result.recalibration is not None:
        print("T25 Eq. 2 refitted on SoS-PASTEL pairs, next to T25 Table 1:")
        print("\n".join(result.recalibration.pformat(max_width=-1, max_lines=-1)))
    print(f"rows: {json.dumps(prov['rows'])}")
    aug = prov.get("pastel_augmentation")
    if aug:
        print(f"PASTEL [Fe/H] < {aug['max_feh']:g} (T25 Sect. 4.3): {aug['pastel_stars']} stars "
              f"({aug['entries']} entries), {aug['matched_stars']} matched to Gaia DR3, "
              f"{aug['added_to_upload']} uploaded besides the labelled stars; added after the "
              "cuts: " + ", ".join(f"{s} {prov['rows'][s]['pastel_augmented']} (T25: "
                                   f"{aug['t25_added'][s]})" for s in aug["t25_added"]
                                   if s in prov["rows"]))
    for survey in result.folders:
        ck = result.members.get(survey)
        if ck:
            print(f"{survey} members: {ck['trained']} trained ({ck['engine']}), "
                  f"{ck['loaded']} loaded from checkpoints")
    for survey, folder in result.folders.items():
        print(f"wrote {survey} model {folder}")
    return 0
