"""Real-data benchmark: [Fe/H] of real SEGUE stars from their four SDSS colours.

The open SEGUE/SSPP table (27 901 SDSS DR17 stars: u-g, g-r, r-i, i-z from photoObj model
magnitudes, not dereddened, and the adopted SSPP [Fe/H]; :func:`sos_vo.simulate.realism.read_segue`)
is split once at random into a training part and a held-out part (:data:`HOLDOUT_FRACTION`).  On
the training part:

* the package's ensemble, through its public training API
  (:func:`sos_vo.ml.ensemble.train_ensemble`; T25's network, the package's
  :class:`~sos_vo.ml.options.NetworkOptions` except the epoch budget, see :data:`DEFAULT_EPOCHS`),
  with the four colours as its only inputs and [Fe/H] as its only label;
* XGBoost and a random forest with the hyper-parameters of ``benchmarks.accuracy``.

On the held-out part: MAD (1.4826 median |e - median e|), bias (median e) and med|e| of
e = prediction - SSPP [Fe/H] for each method, and the MAD of [Fe/H] itself (what predicting the
median would give).  The labels are SSPP's, with their own ~0.1 dex random error, so no method can
reach zero.

Run ``python -m benchmarks.segue_real --help``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # before TensorFlow is imported

HOLDOUT_FRACTION = 0.2
"""Fraction of the stars held out from every method (as ``benchmarks.accuracy``)."""
DEFAULT_SEED = 1
DEFAULT_MEMBERS = 5
"""Ensemble members (T25: 10); 5 keep the run within ~15 min on two busy cores."""
DEFAULT_EPOCHS = 40
"""Fixed epoch budget with the cosine schedule (``benchmarks.accuracy`` 1k used 60 epochs)."""
COLOURS = ("ug", "gr", "ri", "iz")
METHODS = ("ensemble", "xgboost", "random_forest")


def split(n: int, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Training and held-out row indices of one random split."""
    perm = np.random.default_rng(seed).permutation(n)
    n_test = int(round(fraction * n))
    return np.sort(perm[n_test:]), np.sort(perm[:n_test])


def stats(pred: np.ndarray, true: np.ndarray) -> dict[str, float]:
    """MAD, bias (median), med|e| and RMSE of pred - true."""
    from sos_vo.stats import error_statistics

    st = error_statistics(pred, true).as_dict()
    e = np.asarray(pred, float) - np.asarray(true, float)
    return {"mad": float(st["signed_mad"]), "bias": float(np.median(e)), "abs_median": float(st["abs_median"]),
            "rmse": float(st["rmse"]), "n": int(st["n"])}


def build_parser() -> argparse.ArgumentParser:
    """Command-line options."""
    p = argparse.ArgumentParser(prog="python -m benchmarks.segue_real", description=__doc__.split("\n")[0])
    p.add_argument("--realdata", type=Path, default=None, help="folder of the real tables (default: shared/realdata)")
    p.add_argument("--rows", type=int, default=None, help="use only this many stars (random subset)")
    p.add_argument("--seed", type=int, default=DEFAULT_SEED)
    p.add_argument("--holdout", type=float, default=HOLDOUT_FRACTION)
    p.add_argument("--members", type=int, default=DEFAULT_MEMBERS)
    p.add_argument("--epochs", type=int, default=DEFAULT_EPOCHS)
    p.add_argument("--lr-schedule", default="cosine", choices=["plateau", "cosine"])
    p.add_argument("--n-blocks", type=int, default=None, help="hidden blocks (package default: T25's 18)")
    p.add_argument("--n-jobs", type=int, default=2, help="threads of the tree baselines")
    p.add_argument("--json", type=Path, help="write the results as JSON here")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; print the table; optionally write JSON."""
    args = build_parser().parse_args(argv)
    from benchmarks.accuracy import RF_PARAMS, XGB_PARAMS, fit_random_forest, fit_xgboost
    from benchmarks.machine import peak_rss_mb
    from sos_vo.ml.ensemble import train_ensemble
    from sos_vo.ml.options import NetworkOptions
    from sos_vo.simulate.realism import read_segue
    from sos_vo.stats import mad

    t0 = time.perf_counter()
    try:
        real = read_segue(args.realdata)
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    n = len(real["feh"])
    rows = np.arange(n)
    if args.rows is not None and args.rows < n:
        rows = np.sort(np.random.default_rng(args.seed).choice(n, args.rows, replace=False))
    X = np.column_stack([real[c][rows] for c in COLOURS]).astype(np.float64)
    y = real["feh"][rows]
    tr, te = split(len(y), args.holdout, args.seed)
    kwargs = {"epochs": args.epochs, "lr_schedule": args.lr_schedule}
    if args.n_blocks is not None:
        kwargs["n_blocks"] = args.n_blocks
    options = NetworkOptions(**kwargs)
    print("Real-data benchmark: [Fe/H] of REAL SEGUE/SSPP stars (SDSS DR17) from u-g, g-r, r-i, i-z")
    print(f"{len(y)} stars: {tr.size} training part, {te.size} held out (seed {args.seed}); "
          f"ensemble {args.members} members, options {options.to_dict()}")
    preds: dict[str, np.ndarray] = {}
    seconds: dict[str, float] = {}
    t = time.perf_counter()
    ens = train_ensemble(X[tr], {"feh": y[tr]}, list(COLOURS), "sdss", n_members=args.members, options=options,
                         seed=args.seed, progress=False, fused=True,
                         provenance={"synthetic": False, "source": "SDSS DR17 SEGUE/SSPP colours"})
    seconds["ensemble"] = time.perf_counter() - t
    preds["ensemble"] = ens.predict(X[te], names=list(COLOURS), data_is_real=True)["feh"][0]
    epochs = [m.epochs_trained for m in ens.members["feh"]]
    print(f"ensemble trained in {seconds['ensemble']:.0f} s; epochs run {epochs}", flush=True)
    t = time.perf_counter()
    preds["xgboost"] = fit_xgboost(X[tr], y[tr], args.seed, args.n_jobs).predict(X[te])
    seconds["xgboost"] = time.perf_counter() - t
    t = time.perf_counter()
    preds["random_forest"] = fit_random_forest(X[tr], y[tr], args.seed, args.n_jobs).predict(X[te])
    seconds["random_forest"] = time.perf_counter() - t
    results: dict[str, Any] = {m: stats(preds[m], y[te]) for m in METHODS}
    spread = mad(y[te])
    print(f"\n== held-out SEGUE stars, N={te.size}: [Fe/H] prediction - SSPP [Fe/H] (dex) ==")
    print(f"{'method':<15}{'MAD':>8}{'bias':>8}{'med|e|':>8}{'RMSE':>8}{'spread/MAD':>12}{'seconds':>9}")
    for m in METHODS:
        r = results[m]
        print(f"{m:<15}{r['mad']:8.3f}{r['bias']:+8.3f}{r['abs_median']:8.3f}{r['rmse']:8.3f}"
              f"{spread / r['mad']:12.2f}{seconds[m]:9.0f}")
    print(f"{'(MAD of [Fe/H])':<15}{spread:8.3f}")
    best_tree = min(results["xgboost"]["mad"], results["random_forest"]["mad"])
    print(f"ensemble MAD / best tree MAD = {results['ensemble']['mad'] / best_tree:.3f}")
    wall = time.perf_counter() - t0
    load = os.getloadavg()
    print(f"\nwall time {wall:.0f} s; load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; "
          f"peak RSS {peak_rss_mb():.0f} MB")
    if args.json is not None:
        from sos_vo.pipeline import write_json

        write_json(args.json, {"benchmark": "segue_real", "synthetic": False, "argv": list(argv or sys.argv[1:]),
                               "n_stars": int(len(y)), "n_train": int(tr.size), "n_held_out": int(te.size),
                               "seed": args.seed, "members": args.members, "options": options.to_dict(),
                               "ensemble_epochs_run": epochs, "xgb_params": XGB_PARAMS, "rf_params": RF_PARAMS,
                               "feh_spread_mad": spread, "results": results, "seconds": seconds,
                               "wall_seconds": wall, "load_average": list(load)})
        print(f"results written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
