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


def test_build_model_plan_adds_training_on_three_setups():
    from sos_vo.scale.build_plan import plan_build_model
    from sos_vo.scale.plan import T25_TRAIN_FRACTION

    p = plan_build_model("all-sky", ("sdss", "skymapper"), ("apogee-dr17",),
                         rows_per_cpu_second=1000.0, epochs=20, n_members=10, cores_here=2,
                         nodes=10, cores_per_node=8, engine="per-network")
    rows = T25_LABELLED["skymapper"] * T25_TRAIN_FRACTION
    assert p.train_rows["skymapper"] == pytest.approx(rows)
    cpu = rows * 30 * 20 / 1000.0 / 3600
    assert p.cpu_hours["skymapper"] == pytest.approx(cpu)
    here, eight, cluster = p.setups
    assert here.training_hours["skymapper"] == pytest.approx(cpu / 2)
    assert eight.training_hours["skymapper"] == pytest.approx(cpu / 8)
    # one dask task per member: at most 10 run at once, whatever the 80 cores
    assert cluster.training_hours["skymapper"] == pytest.approx(cpu / 10)
    for x in p.setups:
        assert x.download_hours == p.download.download_hours
        assert x.total_hours == pytest.approx(x.download_hours + sum(x.training_hours.values()))
    text = str(p)
    assert "dask, 10 nodes x 8 cores" in text and "one 8-core machine, dask" in text
    assert p.to_dict()["setups"][2]["total_hours"] == pytest.approx(cluster.total_hours)
    with pytest.raises(ValueError):
        plan_build_model(None, rows_per_cpu_second=0.0)


def test_plan_commands_print_the_build_plan(capsys, tmp_path):
    import json

    from sos_vo.cli import main

    assert main(["plan", "all-sky", "--build-model", "surveys", "--survey", "both",
                 "--rate", "5000", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["rows_per_cpu_second"] == 5000.0 and len(out["setups"]) == 3
    assert out["download"]["jobs"] > 0
    assert main(["plan", "build-model", "--all-sky", "--rate", "5000", "--nodes", "4",
                 "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["cpu_hours"] > 0 and out["build_model"]["setups"][2]["name"].startswith("dask, 4 nodes")
    assert out["build_model"]["engine"] == "fused"
    assert main(["plan", "build-model", "--all-sky", "--rate", "5000", "--engine", "per-network",
                 "--unit-members", "3", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["build_model"]["engine"] == "per-network"
    assert main(["plan", "all-sky", "--build-model", "surveys", "--rate", "5000",
                 "--unit-members", "5", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["setups"][2]["unit_members"] == 5
    try:
        rc = main(["plan", "build-model", "--all-sky", "--rate", "5000", "--nodes", "0"])
    except SystemExit as exc:
        rc = exc.code
    assert rc == 2 and "--nodes" in capsys.readouterr().err


def test_fused_build_plan_runs_units_of_k_members():
    from sos_vo.scale.build_plan import plan_build_model

    kw = dict(rows_per_cpu_second=1000.0, epochs=20, n_members=10, cores_here=2, nodes=10,
              cores_per_node=8)
    p = plan_build_model("all-sky", ("sdss",), ("apogee-dr17",), **kw)
    assert p.engine == "fused" and "fused engine" in str(p)
    cpu = p.cpu_hours["sdss"]
    here, eight, cluster = p.setups
    # 2 cores: k = 2, five units of 6 networks, each on both cores
    assert (here.unit_members, here.tasks) == (2, 5)
    assert here.training_hours["sdss"] == pytest.approx(cpu / 2)
    # one 8-core machine: k = 8; units of 8 members (8 cores) and 2 members (6 networks, 6 cores)
    assert (eight.unit_members, eight.tasks) == (8, 2)
    assert eight.training_hours["sdss"] == pytest.approx(cpu * (0.8 / 8 + 0.2 / 6))
    # 10 workers: k = 1, one unit per worker, 3 networks on 3 of its 8 cores
    assert (cluster.unit_members, cluster.tasks) == (1, 10)
    assert cluster.training_hours["sdss"] == pytest.approx(cpu / 30)
    assert cluster.busy_cores == 30
    five = plan_build_model("all-sky", ("sdss",), ("apogee-dr17",), unit_members=5, **kw).setups[2]
    assert five.tasks == 2 and five.training_hours["sdss"] == pytest.approx(cpu / 16)
    with pytest.raises(ValueError):
        plan_build_model(None, engine="graph", **kw)
    with pytest.raises(ValueError):
        plan_build_model(None, unit_members=0, **kw)
