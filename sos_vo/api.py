"""Python API mirroring the ``sos-vo`` command line.

>>> from sos_vo import api
>>> sky = api.simulate(center=(180.0, 0.0), radius=2.0, seed=1)          # doctest: +SKIP
>>> model = api.train(sky.tables, "sdss", out="my_model")                  # doctest: +SKIP
>>> catalogue = api.predict(sky.tables, {"sdss": "my_model"})             # doctest: +SKIP

Each function accepts archive tables as a mapping (archive name -> Table) or as a folder
written by ``sos-vo simulate`` / :meth:`sos_vo.simulate.SyntheticSky.write`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from astropy.table import Table

from . import pipeline
from .exceptions import SchemaError
from .schema import SURVEYS, check_survey
from .simulate import simulate_sky
from .simulate.sky import SyntheticSky, read_synthetic_sky

log = logging.getLogger(__name__)

TablesArg = Mapping[str, Table] | str | Path


def load_tables(tables: TablesArg) -> dict[str, Table]:
    """Archive tables from a mapping or a folder written by ``sos-vo simulate``."""
    if isinstance(tables, str | Path):
        return dict(read_synthetic_sky(tables).tables)
    if not isinstance(tables, Mapping):
        raise TypeError(f"tables must be a mapping of archive tables or a folder, not {type(tables)}")
    return dict(tables)


def simulate(center=(180.0, 0.0), radius=2.0, *, seed: int = 0, n_stars: int | None = None,
             out: str | Path | None = None, overwrite: bool = False) -> SyntheticSky:
    """Synthetic archive tables of a cone (``sos-vo simulate``); written to ``out`` if given."""
    _check_cone(center, radius, n_stars)
    sky = simulate_sky(center=center, radius=radius, n_stars=n_stars, seed=seed)
    if out is not None:
        sky.write(out, overwrite=overwrite)
    return sky


def _check_cone(center, radius, n_stars: int | None) -> None:
    """Refuse a non-finite or out-of-range cone before simulating (a NaN RA never converges)."""
    import math

    import astropy.units as u

    if hasattr(center, "icrs"):  # a SkyCoord
        center = (center.icrs.ra.deg, center.icrs.dec.deg)
    try:
        ra, dec = (float(x) for x in center)
    except (TypeError, ValueError):
        raise ValueError(f"center {center!r}: expected (RA, Dec) in degrees") from None
    r = radius.to_value(u.deg) if isinstance(radius, u.Quantity) else float(radius)
    if not (math.isfinite(ra) and math.isfinite(dec) and -90.0 <= dec <= 90.0):
        raise ValueError(f"center ({ra}, {dec}): RA must be finite and Dec in [-90, 90] deg")
    if not (math.isfinite(r) and 0.0 < r <= 90.0):
        raise ValueError(f"radius {r} deg must be in (0, 90]")
    if n_stars is not None and int(n_stars) < 1:
        raise ValueError(f"n_stars {n_stars} must be >= 1")


def prepare(tables: TablesArg, survey: str, **kwargs) -> pipeline.PreparedSurvey:
    """Join, cut, recalibrate and compute features (see :func:`sos_vo.pipeline.prepare_survey`)."""
    return pipeline.prepare_survey(load_tables(tables), survey, **kwargs)


def train(tables: TablesArg, survey: str, out: str | Path, *, n_members: int = 10,
          options=None, seed: int = 0, overwrite: bool = False, progress: bool = True,
          provenance: Mapping[str, Any] | None = None, fused: bool = False,
          raw_weights: bool = True) -> Path:
    """Train an ensemble for one survey and save it as a model folder (``sos-vo train``)."""
    prepared = prepare(tables, survey)
    return pipeline.train_survey(prepared, out, n_members=n_members, options=options, seed=seed,
                                 progress=progress, overwrite=overwrite, provenance=provenance,
                                 fused=fused, raw_weights=raw_weights)


def predict(tables: TablesArg, models: Mapping[str, str | Path], *, out: str | Path | None = None,
            fmt: str | None = None, overwrite: bool = False, progress: bool = True,
            data_is_real: bool | None = None) -> Table:
    """Predict with one model folder per survey and build the final catalogue (``sos-vo predict``).

    Parameters
    ----------
    tables
        Archive tables (mapping or folder).
    models
        survey -> model folder, e.g. ``{"sdss": "models/demo_sdss"}``.
    out, fmt
        Write the catalogue there (format from the suffix unless ``fmt`` is given).
    data_is_real
        Whether the tables come from a real archive (default: unless they say they are synthetic).
    """
    if not models:
        raise SchemaError("predict: no model folder given (survey -> folder)")
    tables = load_tables(tables)
    prepared = {check_survey(s): pipeline.prepare_survey(tables, s) for s in models}
    predictions = {s: pipeline.predict_survey(prepared[s], models[s], data_is_real=data_is_real,
                                              progress=progress) for s in models}
    catalogue = pipeline.build_final_catalogue(predictions, pipeline.spectro_table(prepared))
    from .publish.provenance import PROVENANCE_META_KEY, catalogue_provenance

    catalogue.meta[PROVENANCE_META_KEY] = catalogue_provenance(  # SYNTHETIC marker + versions
        models, any(p.synthetic for p in prepared.values()))
    if out is not None:
        from .publish.writers import write_catalogue

        write_catalogue(catalogue, out, fmt, overwrite=overwrite)
    return catalogue


# --------------------------------------------------------------------------------------
# The demo: the whole chain on the synthetic sky
# --------------------------------------------------------------------------------------
DEMO_CENTER = (180.0, 0.0)
"""A cone on the celestial equator, so that SDSS (north) and SkyMapper (south) overlap there
and the merge of T25 Sect. 5.2 is exercised."""
DEMO_RADIUS_DEG = 4.0
DEMO_N_STARS = 40_000
DEMO_N_MEMBERS = 3
"""The demo trains 3 members instead of T25's 10 to finish in minutes on a laptop;
``sos-vo demo --members 10`` runs the paper's ensemble."""
DEMO_EPOCHS = 40
"""Epoch cap of the demo (early stopping usually ends sooner); the default cap is
:data:`sos_vo.ml.options.EPOCHS`."""


def _progress_printer(enabled: bool, t0: float):
    """``say(message)``: one progress line on stderr with the elapsed time, if ``enabled``."""
    import sys

    def say(message: str) -> None:
        if enabled:
            print(f"[{time.perf_counter() - t0:5.0f} s] {message}", file=sys.stderr, flush=True)

    return say


@dataclass
class DemoResult:
    """What :func:`demo` produced: file paths and the summaries it printed."""

    out: Path
    catalogue: Path
    models: dict[str, Path]
    cut_reports: dict[str, Table]
    test_reports: dict[str, Table]
    n_rows: int
    seconds: float
    files: list[Path] = field(default_factory=list)


def demo(out: str | Path = "demo_output", *, seed: int = 1, n_stars: int = DEMO_N_STARS,
         radius: float = DEMO_RADIUS_DEG, n_members: int = DEMO_N_MEMBERS, epochs: int = DEMO_EPOCHS,
         n_blocks: int | None = None, surveys: tuple[str, ...] = SURVEYS, overwrite: bool = False,
         progress: bool = True, fmt: str = "fits", fused: bool = True) -> DemoResult:
    """Run the whole chain on a synthetic sky and write the catalogue (``sos-vo demo``).

    Writes into ``out``: ``sky/`` (the synthetic archive tables), ``models/<survey>/`` (the
    trained ensembles), ``cuts_<survey>.ecsv``, ``test_report_<survey>.ecsv`` and
    ``catalogue.<fits|vot>``.  Everything is labelled SYNTHETIC.  The ensembles are trained
    fused (:mod:`sos_vo.ml.fused`) unless ``fused=False``.
    """
    from .io import check_writable, mark_output_folder
    from .ml.modelio import read_metadata
    from .ml.options import NetworkOptions

    t0 = time.perf_counter()
    out = check_writable(out, overwrite, kind="folder")  # before any work; see sos_vo.io
    say = _progress_printer(progress, t0)
    say(f"simulating a SYNTHETIC sky of {n_stars} stars in a {radius} deg cone")
    out.mkdir(parents=True, exist_ok=True)
    mark_output_folder(out)
    sky = simulate(center=DEMO_CENTER, radius=radius, seed=seed, n_stars=n_stars)
    say(f"writing the synthetic archive tables to {out / 'sky'}")
    sky.write(out / "sky", overwrite=True)
    opt_kwargs: dict[str, Any] = {"epochs": epochs}
    if n_blocks is not None:
        opt_kwargs["n_blocks"] = n_blocks
    options = NetworkOptions(**opt_kwargs)
    say("cross-match, quality cuts (T25 Sect. 2) and label recalibration (T25 Eq. 2)")
    prepared = {s: pipeline.prepare_survey(sky.tables, s) for s in surveys}
    models, cut_reports, test_reports = {}, {}, {}
    for s, p in prepared.items():
        say(f"training the {s} ensemble: {n_members} members, up to {epochs} epochs")
        cut_reports[s] = p.cut_report.to_table()
        cut_reports[s].write(out / f"cuts_{s}.ecsv", overwrite=True)
        models[s] = pipeline.train_survey(
            p, out / "models" / s, n_members=n_members, options=options, seed=seed,
            progress=progress, overwrite=True, fused=fused,
            provenance={"origin": "sos-vo demo", "seed": seed, "center": DEMO_CENTER,
                        "radius_deg": radius})
        test_reports[s] = Table(rows=read_metadata(models[s])["metrics"])
        test_reports[s].write(out / f"test_report_{s}.ecsv", overwrite=True)
    say("predicting and writing the catalogue")
    predictions = {s: pipeline.predict_survey(prepared[s], models[s], progress=progress)
                   for s in prepared}
    catalogue = pipeline.build_final_catalogue(predictions, pipeline.spectro_table(prepared))
    from .publish.provenance import catalogue_provenance
    from .publish.writers import write_catalogue

    suffix = {"fits": ".fits", "votable": ".vot"}[fmt]
    cat_path = write_catalogue(catalogue, out / f"catalogue{suffix}", fmt, overwrite=True,
                               provenance={
                                   "archives": (f"SYNTHETIC sky from sos_vo.simulate (seed {seed}); "
                                                "no real archive was queried",),
                                   "releases": ("synthetic Gaia DR3 / SDSS DR13 / SkyMapper DR2 "
                                                "look-alikes",),
                                   **catalogue_provenance(models, True)})
    return DemoResult(out=out, catalogue=Path(cat_path), models=models, cut_reports=cut_reports,
                      test_reports=test_reports, n_rows=len(catalogue),
                      seconds=time.perf_counter() - t0)
