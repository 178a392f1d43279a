"""Memory of the training stage of ``sos-vo build-model`` at the paper's sizes.

After the join and preparation stages, ``build-model`` holds the training matrix of one survey
(labelled rows after the cuts x network inputs, float32) and trains the ensemble with the fused
numpy engine in units of k members (:func:`sos_vo.ml.checkpoint.train_members`, the call
:func:`sos_vo.pipeline.train_survey` makes; k = :func:`~sos_vo.ml.units.default_unit_members`
of this machine).  Here the matrix is SYNTHETIC (``--rows`` rows of the survey's inputs: standard
normal features, one in ten missing and zero-filled with its presence flag, and smooth labels), so
the figures are of memory only, not of accuracy; the work per epoch does not depend on the values.

Each size runs in a child process of its own.  ``matrix_mb`` is the training matrix; ``start_rss_mb``
the child's resident set once the matrix and labels exist, where the high-water mark is reset
(``5`` written to ``/proc/self/clear_refs``, Linux >= 4.0); ``peak_rss_mb - start_rss_mb`` is what the
training adds (the fitted scalers, the members' splits and histories, each unit's networks and
batch buffers).  ``--epochs`` (default 1) bounds the time: the training's arrays are made before the
first epoch and reused; at 89 000 rows, 3 epochs added 23 MB more than one (228 against 205 MB:
the per-epoch histories and what the allocator keeps; ``benchmarks/results/train_memory-before.json``).

    python -m benchmarks.train_memory --rows 89000 890000 --json benchmarks/results/train_memory.json

890 000 rows is the labelled SkyMapper training matrix that ``benchmarks/join_memory.py`` prepares
from 1.6 M joined rows (~0.8 M labelled SkyMapper stars in T25 Sect. 4.3).

Every child first imports the modules ``build-model`` has imported when it trains
(:data:`BUILD_MODEL_IMPORTS`) and records its resident set right then (``import_rss_mb``,
``import_hwm_mb``), before any data; ``tensorflow_imported`` says whether TensorFlow was loaded
by the end of the training.  ``--imports-only`` measures just that, in one child:

    python -m benchmarks.train_memory --imports-only
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .machine import reset_hwm, run_measuring_child, vm_hwm_mb, vm_rss_mb, write_json

MISSING_FRACTION = 0.1
"""Share of each feature's values missing (zero-filled, flag 0) in the synthetic matrix: our
choice, of the order of the missing photometry of the joined rows."""


def synthetic_problem(rows: int, survey: str, seed: int = 0
                      ) -> tuple[np.ndarray, dict[str, np.ndarray], tuple[str, ...]]:
    """A SYNTHETIC zero-filled training matrix with interleaved presence flags and three labels."""
    from sos_vo.schema.joined import feature_names

    names = feature_names(survey)
    rng = np.random.default_rng(seed)
    X = np.empty((rows, 2 * len(names)), dtype=np.float32)
    for j in range(len(names)):  # column by column: no float64 copy of the whole matrix
        present = rng.random(rows) >= MISSING_FRACTION
        X[:, 2 * j] = np.where(present, rng.standard_normal(rows, dtype=np.float32), 0.0)
        X[:, 2 * j + 1] = present
    Y = {"teff": 5000.0 + 600.0 * np.tanh(X[:, 0]) + 200.0 * X[:, 2],
         "logg": 3.5 + 0.8 * np.tanh(X[:, 4]),
         "feh": -0.3 + 0.3 * X[:, 6] - 0.1 * X[:, 8]}
    return X, Y, names


BUILD_MODEL_IMPORTS = ("sos_vo.cli", "sos_vo.commands.build_model", "sos_vo.labels.real_model",
                       "sos_vo.pipeline", "sos_vo.ml.checkpoint", "sos_vo.ml.fused",
                       "sos_vo.ml.numpy_training", "sos_vo.ml.modelfolder")
"""The modules ``sos-vo build-model`` has imported when its fused (numpy) training starts."""


def import_child() -> dict:
    """Import :data:`BUILD_MODEL_IMPORTS` (in this process) and report the resident set."""
    import importlib

    t0 = time.perf_counter()
    for name in BUILD_MODEL_IMPORTS:
        importlib.import_module(name)
    return {"imports": list(BUILD_MODEL_IMPORTS), "import_s": time.perf_counter() - t0,
            "import_rss_mb": vm_rss_mb(), "import_hwm_mb": vm_hwm_mb(),
            "tensorflow_imported": "tensorflow" in sys.modules, "keras_imported": "keras" in sys.modules}


def child(rows: int, epochs: int, survey: str, members: int) -> dict:
    """One training of ``members`` members on a ``rows``-row matrix (in this process)."""
    imported = import_child()
    from sos_vo.ml.checkpoint import train_members, unit_cores
    from sos_vo.ml.options import NetworkOptions
    from sos_vo.ml.units import default_unit_members

    X, Y, names = synthetic_problem(rows, survey)
    baseline = vm_hwm_mb()
    reset = reset_hwm()
    start = vm_rss_mb()
    k = default_unit_members(members, *unit_cores())  # as build-model chooses it
    t0, c0 = time.perf_counter(), time.process_time()
    train_members(X, Y, names, survey, n_members=members,
                  options=NetworkOptions(epochs=epochs, patience=epochs + 1), seed=0,
                  progress=False, engine="fused", unit_members=k, checkpoint_dir=None)
    return {"rows": rows, "epochs": epochs, "survey": survey, "members": members,
            "unit_members": k, "inputs": int(X.shape[1]),
            "matrix_mb": X.nbytes / 2 ** 20, "peak_rss_mb": vm_hwm_mb(),
            "baseline_rss_mb": baseline, "start_rss_mb": start, "hwm_reset_at_start": reset,
            "wall_s": time.perf_counter() - t0, "cpu_s": time.process_time() - c0,
            "import_rss_mb": imported["import_rss_mb"], "import_hwm_mb": imported["import_hwm_mb"],
            "tensorflow_imported": "tensorflow" in sys.modules}


def build_parser() -> argparse.ArgumentParser:
    """Command-line options."""
    p = argparse.ArgumentParser(prog="python -m benchmarks.train_memory",
                                description=__doc__.split("\n")[0])
    p.add_argument("--rows", type=int, nargs="+", default=[89_000, 890_000],
                   help="training rows (labelled rows after the cuts)")
    p.add_argument("--epochs", type=int, nargs="+", default=[1], help="epochs of each run")
    p.add_argument("--survey", default="skymapper", choices=["sdss", "skymapper"])
    p.add_argument("--members", type=int, default=10, help="ensemble members (T25: 10)")
    p.add_argument("--json", type=Path, help="write the results as JSON here")
    p.add_argument("--imports-only", action="store_true",
                   help="only the resident set after importing what build-model imports")
    p.add_argument("--import-child", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--child", nargs=4, metavar=("ROWS", "EPOCHS", "SURVEY", "MEMBERS"),
                   help=argparse.SUPPRESS)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run each size in a child process; print and optionally store the peaks."""
    args = build_parser().parse_args(argv)
    command = " ".join(["python -m benchmarks.train_memory",
                        *(sys.argv[1:] if argv is None else argv)])
    if args.child:
        rows, epochs, survey, members = args.child
        print(json.dumps(child(int(rows), int(epochs), survey, int(members))))
        return 0
    if args.import_child:
        print(json.dumps(import_child()))
        return 0
    if args.imports_only:
        r = run_measuring_child([sys.executable, "-m", "benchmarks.train_memory", "--import-child"])
        if r is None:
            return 1
        print(f"after importing what build-model imports: resident {r['import_rss_mb']:.0f} MB, "
              f"peak {r['import_hwm_mb']:.0f} MB, TensorFlow imported: {r['tensorflow_imported']}, "
              f"{r['import_s']:.1f} s; load {r['load_average_start'][0]:.2f}", flush=True)
        if args.json:
            write_json(args.json, {"benchmark": "train_memory", "imports_only": True,
                                   "results": [r], "command": command})
        return 0
    results = []
    for rows in args.rows:
        for epochs in args.epochs:
            r = run_measuring_child([sys.executable, "-m", "benchmarks.train_memory", "--child",
                                     str(rows), str(epochs), args.survey, str(args.members)])
            if r is None:
                return 1
            results.append(r)
            print(f"{rows:>9,} rows x {r['inputs']} inputs, {epochs} epoch(s), {r['members']} members "
                  f"in units of {r['unit_members']}: matrix {r['matrix_mb']:.0f} MB, resident at the "
                  f"start {r['start_rss_mb']:.0f} MB, peak {r['peak_rss_mb']:.0f} MB (training adds "
                  f"{r['peak_rss_mb'] - r['start_rss_mb']:.0f} MB; after the imports, before any data: "
                  f"{r['import_rss_mb']:.0f} MB); {r['wall_s']:.0f} s wall, "
                  f"load {r['load_average_start'][0]:.2f}-{r['load_average_end'][0]:.2f}", flush=True)
            if args.json:
                write_json(args.json, {"benchmark": "train_memory", "synthetic": True,
                                       "results": results, "command": command})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
