"""Smoke test of benchmarks.predict_step at a minimal size: it runs, prints and stores its figures."""

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # `pytest` (not `python -m pytest`) does not put the root there
    sys.path.insert(0, str(ROOT))

from benchmarks import predict_step  # noqa: E402


def test_predict_step_main_prints_and_stores(tmp_path, capsys):
    out = tmp_path / "p.json"
    rc = predict_step.main(["--rows", "300", "--repeats", "1", "--members", "1", "--chunks", "128",
                            "--n-stars", "2500", "--json", str(out)])
    assert rc == 0
    text = capsys.readouterr().out
    for what in ("forward_previous", "products_only", "leaky_relu_only", "predict_one_thread",
                 "forward_chunk_128", "of matmul"):
        assert what in text
    res = json.loads(out.read_text())
    assert res["networks"] == 3 and res["rows"] == 300
    assert res["widths"][0] == 80 and max(res["widths"]) == 160
    s = res["summary"]
    assert s["forward"]["cpu_seconds_median"] > 0
    assert set(s) >= {"forward_previous", "products_only", "combine", "forward_chunk_128"}
    # the two passes give the same outputs up to a few float32 ulp
    assert res["outputs_max_abs_difference"] < 1e-5


def test_predict_step_rejects_bad_sizes(capsys):
    assert predict_step.main(["--rows", "0"]) == 2
    assert "--rows" in capsys.readouterr().err
