"""The build-model plan: rows, jobs and bytes follow the stated rules."""

from __future__ import annotations

import math

import pytest

from sos_vo.archives.label_join import UPLOAD_CHUNK_ROWS
from sos_vo.scale.build_plan import (
    JOIN_COLUMNS,
    LABEL_COLUMNS,
    SURVEY_ROWS,
    T25_LABELLED,
    UPLOAD_PER_KEPT,
    plan_build,
)
from sos_vo.scale.plan import BYTES_PER_VALUE, JOB_OVERHEAD_S


def test_all_sky_plan_adds_up():
    p = plan_build("all-sky", ("sdss", "skymapper"), ("apogee-dr17", "gaia-eso"), bandwidth_mb_s=10)
    assert p.sky_fraction == 1.0
    assert p.label_rows["apogee-dr17"] == SURVEY_ROWS["apogee-dr17"][0]
    assert p.label_jobs["apogee-dr17"] == 1 + 192  # over the row limit: order-2 cells
    assert p.label_jobs["gaia-eso"] == 1           # fits one job
    ids = T25_LABELLED["skymapper"] * UPLOAD_PER_KEPT
    assert p.join_jobs["skymapper"] == 2 * math.ceil(ids / UPLOAD_CHUNK_ROWS)
    values = (SURVEY_ROWS["apogee-dr17"][0] + SURVEY_ROWS["gaia-eso"][0]) * LABEL_COLUMNS \
        + sum(T25_LABELLED[s] * UPLOAD_PER_KEPT * JOIN_COLUMNS[s] for s in ("sdss", "skymapper"))
    assert p.download_mb == pytest.approx(values * BYTES_PER_VALUE / 1e6)
    assert p.download_hours == pytest.approx((p.download_mb / 10 + p.jobs * JOB_OVERHEAD_S) / 3600)
    assert "TAP jobs" in str(p) and p.to_dict()["jobs"] == p.jobs


def test_region_scales_with_area():
    p = plan_build("circle 180 30 10deg", ("sdss",), ("galah-dr3",))
    assert 0 < p.sky_fraction < 0.01
    assert p.label_rows["galah-dr3"] == pytest.approx(SURVEY_ROWS["galah-dr3"][0] * p.sky_fraction)
    # a 10-degree cone covers (1 - cos 10 deg) / 2 of the sphere
    assert p.sky_fraction == pytest.approx((1 - math.cos(math.radians(10))) / 2, rel=1e-6)
    with pytest.raises(ValueError, match="unknown label source"):
        plan_build(None, ("sdss",), ("nosuch",))
