"""What ``sos-vo build-model`` will fetch, before it fetches anything: rows, TAP jobs, bytes.

The estimate follows the stages of :mod:`sos_vo.labels.real_model`:

* **labels** -- per label source, the rows of the whole survey release
  (:data:`SURVEY_ROWS`, each with its source), times the region's sky fraction for a region
  (labels are not uniform on the sky: treat a regional estimate as a factor of a few).  Jobs as
  :func:`sos_vo.archives.label_source.fetch_labels` sends them: one job when the rows fit the
  row limit, else one per HEALPix cell of order
  :data:`~sos_vo.archives.label_source.ALL_SKY_CHUNK_ORDER` in the region;
* **join** -- the labelled stars T25 kept after the cuts (:data:`T25_LABELLED`; a region scales
  them by its sky fraction) are uploaded in chunks of
  :data:`~sos_vo.archives.label_join.UPLOAD_CHUNK_ROWS` ids; before the cuts there are more:
  the join uploads every labelled star with all three labels, estimated as
  :data:`UPLOAD_PER_KEPT` times the kept ones;
* **bytes**: rows x columns x :data:`sos_vo.scale.plan.BYTES_PER_VALUE`; download time at
  ``bandwidth`` plus :data:`sos_vo.scale.plan.JOB_OVERHEAD_S` per job.

Training (:func:`plan_build_model`): the training rows of each survey (the labelled stars of
the plan, :data:`T25_LABELLED` x the sky fraction, times the training share of a split,
:data:`sos_vo.scale.plan.T25_TRAIN_FRACTION`) x 30 networks x the epochs, at a measured rate
(network-rows per CPU-second of ``benchmarks/speed.py`` for the engine build-model trains
with).  Wall time (our model), the surveys one after the other:

* **fused** (build-model's default engine, :mod:`sos_vo.ml.checkpoint`): the ensemble is
  trained in units of k members (``3 k`` networks), each unit one run of the numpy engine on
  ``min(threads, 3 k)`` threads (a network is trained by one thread); k as build-model picks
  it (:func:`sos_vo.ml.checkpoint.default_unit_members`) unless given.  Without
  ``--scheduler`` the units run one after another on the machine's cores; on a dask cluster
  of W workers (one per node, its cores as threads) each unit is one task, the units dealt to
  the workers in turn, so ``min(W, ceil(n_members / k))`` units run at once.  A unit takes its
  share of the CPU-hours (its members / ``n_members``) over ``min(threads, 3 k_unit)`` cores;
  a survey ends with the busiest worker.  This assumes the numpy engine's linear scaling with threads (its thread groups
  meet once per epoch) and the per-core speed of the machine that measured the rate;
* **per-network**: one task per ensemble member (its three label networks in sequence on one
  core): at most ``n_members`` tasks run at once, so a survey takes
  ``CPU-hours / min(cores, n_members)`` on C cores of one-thread workers; without
  ``--scheduler`` the members are trained one after another in one process and the
  CPU-hours bound the wall time.

The download does not depend on the machine (the TAP jobs run one after the other against one
archive); the total is download + training.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

from ..schema import LABELS
from .plan import (
    BYTES_PER_VALUE,
    DEFAULT_BANDWIDTH_MB_S,
    DEFAULT_REBUILD_EPOCHS,
    FULL_SKY_DEG2,
    JOB_OVERHEAD_S,
    T25_TRAIN_FRACTION,
)

SURVEY_ROWS: dict[str, tuple[int, str]] = {
    "apogee-dr17": (733_901, "APOGEE DR17 allStar entries (Abdurro'uf et al. 2022, Sect. 5)"),
    "galah-dr3": (588_571, "GALAH DR3 stars (Buder et al. 2021, abstract)"),
    "lamost-lrs": (5_000_000, "LAMOST LRS spectra with LASP parameters, order of magnitude of "
                              "DR5-DR7 (our rounding; Luo et al. 2015 give the pipeline)"),
    "gaia-eso": (115_000, "Gaia-ESO DR5 stars, about 115 000 (Randich et al. 2022, abstract; "
                          "rounded)"),
    "segue-sspp": (700_000, "SDSS stellar spectra with SSPP parameters in DR17, order of "
                            "magnitude (our rounding)"),
    "sos-dr2": (23_000_000, "SoS DR2 final catalogue rows (T25 Sect. 5.2, ~23 M)"),
}
"""Rows of each label source over the whole sky and where the number comes from."""
T25_LABELLED = {"sdss": 300_000, "skymapper": 800_000}
"""Labelled stars of T25's training samples: "around 300 000 and 800 000 stars" for SDSS and
SkyMapper (T25 Sect. 4.3)."""
UPLOAD_PER_KEPT = 2.0
"""Labelled stars uploaded per star kept after the join and the cuts (our estimate: on the
mirror, 1 692 of 2 661 uploaded stars have a one-to-one SDSS row passing the Gaia cuts and 661
pass all cuts; real surveys cover the photometric footprints unevenly)."""
LABEL_COLUMNS = 12
"""Columns of a label query (the common label schema plus flags)."""
JOIN_COLUMNS = {"sdss": 48, "skymapper": 57}
"""Columns of the joined Gaia query of each survey (``sos_vo.schema.joined_columns`` plus the
extras of ``gaia_<survey>_joined.adql``)."""


@dataclass
class BuildPlan:
    """The estimate (see the module docstring)."""

    region: str
    sky_fraction: float
    surveys: tuple[str, ...]
    labels: tuple[str, ...]
    label_rows: dict[str, float] = field(default_factory=dict)
    label_jobs: dict[str, int] = field(default_factory=dict)
    upload_ids: dict[str, float] = field(default_factory=dict)
    join_jobs: dict[str, int] = field(default_factory=dict)
    download_mb: float = 0.0
    download_hours: float = 0.0

    @property
    def jobs(self) -> int:
        return sum(self.label_jobs.values()) + sum(self.join_jobs.values())

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "jobs": self.jobs}

    def __str__(self) -> str:
        lines = [f"build-model plan: {self.region} (sky fraction {self.sky_fraction:.4g}), "
                 f"surveys {', '.join(self.surveys)}"]
        for k in self.labels:
            lines.append(f"  labels {k}: ~{self.label_rows[k]:,.0f} rows in {self.label_jobs[k]} job(s)")
        for s in self.surveys:
            lines.append(f"  join {s}: ~{self.upload_ids[s]:,.0f} ids uploaded in "
                         f"{self.join_jobs[s]} job(s) (half of them: astrometry for PASTEL)")
        lines.append(f"  TAP jobs: {self.jobs}; download ~{self.download_mb:,.0f} MB "
                     f"({self.download_hours:.2f} h)")
        return "\n".join(lines)


def plan_build(region: str | None, surveys=("sdss",), labels=("apogee-dr17", "galah-dr3"), *,
               bandwidth_mb_s: float = DEFAULT_BANDWIDTH_MB_S) -> BuildPlan:
    """Estimate a build's rows, jobs and bytes; ``region`` None (or ``"all-sky"``): whole sky."""
    from ..archives.conf import setting
    from ..archives.label_join import UPLOAD_CHUNK_ROWS
    from ..archives.label_source import ALL_SKY_CHUNK_ORDER, get_source

    all_sky = region is None or str(region).strip().lower() in ("all-sky", "all", "allsky")
    if all_sky:
        frac, name = 1.0, "all sky"
    else:
        from ..archives.regions import as_region

        reg = as_region(region, max_radius_deg=180.0)
        frac, name = float(reg.area_deg2) / FULL_SKY_DEG2, reg.describe()
    row_limit = int(setting("row_limit"))
    order = ALL_SKY_CHUNK_ORDER  # label fetches chunk at this order, regions too
    cells = 12 * 4**order * frac
    plan = BuildPlan(region=name, sky_fraction=frac, surveys=tuple(surveys), labels=tuple(labels))
    values = 0.0
    for k in labels:
        get_source(k)
        rows = SURVEY_ROWS[k][0] * frac
        plan.label_rows[k] = rows
        plan.label_jobs[k] = 1 if rows <= row_limit else 1 + max(1, math.ceil(cells))
        values += rows * LABEL_COLUMNS
    for s in surveys:
        ids = T25_LABELLED[s] * UPLOAD_PER_KEPT * frac
        plan.upload_ids[s] = ids
        plan.join_jobs[s] = 2 * max(1, math.ceil(ids / UPLOAD_CHUNK_ROWS))
        values += ids * JOIN_COLUMNS[s]
    plan.download_mb = values * BYTES_PER_VALUE / 1e6
    plan.download_hours = (plan.download_mb / bandwidth_mb_s + plan.jobs * JOB_OVERHEAD_S) / 3600
    return plan


CLUSTER_NODES = 10
"""Nodes of the dask cluster of the plan (the filed request's 10-node cluster)."""
CORES_PER_NODE = 8
"""Cores of one machine and of each cluster node in the plan (the filed request's 8-core machine)."""


@dataclass
class Setup:
    """Wall time of a build on one kind of machine (see the module docstring)."""

    name: str
    cores: int
    training_hours: dict[str, float]
    download_hours: float
    busy_cores: int = 1
    """Cores training at once on average: CPU-hours / wall hours (module docstring)."""
    unit_members: int | None = None
    """Members per fused unit (None: per-network)."""
    tasks: int | None = None
    """Units (fused) or members (per-network) of one survey: the dask tasks."""

    @property
    def total_hours(self) -> float:
        return self.download_hours + sum(self.training_hours.values())

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "total_hours": self.total_hours}


@dataclass
class BuildModelPlan:
    """Download (:class:`BuildPlan`) and training of a build, on three setups."""

    download: BuildPlan
    train_rows: dict[str, float]
    epochs: int
    n_members: int
    rows_per_cpu_second: float
    rate_source: str
    cpu_hours: dict[str, float]
    setups: list[Setup]
    engine: str = "fused"

    def to_dict(self) -> dict[str, Any]:
        return {"download": self.download.to_dict(), "train_rows": self.train_rows,
                "epochs": self.epochs, "n_members": self.n_members,
                "rows_per_cpu_second": self.rows_per_cpu_second, "rate_source": self.rate_source,
                "engine": self.engine,
                "cpu_hours": self.cpu_hours, "setups": [x.to_dict() for x in self.setups]}

    def __str__(self) -> str:
        lines = [str(self.download)]
        for s, rows in self.train_rows.items():
            lines.append(f"  training {s}: ~{rows:,.0f} rows per network x "
                         f"{len(LABELS) * self.n_members} networks x {self.epochs} epochs = "
                         f"{self.cpu_hours[s]:,.1f} CPU-hours")
        lines.append(f"  training rate ({self.engine} engine): {self.rows_per_cpu_second:,.0f} "
                     f"network-rows per CPU-second ({self.rate_source})")
        if self.engine == "fused":
            lines.append("  fused units of k members (3k networks, one thread each at most), "
                         "one dask task per unit:")
            for x in self.setups:
                lines.append(f"    {x.name}: k = {x.unit_members}, {x.tasks} unit(s) per "
                             f"survey, {x.busy_cores} cores busy")
        else:
            lines.append(f"  members as dask tasks, one core each, at most {self.n_members} at "
                         "once; without --scheduler one after another (the CPU-hours bound "
                         "the time)")
        surveys = list(self.train_rows)
        lines.append("  wall time, hours: " + "  ".join(
            ["download".rjust(8)] + [f"train {s}".rjust(15) for s in surveys] + ["total".rjust(8)]))
        for x in self.setups:
            lines.append(f"    {x.name:<36}" + "  ".join(
                [f"{x.download_hours:8.2f}"] + [f"{x.training_hours[s]:15.2f}" for s in surveys]
                + [f"{x.total_hours:8.2f}"]))
        return "\n".join(lines)


def plan_build_model(region: str | None, surveys=("sdss",), labels=("apogee-dr17", "galah-dr3"),
                     *, rows_per_cpu_second: float, rate_source: str = "given",
                     bandwidth_mb_s: float = DEFAULT_BANDWIDTH_MB_S,
                     epochs: int = DEFAULT_REBUILD_EPOCHS, n_members: int = 10,
                     cores_here: int = 1, nodes: int = CLUSTER_NODES,
                     cores_per_node: int = CORES_PER_NODE, engine: str = "fused",
                     unit_members: int | None = None) -> BuildModelPlan:
    """Download and training time of ``sos-vo build-model`` on this machine, one
    ``cores_per_node``-core machine and a ``nodes``-node dask cluster (module docstring).

    ``engine`` is build-model's (``fused`` or ``per-network``) and ``rows_per_cpu_second``
    must be that engine's measured rate; ``unit_members`` fixes k (default: as build-model
    picks it on each setup).
    """
    from ..ml.units import ENGINES, default_unit_members, units_of

    if rows_per_cpu_second <= 0 or epochs < 1 or n_members < 1 or cores_here < 1 or nodes < 1 \
            or cores_per_node < 1 or (unit_members is not None and unit_members < 1):
        raise ValueError("need a positive rate and epochs, members, units, cores, nodes >= 1")
    if engine not in ENGINES:
        raise ValueError(f"engine {engine!r}: expected one of {', '.join(ENGINES)}")
    download = plan_build(region, surveys, labels, bandwidth_mb_s=bandwidth_mb_s)
    networks = len(LABELS) * n_members  # one network per label and member (T25 Sect. 5.1)
    rows = {s: T25_LABELLED[s] * download.sky_fraction * T25_TRAIN_FRACTION for s in surveys}
    cpu = {s: rows[s] * networks * epochs / rows_per_cpu_second / 3600.0 for s in surveys}

    def setup(name: str, cores: int) -> Setup:  # per-network: one-thread dask workers
        busy = min(cores, n_members)
        return Setup(name, cores, {s: cpu[s] / busy for s in surveys}, download.download_hours,
                     busy_cores=busy, tasks=int(n_members))

    def fused_setup(name: str, workers: int, threads: int) -> Setup:
        k = unit_members or default_unit_members(n_members, threads, workers)
        units = units_of(n_members, k)
        # unit u: its share of the CPU time on min(threads, 3 |u|) cores; units dealt to the
        # workers in turn; the survey ends with the busiest worker
        load = [0.0] * min(workers, len(units))
        for i, u in enumerate(units):
            load[i % len(load)] += len(u) / n_members / min(threads, len(LABELS) * len(u))
        per_cpu_hour = max(load)  # wall hours per CPU-hour
        return Setup(name, workers * threads, {s: cpu[s] * per_cpu_hour for s in surveys},
                     download.download_hours, busy_cores=int(round(1.0 / per_cpu_hour)),
                     unit_members=int(k), tasks=len(units))

    if engine == "fused":
        setups = [fused_setup(f"this machine, {cores_here} cores", 1, cores_here),
                  fused_setup(f"one {cores_per_node}-core machine", 1, cores_per_node),
                  fused_setup(f"dask, {nodes} nodes x {cores_per_node} cores", nodes,
                              cores_per_node)]
    else:
        setups = [setup(f"this machine, dask x {cores_here} cores", cores_here),
                  setup(f"one {cores_per_node}-core machine, dask", cores_per_node),
                  setup(f"dask, {nodes} nodes x {cores_per_node} cores", nodes * cores_per_node)]
    return BuildModelPlan(download=download, train_rows=rows, epochs=int(epochs),
                          n_members=int(n_members), rows_per_cpu_second=float(rows_per_cpu_second),
                          rate_source=rate_source, cpu_hours=cpu, setups=setups, engine=engine)
