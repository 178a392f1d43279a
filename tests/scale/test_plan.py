"""Run planning: the density model integrates to Gaia DR3, rows scale with area, jobs follow
the chunking rules."""

from __future__ import annotations

import argparse

import numpy as np
import pytest

from sos_vo.scale.plan import (
    FULL_SKY_DEG2,
    GAIA_DR3_N_SOURCES,
    SIGMA_POLE_DEG2,
    plan_region,
    source_density,
)


def test_whole_sky_gives_all_gaia_dr3_sources():
    p = plan_region("healpix 0 " + " ".join(str(i) for i in range(12)))
    assert p.area_deg2 == pytest.approx(FULL_SKY_DEG2, rel=1e-6)
    assert p.gaia_rows == pytest.approx(GAIA_DR3_N_SOURCES, rel=1e-3)


def test_density_falls_from_plane_to_pole():
    d = source_density(np.array([0.0, 10.0, 30.0, 90.0, -90.0]))
    assert d[0] > d[1] > d[2] > d[3] == pytest.approx(d[4])
    assert d[3] == pytest.approx(SIGMA_POLE_DEG2, rel=0.01)


def test_rows_scale_with_area_and_latitude():
    ngp = (192.86, 27.13)  # north galactic pole, ICRS
    small = plan_region(f"circle {ngp[0]} {ngp[1]} 1")
    big = plan_region(f"circle {ngp[0]} {ngp[1]} 2")
    assert big.gaia_rows / small.gaia_rows == pytest.approx(4.0, rel=0.1)
    assert small.gaia_rows == pytest.approx(small.area_deg2 * SIGMA_POLE_DEG2, rel=0.1)
    centre = plan_region("circle 266.4 -28.9 1")  # galactic centre
    assert centre.gaia_rows > 30 * small.gaia_rows


def test_jobs_follow_the_row_limit_and_area_rules():
    from sos_vo.archives.conf import setting

    small = plan_region("circle 192.86 27.13 1")
    assert small.tap_jobs == 1
    big = plan_region("circle 266.4 -28.9 3")
    assert big.tap_jobs >= np.ceil(big.gaia_rows / int(setting("row_limit")))
    assert big.download_mb > small.download_mb > 0
    fast = plan_region("circle 266.4 -28.9 3", workers=4)
    assert fast.predict_hours == pytest.approx(big.predict_hours / 4)


def test_plan_command_prints_json(capsys):
    import json

    from sos_vo.commands import plan as cmd

    parser = argparse.ArgumentParser()
    cmd.add_arguments(parser)
    assert cmd.run(parser.parse_args(["circle 180 0 2", "--json", "--survey", "skymapper"])) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["survey"] == "skymapper" and out["gaia_rows"] > 0 and out["tap_jobs"] >= 1
