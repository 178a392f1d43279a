"""Prediction speed of the full SoS-ML ensemble as a fraction of the machine's matmul throughput.

One run, one process, measures side by side:

* the float32 matrix-multiply throughput of numpy's BLAS (:func:`benchmarks.machine.matmul_gflops`),
  before and after the timed work; the LARGER of the two is the reference (the machine may be
  shared, and a larger reference makes the fraction conservative);
* the fast numpy path (:class:`sos_vo.ml.inference.FastForward` through
  :meth:`NumpyEnsemble.predict`: biases folded, merged first layer, network-major cache-sized
  chunks, threads), forward pass alone and end to end (scaling, median, MAD, e_ML);
* the simple stacked reference path (:func:`sos_vo.ml.inference.forward_stacked`);
* Keras ``model.predict`` of every network (the reference the numpy paths must reproduce).

The ensemble is 3 labels x ``--members`` networks of the T25 architecture (18 blocks, diamond
80..160..80) on the SDSS input width (features + presence flags), with random weights AND random
batch-norm statistics so that the folding is exercised; speed does not depend on the values.
Agreement with Keras is checked on the Keras rows (max |difference| / output spread printed;
the run fails if it exceeds ``--tolerance``).

FLOPs: ``sum 2 * n_in * n_out`` over the dense layers of one network and one row (exact for the
products; the extra constant-1 column of the fast path is NOT counted, nor any element-wise
work).  Timings are the best of ``--repeats`` runs.

    python -m benchmarks.scale_predict [--rows 40000] [--keras-rows 10000] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

DEFAULT_ROWS = 40_000
DEFAULT_KERAS_ROWS = 10_000
DEFAULT_MEMBERS = 10
DEFAULT_TOLERANCE = 1e-4
"""Max |numpy - Keras| allowed, in units of the spread (std) of the Keras outputs."""
TARGET_FRACTION = 0.5
"""Scaling target: >= 50% of the float32 matmul throughput."""
KERAS_BATCH = 8192


def forward_flops_per_row(sizes: Sequence[int]) -> int:
    """Multiply-add FLOPs (2 per multiply-add) of one row through dense layers of ``sizes``."""
    return int(sum(2 * a * b for a, b in zip(sizes[:-1], sizes[1:], strict=True)))


def best_time(fn: Callable[[], Any], repeats: int) -> tuple[Any, float]:
    """``(result, best seconds)`` of ``repeats`` calls."""
    best, out = float("inf"), None
    for _ in range(max(1, repeats)):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return out, best


def random_keras_network(n_in: int, options, seed: int):
    """A T25 network with random weights and random batch-norm statistics."""
    from sos_vo.ml.network import block_layers, build_mlp

    model = build_mlp(n_in, options, seed=seed, compile=False)
    rng = np.random.default_rng(seed)
    for _, bn in block_layers(model):
        gamma, _, _, _ = bn.get_weights()
        bn.set_weights([rng.uniform(0.8, 1.2, gamma.shape), rng.normal(0, 0.1, gamma.shape),
                        rng.normal(0, 0.2, gamma.shape), rng.uniform(0.5, 2.0, gamma.shape)])
    return model


def build_ensemble(survey: str, n_members: int, seed: int):
    """(NumpyEnsemble, keras models, input names) of random T25 networks."""
    from sos_vo.ml.inference import NumpyEnsemble, fold_network, stack_networks
    from sos_vo.ml.options import NetworkOptions
    from sos_vo.ml.scaling import InputScaler, LabelScaler, input_names
    from sos_vo.ml.training import network_arrays
    from sos_vo.schema import LABELS, feature_names

    options = NetworkOptions()
    names = input_names(feature_names(survey))
    models = [random_keras_network(len(names), options, seed + k)
              for k in range(len(LABELS) * n_members)]
    folded = [fold_network(network_arrays(m), options.n_blocks, options.batchnorm_epsilon)
              for m in models]
    n = len(names)
    scaler = InputScaler("none", np.zeros(n), np.ones(n), np.full(n, -1, dtype=np.int64))
    npe = NumpyEnsemble(
        labels=tuple(LABELS), n_members=n_members, layers=stack_networks(folded),
        leaky_relu_slope=options.leaky_relu_slope, input_names=names, input_scaler=scaler,
        label_scalers={k: LabelScaler("standard", 0.0, 1.0, 0.0) for k in LABELS},
        e_train={k: 0.1 for k in LABELS}, survey=survey, metadata={"provenance": {"synthetic": True}})
    return npe, models, names, options


def random_inputs(n_rows: int, names: Sequence[str], seed: int) -> np.ndarray:
    """Standard-normal values with ~10% missing (zero, flag 0); interleaved flags."""
    rng = np.random.default_rng(seed)
    n_feat = len(names) // 2
    present = rng.random((n_rows, n_feat)) > 0.1
    X = np.empty((n_rows, len(names)), dtype=np.float32)
    X[:, 0::2] = np.where(present, rng.standard_normal((n_rows, n_feat), dtype=np.float32), 0.0)
    X[:, 1::2] = present
    return X


def build_parser() -> argparse.ArgumentParser:
    """Command-line options."""
    p = argparse.ArgumentParser(prog="python -m benchmarks.scale_predict",
                                description=__doc__.split("\n")[0])
    p.add_argument("--survey", default="sdss", choices=["sdss", "skymapper"])
    p.add_argument("--members", type=int, default=DEFAULT_MEMBERS)
    p.add_argument("--rows", type=int, default=DEFAULT_ROWS, help="rows of the numpy timings")
    p.add_argument("--keras-rows", type=int, default=DEFAULT_KERAS_ROWS,
                   help="rows of the Keras timing and of the agreement check")
    p.add_argument("--chunk-rows", type=int, default=None, help="fast path chunk (default: module's)")
    p.add_argument("--threads", type=int, default=None, help="fast path threads (default: CPUs)")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--matmul-n", type=int, default=2048)
    p.add_argument("--tolerance", type=float, default=DEFAULT_TOLERANCE)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", type=Path)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print the figures; exit 1 if numpy and Keras disagree."""
    args = build_parser().parse_args(argv)
    from benchmarks.machine import matmul_gflops, peak_rss_mb
    from sos_vo.ml.inference import DEFAULT_CHUNK_ROWS, available_cpus, forward_stacked

    chunk = args.chunk_rows or DEFAULT_CHUNK_ROWS
    mm_before = matmul_gflops(args.matmul_n)
    print(f"float32 matmul ({args.matmul_n}^2, numpy BLAS, {available_cpus()} CPUs): "
          f"{mm_before:.1f} GFLOP/s", flush=True)
    npe, models, names, options = build_ensemble(args.survey, args.members, args.seed)
    k = npe.n_networks
    flops_row = k * forward_flops_per_row([len(names), *options.widths, 1])
    print(f"ensemble: {k} networks ({len(npe.labels)} labels x {args.members} members), "
          f"{options.n_blocks} blocks, {len(names)} inputs; {flops_row / 1e6:.2f} MFLOP per star")
    X = random_inputs(max(args.rows, args.keras_rows), names, args.seed + 1)
    Xn, Xk = X[:args.rows], X[:args.keras_rows]
    xs_n = npe.input_scaler.transform(Xn)
    fast = npe.fast_forward()

    results: dict[str, Any] = {}

    def record(name: str, rows: int, seconds: float) -> None:
        results[name] = {"rows": rows, "seconds": seconds, "stars_per_s": rows / seconds,
                         "gflops": flops_row * rows / seconds / 1e9}

    fast(xs_n[:chunk], chunk, args.threads)  # warm-up (buffers, thread pool)
    _, t = best_time(lambda: fast(xs_n, chunk, args.threads), args.repeats)
    record("fast forward", args.rows, t)
    _, t = best_time(lambda: npe.predict(Xn, chunk, n_threads=args.threads), args.repeats)
    record("fast predict (end to end)", args.rows, t)
    ref_rows = min(args.rows, 10_000)
    _, t = best_time(lambda: forward_stacked(xs_n[:ref_rows], npe.layers, npe.leaky_relu_slope),
                     args.repeats)
    record("reference forward_stacked", ref_rows, t)

    xs_k = npe.input_scaler.transform(Xk)
    for m in models:  # warm-up: build each predict function once
        m.predict(xs_k[:16], batch_size=KERAS_BATCH, verbose=0)
    keras_out, t = best_time(lambda: np.stack([m.predict(xs_k, batch_size=KERAS_BATCH,
                                                         verbose=0)[:, 0] for m in models]),
                             max(1, args.repeats - 1))
    record("keras predict", args.keras_rows, t)
    mm_after = matmul_gflops(args.matmul_n)
    mm = max(mm_before, mm_after)
    print(f"float32 matmul after: {mm_after:.1f} GFLOP/s; reference = {mm:.1f} GFLOP/s")

    fast_k = fast(xs_k, chunk, args.threads)
    spread = float(keras_out.std())
    diff = float(np.abs(fast_k - keras_out).max()) / spread
    ref_k = forward_stacked(xs_k[:2000], npe.layers, npe.leaky_relu_slope)
    diff_ref = float(np.abs(fast_k[:, :2000] - ref_k).max()) / spread

    print(f"\n{'path':<28}{'rows':>8}{'stars/s':>11}{'GFLOP/s':>10}{'of matmul':>11}")
    for name, r in results.items():
        r["fraction_of_matmul"] = r["gflops"] / mm
        print(f"{name:<28}{r['rows']:>8}{r['stars_per_s']:>11.0f}{r['gflops']:>10.1f}"
              f"{r['fraction_of_matmul']:>10.0%}")
    speedup = results["fast forward"]["stars_per_s"] / results["keras predict"]["stars_per_s"]
    print(f"\nfast forward / Keras predict: {speedup:.1f}x; target >= {TARGET_FRACTION:.0%} of "
          f"matmul: {'MET' if results['fast forward']['fraction_of_matmul'] >= TARGET_FRACTION else 'NOT MET'}")
    print(f"max |fast - Keras| = {diff:.2e} x spread; max |fast - forward_stacked| = "
          f"{diff_ref:.2e} x spread (tolerance {args.tolerance:g})")
    print(f"peak RSS {peak_rss_mb():.0f} MB")
    summary = {"matmul_gflops_before": mm_before, "matmul_gflops_after": mm_after,
               "matmul_gflops": mm, "networks": k, "mflop_per_star": flops_row / 1e6,
               "chunk_rows": chunk, "threads": args.threads or available_cpus(),
               "paths": results, "max_diff_vs_keras_in_spread": diff,
               "max_diff_vs_reference_in_spread": diff_ref, "peak_rss_mb": peak_rss_mb()}
    if args.json:
        args.json.write_text(json.dumps(summary, indent=1))
    return 0 if max(diff, diff_ref) <= args.tolerance else 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
