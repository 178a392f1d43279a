"""Machine reference figures taken in the same run as a benchmark.

Speed targets are ratios to the float32 matrix-multiply throughput of the same machine, measured
here with numpy's BLAS on square matrices, so that they mean the same on a laptop and a server.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np


def matmul_gflops(n: int = 2048, repeats: int = 5, seed: int = 0) -> float:
    """Best-of-``repeats`` float32 GEMM throughput (GFLOP/s) of an ``n x n`` by ``n x n`` product."""
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    a @ b  # warm-up: thread pool start, page faults
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - t0)
    return 2.0 * n**3 / best / 1e9


def matmul_gflops_cpu(n: int = 1024, repeats: int = 5, seed: int = 0) -> float:
    """Best-of-``repeats`` float32 GEMM throughput of ONE thread, in GFLOP per CPU-second.

    Timed with the process's CPU clock, so a busy machine (other processes taking the core)
    changes it much less than the wall-clock figure of :func:`matmul_gflops`.
    """
    from threadpoolctl import threadpool_limits

    rng = np.random.default_rng(seed)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    with threadpool_limits(limits=1, user_api="blas"):
        a @ b
        best = float("inf")
        for _ in range(repeats):
            t0 = time.process_time()
            a @ b
            best = min(best, time.process_time() - t0)
    return 2.0 * n**3 / max(best, 1e-9) / 1e9


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, in MB (Linux reports kB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _proc_status_mb(field: str) -> float | None:
    """A ``/proc/self/status`` memory field of this process (``VmHWM``, ``VmRSS``), MB; None
    off Linux."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024.0
    except OSError:  # pragma: no cover - not Linux
        return None
    return None


def vm_hwm_mb() -> float | None:
    """This process's OWN peak resident set (``VmHWM``), MB; None off Linux.

    Unlike ``getrusage(RUSAGE_CHILDREN)``, it does not carry a large parent's mark through
    ``exec``, so a measuring child reports its own peak."""
    return _proc_status_mb("VmHWM")


def vm_rss_mb() -> float | None:
    """This process's resident set now (``VmRSS``), MB; None off Linux."""
    return _proc_status_mb("VmRSS")


def reset_hwm() -> bool:
    """Reset this process's ``VmHWM`` to its resident set now (Linux >= 4.0: ``5`` written to
    ``/proc/self/clear_refs``); False where that is not possible."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def run_measuring_child(cmd: Sequence[str], **kwargs) -> dict | None:
    """Run a benchmark's measuring child process (``subprocess.run`` keyword arguments pass
    through); its last line on stdout is its JSON result, to which the load averages at its
    start and end are added.  None, with the end of its stderr printed, if it failed."""
    load = list(os.getloadavg())
    out = subprocess.run(list(cmd), capture_output=True, text=True, **kwargs)
    if out.returncode:
        print(out.stderr[-3000:], file=sys.stderr)
        return None
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["load_average_start"], result["load_average_end"] = load, list(os.getloadavg())
    return result


def write_json(path: Path, payload: dict) -> None:
    """Write a benchmark's results (after every run: a long series killed midway keeps what it
    measured)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=1) + "\n")


if __name__ == "__main__":  # pragma: no cover
    print(f"float32 matmul: {matmul_gflops():.1f} GFLOP/s; peak RSS {peak_rss_mb():.0f} MB")
