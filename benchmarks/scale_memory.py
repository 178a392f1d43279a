"""Memory: stream-predict a Parquet catalogue of millions of joined rows with bounded peak RSS.

1. **Input** (in this process): a synthetic sky (:func:`sos_vo.simulate.simulate_sky`, clearly
   SYNTHETIC) is joined (:func:`sos_vo.prepare.crossmatch.join_survey`, every row, before the
   cuts) and its rows are reused to fill ``--files`` Parquet files holding ``--rows`` rows in
   all: each copy gets new ``source_id`` / survey ids (offset by the copy number, so ids stay
   unique) and positions jittered by up to 1 arcsec.  Cached in ``--workdir``.
2. **Model**: :func:`sos_vo.pipeline.train_survey` on the same sky (``--members``,
   ``--n-blocks``, a few epochs: speed and memory do not depend on how well it is trained).
   The model is trained in a process of its own, so the parent stays small.
3. **Run** (in a child process): :func:`sos_vo.scale.stream.predict_parquet` with
   ``--batch-rows``: cuts, features, the ensemble, train_area, train_set and the Parquet
   writing all stream.  The peak reported is the child's own high-water mark, ``VmHWM`` of
   ``/proc/self/status`` read by the child at its end: that counts the pages of the child's
   own address space only.  ``getrusage(RUSAGE_CHILDREN)`` (also stored) is not used: Linux
   carries the high-water mark of the address space a child was forked from through ``exec``,
   so after a large parent (e.g. one that trained the model in the same run) it reports the
   parent's size.  Rows/s and the row counts are reported; the target is a peak below 2 GB.

    python -m benchmarks.scale_memory --rows 20000000 [--n-blocks 18 --members 10]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .machine import vm_hwm_mb

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

DEFAULT_ROWS = 20_000_000
DEFAULT_FILES = 20
TARGET_PEAK_MB = 2048.0
ID_STRIDE = 10**12
"""Offset between copies of the base rows' ids (Gaia DR3 source_ids are < 7e18)."""


def make_input(base, n_rows: int, n_files: int, out: Path, seed: int = 0) -> list[Path]:
    """Write ``n_rows`` rows in ``n_files`` Parquet files from copies of ``base`` (astropy)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from sos_vo.scale.parquet_io import table_to_arrow

    arrow = table_to_arrow(base)
    n_base = arrow.num_rows
    rng = np.random.default_rng(seed)
    out.mkdir(parents=True, exist_ok=True)
    per_file = -(-n_rows // n_files)
    paths, copy, written = [], 0, 0
    for f in range(n_files):
        path = out / f"part-{f:04d}.parquet"
        rows_here = min(per_file, n_rows - written)
        if rows_here <= 0:
            break
        with pq.ParquetWriter(path, arrow.schema, compression="zstd") as writer:
            left = rows_here
            while left > 0:
                take = min(left, n_base)
                chunk = arrow.slice(0, take)
                cols = {}
                for name in ("source_id", "sdss_objid", "sm_object_id"):
                    if name in chunk.column_names:
                        ids = chunk[name].to_numpy() + np.int64(copy * ID_STRIDE)
                        cols[name] = pa.array(ids, type=pa.int64())
                for name in ("ra", "dec"):
                    v = chunk[name].to_numpy() + rng.uniform(-1, 1, take) / 3600.0
                    cols[name] = pa.array(v)
                for name, arr in cols.items():
                    i = chunk.schema.get_field_index(name)
                    chunk = chunk.set_column(i, chunk.schema.field(name), arr)
                writer.write_table(chunk)
                left -= take
                copy += 1
        written += rows_here
        paths.append(path)
    return paths


def build_parser() -> argparse.ArgumentParser:
    """Command-line options."""
    p = argparse.ArgumentParser(prog="python -m benchmarks.scale_memory",
                                description=__doc__.split("\n")[0])
    p.add_argument("--rows", type=int, default=DEFAULT_ROWS)
    p.add_argument("--files", type=int, default=DEFAULT_FILES)
    p.add_argument("--survey", default="sdss", choices=["sdss", "skymapper"])
    p.add_argument("--n-stars", type=int, default=20_000, help="Gaia sources of the base sky")
    p.add_argument("--members", type=int, default=10)
    p.add_argument("--n-blocks", type=int, default=18)
    p.add_argument("--batch-rows", type=int, default=None, help="default: the module's")
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--workdir", type=Path, default=Path("build/scale_memory"))
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--json", type=Path)
    p.add_argument("--child", nargs=3, metavar=("INPUT", "OUTPUT", "MODEL"), help=argparse.SUPPRESS)
    p.add_argument("--train-child", type=Path, metavar="MODEL", help=argparse.SUPPRESS)
    return p


def train_child(args) -> int:
    """Train and save the benchmark's model (separate process: the parent stays small)."""
    from sos_vo.ml.options import NetworkOptions
    from sos_vo.pipeline import prepare_survey, train_survey
    from sos_vo.simulate import simulate_sky

    sky = simulate_sky(center=(180.0, 0.0), radius=4.0, n_stars=args.n_stars, seed=args.seed)
    opts = NetworkOptions(n_blocks=args.n_blocks, epochs=2, patience=2)
    train_survey(prepare_survey(sky.tables, args.survey), args.train_child,
                 n_members=args.members, options=opts, progress=False)
    return 0


def child(args) -> int:
    """The measured run (separate process)."""
    from sos_vo.scale.parquet_io import DEFAULT_BATCH_ROWS
    from sos_vo.scale.stream import predict_parquet

    src, out, model = args.child
    t0 = time.perf_counter()
    res = predict_parquet(src, out, model, batch_rows=args.batch_rows or DEFAULT_BATCH_ROWS,
                          overwrite=True, progress=True, n_threads=args.threads)
    seconds = time.perf_counter() - t0
    print(json.dumps({"seconds": seconds, "rows_in": res["rows_in"], "rows_out": res["rows_out"],
                      "parts": res["parts"], "tensorflow_imported": "tensorflow" in sys.modules,
                      "peak_rss_own_mb": vm_hwm_mb(),
                      "peak_rss_self_rusage_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Generate (cached), train a model (cached), run the measured child, report."""
    args = build_parser().parse_args(argv)
    if args.child:
        return child(args)
    if args.train_child:
        return train_child(args)
    work = args.workdir
    tag = f"{args.survey}-{args.rows}-{args.files}-{args.n_stars}-{args.seed}"
    inp = work / f"input-{tag}"
    model = work / f"model-{args.survey}-{args.n_blocks}x{args.members}-{args.n_stars}-{args.seed}"
    print("SoS-ML streaming memory benchmark on a SYNTHETIC sky (sos_vo.simulate)", flush=True)
    if not inp.is_dir():
        from sos_vo.prepare.crossmatch import join_survey
        from sos_vo.simulate import simulate_sky

        sky = simulate_sky(center=(180.0, 0.0), radius=4.0, n_stars=args.n_stars, seed=args.seed)
        t0 = time.perf_counter()
        tmp = work / f".input-{tag}.tmp"
        make_input(join_survey(sky.tables, args.survey, labels=False), args.rows, args.files,
                   tmp, args.seed)
        tmp.rename(inp)
        print(f"input: {args.rows} rows in {args.files} files, {time.perf_counter() - t0:.0f} s",
              flush=True)
    if not model.is_dir():
        t0 = time.perf_counter()
        cmd = [sys.executable, "-m", "benchmarks.scale_memory", "--train-child", str(model),
               "--survey", args.survey, "--n-stars", str(args.n_stars), "--members",
               str(args.members), "--n-blocks", str(args.n_blocks), "--seed", str(args.seed)]
        trained = subprocess.run(cmd, capture_output=True, text=True)
        if trained.returncode:
            print(trained.stderr[-4000:])
            return trained.returncode
        print(f"model trained in its own process, {time.perf_counter() - t0:.0f} s", flush=True)
    size_mb = sum(p.stat().st_size for p in inp.glob("*.parquet")) / 2**20
    out = work / "output"
    cmd = [sys.executable, "-m", "benchmarks.scale_memory", "--child", str(inp), str(out), str(model)]
    if args.batch_rows:
        cmd += ["--batch-rows", str(args.batch_rows)]
    if args.threads:
        cmd += ["--threads", str(args.threads)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode:
        print(proc.stderr[-4000:])
        return proc.returncode
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    rusage_children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    own = res.get("peak_rss_own_mb")
    peak = own if own is not None else res["peak_rss_self_rusage_mb"]
    res.update({"peak_rss_child_mb": peak, "peak_rss_rusage_children_mb": rusage_children,
                "parent_peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "input_mb": size_mb, "rows_per_s": res["rows_in"] / res["seconds"],
                "predicted_per_s": res["rows_out"] / res["seconds"], "n_blocks": args.n_blocks,
                "members": args.members})
    print(f"input {res['rows_in']} rows ({size_mb:.0f} MB Parquet, {res['parts']} parts) -> "
          f"{res['rows_out']} predicted rows in {res['seconds']:.0f} s: {res['rows_per_s']:.0f} "
          f"input rows/s, {res['predicted_per_s']:.0f} predictions/s ({3 * args.members} networks "
          f"of {args.n_blocks} blocks)")
    print(f"peak RSS of the run (the child's own VmHWM): {peak:.0f} MB (target < {TARGET_PEAK_MB:.0f} MB: "
          f"{'MET' if peak < TARGET_PEAK_MB else 'NOT MET'}); TensorFlow imported: "
          f"{res['tensorflow_imported']}")
    if args.json:
        args.json.write_text(json.dumps(res, indent=1))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
