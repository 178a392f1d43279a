"""Profile of the numpy prediction: where the CPU time of the forward pass goes.

Times, in CPU seconds of this process (``time.process_time``, all threads together), the
prediction of ``--rows`` stars of a synthetic sky (``sos_vo.simulate``, prepared as for the
shipped model) through an ensemble of T25's architecture (18 blocks, 80..160..80, 10 members
x 3 labels = 30 networks), and compares it with a one-thread float32 ``1024 x 1024`` matmul
timed in the same run (:func:`benchmarks.machine.matmul_gflops_cpu`, before and after; the
larger is the reference).  The networks are those of the shipped demo model of ``--survey``
(3 members per label) repeated to ``--members`` per label, so the weights and activations are
those of a trained network; the scalers are the model's own.

Measured in ``--runs`` runs (default 3), each with its own reference before and after and
``--repeats`` rounds, a figure of a run being the median of its rounds; the variants of a round
are interleaved so a change of the machine's load hits all of them alike, and each variant is
called once untimed in the first round of a run (buffers, caches).  The figures quoted are the
medians over the runs, each run's fraction of the matmul is given as well (one BLAS thread
unless said):

* ``forward_previous``: :class:`sos_vo.ml.inference.FastForward` with ``fill_ones=False``
  (all first layers merged into one product, every product carrying the constant column);
* ``forward``: the default path (per-network first layer, constant column written);
* ``products_only``: the products of ``forward`` alone (the floor of the pass; without the
  activations in between, the values overflow to inf / NaN, which costs float32 FMA on x86
  nothing; subnormal numbers, which would, cannot arise that way);
* ``leaky_relu_only``: the Leaky ReLUs of ``forward`` alone;
* ``input_scaling`` and ``combine``: the input scaler and the label un-scaling with the
  median / MAD / e_ML of the members;
* ``predict``: :meth:`NumpyEnsemble.predict` end to end, one thread and ``available_cpus()``
  threads (wall clock also given for the latter);
* ``forward_stacked``: :func:`sos_vo.ml.inference.forward_stacked`, the reference path, which
  runs each layer of all networks as one batched ``np.matmul`` over the stacked weights
  (``--stacked-chunk`` rows at a time);
* ``forward_chunk_<rows>``: the default path at other chunk sizes (``--chunks``).

Each is given as GFLOP per CPU-second (useful dense-layer FLOPs,
:func:`benchmarks.speed.forward_flops_per_row`) and as a fraction of the reference.  The
outputs of ``forward_previous`` and ``forward`` are compared element by element.  The load
average of the machine before and after each run and the environment (library versions, BLAS
and its threads, CPU model) are stored with the figures.

    python -m benchmarks.predict_step --json benchmarks/results/predict_step.json
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np


def cpu_seconds(fn: Callable[[], object]) -> float:
    """CPU seconds of this process spent in one call of ``fn``."""
    t0 = time.process_time()
    fn()
    return time.process_time() - t0


def repeat_members(layers, n_labels: int, have: int, want: int):
    """Stacked layers with each label's ``have`` members repeated cyclically to ``want``."""
    order = [lab * have + (m % have) for lab in range(n_labels) for m in range(want)]
    return [(np.ascontiguousarray(w[order]), np.ascontiguousarray(b[order])) for w, b in layers]


def cpu_model() -> str | None:
    """The CPU model name (``/proc/cpuinfo`` on Linux, else :func:`platform.processor`)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:  # pragma: no cover - not Linux
        pass
    return platform.processor() or None


TARGET_FRACTION = 0.85
"""The target of the default forward pass: 85% of the one-thread float32 matmul throughput."""


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.predict_step",
                                description=__doc__.split("\n")[0])
    p.add_argument("--survey", choices=("sdss", "skymapper"), default="sdss")
    p.add_argument("--members", type=int, default=10, help="members per label (T25: 10)")
    p.add_argument("--rows", type=int, default=20480, help="stars predicted per timing")
    p.add_argument("--runs", type=int, default=3, help="runs, each with its own reference")
    p.add_argument("--repeats", type=int, default=3, help="interleaved rounds per run")
    p.add_argument("--chunks", type=int, nargs="*", default=[],
                   help="other chunk sizes of the default path to time")
    p.add_argument("--stacked-chunk", type=int, default=256,
                   help="rows per batched product of forward_stacked (0: not timed)")
    p.add_argument("--n-stars", type=int, default=20000, help="stars of the synthetic sky")
    p.add_argument("--json", type=Path)
    args = p.parse_args(argv)
    if min(args.rows, args.repeats, args.members, args.runs) < 1 or args.stacked_chunk < 0 \
            or any(c < 1 for c in args.chunks):
        print("error: --rows, --runs, --repeats, --members and --chunks must be >= 1, "
              "--stacked-chunk >= 0", file=sys.stderr)
        return 2
    from threadpoolctl import threadpool_limits

    from benchmarks.machine import matmul_gflops_cpu
    from benchmarks.speed import environment, forward_flops_per_row
    from sos_vo.ml.inference import (
        DEFAULT_CHUNK_ROWS,
        FastForward,
        _Workspace,
        available_cpus,
        combine_members,
        forward_stacked,
    )
    from sos_vo.ml.modelio import load_model
    from sos_vo.ml.registry import installed_models
    from sos_vo.pipeline import prepare_survey
    from sos_vo.simulate import simulate_sky

    demo = load_model(installed_models()[f"demo_{args.survey}"])
    n_labels = len(demo.labels)
    layers = repeat_members(demo.layers, n_labels, demo.n_members, args.members)
    model = dataclasses.replace(demo, n_members=args.members, layers=layers, _fast=None)
    sky = simulate_sky(center=(180.0, 0.0), radius=4.0, n_stars=args.n_stars, seed=1)
    X = prepare_survey(sky.tables, args.survey).X
    X = np.ascontiguousarray(np.tile(X, (int(np.ceil(args.rows / len(X))), 1))[: args.rows])
    xs = model.input_scaler.transform(X)
    n_in = xs.shape[1]
    widths = [w.shape[2] for w, _ in layers[:-1]]
    k = model.n_networks
    flop = float(forward_flops_per_row(n_in, widths)) * k * args.rows
    slope = model.leaky_relu_slope
    new = model.fast_forward()
    old = FastForward(layers, slope, fill_ones=False)
    env = environment()
    env["cpu_model"] = cpu_model()
    res: dict = {"survey": args.survey, "networks": k, "members_per_label": args.members,
                 "network_inputs": n_in, "widths": widths, "rows": args.rows,
                 "runs": args.runs, "repeats": args.repeats,
                 "chunk_rows_default": DEFAULT_CHUNK_ROWS, "stacked_chunk_rows": args.stacked_chunk,
                 "useful_gflop": flop / 1e9, "environment": env,
                 "load_average_start": list(os.getloadavg())}
    print(f"{k} networks ({args.members} members x {n_labels} labels, the demo_{args.survey} "
          f"members repeated), {n_in} network inputs, widths {widths[0]}..{max(widths)}.."
          f"{widths[-1]}; {args.rows} stars; {flop / 1e9:.1f} useful GFLOP per pass; "
          f"{env['cpu_model']}; load {res['load_average_start'][0]:.2f}", flush=True)

    # the products and Leaky ReLUs of the default path, separately (same views, same order)
    def parts(products: bool, relus: bool) -> Callable[[], None]:
        def run() -> None:
            for s in range(0, args.rows, DEFAULT_CHUNK_ROWS):
                rows = min(DEFAULT_CHUNK_ROWS, args.rows - s)
                x1, steps, _ = new._steps(rows)
                x1[:, :-1] = xs[s:s + rows]
                for net in new.rest:
                    for a, (h, product, ones, act, scratch) in zip(net, steps, strict=True):
                        if products:  # without the activations the values overflow (see above)
                            np.matmul(h, a, out=product)
                        if relus and ones is not None:
                            np.multiply(act, new.slope, out=scratch)
                            np.maximum(act, scratch, out=act)
        return run

    def combine() -> None:
        for i, label in enumerate(model.labels):
            block = raw[i * args.members:(i + 1) * args.members]
            combine_members(model.label_scalers[label].inverse(block), model.e_train[label])

    workspace = _Workspace()

    def stacked() -> np.ndarray:
        c = args.stacked_chunk
        return np.concatenate([forward_stacked(xs[s:s + c], layers, slope, workspace)
                               for s in range(0, args.rows, c)], axis=1)

    raw = new(xs, n_threads=1)
    previous = old(xs, n_threads=1)
    res["outputs_bit_identical"] = bool(np.array_equal(raw, previous))
    res["outputs_max_abs_difference"] = float(np.max(np.abs(raw - previous)))
    n_cpu = available_cpus()
    variants: dict[str, Callable[[], object]] = {
        "forward_previous": lambda: old(xs, n_threads=1),
        "forward": lambda: new(xs, n_threads=1),
        "products_only": parts(True, False),
        "leaky_relu_only": parts(False, True),
        "input_scaling": lambda: model.input_scaler.transform(X),
        "combine": combine,
        "predict_one_thread": lambda: model.predict(X, data_is_real=False, n_threads=1),
        f"predict_{n_cpu}_threads": lambda: model.predict(X, data_is_real=False, n_threads=n_cpu),
    }
    if args.stacked_chunk:
        res["stacked_max_abs_difference"] = float(np.max(np.abs(stacked() - raw)))
        variants["forward_stacked"] = stacked
    for c in args.chunks:
        variants[f"forward_chunk_{c}"] = (lambda c=c: new(xs, chunk_rows=c, n_threads=1))
    threaded = f"predict_{n_cpu}_threads"
    flop_of = {"leaky_relu_only": 0.0, "input_scaling": 0.0, "combine": 0.0}
    runs = []
    for r in range(args.runs):
        load_start = list(os.getloadavg())
        times: dict[str, list[float]] = {name: [] for name in variants}
        wall_threads: list[float] = []
        ref_before = matmul_gflops_cpu(1024)
        for i in range(args.repeats):
            for name, fn in variants.items():
                if name == threaded:
                    if i == 0:
                        fn()
                    t0 = time.perf_counter()
                    times[name].append(cpu_seconds(fn))
                    wall_threads.append(time.perf_counter() - t0)
                    continue
                with threadpool_limits(limits=1, user_api="blas"), np.errstate(all="ignore"):
                    if i == 0:
                        fn()  # warm-up: buffers, caches
                    times[name].append(cpu_seconds(fn))
        ref_after = matmul_gflops_cpu(1024)
        ref = max(ref_before, ref_after)
        summary = {}
        for name, ts in times.items():
            med = statistics.median(ts)
            g = flop_of.get(name, flop) / med / 1e9
            summary[name] = {"cpu_seconds_median": med, "stars_per_cpu_second": args.rows / med,
                             "gflops_per_cpu_second": g, "fraction_of_matmul": g / ref}
        run = {"matmul_one_thread_gflops_per_cpu_second_before": ref_before,
               "matmul_one_thread_gflops_per_cpu_second_after": ref_after,
               "matmul_one_thread_gflops_per_cpu_second_reference": ref,
               "cpu_seconds": times, f"{threaded}_wall_seconds": wall_threads,
               f"{threaded}_stars_per_s_wall": args.rows / statistics.median(wall_threads),
               "summary": summary, "load_average_start": load_start,
               "load_average_end": list(os.getloadavg())}
        runs.append(run)
        print(f"run {r + 1}/{args.runs}: default forward pass "
              f"{summary['forward']['fraction_of_matmul']:.1%} of the matmul ({ref:.1f} GFLOP per "
              f"CPU-s); load {load_start[0]:.2f} -> {run['load_average_end'][0]:.2f}", flush=True)

    def median_of_runs(get: Callable[[dict], float]) -> float:
        return float(statistics.median(get(run) for run in runs))

    ref = median_of_runs(lambda run: run["matmul_one_thread_gflops_per_cpu_second_reference"])
    summary = {name: {key: median_of_runs(lambda run, n=name, q=key: run["summary"][n][q])
                      for key in runs[0]["summary"][name]} for name in variants}
    for name in variants:
        summary[name]["fraction_of_matmul_per_run"] = [
            run["summary"][name]["fraction_of_matmul"] for run in runs]
    forward_fractions = summary["forward"]["fraction_of_matmul_per_run"]
    res.update({"runs_detail": runs, "summary": summary, "predict_threads": n_cpu,
                "matmul_one_thread_gflops_per_cpu_second_reference_median": ref,
                f"{threaded}_stars_per_s_wall": median_of_runs(
                    lambda run: run[f"{threaded}_stars_per_s_wall"]),
                "target_fraction_of_matmul": TARGET_FRACTION,
                "forward_runs_at_target": sum(f >= TARGET_FRACTION for f in forward_fractions)})
    print(f"one-thread float32 matmul: {ref:.1f} GFLOP per CPU-s (median of the runs' references)")
    print(f"{'what (medians of ' + str(args.runs) + ' runs)':28s} {'CPU s':>8s} "
          f"{'stars per CPU-s':>16s} {'GFLOP/CPU-s':>12s} {'of matmul':>9s}  per run")
    for name, s in summary.items():
        g = s["gflops_per_cpu_second"]
        frac = f"{s['fraction_of_matmul']:9.1%}" if g else f"{'':9s}"
        per_run = " / ".join(f"{f:.1%}" for f in s["fraction_of_matmul_per_run"]) if g else ""
        print(f"{name:28s} {s['cpu_seconds_median']:8.3f} {s['stars_per_cpu_second']:16.0f} "
              f"{g:12.1f} {frac}  {per_run}")
    print(f"predict, {n_cpu} threads: {res[f'{threaded}_stars_per_s_wall']:.0f} stars/s wall clock")
    print(f"outputs of the previous and the default path bit-identical: "
          f"{res['outputs_bit_identical']} (max |difference| {res['outputs_max_abs_difference']:.3g})")
    print(f"default forward pass at >= {TARGET_FRACTION:.0%} of the matmul in "
          f"{res['forward_runs_at_target']} of {args.runs} runs")
    res["load_average_end"] = list(os.getloadavg())
    print(f"load average: start {res['load_average_start'][0]:.2f}, end "
          f"{res['load_average_end'][0]:.2f}")
    if args.json:
        from sos_vo.pipeline import write_json

        write_json(args.json, res)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
