"""Memory of the label stage of ``sos-vo build-model`` at the input surveys' sizes.

The label stage (:func:`sos_vo.labels.real_model.label_stage`) fetches every label source,
homogenises the surveys on the reference scale and combines them one row per star.  Here each
source is served by a function-level fake (the TAP client is tested against DaCHS elsewhere)
that returns what :func:`sos_vo.archives.label_source.fetch_labels` returns: a label-schema table
(``source_id``, text ``survey_id``, ``ra``, ``dec``, the labels and errors, ``survey``) of
``--rows`` rows, SYNTHETIC: stars drawn from a pool of ``2 x rows`` ids, so the surveys share
about half their stars; each survey's labels are the star's "true" values (a fixed function of
its id) plus the survey's offset and noise.

Two modes, each run in a child process of its own:

* ``compact`` -- today's stage: each fetched table is reduced to ``source_id`` and the six label
  columns as soon as it arrives (:func:`sos_vo.labels.build.compact_labels`);
* ``full`` -- the stage as it was before: every fetched table kept whole until the build ends
  and :func:`sos_vo.labels.build.homogenise_labels` run on them.

The peak is the child's own high-water mark (``VmHWM`` of ``/proc/self/status``, read by the
child at its end; ``baseline`` is the same mark after the imports, before any data).
``getrusage(RUSAGE_CHILDREN)`` is not used (it carries a large parent's mark through ``exec``).

    python -m benchmarks.build_memory --rows 100000 1000000 --json benchmarks/results/build_memory.json
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

SOURCES = ("apogee-dr17", "galah-dr3", "lamost-lrs", "gaia-eso", "segue-sspp")
"""The label sources of ``--labels surveys``; APOGEE + GALAH are the reference."""
OFFSETS = {"apogee-dr17": (0.0, 0.0, 0.0), "galah-dr3": (0.0, 0.0, 0.0),
           "lamost-lrs": (35.0, 0.05, -0.08), "gaia-eso": (-20.0, -0.03, 0.04),
           "segue-sspp": (60.0, 0.1, -0.05)}
"""Synthetic survey - truth offsets (Teff K, log g dex, [Fe/H] dex): our choice."""
NOISE = (60.0, 0.1, 0.06)
"""Synthetic noise (Teff K, log g dex, [Fe/H] dex): our choice."""


def vm_hwm_mb() -> float | None:
    """This process's peak resident set (``VmHWM``), MB; None off Linux."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        return None
    return None


def fake_fetch(rows: int, seed: int = 0):
    """A ``fetch(key)`` returning a SYNTHETIC label-schema table of ``rows`` rows."""
    from astropy.table import Table

    def fetch(key: str) -> Table:
        k = SOURCES.index(key)
        rng = np.random.default_rng([seed, k])
        ids = np.sort(rng.choice(2 * rows, rows, replace=False)).astype(np.int64) + 1
        phase = (ids * 0.6180339887498949) % 1.0  # the star's "true" labels: a function of its id
        truth = (4200.0 + 2500.0 * phase, 4.6 - 3.0 * phase ** 2, -1.5 + 1.8 * ((ids * 0.41) % 1.0))
        t = Table()
        t["source_id"] = ids
        t["survey_id"] = np.char.add("S", ids.astype("U17"))
        t["ra"] = 360.0 * ((ids * 0.7548776662) % 1.0)
        t["dec"] = np.degrees(np.arcsin(2.0 * ((ids * 0.5698402910) % 1.0) - 1.0))
        for j, lab in enumerate(("teff", "logg", "feh")):
            t[lab] = truth[j] + OFFSETS[key][j] + rng.normal(0.0, NOISE[j], rows)
            t[f"e_{lab}"] = np.full(rows, NOISE[j])
        t["survey"] = np.full(rows, key)
        t.meta["SYNTHETIC"] = True
        t.meta["provenance"] = {"rows": rows, "synthetic": True}
        return t

    return fetch


def child(rows: int, mode: str) -> dict:
    """One run of the label stage (in this process); returns the figures."""
    from sos_vo.labels.build import homogenise_labels
    from sos_vo.labels.real_model import label_stage

    baseline = vm_hwm_mb()
    fetch = fake_fetch(rows)
    t0 = time.perf_counter()
    c0 = time.process_time()
    if mode == "compact":
        stage = label_stage(list(SOURCES), fetch)
        n_stars = len(stage.spectro)
    else:
        fetched = {k: fetch(k) for k in SOURCES}  # every fetched table held, as before
        n_stars = len(homogenise_labels(fetched).spectro_table())
    wall = time.perf_counter() - t0
    return {"rows_per_survey": rows, "surveys": len(SOURCES), "mode": mode, "stars": n_stars,
            "peak_rss_mb": vm_hwm_mb(), "baseline_rss_mb": baseline, "wall_s": wall,
            "cpu_s": time.process_time() - c0}


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000],
                   help="rows per label source (default 1e5 1e6)")
    p.add_argument("--modes", nargs="+", choices=["compact", "full"], default=["compact", "full"])
    p.add_argument("--json", type=Path, help="write the figures here")
    p.add_argument("--child", nargs=2, metavar=("ROWS", "MODE"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        print(json.dumps(child(int(args.child[0]), args.child[1])))
        return 0
    results = []
    for rows in args.rows:
        for mode in args.modes:
            load = os.getloadavg()
            out = subprocess.run([sys.executable, "-m", "benchmarks.build_memory", "--child",
                                  str(rows), mode], capture_output=True, text=True, check=True)
            r = json.loads(out.stdout.strip().splitlines()[-1])
            r["load_average_start"] = list(load)
            results.append(r)
            print(f"{rows:>9,} rows x {r['surveys']} surveys, {mode:<7}: peak RSS "
                  f"{r['peak_rss_mb']:7.0f} MB (after imports {r['baseline_rss_mb']:.0f} MB), "
                  f"{r['stars']:,} stars, {r['wall_s']:.1f} s wall, load {load[0]:.2f}",
                  flush=True)
            if args.json:  # after every run: a long series killed midway keeps what it measured
                args.json.parent.mkdir(parents=True, exist_ok=True)
                payload = {"benchmark": "build_memory", "synthetic": True,
                           "argv": list(argv) if argv is not None else sys.argv[1:],
                           "results": results}
                args.json.write_text(json.dumps(payload, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
