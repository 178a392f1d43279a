"""The join/preparation memory benchmark: both modes prepare the same sample, and the peak it
reports is the child's own, measured from the start of the stages."""

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import join_memory  # noqa: E402


def test_high_water_mark_reset_forgets_a_freed_block():
    """In a fresh process: a 64 MB block touched and freed, then the mark reset."""
    import subprocess

    code = ("import numpy as np\n"
            "from benchmarks import join_memory as m\n"
            "block = np.ones(64 * 2**20 // 8); block.sum(); del block\n"
            "high = m.vm_hwm_mb()\n"
            "ok = m.reset_hwm()\n"
            "print(high, m.vm_hwm_mb(), m.vm_rss_mb(), ok)\n")
    res = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         check=True)
    high, after, rss, ok = res.stdout.split()
    if high == "None" or ok == "False":
        pytest.skip("no /proc/self/status or clear_refs")
    assert float(after) < float(high) - 50 and float(after) <= float(rss) + 5


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
