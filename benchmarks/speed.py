"""Speed benchmark: training rows/s and prediction stars/s of the full SoS-ML ensemble.

One run measures, on the same machine and in the same process:

* the float32 matrix-multiply throughput (:func:`benchmarks.machine.matmul_gflops`), before and
  after the timed work (the machine may be shared; both are printed, the larger is the
  reference);
* **training**: :func:`sos_vo.ml.ensemble.train_ensemble` of ``3 labels x N members`` networks
  on the labelled rows of a synthetic survey, for a fixed number of epochs (early stopping is
  disabled by a patience equal to the epochs), timed end to end (graph building, validation and
  test passes included); ``--fused`` times the fused path (:mod:`sos_vo.ml.fused`, all
  networks in one graph), where every row of a batch goes through every network and only the
  rows of each network's own training split count: the FLOPs counted below are that useful work;
* **prediction**: the numpy path (:func:`sos_vo.ml.modelio.load_model` ->
  :class:`~sos_vo.ml.inference.NumpyEnsemble`, batch norm folded) and, for comparison, Keras'
  ``model.predict`` of every network followed by the same median / MAD;
* peak memory: ``tracemalloc`` peak of the numpy prediction and the process's peak RSS.

FLOP counting (exact for the dense layers, from the widths of :mod:`sos_vo.ml.options`):
a forward pass of one row through one network costs ``sum 2 * n_in * n_out`` over its dense
layers (hidden and output), ``n_in`` being the network's input width (the features and flags
plus the derived colour inputs of :data:`sos_vo.ml.options.INPUT_COLOURS`).  Element-wise work (bias, Leaky ReLU, batch normalisation, dropout,
the loss, the optimiser update) is not counted.  **Training is approximated as 3x the forward
cost per training row** (forward, plus backward for the activations' and the weights' gradients,
each a product of the same size), plus 1x per validation row each epoch and 1x per test row
once.  Each rate is also given as a fraction of the matmul throughput.

Run ``python -m benchmarks.speed --help``; the defaults finish in a few minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # before TensorFlow is imported

DEFAULT_N_STARS = 20_000
"""Gaia sources of the synthetic sky (~2 500 labelled SDSS rows after the cuts)."""
DEFAULT_MEMBERS = 10
"""Members of the timed ensemble: T25 Sect. 5.1's 10, so 30 networks."""
DEFAULT_EPOCHS = 3
"""Epochs of every timed training (fixed: patience = epochs disables early stopping)."""
DEFAULT_PREDICT_ROWS = 100_000
"""Stars of the timed prediction (the prepared rows, repeated)."""
TRAINING_FLOP_FACTOR = 3.0
"""Training FLOPs per training row = 3 x forward FLOPs (forward + two backward products of the
same size); an approximation, see the module docstring."""
KERAS_PREDICT_BATCH = 8192
"""Batch size of the Keras comparison (``Member.predict`` uses 8192 too)."""


def forward_flops_per_row(n_inputs: int, widths: Sequence[int], n_outputs: int = 1) -> int:
    """Exact multiply-add FLOPs (2 per multiply-add) of one row through one network's dense layers.

    Parameters
    ----------
    n_inputs : int
        Input width (features plus presence flags).
    widths : sequence of int
        Hidden widths (e.g. :attr:`NetworkOptions.widths`).
    n_outputs : int
        Output width (1 per network).
    """
    sizes = [int(n_inputs), *(int(w) for w in widths), int(n_outputs)]
    return int(sum(2 * a * b for a, b in zip(sizes[:-1], sizes[1:], strict=True)))


def training_flops(fwd: int, members: list, epochs_of: Sequence[int]) -> float:
    """Approximate training FLOPs of a list of trained members (see :data:`TRAINING_FLOP_FACTOR`)."""
    total = 0.0
    for m, ep in zip(members, epochs_of, strict=True):
        total += fwd * (TRAINING_FLOP_FACTOR * m.split["train"].size * ep
                        + m.split["validation"].size * ep + m.split["test"].size)
    return total


def time_call(fn, *args, **kwargs) -> tuple[Any, float]:
    """Return ``(fn(*args, **kwargs), seconds)``."""
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - t0


def keras_predict(ensemble, X: np.ndarray) -> dict[str, np.ndarray]:
    """Median over members of every network's Keras ``predict`` (same scalers as numpy)."""
    xs = ensemble.input_scaler.transform(X)
    out = {}
    for label in ensemble.labels:
        preds = np.stack([ensemble.label_scalers[label].inverse(
            m.model.predict(xs, batch_size=KERAS_PREDICT_BATCH, verbose=0)[:, 0])
            for m in ensemble.members[label]])
        out[label] = np.median(preds, axis=0)
    return out


def build_parser() -> argparse.ArgumentParser:
    """Command-line options."""
    p = argparse.ArgumentParser(prog="python -m benchmarks.speed", description=__doc__.split("\n")[0])
    p.add_argument("--survey", default="sdss", choices=["sdss", "skymapper"])
    p.add_argument("--n-stars", type=int, default=DEFAULT_N_STARS, help="Gaia sources simulated")
    p.add_argument("--rows", type=int, default=None, help="cap on the labelled training rows")
    p.add_argument("--members", type=int, default=DEFAULT_MEMBERS, help="ensemble members (T25: 10)")
    p.add_argument("--epochs", type=int, default=DEFAULT_EPOCHS, help="fixed epochs per network")
    p.add_argument("--batch-size", type=int, default=None, help="training batch (default: options)")
    p.add_argument("--n-blocks", type=int, default=None, help="hidden blocks (T25: 18)")
    p.add_argument("--predict-rows", type=int, default=DEFAULT_PREDICT_ROWS)
    p.add_argument("--matmul-n", type=int, default=2048, help="size of the reference matmul")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--fused", action="store_true",
                   help="time fused training (sos_vo.ml.fused) instead of network by network")
    p.add_argument("--no-keras", action="store_true", help="skip the Keras prediction comparison")
    p.add_argument("--json", type=Path, help="write the results as JSON here")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark, print the figures, optionally write JSON."""
    args = build_parser().parse_args(argv)
    from benchmarks.machine import matmul_gflops, peak_rss_mb
    from sos_vo.ml.ensemble import train_ensemble
    from sos_vo.ml.modelio import load_model, save_model
    from sos_vo.ml.options import NetworkOptions
    from sos_vo.ml.scaling import InputScaler
    from sos_vo.pipeline import prepare_survey
    from sos_vo.simulate import simulate_sky

    print("SoS-ML speed benchmark on a SYNTHETIC sky (sos_vo.simulate)")
    gflops_before = matmul_gflops(args.matmul_n)
    print(f"float32 matmul ({args.matmul_n}^2, numpy BLAS): {gflops_before:.1f} GFLOP/s", flush=True)

    sky = simulate_sky(center=(180.0, 0.0), radius=4.0, n_stars=args.n_stars, seed=args.seed)
    prepared = prepare_survey(sky.tables, args.survey)
    mask = prepared.labelled()
    rows = np.flatnonzero(mask)[: args.rows] if args.rows else np.flatnonzero(mask)
    X = prepared.X[rows]
    y = {k: v[rows] for k, v in prepared.labels().items()}
    kwargs: dict[str, Any] = {"epochs": args.epochs, "patience": args.epochs}
    if args.batch_size:
        kwargs["batch_size"] = args.batch_size
    if args.n_blocks:
        kwargs["n_blocks"] = args.n_blocks
    options = NetworkOptions(**kwargs)
    n_nets = 3 * args.members
    # the network's input width: features and flags plus the derived colours (if any)
    n_net_inputs = InputScaler.fit(X, prepared.input_names, options.input_scaling,
                                   options.input_colours).n_outputs(X.shape[1])
    fwd = forward_flops_per_row(n_net_inputs, options.widths)
    reduced = [] if args.members >= 10 and options.n_blocks == 18 else [
        f"{args.members} members, {options.n_blocks} blocks (T25: 10 members, 18 blocks)"]
    print(f"{args.survey}: {len(rows)} labelled training rows, {X.shape[1]} inputs "
          f"({n_net_inputs} network inputs with derived colours); {args.members} "
          f"members x 3 labels = {n_nets} networks; widths {options.widths}; batch "
          f"{options.batch_size}; {args.epochs} fixed epochs; "
          f"{'fused' if args.fused else 'network by network'} training")
    print(f"forward FLOPs per row per network: {fwd} (dense layers, exact); per star for the "
          f"ensemble: {fwd * n_nets}")
    if reduced:
        print("REDUCED: " + "; ".join(reduced))

    # -- training -------------------------------------------------------------------------
    ensemble, t_train = time_call(train_ensemble, X, y, prepared.input_names, args.survey,
                                  n_members=args.members, options=options, seed=args.seed,
                                  progress=not args.quiet, fused=args.fused)
    members = [m for label in ensemble.labels for m in ensemble.members[label]]
    epochs_run = [m.epochs_trained for m in members]
    train_rows = sum(m.split["train"].size * e for m, e in zip(members, epochs_run, strict=True))
    flops_train = training_flops(fwd, members, epochs_run)
    rows_per_s_net = train_rows / t_train
    rows_per_s_ens = rows_per_s_net / n_nets
    train_gflops = flops_train / t_train / 1e9

    # -- prediction -----------------------------------------------------------------------
    reps = int(np.ceil(args.predict_rows / len(prepared.X)))
    Xp = np.ascontiguousarray(np.tile(prepared.X, (reps, 1))[: args.predict_rows])
    with tempfile.TemporaryDirectory() as tmp:
        folder = save_model(ensemble, Path(tmp) / "model", provenance={"synthetic": True,
                                                                         "benchmark": "speed"})
        model, t_load = time_call(load_model, folder)
        model.predict(Xp[:2048], data_is_real=False)  # warm-up (thread pools, buffers)
        tracemalloc.start()
        np_pred, t_np = time_call(model.predict, Xp, data_is_real=False)
        _, np_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    flops_pred = float(fwd) * n_nets * len(Xp)
    result: dict[str, Any] = {
        "benchmark": "speed", "synthetic": True, "survey": args.survey, "argv": list(argv or sys.argv[1:]),
        "n_train_rows": int(len(rows)), "n_inputs": int(X.shape[1]),
        "n_network_inputs": int(n_net_inputs), "fused": args.fused, "members": args.members,
        "n_networks": n_nets, "widths": list(options.widths), "batch_size": options.batch_size,
        "epochs": args.epochs, "epochs_run": epochs_run, "reduced": reduced,
        "forward_flops_per_row_per_network": fwd, "training_flop_factor": TRAINING_FLOP_FACTOR,
        "train_seconds": t_train, "train_row_passes": int(train_rows),
        "train_rows_per_s_per_network": rows_per_s_net, "train_rows_per_s_full_ensemble": rows_per_s_ens,
        "train_gflops": train_gflops,
        "predict_rows": int(len(Xp)), "load_seconds": t_load,
        "numpy_predict_seconds": t_np, "numpy_stars_per_s": len(Xp) / t_np,
        "numpy_gflops": flops_pred / t_np / 1e9, "numpy_tracemalloc_peak_mb": np_peak / 2**20,
    }
    if not args.no_keras:
        keras_predict(ensemble, Xp[:2048])  # warm-up (graph tracing)
        k_pred, t_keras = time_call(keras_predict, ensemble, Xp)
        result.update({"keras_predict_seconds": t_keras, "keras_stars_per_s": len(Xp) / t_keras,
                       "keras_gflops": flops_pred / t_keras / 1e9,
                       "keras_vs_numpy_max_abs_diff": {k: float(np.max(np.abs(k_pred[k] - np_pred[k][0])))
                                                       for k in k_pred}})
    gflops_after = matmul_gflops(args.matmul_n)
    ref = max(gflops_before, gflops_after)
    result.update({"matmul_gflops_before": gflops_before, "matmul_gflops_after": gflops_after,
                   "matmul_gflops_reference": ref, "peak_rss_mb": peak_rss_mb(),
                   "cpu_count": os.cpu_count(), "load_average": list(os.getloadavg())})
    for key in ("train", "numpy", "keras"):
        if f"{key}_gflops" in result:
            result[f"{key}_fraction_of_matmul"] = result[f"{key}_gflops"] / ref

    print("\n== training (full ensemble, SYNTHETIC data) ==")
    print(f"{n_nets} networks x {args.epochs} epochs on {len(rows)} rows in {t_train:.1f} s")
    print(f"rows/s per network      {rows_per_s_net:12.0f}   (training row passes / wall)")
    print(f"rows/s full ensemble    {rows_per_s_ens:12.1f}   (rows through all {n_nets} networks)")
    print(f"GFLOP/s (3x fwd approx) {train_gflops:12.2f}   = {result['train_fraction_of_matmul']:.3%} "
          f"of matmul")
    print("\n== prediction (full ensemble: median, e_rep, e_ML of 3 labels) ==")
    print(f"{'path':<8} {'stars/s':>10} {'GFLOP/s':>9} {'of matmul':>10} {'seconds':>8}")
    print(f"{'numpy':<8} {result['numpy_stars_per_s']:10.0f} {result['numpy_gflops']:9.2f} "
          f"{result['numpy_fraction_of_matmul']:10.2%} {t_np:8.2f}")
    if "keras_gflops" in result:
        print(f"{'keras':<8} {result['keras_stars_per_s']:10.0f} {result['keras_gflops']:9.2f} "
              f"{result['keras_fraction_of_matmul']:10.2%} {result['keras_predict_seconds']:8.2f}")
        print(f"max |keras - numpy| of the medians: {result['keras_vs_numpy_max_abs_diff']}")
    print(f"model load (numpy, no TensorFlow needed): {t_load:.2f} s")
    print("\n== machine and memory ==")
    print(f"float32 matmul GFLOP/s: before {gflops_before:.1f}, after {gflops_after:.1f} "
          f"(reference {ref:.1f}); {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    print(f"numpy prediction tracemalloc peak: {result['numpy_tracemalloc_peak_mb']:.0f} MB for "
          f"{len(Xp)} stars; process peak RSS {result['peak_rss_mb']:.0f} MB (includes TensorFlow)")
    if args.json is not None:
        from sos_vo.pipeline import write_json

        write_json(args.json, result)
        print(f"results written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
