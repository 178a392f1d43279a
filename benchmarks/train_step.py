"""Profile of one fused training step: where the time of a step goes, per engine.

Times (CPU seconds of this process, single-threaded BLAS; medians of ``--steps`` steps) one
mini-batch step of ``--networks`` networks of the T25 architecture (18 blocks, 80..160..80,
58 network inputs) on random data:

* numpy engine (:class:`sos_vo.ml.numpy_training.NetworkGroup`): the whole step, the same
  without dropout, the Adam update alone, and the three products of the step alone (forward,
  the two backward products) as the floor;
* TensorFlow graph (:class:`sos_vo.ml.fused.GroupedMLP`, ``tf.function``): the whole step and
  the inference forward pass, on the fused batch of ``batch / 0.8`` rows.

    python -m benchmarks.train_step --json benchmarks/results/train_step.json
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def cpu_ms(fn: Callable[[], object], steps: int, warmup: int = 2) -> float:
    """Median CPU milliseconds of ``fn()`` over ``steps`` calls."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(steps):
        t0 = time.process_time()
        fn()
        times.append(time.process_time() - t0)
    return 1e3 * statistics.median(times)


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.train_step", description=__doc__.split("\n")[0])
    p.add_argument("--networks", type=int, default=15, help="networks in the group (one thread)")
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--inputs", type=int, default=58)
    p.add_argument("--steps", type=int, default=15)
    p.add_argument("--no-tensorflow", action="store_true")
    p.add_argument("--json", type=Path)
    args = p.parse_args(argv)
    from threadpoolctl import threadpool_limits

    from benchmarks.machine import matmul_gflops_cpu
    from benchmarks.speed import TRAINING_FLOP_FACTOR, forward_flops_per_row
    from sos_vo.ml.numpy_training import NetworkGroup
    from sos_vo.ml.options import NetworkOptions

    g, b, n_in = args.networks, args.batch, args.inputs
    opts = NetworkOptions()
    fwd = forward_flops_per_row(n_in, opts.widths)
    step_flops = TRAINING_FLOP_FACTOR * fwd * g * b
    rng = np.random.default_rng(0)
    xb = rng.standard_normal((g, b, n_in)).astype(np.float32)
    yb = (1.0 + rng.random((g, b))).astype(np.float32)
    counts = np.full(g, b)
    res: dict = {"networks": g, "batch": b, "inputs": n_in, "widths": list(opts.widths),
                 "useful_gflop_per_step": step_flops / 1e9, "load_average_start": list(os.getloadavg())}
    with threadpool_limits(limits=1, user_api="blas"):
        res["matmul_one_thread_gflops_per_cpu_second"] = matmul_gflops_cpu(1024)
        group = NetworkGroup(n_in, opts, list(range(g)), [1.5] * g, 1e-3,
                             [np.random.default_rng(i) for i in range(g)])
        res["numpy_step_ms"] = cpu_ms(lambda: group.train_step(xb, yb, counts, None, 0.0), args.steps)
        res["numpy_adam_ms"] = cpu_ms(group._adam, args.steps)
        plain = NetworkGroup(n_in, NetworkOptions(dropout=0.0), list(range(g)), [1.5] * g, 1e-3,
                             [np.random.default_rng(i) for i in range(g)])
        res["numpy_step_no_dropout_ms"] = cpu_ms(lambda: plain.train_step(xb, yb, counts, None, 0.0),
                                                 args.steps)
        sizes = [n_in, *opts.widths]
        hs = [rng.standard_normal((g, b, w)).astype(np.float32) for w in sizes]
        ws = [rng.standard_normal((g, a, c)).astype(np.float32) for a, c in zip(sizes[:-1], sizes[1:], strict=True)]

        def products():
            for i, w in enumerate(ws):
                np.matmul(hs[i], w)
                np.matmul(hs[i].transpose(0, 2, 1), hs[i + 1])
                if i:
                    np.matmul(hs[i + 1], w.transpose(0, 2, 1))
        res["numpy_products_only_ms"] = cpu_ms(products, args.steps)
    res["numpy_step_gflops_per_cpu_second"] = step_flops / res["numpy_step_ms"] / 1e6
    if not args.no_tensorflow:
        import tensorflow as tf

        from sos_vo.ml.fused import GroupedMLP
        from sos_vo.ml.network import _optimizer
        from sos_vo.ml.training import set_tf_threads

        set_tf_threads(1)
        rows = int(round(b / 0.8))
        x = tf.constant(rng.standard_normal((rows, n_in)).astype(np.float32))
        y = tf.constant(rng.standard_normal((g, rows)).astype(np.float32))
        m = tf.constant((rng.random((g, rows)) < 0.8).astype(np.float32))
        model = GroupedMLP(n_in, opts, list(range(g)), [0.0] * g)
        model(x[:2])
        optimizer = _optimizer(opts)
        optimizer.build(model.trainable_variables)

        @tf.function
        def step():
            with tf.GradientTape() as tape:
                pred = model(x, rows_mask=m, training=True)
                err = tf.abs(y - pred)
                loss = tf.reduce_sum(2 * err / (tf.abs(y) + tf.abs(pred) + 1e-3) * m)
            grads = tape.gradient(loss, model.trainable_variables)
            optimizer.apply_gradients(zip(grads, model.trainable_variables, strict=True))
            return loss

        forward = tf.function(lambda: model(x, training=False))
        res["tensorflow_step_ms"] = cpu_ms(lambda: step().numpy(), args.steps)
        res["tensorflow_forward_ms"] = cpu_ms(lambda: forward().numpy(), args.steps)
        res["tensorflow_step_gflops_per_cpu_second"] = step_flops / res["tensorflow_step_ms"] / 1e6
    res["load_average_end"] = list(os.getloadavg())
    for k, v in res.items():
        print(f"{k:42s} {v}")
    if args.json:
        from sos_vo.pipeline import write_json

        write_json(args.json, res)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
