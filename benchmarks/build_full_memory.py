"""Memory of one whole ``sos-vo build-model --all-sky --survey both`` in one process.

:func:`sos_vo.labels.real_model.build_model` itself runs, in one child process, with
``survey="both"``, ``labels="surveys"``, ``recalibration="refit"``, the fused numpy engine in
units of :func:`~sos_vo.ml.units.default_unit_members` members (as ``build-model`` chooses them
on this machine), a temporary cache folder (the label spill and the member checkpoints go under
it, as with the command's default cache) and a temporary output folder.  Only what would talk
to a TAP service is replaced, by function-level fakes serving SYNTHETIC rows (the TAP client is
tested against DaCHS elsewhere); every other step is the real code.  The names replaced, all
in the namespace where ``build_model`` looks them up:

* ``sos_vo.labels.real_model.stream_labels``: each label source's chunks are
  :class:`benchmarks.build_memory.FakeStream` (one per HEALPix cell of order 2, made when the
  stage asks for them, ``--label-rows`` rows per source);
* ``sos_vo.labels.real_model.gaia``: its ``client`` gives an object whose ``check_service``
  does nothing;
* ``sos_vo.archives.pastel.fetch_pastel``: 30 000 PASTEL entries, one in ten at a labelled
  star's J2000 position (:meth:`benchmarks.join_memory.FakeJoin.pastel`);
* ``sos_vo.labels.real_model.astrometry_rows``: the astrometry of the uploaded ids in upload
  chunks (:meth:`~benchmarks.join_memory.FakeJoin.astrometry_chunks`), each filtered by the
  ``keep`` the build passes, as the real function does;
* ``sos_vo.labels.real_model.pastel_gaia_rows``: the Gaia sources near the metal-poor PASTEL
  entries, found by :func:`sos_vo.prepare.crossmatch.near_pastel` over every star's
  astrometry (the server's positional join);
* ``sos_vo.labels.real_model.training_chunks``: the joined rows of the uploaded ids that have
  a counterpart in the survey (``--joined-sdss`` / ``--joined-skymapper`` of them, drawn at
  random), one chunk per upload chunk of
  :data:`sos_vo.archives.label_join.UPLOAD_CHUNK_ROWS` ids, resampled from one simulated cone
  (:meth:`benchmarks.join_memory.FakeJoin.block`), counted in the build's ``stats``.

Two more names are wrapped, not replaced, to mark where the stages begin:
``sos_vo.labels.real_model.label_stage`` and ``sos_vo.labels.real_model.load_prepared``.

Stages (in the order ``build_model`` runs them): ``imports`` (interpreter start and the
imports of :mod:`sos_vo.labels.real_model`), ``checks`` (``build_model``'s checks and the
imports it makes before any fetch), ``labels`` (stream, spill, homogenise, combine), ``pastel_recalibration`` (PASTEL,
the astrometry upload, the metal-poor match, the Eq. 2 refit), ``join_prepare_sdss`` and
``join_prepare_skymapper`` (upload, cuts, features, the training arrays spilled to disk),
``train_sdss`` and ``train_skymapper`` (arrays read back, ensemble trained, model folder
written).  At each stage's end the child reads its high-water mark (``VmHWM`` of
``/proc/self/status``) and resident set (``VmRSS``), then resets the mark to the resident set
(``5`` written to ``/proc/self/clear_refs``, Linux >= 4.0; ``hwm_reset`` says whether it
could), so a stage's ``peak_rss_mb`` is its own; ``overall_peak_rss_mb`` is the largest of them
(the whole process's peak).  Without the reset each stage's figure is the peak so far.

Default sizes (``--scale 1``): 1 420 000 label rows per source, 7.1 M in all (the whole-sky
input of the five sources, ``docs/real-models.md``), and joined rows chosen so that about
300 000 SDSS and 800 000 SkyMapper labelled stars pass the cuts (T25 Sect. 4.3); ``--scale``
multiplies all three.

    python -m benchmarks.build_full_memory --scale 0.1 --json benchmarks/results/build_full_memory-tenth.json
    python -m benchmarks.build_full_memory --json benchmarks/results/build_full_memory.json

``--train-area-rows N`` measures one part of the training stage alone, the train_area fit
(:meth:`sos_vo.catalogue.train_area.TrainingAreaModel.fit`, which ``train_survey`` runs after
the members and ``benchmarks/train_memory.py`` does not), on a SYNTHETIC matrix:

    python -m benchmarks.build_full_memory --train-area-rows 801225 --json benchmarks/results/build_full_memory-train_area.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from .machine import reset_hwm, run_measuring_child, vm_hwm_mb, vm_rss_mb, write_json

LABEL_ROWS = 1_420_000
"""Label rows per source at ``--scale 1``: 7.1 M rows over the five sources, the whole-sky
input of ``--labels surveys`` (``docs/real-models.md``, Memory)."""
JOINED_ROWS = {"sdss": 1_080_000, "skymapper": 1_440_000}
"""Joined rows per survey at ``--scale 1``: of the fake's rows 27 % (SDSS) and 56 %
(SkyMapper) pass the cuts (``results/build_full_memory-tenth.json``), so about 300 000 and
800 000 labelled stars train, T25 Sect. 4.3."""
SURVEYS = ("sdss", "skymapper")
ASTROMETRY_TEMPLATE = "sdss"
"""Whose simulated cone gives the labelled stars' positions and proper motions (our choice)."""


class Stages:
    """Marks the stages' ends: each one's own peak, resident set, wall and CPU time."""

    def __init__(self) -> None:
        self.records: list[dict] = []
        self.name = "imports"
        self.t0, self.c0 = time.perf_counter(), time.process_time()
        self.start_rss: float | None = None
        self.hwm_reset = True

    def mark(self, name: str | None) -> None:
        """End the current stage and start ``name`` (None: the last)."""
        t, c = time.perf_counter(), time.process_time()
        self.records.append({"stage": self.name, "peak_rss_mb": vm_hwm_mb(),
                             "rss_start_mb": self.start_rss, "rss_end_mb": vm_rss_mb(),
                             "wall_s": t - self.t0, "cpu_s": c - self.c0,
                             "tensorflow_imported": "tensorflow" in sys.modules,
                             "load_average_end": list(os.getloadavg())})
        if name is not None:
            self.hwm_reset = reset_hwm() and self.hwm_reset
            self.name, self.start_rss = name, vm_rss_mb()
            self.t0, self.c0 = time.perf_counter(), time.process_time()


class FakeArchive:
    """The TAP answers ``build_model`` asks for, SYNTHETIC (module docstring)."""

    def __init__(self, label_rows: int, joined: dict[str, int], stages: Stages, seed: int = 0):
        self.label_rows, self.joined, self.stages, self.seed = label_rows, joined, stages, seed
        self.ids: np.ndarray | None = None  # the labelled stars, set when the label stage ends
        self.astro = None  # their positions (a FakeJoin), from PASTEL to the metal-poor match
        self.counts: dict[str, int] = {}

    # the label sources
    def stream_labels(self, key, region, **_):
        from .build_memory import FakeStream

        return FakeStream(key, self.label_rows, self.seed)

    # PASTEL and the astrometry of the labelled stars
    def _sky(self):
        from .join_memory import FakeJoin

        if self.astro is None:
            self.astro = FakeJoin(0, ASTROMETRY_TEMPLATE, self.seed, ids=self.ids)
            self.ids = None
        return self.astro

    def fetch_pastel(self, region, **_):
        t = self._sky().pastel()
        t.meta["provenance"] = {"source": "pastel", "synthetic": True, "rows": {"fetched": len(t)}}
        self.counts["pastel_entries"] = len(t)
        return t

    def astrometry_rows(self, ids, *, keep=None, **_):
        from astropy.table import vstack

        sky = self._sky()
        if not np.array_equal(np.unique(np.asarray(ids, dtype=np.int64)), sky.ids):
            raise RuntimeError("astrometry asked for other ids than the labelled stars")
        kept = []
        for chunk in sky.astrometry_chunks():
            kept.append(chunk if keep is None else chunk[np.asarray(keep(chunk), dtype=bool)])
        rows = vstack(kept, metadata_conflicts="silent")
        rows.meta.update({"query": "SYNTHETIC", "rows": sky.rows, "kept": len(rows),
                          "jobs": len(kept)})
        self.counts["astrometry_rows"], self.counts["astrometry_kept"] = sky.rows, len(rows)
        return rows

    def pastel_gaia_rows(self, entries, **_):
        from astropy.table import vstack

        from sos_vo.prepare.crossmatch import near_pastel, pastel_sky

        sky = pastel_sky(entries)
        near = [c[near_pastel(c, sky)] for c in self._sky().astrometry_chunks()]
        rows = vstack(near, metadata_conflicts="silent")
        rows.meta.update({"query": "SYNTHETIC", "uploaded_positions": len(entries),
                          "rows": len(rows), "sources": len(rows), "jobs": 1})
        self.astro = None  # the last stage that needs every star's position
        return rows

    # the joined rows of one survey
    def training_chunks(self, ids, survey, *, stats=None, **_):
        from sos_vo.archives.label_join import UPLOAD_CHUNK_ROWS

        from .join_memory import FakeJoin

        self.stages.mark(f"join_prepare_{survey}")
        self.astro = None
        ids = np.unique(np.asarray(ids, dtype=np.int64))
        rng = np.random.default_rng([self.seed, SURVEYS.index(survey)])
        has = rng.random(ids.size) < min(1.0, self.joined[survey] / max(ids.size, 1))
        fake = FakeJoin(0, survey, self.seed, ids=ids[has])
        n_chunks = -(-ids.size // UPLOAD_CHUNK_ROWS)
        last = ids[np.minimum(np.arange(1, n_chunks + 1) * UPLOAD_CHUNK_ROWS, ids.size) - 1]
        ends = np.searchsorted(fake.ids, last, "right").tolist()  # each upload chunk's rows

        def chunks():
            start = 0
            for k, end in enumerate(ends):
                if stats is not None:
                    stats.uploaded_ids += min(UPLOAD_CHUNK_ROWS, ids.size - k * UPLOAD_CHUNK_ROWS)
                    stats.chunks += 1
                    stats.jobs += 1
                    stats.rows += end - start
                if end > start:
                    yield fake.block(slice(start, end))
                start = end

        return chunks()


def child(label_rows: int, joined: dict[str, int], epochs: int, members: int,
          work_dir: str | None = None) -> dict:
    """One ``build_model`` (in this process) with the TAP fakes; returns the figures."""
    stages = Stages()
    from sos_vo.archives import pastel as pastel_module
    from sos_vo.labels import real_model
    from sos_vo.ml.options import NetworkOptions

    fake = FakeArchive(label_rows, joined, stages)
    label_stage, load_prepared = real_model.label_stage, real_model.load_prepared

    def timed_label_stage(*args, **kwargs):
        stages.mark("labels")
        out = label_stage(*args, **kwargs)
        stages.mark("pastel_recalibration")
        spectro = out.spectro
        full = np.all([np.isfinite(np.asarray(spectro[k], float)) for k in ("teff", "logg", "feh")],
                      axis=0)
        fake.ids = np.unique(np.asarray(spectro["source_id"], dtype=np.int64)[full])
        return out

    def timed_load_prepared(prepared, path):
        stages.mark(f"train_{prepared.survey}")
        return load_prepared(prepared, path)

    real_model.stream_labels = fake.stream_labels
    real_model.gaia = SimpleNamespace(client=lambda *a, **k: SimpleNamespace(
        url="synthetic:gaia", check_service=lambda: None))
    pastel_module.fetch_pastel = fake.fetch_pastel
    real_model.astrometry_rows = fake.astrometry_rows
    real_model.pastel_gaia_rows = fake.pastel_gaia_rows
    real_model.training_chunks = fake.training_chunks
    real_model.label_stage = timed_label_stage
    real_model.load_prepared = timed_load_prepared
    stages.mark("checks")
    with tempfile.TemporaryDirectory(prefix="sos-vo-build-full-", dir=work_dir) as tmp:
        result = real_model.build_model(
            all_sky=True, survey="both", labels="surveys", out=Path(tmp) / "model",
            cache_dir=Path(tmp) / "cache", n_members=members, seed=0, progress=False,
            options=NetworkOptions(epochs=epochs, patience=epochs + 1), engine="fused")
        stages.mark(None)
    from sos_vo.ml.checkpoint import unit_cores
    from sos_vo.ml.units import default_unit_members

    k = default_unit_members(members, *unit_cores())  # as build_model chose it
    prov = result.provenance
    rows = {"labels": {"label_rows": dict(result.labels),
                       "label_rows_total": int(sum(result.labels.values())),
                       "stars": prov["rows"]["labelled_stars"],
                       "stars_all_three": prov["rows"]["labelled_all_three"]},
            "pastel_recalibration": {**fake.counts,
                                     "metal_poor_matched": prov["pastel_augmentation"]
                                     ["matched_stars"]}}
    for s in SURVEYS:
        rows[f"join_prepare_{s}"] = dict(prov["rows"][s])
        rows[f"train_{s}"] = {"rows": prov["rows"][s]["labelled_after_cuts"]}
    stage_list = []
    for r in stages.records:
        stage_list.append({**r, "rows": rows.get(r["stage"], {})})
    return {"label_rows_per_source": label_rows, "sources": len(result.labels),
            "joined_requested": joined, "epochs": epochs, "members": members,
            "unit_members": k, "engine": "fused", "hwm_reset": stages.hwm_reset,
            "stages": stage_list,
            "overall_peak_rss_mb": max(r["peak_rss_mb"] for r in stage_list),
            "wall_s": sum(r["wall_s"] for r in stage_list),
            "tensorflow_imported_at_end": "tensorflow" in sys.modules}


def train_area_child(rows: int, survey: str = "skymapper") -> dict:
    """The train_area fit of :func:`sos_vo.pipeline.train_survey` alone (in this process), on
    the SYNTHETIC matrix of :func:`benchmarks.train_memory.synthetic_problem`, every row in a
    training split; the high-water mark is reset once the matrix exists."""
    from sos_vo.catalogue.train_area import TrainingAreaModel
    from sos_vo.ml.scaling import input_names

    from .train_memory import synthetic_problem

    X, _, names = synthetic_problem(rows, survey)
    in_train = np.ones(rows, dtype=bool)
    reset = reset_hwm()
    start = vm_rss_mb()
    t0 = time.perf_counter()
    TrainingAreaModel.fit(X[in_train], feature_names=list(input_names(names)), survey=survey,
                          random_state=0)
    return {"rows": rows, "survey": survey, "inputs": int(X.shape[1]),
            "matrix_mb": X.nbytes / 2 ** 20, "start_rss_mb": start, "peak_rss_mb": vm_hwm_mb(),
            "hwm_reset_at_start": reset, "tensorflow_imported": "tensorflow" in sys.modules,
            "wall_s": time.perf_counter() - t0}


def build_parser() -> argparse.ArgumentParser:
    """Command-line options."""
    p = argparse.ArgumentParser(prog="python -m benchmarks.build_full_memory",
                                description=__doc__.split("\n")[0])
    p.add_argument("--scale", type=float, default=1.0,
                   help="multiplies the default label and joined rows (1: the paper's size)")
    p.add_argument("--label-rows", type=int, help=f"label rows per source (default {LABEL_ROWS:,} x scale)")
    for s in SURVEYS:
        p.add_argument(f"--joined-{s}", type=int,
                       help=f"{s} joined rows (default {JOINED_ROWS[s]:,} x scale)")
    p.add_argument("--epochs", type=int, default=1, help="training epochs (default 1)")
    p.add_argument("--members", type=int, default=10, help="ensemble members (T25: 10)")
    p.add_argument("--work-dir", help="folder of the build's temporary files (default: the system's)")
    p.add_argument("--json", type=Path, help="write the figures here")
    p.add_argument("--train-area-rows", type=int,
                   help="measure only the train_area fit of the training stage on this many "
                        "SYNTHETIC SkyMapper rows (in a child of its own)")
    p.add_argument("--child", help=argparse.SUPPRESS)
    p.add_argument("--train-area-child", type=int, help=argparse.SUPPRESS)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run the build in a child process; print and optionally store the figures."""
    args = build_parser().parse_args(argv)
    if args.child:
        print(json.dumps(child(**json.loads(args.child))))
        return 0
    if args.train_area_child:
        print(json.dumps(train_area_child(args.train_area_child)))
        return 0
    if args.train_area_rows:
        r = run_measuring_child([sys.executable, "-m", "benchmarks.build_full_memory",
                                 "--train-area-child", str(args.train_area_rows)],
                                cwd=str(Path(__file__).resolve().parents[1]))
        if r is None:
            return 1
        print(f"train_area fit of {r['rows']:,} rows x {r['inputs']} inputs (matrix "
              f"{r['matrix_mb']:.0f} MB): resident at the start {r['start_rss_mb']:.0f} MB, peak "
              f"{r['peak_rss_mb']:.0f} MB (adds {r['peak_rss_mb'] - r['start_rss_mb']:.0f} MB); "
              f"{r['wall_s']:.0f} s, load {r['load_average_start'][0]:.2f}-"
              f"{r['load_average_end'][0]:.2f}")
        if args.json:
            write_json(args.json, {"benchmark": "build_full_memory", "part": "train_area",
                                   "synthetic": True,
                                   "argv": list(argv) if argv is not None else sys.argv[1:],
                                   "result": r})
        return 0
    spec = {"label_rows": args.label_rows or round(LABEL_ROWS * args.scale),
            "joined": {s: getattr(args, f"joined_{s}") or round(JOINED_ROWS[s] * args.scale)
                       for s in SURVEYS},
            "epochs": args.epochs, "members": args.members, "work_dir": args.work_dir}
    r = run_measuring_child([sys.executable, "-m", "benchmarks.build_full_memory",
                             "--child", json.dumps(spec)],
                            cwd=str(Path(__file__).resolve().parents[1]))
    if r is None:
        return 1
    for s in r["stages"]:
        print(f"{s['stage']:<23} peak {s['peak_rss_mb']:7.0f} MB (resident at its end "
              f"{s['rss_end_mb']:6.0f} MB), {s['wall_s']:7.1f} s wall, load at its end "
              f"{s['load_average_end'][0]:.2f}; {s['rows']}", flush=True)
    print(f"overall peak {r['overall_peak_rss_mb']:.0f} MB, {r['wall_s']:.0f} s; tensorflow "
          f"imported: {r['tensorflow_imported_at_end']}; load {r['load_average_start'][0]:.2f}-"
          f"{r['load_average_end'][0]:.2f}")
    if args.json:
        write_json(args.json, {"benchmark": "build_full_memory", "synthetic": True,
                               "argv": list(argv) if argv is not None else sys.argv[1:],
                               "result": r})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
