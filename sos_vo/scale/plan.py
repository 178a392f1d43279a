"""Plan a run before fetching anything: Gaia DR3 rows, TAP jobs, download size, run time.

Source-density model (our choice, documented here; the papers give none).  The Gaia DR3 source
density depends mostly on galactic latitude ``b``; we model it as

    Sigma(b) = SIGMA_POLE + A * exp(-|b| / B_SCALE_DEG)       [sources per deg^2]

with the pole density :data:`SIGMA_POLE_DEG2` and the disc scale :data:`B_SCALE_DEG` fixed
by hand to the look of the Gaia DR3 source-density map (Gaia Collaboration, Vallenari et al.
2023, Fig. 1: a few thousand sources per deg^2 at the galactic poles, a few 1e5 in the
plane), and ``A`` set so that the model integrates over the whole sky to the
:data:`GAIA_DR3_N_SOURCES` = 1 811 709 771 sources of Gaia DR3 (Vallenari et al. 2023, Table 1)
exactly.  It ignores longitude (the bulge is denser, the anticentre sparser, by factors of a
few) and the Magellanic Clouds: treat estimates as +-factor-2 for regions under ~100 deg^2 and
better for large ones.

Rows of a region = sum of ``Sigma(b_cell) * area_cell`` over the HEALPix cells of order
:data:`PLAN_ORDER` whose centre lies inside the region (an unbiased area estimate; cells of the
region's covering MOC are the candidates).

TAP jobs follow :mod:`sos_vo.archives.chunking`: one job if the region is at most
``single_job_max_area_deg2`` and its rows fit ``row_limit``; otherwise one job per cell of
``chunk_order``, a cell whose rows exceed ``row_limit`` counting as its four children,
recursively.  Download size: rows x columns of the joined Gaia query
(:func:`sos_vo.schema.joined_columns`) x :data:`BYTES_PER_VALUE` (VOTable BINARY2).  Run time:
download at ``bandwidth`` plus :data:`JOB_OVERHEAD_S` per job, cuts+features at
``prepare_rows_per_s`` and prediction of the rows kept after the cross-match and cuts
(:data:`KEPT_FRACTION`) at ``predict_stars_per_s`` per worker.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from ..gaia_dr3 import healpix_area_deg2, healpix_centres, moc_cells

GAIA_DR3_N_SOURCES = 1_811_709_771
"""Sources in Gaia DR3 (Gaia Collaboration, Vallenari et al. 2023, A&A 674, A1, Table 1)."""
SIGMA_POLE_DEG2 = 3_000.0
"""Model density at the galactic poles, sources / deg^2 (our reading of the DR3 density map)."""
B_SCALE_DEG = 10.0
"""Model latitude scale of the disc excess, degrees (our choice)."""
FULL_SKY_DEG2 = 4 * math.pi * (180 / math.pi) ** 2
PLAN_ORDER = 9
"""HEALPix order of the density integration (0.013 deg^2 cells, 0.11 deg)."""
BYTES_PER_VALUE = 6.0
"""Average bytes per value of a VOTable BINARY2 answer (8-byte doubles and ids, 4-byte
floats, 2-byte shorts, plus the null mask): our estimate."""
JOB_OVERHEAD_S = 15.0
"""Seconds of queueing and job setup per asynchronous TAP job (our estimate)."""
DEFAULT_BANDWIDTH_MB_S = 10.0
"""Assumed download rate from the archive, MB/s."""
KEPT_FRACTION = {"sdss": 9.5e6 / GAIA_DR3_N_SOURCES, "skymapper": 9.5e6 / GAIA_DR3_N_SOURCES}
"""Fraction of Gaia sources that end up predicted, whole sky: T25 predicts ~9-10 million stars
per survey (Sect. 5, ~19 million ML rows) out of Gaia DR3's 1.8e9.  Inside a survey's footprint
the fraction is higher; this is the all-sky average."""
DEFAULT_PREPARE_ROWS_PER_S = 100_000.0
"""Joined rows per second per worker through cuts and features (measured by
``benchmarks/scale_memory.py`` on 2 cores: ~1e5 rows/s)."""
DEFAULT_PREDICT_STARS_PER_S = 8_000.0
"""Stars per second per worker of the full ensemble (30 networks of 18 blocks), measured by
``benchmarks/scale_predict.py`` on 2 cores (~8 000 stars/s)."""


def _disc_amplitude() -> float:
    """``A`` such that the model integrates to :data:`GAIA_DR3_N_SOURCES` over the sky."""
    b = np.linspace(-np.pi / 2, np.pi / 2, 200_001)
    weight = np.exp(-np.abs(np.degrees(b)) / B_SCALE_DEG) * np.cos(b)
    disc_sr = 2 * np.pi * np.trapezoid(weight, b)
    disc_deg2 = disc_sr * (180 / np.pi) ** 2
    return (GAIA_DR3_N_SOURCES - SIGMA_POLE_DEG2 * FULL_SKY_DEG2) / disc_deg2


DISC_AMPLITUDE_DEG2 = _disc_amplitude()


def source_density(b_deg: np.ndarray) -> np.ndarray:
    """Model Gaia DR3 sources per deg^2 at galactic latitude ``b_deg``."""
    return SIGMA_POLE_DEG2 + DISC_AMPLITUDE_DEG2 * np.exp(-np.abs(np.asarray(b_deg)) / B_SCALE_DEG)


def _cells(moc, order: int) -> np.ndarray:
    return moc_cells(moc, order)


def cell_rows(order: int, cells: np.ndarray) -> np.ndarray:
    """Model rows of whole HEALPix cells (nested) of ``order``."""
    import astropy.units as u
    from astropy.coordinates import SkyCoord

    lon, lat = healpix_centres(order, cells)
    b = SkyCoord(lon, lat, frame="icrs").galactic.b.to_value(u.deg)
    return source_density(b) * healpix_area_deg2(order)


@dataclass
class Plan:
    """What a region costs (see the module docstring)."""

    region: str
    survey: str
    area_deg2: float
    gaia_rows: float
    kept_rows: float
    tap_jobs: int
    download_mb: float
    download_hours: float
    prepare_hours: float
    predict_hours: float
    workers: int

    @property
    def total_hours(self) -> float:
        return self.download_hours + self.prepare_hours + self.predict_hours

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "total_hours": self.total_hours}

    def __str__(self) -> str:
        return "\n".join([
            f"region: {self.region} ({self.area_deg2:.4g} deg^2), survey {self.survey}",
            f"Gaia DR3 rows (density model): {self.gaia_rows:,.0f}",
            f"rows predicted after cross-match and cuts (T25 all-sky fraction): {self.kept_rows:,.0f}",
            f"TAP jobs: {self.tap_jobs}; download ~{self.download_mb:,.0f} MB "
            f"({self.download_hours:.2f} h)",
            f"cuts+features {self.prepare_hours:.2f} h, prediction {self.predict_hours:.2f} h "
            f"on {self.workers} worker(s); total ~{self.total_hours:.2f} h",
        ])


def _jobs(order: int, cells: np.ndarray, rows: np.ndarray, row_limit: int, max_order: int) -> int:
    over = rows > row_limit
    n = int((~over).sum())
    if over.any():
        if order >= max_order:
            return n + int(np.ceil(rows[over] / row_limit).sum())
        children = (4 * cells[over][:, None] + np.arange(4)).ravel()
        n += _jobs(order + 1, children, np.repeat(rows[over] / 4.0, 4), row_limit, max_order)
    return n


def plan_region(region, survey: str = "sdss", *, workers: int = 1,
                bandwidth_mb_s: float = DEFAULT_BANDWIDTH_MB_S,
                prepare_rows_per_s: float = DEFAULT_PREPARE_ROWS_PER_S,
                predict_stars_per_s: float = DEFAULT_PREDICT_STARS_PER_S) -> Plan:
    """Estimate rows, TAP jobs, download size and run time of ``region`` (nothing is fetched).

    Parameters
    ----------
    region
        Anything :func:`sos_vo.archives.regions.as_region` accepts (e.g. ``"circle 180 0 5"``).
    survey : str
        ``sdss`` or ``skymapper`` (columns of the Gaia query, kept fraction).
    workers : int
        Parallel workers of the cuts/features and prediction stages.
    bandwidth_mb_s, prepare_rows_per_s, predict_stars_per_s : float
        Rates (see the module constants).
    """
    from ..archives.conf import setting
    from ..archives.regions import as_region
    from ..schema import check_survey, joined_columns

    check_survey(survey)
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    reg = as_region(region, max_radius_deg=180.0)
    fine = PLAN_ORDER
    fine_cells = _cells(reg.moc(fine), fine)
    if fine_cells.size:
        import astropy.units as u

        lon, lat = healpix_centres(fine, fine_cells)
        inside = np.asarray(reg.contains(lon.to_value(u.deg), lat.to_value(u.deg)), bool)
        if inside.any():  # a region smaller than a cell keeps its covering cells
            fine_cells = fine_cells[inside]
    if fine_cells.size == 0:
        raise ValueError(f"region {reg.describe()} covers no HEALPix cell")
    # rows: fine cells' density x area (a fine cell is 1/64 of a plan cell)
    gaia_rows = float(cell_rows(fine, fine_cells).sum())
    row_limit = int(setting("row_limit"))
    chunk_order = int(setting("chunk_order"))
    max_order = int(setting("max_chunk_order"))
    if reg.area_deg2 <= float(setting("single_job_max_area_deg2")) and gaia_rows <= row_limit:
        jobs = 1
    else:
        parents = np.unique(fine_cells >> (2 * (fine - chunk_order)))
        per_parent = np.bincount(np.searchsorted(parents, fine_cells >> (2 * (fine - chunk_order))),
                                 weights=cell_rows(fine, fine_cells), minlength=parents.size)
        jobs = _jobs(chunk_order, parents, per_parent, row_limit, max_order)
    n_cols = len(joined_columns(survey))
    download_mb = gaia_rows * n_cols * BYTES_PER_VALUE / 1e6
    kept = gaia_rows * KEPT_FRACTION[survey]
    return Plan(region=reg.describe(), survey=survey, area_deg2=float(reg.area_deg2),
                gaia_rows=gaia_rows, kept_rows=kept, tap_jobs=int(jobs), download_mb=download_mb,
                download_hours=(download_mb / bandwidth_mb_s + jobs * JOB_OVERHEAD_S) / 3600,
                prepare_hours=gaia_rows / (prepare_rows_per_s * workers) / 3600,
                predict_hours=kept / (predict_stars_per_s * workers) / 3600, workers=workers)


# -- rebuilding the model: training cost -------------------------------------------------
T25_LABELLED_ROWS = {"sdss": 300_000, "skymapper": 800_000}
"""Labelled stars of the training samples, T25 Sect. 4.2 ("around 300 000 and 800 000 stars")."""
T25_TRAIN_FRACTION = 0.8
"""Training share of each random split, T25 Sect. 4.3 (80/10/10)."""
T25_NETWORKS_PER_SURVEY = 30
"""10 random splits (T25 Sect. 5.1) x one network per label (Teff, log g, [Fe/H], Sect. 4.1)."""
T25_CPU_HOURS_PER_RUN = (2.0, 5.0)
"""T25 footnote 7: "each training run took only a few hours of CPU time" on a desktop PC; we
read "a few" as 2-5 hours and a run as one network (60 runs for both surveys)."""
DEFAULT_REBUILD_EPOCHS = 60
"""Epochs per network assumed for the projection (our choice: the papers give no number;
early stopping usually ends training before the maximum of :data:`sos_vo.ml.options.EPOCHS`)."""


@dataclass
class RebuildPlan:
    """Projected training cost of the whole model (see :func:`project_rebuild`)."""

    surveys: dict[str, int]
    epochs: int
    networks_per_survey: int
    row_passes: float
    rows_per_cpu_second: float
    cpu_hours: float
    cores_here: int
    wall_hours_here: float
    wall_hours_8_cores: float
    workers: int
    cores_per_worker: int
    wall_hours_cluster: float
    paper_cpu_hours: tuple[float, float]
    source: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def __str__(self) -> str:
        rows = ", ".join(f"{k} {v:,}" for k, v in self.surveys.items())
        lo, hi = self.paper_cpu_hours
        return "\n".join([
            f"rebuild of the model: training rows {rows} (T25 Sect. 4.2-4.3: 80% of the labelled "
            f"stars), {self.networks_per_survey} networks per survey, {self.epochs} epochs",
            f"network-row passes: {self.row_passes:.3g}; measured {self.rows_per_cpu_second:,.0f} "
            f"network-rows per CPU-second ({self.source})",
            f"CPU time: {self.cpu_hours:.1f} CPU-hours",
            f"wall time: {self.wall_hours_here:.1f} h on this machine ({self.cores_here} cores), "
            f"{self.wall_hours_8_cores:.1f} h on one 8-core machine, "
            f"{self.wall_hours_cluster:.2f} h on {self.workers} dask worker(s) x "
            f"{self.cores_per_worker} cores",
            f"paper (T25 footnote 7): a few CPU-hours per training run, "
            f"{len(self.surveys) * self.networks_per_survey} runs: ~{lo:.0f}-{hi:.0f} CPU-hours",
        ])


def throughput_from_json(path) -> tuple[float, str]:
    """Median network-rows per CPU-second of a ``benchmarks/speed.py`` JSON file, and a
    description of where it comes from."""
    import json
    from pathlib import Path

    data = json.loads(Path(path).read_text())
    median = data.get("median", {})
    rate = median.get("train_rows_per_cpu_second_per_network")
    if rate is None:
        raise ValueError(f"{path}: no median training rate (train_rows_per_cpu_second_per_network); "
                         "rerun benchmarks/speed.py")
    load = (data.get("load_average_start") or [float("nan")])[0]
    return float(rate), (f"{Path(path).name}: engine {data.get('engine')}, median of "
                         f"{data.get('repeats', 1)} run(s), load average {float(load):.2f}")


def project_rebuild(n_train_rows: dict[str, int] | None = None, *,
                    rows_per_cpu_second: float, epochs: int = DEFAULT_REBUILD_EPOCHS,
                    networks_per_survey: int = T25_NETWORKS_PER_SURVEY, cores_here: int = 1,
                    workers: int = 1, cores_per_worker: int = 8, source: str = "given"
                    ) -> RebuildPlan:
    """CPU-hours and wall time of training every network of the model from a measured rate.

    Parameters
    ----------
    n_train_rows : dict, optional
        survey -> training rows per network (default: T25's labelled samples x 0.8,
        :data:`T25_LABELLED_ROWS`, :data:`T25_TRAIN_FRACTION`).
    rows_per_cpu_second : float
        Measured network-rows per CPU-second of fused training (``benchmarks/speed.py``:
        training-row passes over the CPU time of the whole training, validation included).
    epochs : int
        Epochs per network.
    networks_per_survey : int
        Members x labels.
    cores_here : int
        Cores of this machine.
    workers, cores_per_worker : int
        A dask cluster.

    Notes
    -----
    The wall time assumes the fused engine's linear scaling with cores (its thread groups are
    independent within an epoch), at most one core per network (a network is trained by one
    thread), and the per-core speed of the machine that measured the rate.
    """
    rows = dict(n_train_rows) if n_train_rows is not None else {
        k: int(round(v * T25_TRAIN_FRACTION)) for k, v in T25_LABELLED_ROWS.items()}
    if rows_per_cpu_second <= 0 or epochs < 1 or workers < 1 or cores_here < 1 or cores_per_worker < 1:
        raise ValueError("need a positive rate and epochs, workers, cores >= 1")
    passes = float(sum(rows.values())) * networks_per_survey * epochs
    cpu_hours = passes / rows_per_cpu_second / 3600.0
    n_networks = networks_per_survey * len(rows)

    def wall(cores: int) -> float:
        return cpu_hours / max(1, min(cores, n_networks))

    lo, hi = T25_CPU_HOURS_PER_RUN
    return RebuildPlan(surveys=rows, epochs=int(epochs), networks_per_survey=networks_per_survey,
                       row_passes=passes, rows_per_cpu_second=float(rows_per_cpu_second),
                       cpu_hours=cpu_hours, cores_here=int(cores_here), wall_hours_here=wall(cores_here),
                       wall_hours_8_cores=wall(8), workers=int(workers),
                       cores_per_worker=int(cores_per_worker),
                       wall_hours_cluster=wall(workers * cores_per_worker),
                       paper_cpu_hours=(lo * n_networks, hi * n_networks), source=source)
