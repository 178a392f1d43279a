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

Training time is not estimated here (it is the projection of :mod:`sos_vo.scale.plan`).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

from .plan import BYTES_PER_VALUE, DEFAULT_BANDWIDTH_MB_S, FULL_SKY_DEG2, JOB_OVERHEAD_S

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
                     f"({self.download_hours:.2f} h); training: not estimated here")
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
