"""Memory of the join, recalibration and preparation stages of ``sos-vo build-model``.

After the label stage, ``build-model`` fetches the joined Gaia DR3 + survey rows of the labelled
stars by id (upload chunks of :data:`sos_vo.archives.label_join.UPLOAD_CHUNK_ROWS`), the
astrometry of the labelled stars for the PASTEL match, matches PASTEL for the T25 Eq. 2 refit
and prepares the rows (cuts, Eq. 2, PASTEL augmentation, features;
:func:`sos_vo.labels.real_model.prepare_joined`).  Here the TAP results are served by a
function-level fake (the TAP client is tested against DaCHS elsewhere): ``--rows`` SYNTHETIC
joined rows in upload chunks of increasing ``source_id``, made by resampling the server-row
layout of one :func:`sos_vo.simulate.simulate_sky` cone (``join_survey`` of its tables: the
columns ``sos-vo query`` fetches) with fresh ids and positions spread over the sky; the labels
(``sos_spectro.main`` layout) of those stars; 30 000 PASTEL entries, one in ten at a star's
J2000 position.

Two modes, each run in a child process of its own:

* ``stream`` -- today's stages: the astrometry chunks filtered as they arrive
  (:func:`sos_vo.prepare.crossmatch.near_pastel`), the refit match on what is kept, then the
  joined chunks streamed through :func:`~sos_vo.labels.real_model.prepare_joined`, which keeps
  the labelled rows' training columns and network inputs only;
* ``held`` -- the layout the stages had before: every chunk stacked into one joined table (as
  ``training_rows`` does) and the astrometry of every star held, the refit match on all of it,
  then ``prepare_joined`` of the whole table.  Run with a checkout of the previous code
  (``--code``, put first on ``sys.path`` in the children), this is the previous path exactly
  (its ``prepare_joined`` prepared 200 000 rows at a time and returned the kept rows' full
  tables and features too).

The peak is the child's own high-water mark (``VmHWM`` of ``/proc/self/status``, read at its
end); ``start_rss_mb`` is the resident set (``VmRSS``) once the fake's template and the labels
exist (the labels are the label stage's output, held before these stages start), when the
high-water mark is reset to it (``5`` written to ``/proc/self/clear_refs``, Linux >= 4.0;
``hwm_reset_at_start`` says whether it was), so ``peak - start`` is what these stages add
(``baseline_rss_mb``: the high-water mark before the reset, the fake's making included).  ``training_matrix_mb`` is the network inputs of the labelled rows after the
cuts (rows x inputs x 4 bytes), which the training needs whatever the path.

    python -m benchmarks.join_memory --rows 160000 1600000 --json benchmarks/results/join_memory.json
    git worktree add /tmp/previous 190d685   # the code before the streamed stages
    python -m benchmarks.join_memory --rows 160000 1600000 --modes held --code /tmp/previous \
        --code-label "190d685 (before)" --json benchmarks/results/join_memory-before.json
    python -m benchmarks.join_memory --rows 1600000 --modes stream --prepare-chunk-rows 200000 \
        --json benchmarks/results/join_memory-chunk200k.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from .machine import reset_hwm, run_measuring_child, vm_hwm_mb, vm_rss_mb, write_json

CHUNK_IDS = 8_000
"""Rows per fake upload chunk: :data:`sos_vo.archives.label_join.UPLOAD_CHUNK_ROWS` (one row
per uploaded id at most, as the one-to-one join gives)."""
TEMPLATE_STARS = 20_000
"""Stars of the simulated cone whose joined rows are resampled (our choice)."""
PASTEL_ENTRIES = 30_000
"""PASTEL's size: about 31 000 stars (Soubiran et al. 2016); one entry per star here."""
PASTEL_AT_STARS = 0.1
"""Fraction of the PASTEL entries placed at a star's J2000 position (our choice)."""
CODE_ENV = "SOS_VO_JOIN_MEMORY_CODE"
"""Environment variable passing ``--code`` to the children."""
CODE_LABEL_ENV = "SOS_VO_JOIN_MEMORY_CODE_LABEL"
"""Environment variable passing ``--code-label`` to the children."""
CENTER = {"sdss": (180.0, 30.0), "skymapper": (180.0, -30.0)}
"""Cone of the template, in the survey's footprint (our choice)."""


class FakeJoin:
    """SYNTHETIC joined rows, astrometry and labels of ``rows`` labelled stars, by chunk."""

    def __init__(self, rows: int, survey: str, seed: int = 0, ids: np.ndarray | None = None):
        """``ids`` (optional, sorted, unique): the stars' Gaia DR3 ids, instead of ``rows``
        increasing ids drawn here (``rows`` is then ``len(ids)``)."""
        from sos_vo.prepare.crossmatch import join_survey
        from sos_vo.schema import GAIA_SOURCE_TABLE
        from sos_vo.simulate import simulate_sky

        sky = simulate_sky(center=CENTER[survey], radius=3.0, n_stars=TEMPLATE_STARS, seed=seed)
        self.template = join_survey(sky.tables, survey, labels=False)
        gaia = sky.tables[GAIA_SOURCE_TABLE]
        order = np.argsort(np.asarray(gaia["source_id"]))
        pos = order[np.searchsorted(np.asarray(gaia["source_id"])[order],
                                    np.asarray(self.template["source_id"]))]
        self.pm = (np.ma.filled(np.ma.asarray(gaia["pmra"], float), np.nan)[pos],
                   np.ma.filled(np.ma.asarray(gaia["pmdec"], float), np.nan)[pos])
        rng = np.random.default_rng(seed)
        if ids is None:
            self.ids = np.cumsum(rng.integers(1, 50, rows, dtype=np.int64))  # increasing, unique
        else:
            self.ids = np.asarray(ids, dtype=np.int64)
            rows = len(self.ids)
        self.rows, self.survey, self.seed = rows, survey, seed
        self.pick = rng.integers(0, len(self.template), rows)

    def _positions(self, sl: slice) -> tuple[np.ndarray, np.ndarray]:
        """Template positions moved to a place of their own per star (spread over the sky)."""
        ids, pick = self.ids[sl], self.pick[sl]
        ra = np.asarray(self.template["ra"], float)[pick]
        dec = np.asarray(self.template["dec"], float)[pick]
        ra = (ra + 360.0 * ((ids * 0.6180339887498949) % 1.0)) % 360.0
        dec = np.clip(dec + 20.0 * ((ids * 0.41421356) % 1.0) - 10.0, -89.0, 89.0)
        return ra, dec

    def chunk(self, k: int):
        """Joined rows of upload chunk ``k`` (ids ``k*CHUNK_IDS`` on, increasing)."""
        return self.block(slice(k * CHUNK_IDS, min((k + 1) * CHUNK_IDS, self.rows)))

    def block(self, sl: slice):
        """Joined rows of the stars ``sl`` (in id order)."""
        from sos_vo.schema import SURVEY_ID_COLUMN

        t = self.template[self.pick[sl]]
        t["source_id"] = self.ids[sl]
        t[SURVEY_ID_COLUMN[self.survey]] = self.ids[sl] + 10 ** 15  # unique survey ids
        t["ra"], t["dec"] = self._positions(sl)
        t.meta.clear()
        return t

    def chunks(self) -> Iterator:
        for k in range(-(-self.rows // CHUNK_IDS)):
            yield self.chunk(k)

    def astrometry_chunks(self) -> Iterator:
        """``source_id, ra, dec, pmra, pmdec`` (J2016.0) of the stars, by upload chunk."""
        from astropy.table import Table

        for k in range(-(-self.rows // CHUNK_IDS)):
            sl = slice(k * CHUNK_IDS, min((k + 1) * CHUNK_IDS, self.rows))
            ra, dec = self._positions(sl)
            pick = self.pick[sl]
            yield Table({"source_id": self.ids[sl], "ra": ra, "dec": dec,
                         "pmra": self.pm[0][pick], "pmdec": self.pm[1][pick]})

    def spectro(self):
        """Labels of every star (``sos_spectro.main`` layout), a function of the template row."""
        from astropy.table import Table

        t = self.template
        teff = np.asarray(t["teff_gspphot"].filled(5500.0), float)[self.pick] + 30.0
        logg = np.asarray(t["logg_gspphot"].filled(4.0), float)[self.pick] - 0.05
        feh = np.asarray(t["mh_andrae"].filled(-0.3), float)[self.pick] + 0.02
        n = self.rows
        return Table({"source_id": self.ids, "teff": teff.astype(np.float32),
                      "e_teff": np.full(n, 80.0, np.float32), "logg": logg.astype(np.float32),
                      "e_logg": np.full(n, 0.1, np.float32), "feh": feh.astype(np.float32),
                      "e_feh": np.full(n, 0.07, np.float32), "n_surveys": np.ones(n, np.int16)})

    def pastel(self):
        """PASTEL entries (the layout of :func:`sos_vo.archives.pastel.fetch_pastel`)."""
        from astropy.table import MaskedColumn, Table

        from sos_vo.prepare.crossmatch import GAIA_EPOCH, PASTEL_EPOCH, propagate_positions

        rng = np.random.default_rng([self.seed, 1])
        n_at = min(int(PASTEL_AT_STARS * PASTEL_ENTRIES), self.rows)
        at = np.sort(rng.choice(self.rows, n_at, replace=False))
        ra, dec = self._positions(slice(None))
        ra2000, dec2000 = propagate_positions(ra[at], dec[at], self.pm[0][self.pick[at]],
                                              self.pm[1][self.pick[at]], PASTEL_EPOCH - GAIA_EPOCH)
        n_far = PASTEL_ENTRIES - n_at
        ra_all = np.concatenate([ra2000, rng.uniform(0.0, 360.0, n_far)])
        dec_all = np.concatenate([dec2000, np.degrees(np.arcsin(rng.uniform(-1, 1, n_far)))])
        n = len(ra_all)
        out = Table({"ID": np.array([f"P{i}" for i in range(n)]), "RAJ2000": ra_all,
                     "DEJ2000": dec_all})
        for name, lo, hi in (("Teff", 4000.0, 6500.0), ("logg", 1.0, 4.8), ("[Fe/H]", -2.5, 0.3)):
            out[name] = MaskedColumn(rng.uniform(lo, hi, n))
            out[f"e_{name}"] = MaskedColumn(np.full(n, 0.1 if name != "Teff" else 80.0))
        out["bibcode"] = np.full(n, "2016A&A...591A.118S")
        return out


def child(rows: int, mode: str, survey: str, prepare_chunk_rows: int | None = None) -> dict:
    """One run of the join, recalibration and preparation stages (in this process)."""
    from astropy.table import vstack

    from sos_vo.labels import real_model
    from sos_vo.prepare import crossmatch
    from sos_vo.schema import GAIA_SOURCE_TABLE, PASTEL_TABLE

    if prepare_chunk_rows:
        real_model.PREPARE_CHUNK_ROWS = prepare_chunk_rows

    fake = FakeJoin(rows, survey)
    spectro = fake.spectro()
    pastel = fake.pastel()
    baseline = vm_hwm_mb()
    reset = reset_hwm()
    start = vm_rss_mb()
    t0, c0 = time.perf_counter(), time.process_time()
    if mode == "stream":
        sky = crossmatch.pastel_sky(pastel)
        kept = [a[crossmatch.near_pastel(a, sky)] for a in fake.astrometry_chunks()]
        astrometry = vstack(kept, metadata_conflicts="silent")
        del kept, sky
        joined_rows = fake.chunks()
    else:
        astrometry = vstack(list(fake.astrometry_chunks()), metadata_conflicts="silent")
        joined_rows = vstack(list(fake.chunks()), metadata_conflicts="silent")
    matched = crossmatch.join_pastel({GAIA_SOURCE_TABLE: astrometry, PASTEL_TABLE: pastel})
    out = real_model.prepare_joined(joined_rows, survey, astrometry=astrometry, spectro=spectro,
                                    pastel=pastel, recalibration=None)
    prepared = out.prepared if hasattr(out, "prepared") else out  # the previous code: a PreparedSurvey
    lab = prepared.labelled()
    n_lab = int(lab.sum())
    wall = time.perf_counter() - t0
    return {"rows": rows, "mode": mode, "survey": survey, "astrometry_kept": len(astrometry),
            "pastel_pairs": len(matched), "after_cuts": len(prepared.joined) if not hasattr(out, "rows")
            else out.rows["after_cuts"], "labelled_after_cuts": n_lab,
            "inputs": int(prepared.X.shape[1]),
            "training_matrix_mb": n_lab * prepared.X.shape[1] * 4 / 2 ** 20,
            "peak_rss_mb": vm_hwm_mb(), "baseline_rss_mb": baseline, "start_rss_mb": start,
            "hwm_reset_at_start": reset,
            "prepare_chunk_rows": getattr(real_model, "PREPARE_CHUNK_ROWS", None),
            "wall_s": wall,
            "cpu_s": time.process_time() - c0,
            "code": os.environ.get(CODE_LABEL_ENV) or "this tree"}


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rows", type=int, nargs="+", default=[160_000, 1_600_000],
                   help="joined rows (labelled stars with a survey counterpart; default 1.6e5 1.6e6)")
    p.add_argument("--modes", nargs="+", choices=["stream", "held"], default=["stream", "held"])
    p.add_argument("--survey", choices=["sdss", "skymapper"], default="skymapper")
    p.add_argument("--code", type=Path,
                   help="run the children with this source tree first on PYTHONPATH (e.g. a "
                        "checkout of the previous code, for the 'held' mode's 'before')")
    p.add_argument("--code-label", help="what --code is, stored with the figures (e.g. a commit)")
    p.add_argument("--prepare-chunk-rows", type=int, default=0,
                   help="rows per prepared chunk (default: the code's PREPARE_CHUNK_ROWS)")
    p.add_argument("--json", type=Path, help="write the figures here")
    p.add_argument("--child", nargs=4, metavar=("ROWS", "MODE", "SURVEY", "CHUNK"),
                   help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        if os.environ.get(CODE_ENV):  # ahead of the working directory that -m puts first
            sys.path.insert(0, os.environ[CODE_ENV])
        print(json.dumps(child(int(args.child[0]), args.child[1], args.child[2],
                               int(args.child[3]))))
        return 0
    env = dict(os.environ)
    here = str(Path(__file__).resolve().parents[1])
    env.pop(CODE_ENV, None)
    env[CODE_LABEL_ENV] = args.code_label or ("the code at --code" if args.code else "this tree")
    if args.code:
        env[CODE_ENV] = str(args.code.resolve())
    results = []
    for rows in args.rows:
        for mode in args.modes:
            r = run_measuring_child([sys.executable, "-m", "benchmarks.join_memory", "--child",
                                     str(rows), mode, args.survey, str(args.prepare_chunk_rows)],
                                    env=env, cwd=here)
            if r is None:
                return 1
            results.append(r)
            print(f"{rows:>9,} joined rows, {mode:<6}: peak RSS {r['peak_rss_mb']:7.0f} MB "
                  f"(resident at the start {r['start_rss_mb']:.0f} MB, stages add "
                  f"{r['peak_rss_mb'] - r['start_rss_mb']:.0f}); "
                  f"training matrix {r['training_matrix_mb']:.0f} MB "
                  f"({r['labelled_after_cuts']:,} rows x {r['inputs']}); {r['wall_s']:.0f} s wall, "
                  f"load {r['load_average_start'][0]:.2f}", flush=True)
            if args.json:
                write_json(args.json, {"benchmark": "join_memory", "synthetic": True,
                                       "argv": _argv_without_code(argv if argv is not None
                                                                  else sys.argv[1:]),
                                       "results": results, "slopes": slopes(results)})
    for s in slopes(results):
        print(f"{s['mode']:<6} {s['code']}: {s['added_bytes_per_joined_row']:.0f} bytes per joined row "
              f"added to the peak; the training matrix {s['matrix_bytes_per_joined_row']:.0f}")
    return 0


def _argv_without_code(argv: Sequence[str]) -> list[str]:
    """The arguments with the path of ``--code`` left out (it is a local folder)."""
    out, skip = [], False
    for a in argv:
        if skip:
            out.append("PATH")
            skip = False
        elif a == "--code":
            out.append(a)
            skip = True
        else:
            out.append("--code=PATH" if a.startswith("--code=") else a)
    return out


def slopes(results: list[dict]) -> list[dict]:
    """Per mode and code: the peak's growth per joined row between the smallest and largest
    runs, next to the training matrix's."""
    out = []
    for key in dict.fromkeys((r["mode"], r["code"]) for r in results):
        runs = sorted((r for r in results if (r["mode"], r["code"]) == key), key=lambda r: r["rows"])
        if len(runs) < 2 or runs[-1]["rows"] == runs[0]["rows"]:
            continue
        a, b = runs[0], runs[-1]
        d = b["rows"] - a["rows"]
        out.append({"mode": key[0], "code": key[1], "rows": [a["rows"], b["rows"]],
                    "added_bytes_per_joined_row": ((b["peak_rss_mb"] - b["start_rss_mb"])
                                                   - (a["peak_rss_mb"] - a["start_rss_mb"]))
                    * 2 ** 20 / d,
                    "matrix_bytes_per_joined_row": (b["training_matrix_mb"] - a["training_matrix_mb"])
                    * 2 ** 20 / d})
    return out


if __name__ == "__main__":
    raise SystemExit(main())
