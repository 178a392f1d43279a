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
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from astropy.table import Table

from . import pipeline
from .pipeline import DEMO_EPOCHS, DEMO_N_MEMBERS, DEMO_N_STARS, DEMO_RADIUS_DEG  # noqa: F401
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
    return pipeline.predict_catalogue(load_tables(tables), models, out=out, fmt=fmt,
                                      overwrite=overwrite, progress=progress,
                                      data_is_real=data_is_real)


def query(region, survey: str = "sdss", **kwargs) -> pipeline.QueryResult:
    """Fetch a sky region from the archives, cut, predict and write (``sos-vo query``).

    See :func:`sos_vo.pipeline.query_region` for the arguments.
    """
    return pipeline.query_region(region, survey, **kwargs)


def demo(out: str | Path = "demo_output", **kwargs) -> pipeline.DemoResult:
    """Run the whole chain on a synthetic sky (``sos-vo demo``); see :func:`sos_vo.pipeline.demo`."""
    return pipeline.demo(out, **kwargs)
