"""Memory of the label stage of ``sos-vo build-model`` at the input surveys' sizes.

The label stage (:func:`sos_vo.labels.real_model.label_stage`) fetches every label source,
homogenises the surveys on the reference scale and combines them one row per star.  Here each
source is served by a function-level fake (the TAP client is tested against DaCHS elsewhere)
that hands over what :func:`sos_vo.archives.label_source.stream_labels` hands over: label-schema
chunks (``source_id``, text ``survey_id``, ``ra``, ``dec``, the labels and errors, ``survey``),
one per HEALPix cell of order 2 (the all-sky chunks of the fetch, 192 cells), ``--rows`` rows
per source in all, SYNTHETIC: stars drawn from a pool of ``2 x rows`` ids spread evenly over
the Gaia DR3 source_id range (so over the sky), so the surveys share about half their stars;
each survey's labels are the star's "true" values (a fixed function of its pool index) plus
the survey's offset and noise.  A chunk is made when the stage asks for it.

Modes, each run in a child process of its own:

* ``streamed`` -- today's stage: the chunks filed on disk as they arrive and homogenised by
  source_id partition (:mod:`sos_vo.labels.spill`, :func:`sos_vo.labels.build.homogenise_spilled`);
* ``tables`` -- the same stage handed each source's whole table (one chunk), as a caller with
  the tables in memory does.

The figures of the stage as it was before (``compact``: whole compact tables homogenised in one
pass; ``full``: the fetched tables kept whole) are in ``results/build_memory-before.json``
(measured on ids 1..2 x rows, all in one HEALPix cell; the memory of that stage did not depend
on the ids).

The peak is the child's own high-water mark (``VmHWM`` of ``/proc/self/status``, read by the
child at its end; ``baseline`` is the same mark after the imports, before any data).
``getrusage(RUSAGE_CHILDREN)`` is not used (it carries a large parent's mark through ``exec``).

    python -m benchmarks.build_memory --rows 100000 1000000 --json benchmarks/results/build_memory.json
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .machine import run_measuring_child, vm_hwm_mb, write_json

SOURCES = ("apogee-dr17", "galah-dr3", "lamost-lrs", "gaia-eso", "segue-sspp")
"""The label sources of ``--labels surveys``; APOGEE + GALAH are the reference."""
OFFSETS = {"apogee-dr17": (0.0, 0.0, 0.0), "galah-dr3": (0.0, 0.0, 0.0),
           "lamost-lrs": (35.0, 0.05, -0.08), "gaia-eso": (-20.0, -0.03, 0.04),
           "segue-sspp": (60.0, 0.1, -0.05)}
"""Synthetic survey - truth offsets (Teff K, log g dex, [Fe/H] dex): our choice."""
NOISE = (60.0, 0.1, 0.06)
"""Synthetic noise (Teff K, log g dex, [Fe/H] dex): our choice."""


ID_STRIDE_CELLS = 12 * 4**12
"""Level-12 HEALPix cells of the sky: the pool's ids are spread over ``[0, cells x 2**35)``."""
FAKE_CHUNK_ORDER = 2
"""HEALPix order of the fake's chunks (the all-sky label fetch's, ``ALL_SKY_CHUNK_ORDER``)."""


class FakeStream:
    """One source's SYNTHETIC chunks, made on demand; ``provenance`` set once iterated."""

    def __init__(self, key: str, rows: int, seed: int = 0) -> None:
        self.key, self.rows, self.seed = key, rows, seed
        self.provenance: dict | None = None

    def pool_index(self) -> np.ndarray:
        rng = np.random.default_rng([self.seed, SOURCES.index(self.key)])
        return np.sort(rng.choice(2 * self.rows, self.rows, replace=False)).astype(np.int64)

    def source_ids(self, pool: np.ndarray) -> np.ndarray:
        stride = (ID_STRIDE_CELLS << 35) // (2 * self.rows)
        return pool * stride + 1

    def table(self, pool: np.ndarray, rng: np.random.Generator):
        from astropy.table import Table

        ids = self.source_ids(pool)
        n = pool.size
        phase = (pool * 0.6180339887498949) % 1.0  # the star's "true" labels: its pool index's
        truth = (4200.0 + 2500.0 * phase, 4.6 - 3.0 * phase ** 2,
                 -1.5 + 1.8 * ((pool * 0.41) % 1.0))
        t = Table()
        t["source_id"] = ids
        t["survey_id"] = np.char.add("S", pool.astype("U17"))
        t["ra"] = 360.0 * ((pool * 0.7548776662) % 1.0)
        t["dec"] = np.degrees(np.arcsin(2.0 * ((pool * 0.5698402910) % 1.0) - 1.0))
        for j, lab in enumerate(("teff", "logg", "feh")):
            t[lab] = truth[j] + OFFSETS[self.key][j] + rng.normal(0.0, NOISE[j], n)
            t[f"e_{lab}"] = np.full(n, NOISE[j])
        t["survey"] = np.full(n, self.key)
        t.meta["SYNTHETIC"] = True
        return t

    def __iter__(self):
        from sos_vo.gaia_dr3 import healpix_source_id_range

        pool = self.pool_index()
        ids = self.source_ids(pool)
        rng = np.random.default_rng([self.seed, SOURCES.index(self.key), 1])
        bounds = [healpix_source_id_range(FAKE_CHUNK_ORDER, c)[1] + 1
                  for c in range(12 * 4**FAKE_CHUNK_ORDER)]
        ends = np.searchsorted(ids, bounds)
        start = 0
        for end in ends:
            yield self.table(pool[start:end], rng)
            start = end
        self.provenance = {"rows": self.rows, "synthetic": True}

    def whole(self):
        """All the chunks' rows in one table (the same rows as the iteration)."""
        from astropy.table import vstack

        t = vstack([c for c in self if len(c)], metadata_conflicts="silent")
        t.meta["provenance"] = self.provenance
        return t


def child(rows: int, mode: str, work_dir: str | None = None,
          partition_rows: int | None = None) -> dict:
    """One run of the label stage (in this process); returns the figures."""
    from sos_vo.labels.real_model import label_stage

    baseline = vm_hwm_mb()
    if mode == "streamed":
        def fetch(key):
            return FakeStream(key, rows)
    else:
        def fetch(key):
            return FakeStream(key, rows).whole()
    t0 = time.perf_counter()
    c0 = time.process_time()
    stage = label_stage(list(SOURCES), fetch, work_dir=work_dir, partition_rows=partition_rows,
                        progress=False)
    from sos_vo.labels.spill import PARTITION_ROWS
    wall = time.perf_counter() - t0
    return {"rows_per_survey": rows, "surveys": len(SOURCES), "mode": mode,
            "partition_rows": partition_rows or PARTITION_ROWS,
            "stars": len(stage.spectro),
            "n_pairs": {r["survey"]: int(r["n_pairs"]) for r in stage.report},
            "peak_rss_mb": vm_hwm_mb(), "baseline_rss_mb": baseline, "wall_s": wall,
            "cpu_s": time.process_time() - c0}


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000],
                   help="rows per label source (default 1e5 1e6)")
    p.add_argument("--modes", nargs="+", choices=["streamed", "tables"], default=["streamed"])
    p.add_argument("--work-dir", help="folder of the stage's temporary files (default: the system's)")
    p.add_argument("--partition-rows", type=int, nargs="+", default=[None],
                   help="rows of one partition (default sos_vo.labels.spill.PARTITION_ROWS); "
                        "several: one run each")
    p.add_argument("--json", type=Path, help="write the figures here")
    p.add_argument("--child", nargs=2, metavar=("ROWS", "MODE"), help=argparse.SUPPRESS)
    p.add_argument("--append", action="store_true",
                   help="add to the results already in --json instead of replacing them")
    args = p.parse_args(argv)
    if args.child:
        print(json.dumps(child(int(args.child[0]), args.child[1], args.work_dir,
                               args.partition_rows[0])))
        return 0
    results = []
    if args.append and args.json and args.json.exists():
        results = json.loads(args.json.read_text())["results"]
    runs = [(r, m, pr) for r in args.rows for m in args.modes for pr in args.partition_rows]
    for rows, mode, part in runs:
        cmd = [sys.executable, "-m", "benchmarks.build_memory", "--child", str(rows), mode]
        if args.work_dir:
            cmd += ["--work-dir", args.work_dir]
        if part is not None:
            cmd += ["--partition-rows", str(part)]
        r = run_measuring_child(cmd)
        if r is None:
            return 1
        results.append(r)
        print(f"{rows:>9,} rows x {r['surveys']} surveys, {mode:<8}: peak RSS "
              f"{r['peak_rss_mb']:7.0f} MB (after imports {r['baseline_rss_mb']:.0f} MB), "
              f"partitions of {r['partition_rows']:,} rows, "
              f"{r['stars']:,} stars, {r['wall_s']:.1f} s wall, load "
              f"{r['load_average_start'][0]:.2f}-{r['load_average_end'][0]:.2f}",
              flush=True)
        if args.json:
            write_json(args.json, {"benchmark": "build_memory", "synthetic": True,
                                   "before": "results/build_memory-before.json",
                                   "argv": list(argv) if argv is not None else sys.argv[1:],
                                   "results": results})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
