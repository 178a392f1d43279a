"""Smoke test of benchmarks.predict_step at a minimal size: it runs, prints and stores its figures."""

import json
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]

from benchmarks import predict_step  # noqa: E402


def test_predict_step_main_prints_and_stores(tmp_path, capsys):
    out = tmp_path / "p.json"
    rc = predict_step.main(["--rows", "300", "--runs", "2", "--repeats", "1", "--members", "1",
                            "--chunks", "128", "--stacked-chunk", "64", "--n-stars", "2500",
                            "--json", str(out)])
    assert rc == 0
    text = capsys.readouterr().out
    for what in ("forward_previous", "products_only", "leaky_relu_only", "predict_one_thread",
                 "forward_chunk_128", "forward_stacked", "of matmul", "run 2/2"):
        assert what in text
    res = json.loads(out.read_text())
    assert res["networks"] == 3 and res["rows"] == 300
    assert res["widths"][0] == 80 and max(res["widths"]) == 160
    s = res["summary"]
    assert s["forward"]["cpu_seconds_median"] > 0
    assert set(s) >= {"forward_previous", "products_only", "combine", "forward_chunk_128",
                      "forward_stacked"}
    # two runs, each with its own reference; the summary is their median
    assert len(res["runs_detail"]) == 2 and len(s["forward"]["fraction_of_matmul_per_run"]) == 2
    per_run = [run["summary"]["forward"]["cpu_seconds_median"] for run in res["runs_detail"]]
    assert s["forward"]["cpu_seconds_median"] == sum(per_run) / 2
    assert res["environment"]["versions"]["numpy"] == np.__version__
    assert 0 <= res["forward_runs_at_target"] <= 2
    # the batched reference path computes the same outputs
    assert res["stacked_max_abs_difference"] < 1e-4
    # the two passes give the same outputs up to a few float32 ulp
    assert res["outputs_max_abs_difference"] < 1e-5


def test_predict_step_rejects_bad_sizes(capsys):
    assert predict_step.main(["--rows", "0"]) == 2
    assert "--rows" in capsys.readouterr().err
    assert predict_step.main(["--runs", "0"]) == 2
    assert "--runs" in capsys.readouterr().err
