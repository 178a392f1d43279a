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

**Repeats and environment.**  ``--repeats N`` trains and predicts N times (same data, same
seed) and reports the median of each figure; the environment (library versions, the BLAS and
its threads, the CPUs, the load average before and after, the matmul throughput before and
after) is printed and stored with the runs.  Besides wall-clock rates the benchmark reports
**CPU-time rates** (FLOPs per CPU-second of the process, all its threads) against a
single-threaded matmul also timed in CPU seconds: on a shared machine the wall clock measures
the neighbours as much as the code, the CPU time mostly the code.

**Held-out accuracy.**  The pooled test-set MAD of ``|prediction - label|`` per label
(:meth:`sos_vo.ml.ensemble.Ensemble.test_report`, T25 Table 4) is stored with every run, so an
engine is compared at equal accuracy after the same epochs.

Run ``python -m benchmarks.speed --help``; the defaults finish in a few minutes on 2 cores.
The figures quoted in ``docs/benchmarks.md`` (Sect. 2c) are those of the JSON files under
``benchmarks/results/``.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
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
    p.add_argument("--engine", choices=["auto", "numpy", "tensorflow"], default="auto",
                   help="engine of fused training (sos_vo.ml.fused.FusedOptions.engine)")
    p.add_argument("--threads", type=int, default=None,
                   help="threads of the numpy engine (default: the CPUs available)")
    p.add_argument("--repeats", type=int, default=1, help="runs; the median is reported")
    p.add_argument("--no-keras", action="store_true", help="skip the Keras prediction comparison")
    p.add_argument("--json", type=Path, help="write the results as JSON here")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    return p


MEDIAN_KEYS = (
    "train_seconds", "train_cpu_seconds", "train_rows_per_s_per_network",
    "train_rows_per_cpu_second_per_network",
    "train_rows_per_s_full_ensemble", "train_gflops", "train_gflops_per_cpu_second",
    "numpy_predict_seconds", "numpy_stars_per_s", "numpy_gflops", "numpy_gflops_per_cpu_second",
    "keras_stars_per_s", "keras_gflops",
)
"""Figures of a run whose median over the repeats is reported."""


def environment() -> dict[str, Any]:
    """Library versions, BLAS and its threads, CPUs: stored with the figures."""
    import numpy
    from threadpoolctl import threadpool_info

    from sos_vo.ml.inference import available_cpus

    versions = {"python": platform.python_version(), "numpy": numpy.__version__}
    for name in ("tensorflow", "keras", "scipy"):
        try:
            versions[name] = __import__(name).__version__
        except ImportError:  # pragma: no cover - optional
            versions[name] = None
    blas = [{k: info.get(k) for k in ("internal_api", "version", "num_threads", "architecture")}
            for info in threadpool_info()]
    return {"versions": versions, "threadpools": blas, "cpu_count": os.cpu_count(),
            "cpus_available": available_cpus(), "machine": platform.machine(),
            "processor": platform.processor() or None,
            "omp_num_threads": os.environ.get("OMP_NUM_THREADS")}


def run_once(args, data: dict[str, Any]) -> dict[str, Any]:
    """One timed training and prediction; returns the figures of this run."""
    from sos_vo.ml.ensemble import train_ensemble
    from sos_vo.ml.fused import FusedOptions
    from sos_vo.ml.modelio import load_model, save_model

    X, y, options, fwd, n_nets = data["X"], data["y"], data["options"], data["fwd"], data["n_nets"]
    fused_options = FusedOptions(engine=args.engine, threads=args.threads) if args.fused else None
    load_before = os.getloadavg()[0]
    cpu0 = time.process_time()
    ensemble, t_train = time_call(train_ensemble, X, y, data["input_names"], args.survey,
                                  n_members=args.members, options=options, seed=args.seed,
                                  progress=not args.quiet, fused=args.fused,
                                  fused_options=fused_options)
    cpu_train = time.process_time() - cpu0
    members = [m for label in ensemble.labels for m in ensemble.members[label]]
    epochs_run = [m.epochs_trained for m in members]
    train_rows = sum(m.split["train"].size * e for m, e in zip(members, epochs_run, strict=True))
    flops_train = training_flops(fwd, members, epochs_run)
    report = ensemble.test_report()
    result: dict[str, Any] = {
        "engine": (fused_options.resolved_engine(options) if fused_options else "per-network"),
        "epochs_run": epochs_run, "train_seconds": t_train, "train_cpu_seconds": cpu_train,
        "train_row_passes": int(train_rows),
        "train_rows_per_s_per_network": train_rows / t_train,
        "train_rows_per_s_full_ensemble": train_rows / t_train / n_nets,
        "train_gflops": flops_train / t_train / 1e9,
        "train_gflops_per_cpu_second": flops_train / cpu_train / 1e9,
        "train_rows_per_cpu_second_per_network": train_rows / cpu_train,
        "heldout_abs_mad": {str(r["label"]): float(r["abs_mad"]) for r in report},
        "heldout_abs_median": {str(r["label"]): float(r["abs_median"]) for r in report},
        "load_average_during_training": [load_before, os.getloadavg()[0]],
    }
    Xp = data["Xp"]
    with tempfile.TemporaryDirectory() as tmp:
        folder = save_model(ensemble, Path(tmp) / "model", provenance={"synthetic": True,
                                                                         "benchmark": "speed"})
        model, t_load = time_call(load_model, folder)
        model.predict(Xp[:2048], data_is_real=False)  # warm-up (thread pools, buffers)
        tracemalloc.start()
        cpu0 = time.process_time()
        np_pred, t_np = time_call(model.predict, Xp, data_is_real=False)
        cpu_np = time.process_time() - cpu0
        _, np_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    flops_pred = float(fwd) * n_nets * len(Xp)
    result.update({"load_seconds": t_load, "numpy_predict_seconds": t_np,
                   "numpy_stars_per_s": len(Xp) / t_np, "numpy_gflops": flops_pred / t_np / 1e9,
                   "numpy_gflops_per_cpu_second": flops_pred / cpu_np / 1e9,
                   "numpy_tracemalloc_peak_mb": np_peak / 2**20})
    if not args.no_keras:
        keras_predict(ensemble, Xp[:2048])  # warm-up (graph tracing)
        k_pred, t_keras = time_call(keras_predict, ensemble, Xp)
        result.update({"keras_predict_seconds": t_keras, "keras_stars_per_s": len(Xp) / t_keras,
                       "keras_gflops": flops_pred / t_keras / 1e9,
                       "keras_vs_numpy_max_abs_diff": {k: float(np.max(np.abs(k_pred[k] - np_pred[k][0])))
                                                       for k in k_pred}})
    return result


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark ``--repeats`` times, print the figures and their medians, write JSON."""
    args = build_parser().parse_args(argv)
    if args.repeats < 1:
        print("error: --repeats must be >= 1", file=sys.stderr)
        return 2
    from benchmarks.machine import matmul_gflops, matmul_gflops_cpu, peak_rss_mb
    from sos_vo.ml.options import NetworkOptions
    from sos_vo.ml.scaling import InputScaler
    from sos_vo.pipeline import prepare_survey
    from sos_vo.simulate import simulate_sky

    print("SoS-ML speed benchmark on a SYNTHETIC sky (sos_vo.simulate)")
    env = environment()
    load_start = list(os.getloadavg())
    gflops_before = matmul_gflops(args.matmul_n)
    cpu_gflops_before = matmul_gflops_cpu(args.matmul_n // 2)
    print(f"float32 matmul ({args.matmul_n}^2, numpy BLAS): {gflops_before:.1f} GFLOP/s; "
          f"one thread: {cpu_gflops_before:.1f} GFLOP per CPU-second; load average "
          f"{load_start[0]:.2f}", flush=True)

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
    mode = (f"fused training, engine {args.engine}" if args.fused else "network by network")
    print(f"{args.survey}: {len(rows)} labelled training rows, {X.shape[1]} inputs "
          f"({n_net_inputs} network inputs with derived colours); {args.members} "
          f"members x 3 labels = {n_nets} networks; widths {options.widths}; batch "
          f"{options.batch_size}; {args.epochs} fixed epochs; {mode}; {args.repeats} run(s)")
    print(f"forward FLOPs per row per network: {fwd} (dense layers, exact); per star for the "
          f"ensemble: {fwd * n_nets}")
    if reduced:
        print("REDUCED: " + "; ".join(reduced))
    reps = int(np.ceil(args.predict_rows / len(prepared.X)))
    Xp = np.ascontiguousarray(np.tile(prepared.X, (reps, 1))[: args.predict_rows])
    data = {"X": X, "y": y, "options": options, "fwd": fwd, "n_nets": n_nets,
            "input_names": prepared.input_names, "Xp": Xp}

    runs = []
    for r in range(args.repeats):
        run = run_once(args, data)
        runs.append(run)
        print(f"run {r + 1}/{args.repeats}: training {run['train_seconds']:.1f} s "
              f"({run['train_rows_per_s_per_network']:.0f} rows/s per network, "
              f"{run['train_gflops_per_cpu_second']:.1f} GFLOP per CPU-s), numpy prediction "
              f"{run['numpy_stars_per_s']:.0f} stars/s; held-out MAD "
              + ", ".join(f"{k} {v:.4g}" for k, v in run["heldout_abs_mad"].items())
              + f"; load {os.getloadavg()[0]:.2f}", flush=True)

    gflops_after = matmul_gflops(args.matmul_n)
    cpu_gflops_after = matmul_gflops_cpu(args.matmul_n // 2)
    ref = max(gflops_before, gflops_after)
    cpu_ref = max(cpu_gflops_before, cpu_gflops_after)
    median = {k: statistics.median(run[k] for run in runs) for k in MEDIAN_KEYS if k in runs[0]}
    median["heldout_abs_mad"] = {k: statistics.median(run["heldout_abs_mad"][k] for run in runs)
                                 for k in runs[0]["heldout_abs_mad"]}
    for key in ("train", "numpy", "keras"):
        if f"{key}_gflops" in median:
            median[f"{key}_fraction_of_matmul"] = median[f"{key}_gflops"] / ref
        if f"{key}_gflops_per_cpu_second" in median:
            median[f"{key}_fraction_of_one_thread_matmul_cpu"] = (
                median[f"{key}_gflops_per_cpu_second"] / cpu_ref)
    result: dict[str, Any] = {
        "benchmark": "speed", "synthetic": True, "survey": args.survey,
        "argv": list(argv if argv is not None else sys.argv[1:]),
        "n_train_rows": int(len(rows)), "n_inputs": int(X.shape[1]),
        "n_network_inputs": int(n_net_inputs), "fused": args.fused, "engine": runs[0]["engine"],
        "members": args.members, "n_networks": n_nets, "widths": list(options.widths),
        "batch_size": options.batch_size, "epochs": args.epochs, "reduced": reduced,
        "forward_flops_per_row_per_network": fwd, "training_flop_factor": TRAINING_FLOP_FACTOR,
        "predict_rows": int(len(Xp)), "repeats": args.repeats, "median": median, "runs": runs,
        "environment": env,
        "matmul_gflops_before": gflops_before, "matmul_gflops_after": gflops_after,
        "matmul_gflops_reference": ref,
        "matmul_one_thread_gflops_per_cpu_second_before": cpu_gflops_before,
        "matmul_one_thread_gflops_per_cpu_second_after": cpu_gflops_after,
        "load_average_start": load_start, "load_average_end": list(os.getloadavg()),
        "peak_rss_mb": peak_rss_mb(), "cpu_count": os.cpu_count(),
    }
    # top-level copies of the medians (the keys earlier versions of this file wrote)
    result.update({k: v for k, v in median.items() if k != "heldout_abs_mad"})

    print(f"\n== training (full ensemble, SYNTHETIC data; median of {args.repeats}) ==")
    print(f"{n_nets} networks x {args.epochs} epochs on {len(rows)} rows in "
          f"{median['train_seconds']:.1f} s ({median['train_cpu_seconds']:.1f} CPU-s), "
          f"engine {result['engine']}")
    print(f"rows/s per network      {median['train_rows_per_s_per_network']:12.0f}   "
          f"(training row passes / wall)")
    print(f"rows/s full ensemble    {median['train_rows_per_s_full_ensemble']:12.1f}   "
          f"(rows through all {n_nets} networks)")
    print(f"GFLOP/s (3x fwd approx) {median['train_gflops']:12.2f}   = "
          f"{median['train_fraction_of_matmul']:.1%} of matmul")
    print(f"GFLOP per CPU-second    {median['train_gflops_per_cpu_second']:12.2f}   = "
          f"{median['train_fraction_of_one_thread_matmul_cpu']:.1%} of a one-thread matmul")
    print("held-out MAD |pred - label| (pooled test sets): "
          + ", ".join(f"{k} {v:.4g}" for k, v in median["heldout_abs_mad"].items()))
    print(f"\n== prediction (full ensemble: median, e_rep, e_ML of 3 labels; median of "
          f"{args.repeats}) ==")
    print(f"{'path':<8} {'stars/s':>10} {'GFLOP/s':>9} {'of matmul':>10} {'seconds':>8}")
    print(f"{'numpy':<8} {median['numpy_stars_per_s']:10.0f} {median['numpy_gflops']:9.2f} "
          f"{median['numpy_fraction_of_matmul']:10.2%} {median['numpy_predict_seconds']:8.2f}")
    if "keras_gflops" in median:
        print(f"{'keras':<8} {median['keras_stars_per_s']:10.0f} {median['keras_gflops']:9.2f} "
              f"{median['keras_fraction_of_matmul']:10.2%}")
        print(f"max |keras - numpy| of the medians (last run): "
              f"{runs[-1]['keras_vs_numpy_max_abs_diff']}")
    print(f"model load (numpy, no TensorFlow needed): {runs[-1]['load_seconds']:.2f} s")
    print("\n== machine and memory ==")
    print(f"float32 matmul GFLOP/s: before {gflops_before:.1f}, after {gflops_after:.1f} "
          f"(reference {ref:.1f}); one thread, per CPU-second: before {cpu_gflops_before:.1f}, "
          f"after {cpu_gflops_after:.1f}")
    print(f"{os.cpu_count()} CPUs; load average at start {load_start[0]:.2f}, at end "
          f"{os.getloadavg()[0]:.2f}; versions {env['versions']}; BLAS {env['threadpools']}")
    print(f"numpy prediction tracemalloc peak: {median_or(runs, 'numpy_tracemalloc_peak_mb'):.0f} MB "
          f"for {len(Xp)} stars; process peak RSS {result['peak_rss_mb']:.0f} MB (includes TensorFlow)")
    if args.json is not None:
        from sos_vo.pipeline import write_json

        write_json(args.json, result)
        print(f"results written to {args.json}")
    return 0


def median_or(runs: Sequence[dict[str, Any]], key: str) -> float:
    """Median of ``key`` over the runs."""
    return float(statistics.median(run[key] for run in runs))


if __name__ == "__main__":
    sys.exit(main())
