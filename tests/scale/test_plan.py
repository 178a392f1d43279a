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


def test_rebuild_projection_follows_rows_epochs_and_rate():
    from sos_vo.scale.plan import project_rebuild

    plan = project_rebuild(rows_per_cpu_second=20_000.0, epochs=60, cores_here=2, workers=4,
                           cores_per_worker=8)
    # T25 Sect. 4.2-4.3: 80% of ~300 000 SDSS and ~800 000 SkyMapper labelled stars
    assert plan.surveys == {"sdss": 240_000, "skymapper": 640_000}
    passes = (240_000 + 640_000) * 30 * 60
    assert plan.row_passes == passes
    assert plan.cpu_hours == pytest.approx(passes / 20_000.0 / 3600.0)
    assert plan.wall_hours_here == pytest.approx(plan.cpu_hours / 2)
    assert plan.wall_hours_8_cores == pytest.approx(plan.cpu_hours / 8)
    # 4 workers x 8 cores = 32 cores for 60 networks
    assert plan.wall_hours_cluster == pytest.approx(plan.cpu_hours / 32)
    # more cores than networks do not help (one thread per network at most)
    wide = project_rebuild({"sdss": 1000}, rows_per_cpu_second=1.0, workers=100)
    assert wide.wall_hours_cluster == pytest.approx(wide.cpu_hours / 30)
    with pytest.raises(ValueError):
        project_rebuild(rows_per_cpu_second=0.0)


def test_rate_is_read_from_the_speed_benchmark_json(tmp_path):
    import json

    from sos_vo.scale.plan import throughput_from_json

    path = tmp_path / "speed.json"
    path.write_text(json.dumps({"engine": "numpy", "repeats": 3, "load_average_start": [0.1],
                                "median": {"train_rows_per_cpu_second_per_network": 1234.5}}))
    rate, source = throughput_from_json(path)
    assert rate == 1234.5 and "numpy" in source and "3 run" in source
    path.write_text(json.dumps({"median": {}}))
    with pytest.raises(ValueError, match="rerun"):
        throughput_from_json(path)


def test_plan_build_model_command(capsys, tmp_path):
    import json

    from sos_vo.cli import main

    assert main(["plan", "build-model", "--all-sky", "--rate", "10000", "--workers", "3",
                 "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["surveys"] == {"sdss": 240_000, "skymapper": 640_000}
    assert out["cpu_hours"] == pytest.approx(880_000 * 30 * 60 / 10_000 / 3600)
    assert main(["plan", "build-model", "--all-sky", "--survey", "sdss", "--rate", "10000"]) == 0
    assert "CPU-hours" in capsys.readouterr().out
    # bad input: one line, exit code 2
    assert main(["plan", "build-model", "--rate", "10000"]) == 2
    assert "--all-sky" in capsys.readouterr().err
    assert main(["plan", "build-model", "--all-sky", "--rate-json",
                 str(tmp_path / "missing.json")]) == 2
