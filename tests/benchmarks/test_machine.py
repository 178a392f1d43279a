"""The memory figures of the benchmarks are the measuring process's own (``benchmarks.machine``)."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _fresh(code: str) -> list[str]:
    """Run ``code`` in a fresh process (this one's high-water mark may already be far above)."""
    res = subprocess.run([sys.executable, "-c", "import numpy as np\n"
                          "from benchmarks import machine as m\n" + code],
                         cwd=ROOT, capture_output=True, text=True, check=True)
    return res.stdout.split()


def test_own_peak_grows_with_this_process_pages():
    before, after, touched = _fresh("before = m.vm_hwm_mb()\n"
                                    "block = np.ones(64 * 2**20 // 8)\n"  # 64 MB touched
                                    "print(before, m.vm_hwm_mb(), block.sum() > 0)\n")
    if before == "None":
        pytest.skip("no /proc/self/status")
    assert touched == "True" and float(after) >= float(before) + 50


def test_high_water_mark_reset_forgets_a_freed_block():
    """A 64 MB block touched and freed, then the mark reset."""
    high, after, rss, ok = _fresh("block = np.ones(64 * 2**20 // 8); block.sum(); del block\n"
                                  "high = m.vm_hwm_mb()\n"
                                  "ok = m.reset_hwm()\n"
                                  "print(high, m.vm_hwm_mb(), m.vm_rss_mb(), ok)\n")
    if high == "None" or ok == "False":
        pytest.skip("no /proc/self/status or clear_refs")
    assert float(after) < float(high) - 50 and float(after) <= float(rss) + 5
