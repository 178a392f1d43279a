"""Training speed: fused ensemble training vs a plain per-network Keras ``fit`` loop, side by side.

One run, one process, the same data and architecture for both:

1. a synthetic sky (:func:`sos_vo.simulate.simulate_sky`, clearly SYNTHETIC) is prepared for one
   survey (:func:`sos_vo.pipeline.prepare_survey`); its labelled rows are split once into a
   training part and a held-out part (:data:`HOLDOUT_FRACTION`) that neither path sees;
2. ``train_ensemble(..., fused=False)`` (one Keras ``fit`` per member and label, early stopping
   per network) and ``train_ensemble(..., fused=True)`` (:mod:`sos_vo.ml.fused`) train
   3 labels x ``--members`` networks of the T25 architecture with the same options, seed and
   therefore the same random splits;
3. figures per path:

``rows/s``
    sum over networks of (training rows x epochs that network trained) / wall seconds of the
    whole ``train_ensemble`` call (graph building, validation, test pass, Keras model export
    included).  Epochs a fused network is still computed after it stopped are NOT counted.
``wall``
    seconds of the whole call (the ensemble-level speed-up).
``epochs``
    median (min-max) over networks of the epochs trained and of the best (restored) epoch
    (= epochs to convergence).
``test``
    per label, on the pooled members' test sets (T25 Table 4): median |error| (= e_train) and
    the MAD (1.4826 median |e - median e|) of the signed error; and on the held-out part, the
    MAD of the ensemble median prediction against the labels.

Run ``python -m benchmarks.scale_train --help``; the defaults take ~10 minutes on 2 shared cores.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

DEFAULT_N_STARS = 30_000
DEFAULT_MEMBERS = 10
DEFAULT_EPOCHS = 40
DEFAULT_PATIENCE = 5
HOLDOUT_FRACTION = 0.2
TARGET_SPEEDUP = 3.0
"""Scaling target: fused rows/s >= 3x the per-network loop's."""


def network_epoch_rows(ensemble) -> float:
    """Sum over networks of training rows x epochs trained."""
    return float(sum(m.split["train"].size * m.epochs_trained
                     for ms in ensemble.members.values() for m in ms))


def summarise(ensemble, seconds: float, X_hold: np.ndarray, y_hold: dict) -> dict[str, Any]:
    """Figures of one trained ensemble (see the module docstring)."""
    from sos_vo.stats import error_statistics

    nets = [m for ms in ensemble.members.values() for m in ms]
    epochs = np.array([m.epochs_trained for m in nets])
    best = np.array([m.best_epoch for m in nets])
    pred = ensemble.predict(X_hold)
    out: dict[str, Any] = {
        "seconds": seconds, "rows_per_s": network_epoch_rows(ensemble) / seconds,
        "epochs_median": float(np.median(epochs)), "epochs_min": int(epochs.min()),
        "epochs_max": int(epochs.max()), "best_epoch_median": float(np.median(best)),
        "best_epoch_min": int(best.min()), "best_epoch_max": int(best.max()), "labels": {}}
    for label in ensemble.labels:
        st = error_statistics(*ensemble.test_errors(label))
        ok = np.isfinite(y_hold[label])
        hold = error_statistics(pred[label][0][ok], y_hold[label][ok])
        out["labels"][label] = {"test_abs_median": st.abs_median, "test_mad": st.signed_mad,
                                "holdout_mad": hold.signed_mad, "holdout_n": int(ok.sum())}
    return out


def build_parser() -> argparse.ArgumentParser:
    """Command-line options."""
    p = argparse.ArgumentParser(prog="python -m benchmarks.scale_train",
                                description=__doc__.split("\n")[0])
    p.add_argument("--survey", default="sdss", choices=["sdss", "skymapper"])
    p.add_argument("--n-stars", type=int, default=DEFAULT_N_STARS, help="Gaia sources simulated")
    p.add_argument("--members", type=int, default=DEFAULT_MEMBERS)
    p.add_argument("--epochs", type=int, default=DEFAULT_EPOCHS, help="maximum epochs")
    p.add_argument("--patience", type=int, default=DEFAULT_PATIENCE)
    p.add_argument("--n-blocks", type=int, default=None, help="hidden blocks (T25: 18)")
    p.add_argument("--batch-scale", type=float, default=1.0, help="fused batch scale")
    p.add_argument("--threads", type=int, default=None, help="TensorFlow threads (default: all)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--json", type=Path)
    p.add_argument("--quiet", action="store_true")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run both trainings and print the comparison."""
    args = build_parser().parse_args(argv)
    from sos_vo.ml.training import set_tf_threads

    if args.threads:
        set_tf_threads(args.threads)
    from benchmarks.machine import matmul_gflops
    from sos_vo.ml.ensemble import train_ensemble
    from sos_vo.ml.fused import FusedOptions
    from sos_vo.ml.options import NetworkOptions
    from sos_vo.pipeline import prepare_survey
    from sos_vo.simulate import simulate_sky

    print("SoS-ML training benchmark on a SYNTHETIC sky (sos_vo.simulate): fused vs per-network")
    mm = matmul_gflops()
    sky = simulate_sky(center=(180.0, 0.0), radius=4.0, n_stars=args.n_stars, seed=args.seed)
    prepared = prepare_survey(sky.tables, args.survey)
    rows = np.flatnonzero(prepared.labelled())
    rng = np.random.default_rng(args.seed)
    hold = rng.random(rows.size) < HOLDOUT_FRACTION
    labels = prepared.labels()
    X, y = prepared.X[rows[~hold]], {k: v[rows[~hold]] for k, v in labels.items()}
    X_hold, y_hold = prepared.X[rows[hold]], {k: v[rows[hold]] for k, v in labels.items()}
    kwargs: dict[str, Any] = {"epochs": args.epochs, "patience": args.patience}
    if args.n_blocks:
        kwargs["n_blocks"] = args.n_blocks
    options = NetworkOptions(**kwargs)
    print(f"{args.survey}: {len(X)} training rows, {len(X_hold)} held out; {3 * args.members} "
          f"networks of {options.n_blocks} blocks; epochs <= {options.epochs}, patience "
          f"{options.patience}, MAE for {options.mae_epochs} epochs; batch {options.batch_size}; "
          f"matmul {mm:.0f} GFLOP/s", flush=True)
    results = {}
    for name, fused in (("per-network Keras fit", False), ("fused", True)):
        t0 = time.perf_counter()
        ens = train_ensemble(X, y, prepared.input_names, args.survey, n_members=args.members,
                             options=options, seed=args.seed, progress=not args.quiet,
                             fused=fused, fused_options=FusedOptions(batch_scale=args.batch_scale),
                             provenance={"synthetic": True})
        seconds = time.perf_counter() - t0
        results[name] = summarise(ens, seconds, X_hold, y_hold)
        print(f"{name}: {seconds:.1f} s", flush=True)

    ref, fus = results["per-network Keras fit"], results["fused"]
    print(f"\n{'':<24}{'wall s':>8}{'rows/s':>10}{'epochs med (min-max)':>23}{'best epoch':>16}")
    for name, r in results.items():
        print(f"{name:<24}{r['seconds']:>8.1f}{r['rows_per_s']:>10.0f}"
              f"{r['epochs_median']:>11.0f} ({r['epochs_min']}-{r['epochs_max']})"
              f"{r['best_epoch_median']:>9.0f} ({r['best_epoch_min']}-{r['best_epoch_max']})")
    print(f"\n{'label':<8}{'path':<24}{'test med|e|':>12}{'test MAD':>10}{'held-out MAD':>14}")
    for label in ref["labels"]:
        for name, r in results.items():
            s = r["labels"][label]
            print(f"{label:<8}{name:<24}{s['test_abs_median']:>12.4g}{s['test_mad']:>10.4g}"
                  f"{s['holdout_mad']:>14.4g}")
    ratio = fus["rows_per_s"] / ref["rows_per_s"]
    print(f"\nrows/s ratio fused / per-network: {ratio:.2f}x (target >= {TARGET_SPEEDUP:g}x: "
          f"{'MET' if ratio >= TARGET_SPEEDUP else 'NOT MET'}); wall-clock ratio "
          f"{ref['seconds'] / fus['seconds']:.2f}x")
    if args.json:
        args.json.write_text(json.dumps({"matmul_gflops": mm, "results": results,
                                         "rows_per_s_ratio": ratio}, indent=1))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
