"""The streaming memory benchmark reports the measured child's own peak, not inherited pages."""

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

from benchmarks import scale_memory  # noqa: E402


@pytest.mark.slow
def test_scale_memory_main_trains_apart_and_reports_the_childs_own_peak(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)  # the children run `python -m benchmarks.scale_memory`
    out = tmp_path / "mem.json"
    rc = scale_memory.main(["--rows", "3000", "--files", "1", "--n-stars", "2500", "--members",
                            "1", "--n-blocks", "1", "--workdir", str(tmp_path / "w"),
                            "--json", str(out)])
    assert rc == 0
    res = json.loads(out.read_text())
    assert res["rows_in"] == 3000
    assert res["peak_rss_child_mb"] == res["peak_rss_own_mb"] > 0
    assert res["tensorflow_imported"] is False
