"""The join/preparation memory benchmark: both modes prepare the same sample, and the peak it
reports is the child's own, measured from the start of the stages."""

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

from benchmarks import join_memory  # noqa: E402


@pytest.mark.slow
def test_both_modes_prepare_the_same_sample(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)  # the children run `python -m benchmarks.join_memory`
    out = tmp_path / "join.json"
    rc = join_memory.main(["--rows", "12000", "30000", "--json", str(out)])
    assert rc == 0
    res = json.loads(out.read_text())
    runs = {(r["rows"], r["mode"]): r for r in res["results"]}
    assert set(runs) == {(n, m) for n in (12000, 30000) for m in ("stream", "held")}
    for n in (12000, 30000):
        s, h = runs[(n, "stream")], runs[(n, "held")]
        assert s["labelled_after_cuts"] == h["labelled_after_cuts"] > 0
        assert s["after_cuts"] == h["after_cuts"] and s["pastel_pairs"] == h["pastel_pairs"] > 0
        assert s["astrometry_kept"] < h["astrometry_kept"] == n
        assert s["peak_rss_mb"] >= s["start_rss_mb"] > 0
    assert {x["mode"] for x in res["slopes"]} == {"stream", "held"}
