"""Held-out accuracy of the two fused-training engines over several seeds.

The numpy engine (:mod:`sos_vo.ml.numpy_training`) and the TensorFlow graph
(:mod:`sos_vo.ml.fused`) draw their random numbers from different streams (dropout, the order
of the rows), so one run of each says nothing about whether they are equally accurate: the
seed-to-seed spread of one engine must be known.  This benchmark trains the full ensemble
(3 labels x ``--members`` networks, T25's architecture) on ONE synthetic sample (the sky of
``--sky-seed``) with every ensemble seed of ``--seeds`` and both engines, the engines
alternating within each seed (A B, then B A, ...) so that a change of the machine's load
falls on both.  The ensemble seed fixes the members' splits and initial weights, shared by the
two engines for the same seed (so the comparison is paired), and the dropout and shuffling
streams, which differ.

For every run it stores the held-out MAD of ``|prediction - label|`` per label (pooled test
sets, :meth:`sos_vo.ml.ensemble.Ensemble.test_report`, T25 Table 4), the wall and CPU seconds
of the training and the load average.  The summary gives, per engine and label, the mean and
the sample standard deviation over the seeds, and the paired differences numpy - tensorflow.

**Rule** (our choice; the papers compare no engines): the engines are called *equally
accurate* for a label when the difference of their seed means is within the larger of the two
engines' seed-to-seed standard deviations; :data:`sos_vo.ml.fused.FusedOptions.engine`
``"auto"`` may pick numpy only when this holds for every label.

Run ``python -m benchmarks.engine_accuracy --help``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # before TensorFlow is imported

ENGINES = ("numpy", "tensorflow")


def build_parser() -> argparse.ArgumentParser:
    """Command-line options."""
    p = argparse.ArgumentParser(prog="python -m benchmarks.engine_accuracy",
                                description=__doc__.split("\n")[0])
    p.add_argument("--survey", default="sdss", choices=["sdss", "skymapper"])
    p.add_argument("--n-stars", type=int, default=30_000, help="Gaia sources simulated")
    p.add_argument("--sky-seed", type=int, default=1, help="seed of the synthetic sky (one sample)")
    p.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3], help="ensemble seeds")
    p.add_argument("--members", type=int, default=10, help="ensemble members (T25: 10)")
    p.add_argument("--epochs", type=int, default=15, help="fixed epochs (patience = epochs)")
    p.add_argument("--n-blocks", type=int, default=None, help="hidden blocks (T25: 18)")
    p.add_argument("--engines", nargs="+", choices=ENGINES, default=list(ENGINES))
    p.add_argument("--reference", type=Path, default=None, metavar="FILE",
                   help="a stored JSON of this benchmark (same sample and epochs): its runs of "
                        "(engine, seed) pairs not measured now join the summary")
    p.add_argument("--json", type=Path, help="write the results as JSON here")
    return p


def summarise(runs: Sequence[dict[str, Any]], engines: Sequence[str]) -> dict[str, Any]:
    """Per engine and label: mean and sample standard deviation of the held-out MAD over the
    seeds; paired differences (first engine - second) and the equal-accuracy rule."""
    labels = list(runs[0]["heldout_abs_mad"])
    per_engine: dict[str, Any] = {}
    for engine in engines:
        mine = [r for r in runs if r["engine"] == engine]
        per_engine[engine] = {
            label: {"values": [r["heldout_abs_mad"][label] for r in mine],
                    "mean": statistics.fmean(r["heldout_abs_mad"][label] for r in mine),
                    "std": (statistics.stdev(r["heldout_abs_mad"][label] for r in mine)
                            if len(mine) > 1 else float("nan"))}
            for label in labels}
        per_engine[engine]["train_cpu_seconds_median"] = statistics.median(
            r["train_cpu_seconds"] for r in mine)
        per_engine[engine]["train_seconds_median"] = statistics.median(
            r["train_seconds"] for r in mine)
    out: dict[str, Any] = {"per_engine": per_engine}
    if len(engines) == 2:
        a, b = engines
        seeds = sorted({r["seed"] for r in runs})
        by = {(r["engine"], r["seed"]): r for r in runs}
        verdict = {}
        for label in labels:
            diffs = [by[a, s]["heldout_abs_mad"][label] - by[b, s]["heldout_abs_mad"][label]
                     for s in seeds if (a, s) in by and (b, s) in by]
            gap = per_engine[a][label]["mean"] - per_engine[b][label]["mean"]
            spread = max(per_engine[a][label]["std"], per_engine[b][label]["std"])
            verdict[label] = {"paired_differences": diffs, "mean_difference": gap,
                              "seed_spread": spread,
                              "within_spread": bool(abs(gap) <= spread)}
        out["difference"] = f"{a} - {b}"
        out["per_label"] = verdict
        out["equal_accuracy"] = all(v["within_spread"] for v in verdict.values())
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """Train every (seed, engine), print and store the held-out MADs and their spread."""
    args = build_parser().parse_args(argv)
    if len(args.seeds) < 2:
        print("error: --seeds needs at least two seeds (a spread)", file=sys.stderr)
        return 2
    from benchmarks.speed import environment
    from sos_vo.ml.ensemble import train_ensemble
    from sos_vo.ml.fused import FusedOptions
    from sos_vo.ml.options import NetworkOptions
    from sos_vo.pipeline import prepare_survey
    from sos_vo.simulate import simulate_sky

    sky = simulate_sky(center=(180.0, 0.0), radius=4.0, n_stars=args.n_stars, seed=args.sky_seed)
    prepared = prepare_survey(sky.tables, args.survey)
    rows = np.flatnonzero(prepared.labelled())
    X = prepared.X[rows]
    y = {k: v[rows] for k, v in prepared.labels().items()}
    kwargs = {"n_blocks": args.n_blocks} if args.n_blocks else {}
    options = NetworkOptions(epochs=args.epochs, patience=args.epochs, **kwargs)
    print(f"engine accuracy on a SYNTHETIC sky (sos_vo.simulate, seed {args.sky_seed}): "
          f"{args.survey}, {len(rows)} labelled rows, {args.members} members x 3 labels, "
          f"{args.epochs} epochs, seeds {args.seeds}, engines {args.engines}", flush=True)
    runs = []
    for k, seed in enumerate(args.seeds):
        order = list(args.engines) if k % 2 == 0 else list(args.engines)[::-1]
        for engine in order:
            load = os.getloadavg()[0]
            cpu0, t0 = time.process_time(), time.perf_counter()
            ens = train_ensemble(X, y, prepared.input_names, args.survey, n_members=args.members,
                                 options=options, seed=seed, progress=False, fused=True,
                                 fused_options=FusedOptions(engine=engine))
            wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
            report = ens.test_report()
            run = {"engine": engine, "seed": seed, "train_seconds": wall, "train_cpu_seconds": cpu,
                   "heldout_abs_mad": {str(r["label"]): float(r["abs_mad"]) for r in report},
                   "heldout_abs_median": {str(r["label"]): float(r["abs_median"]) for r in report},
                   "load_average": [load, os.getloadavg()[0]]}
            runs.append(run)
            print(f"seed {seed} {engine:<10}: held-out MAD "
                  + ", ".join(f"{k} {v:.4g}" for k, v in run["heldout_abs_mad"].items())
                  + f"; {wall:.0f} s ({cpu:.0f} CPU-s), load {load:.2f}", flush=True)
            del ens
    engines = list(args.engines)
    reference = None
    if args.reference is not None:
        import json

        reference = json.loads(args.reference.read_text())
        same = (reference.get("n_train_rows") == len(rows) and reference.get("epochs") == args.epochs
                and reference.get("members") == args.members
                and reference.get("sky_seed") == args.sky_seed)
        if not same:
            print(f"error: {args.reference} is of another sample, epoch count or ensemble",
                  file=sys.stderr)
            return 2
        measured = {(r["engine"], r["seed"]) for r in runs}
        extra = [r for r in reference["runs"] if (r["engine"], r["seed"]) not in measured]
        engines += sorted({r["engine"] for r in extra} - set(engines))
        runs = runs + [dict(r, from_reference=r.get("from_reference", str(args.reference.name)))
                       for r in extra]
        print(f"{len(extra)} runs (engine, seed) {sorted((r['engine'], r['seed']) for r in extra)} "
              f"taken from {args.reference}")
    summary = summarise(runs, engines)
    for engine in engines:
        n_seeds = len({r["seed"] for r in runs if r["engine"] == engine})
        print(f"{engine:<10} mean (sd) over {n_seeds} seeds: " + ", ".join(
            f"{k} {v['mean']:.4g} ({v['std']:.2g})" for k, v in summary["per_engine"][engine].items()
            if isinstance(v, dict)))
    if "per_label" in summary:
        for label, v in summary["per_label"].items():
            print(f"{label}: {summary['difference']} = {v['mean_difference']:+.4g} (paired "
                  f"{', '.join(f'{d:+.3g}' for d in v['paired_differences'])}); seed spread "
                  f"{v['seed_spread']:.3g}: {'within' if v['within_spread'] else 'OUTSIDE'}")
        print(f"equal accuracy (every label within the spread): {summary['equal_accuracy']}")
    if args.json is not None:
        from sos_vo.pipeline import write_json

        write_json(args.json, {"benchmark": "engine_accuracy", "synthetic": True,
                               "argv": list(argv if argv is not None else sys.argv[1:]),
                               "survey": args.survey, "n_train_rows": int(len(rows)),
                               "n_blocks": options.n_blocks,
                               "members": args.members, "epochs": args.epochs,
                               "sky_seed": args.sky_seed,
                               "seeds": sorted({r["seed"] for r in runs}), "runs": runs,
                               "reference": str(args.reference) if reference else None,
                               "summary": summary, "environment": environment()})
        print(f"results written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
