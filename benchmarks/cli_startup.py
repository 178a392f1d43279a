"""Start-up time of ``sos-vo COMMAND --help``: what a user waits for before any work.

Each command's ``--help`` is run ``--repeats`` times in a fresh interpreter; the median wall
time is reported with the load average of the machine (the runs are short, so a busy machine
shows in the figures), and whether any of the heavy libraries was imported.

    python -m benchmarks.cli_startup [--repeats 5] [--json benchmarks/results/cli_startup.json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

HEAVY = ("matplotlib", "mocpy", "astropy.table", "tensorflow", "dask")
"""Libraries a parser must not import (their import takes seconds)."""

_PROBE = ("import sys, json, contextlib, io\n"
          "from sos_vo.cli import main\n"
          "with contextlib.redirect_stdout(io.StringIO()):\n"
          "    try:\n        main([sys.argv[1], '--help'])\n"
          "    except SystemExit:\n        pass\n"
          "print(json.dumps([m for m in json.loads(sys.argv[2]) if m in sys.modules]))\n")


def measure(command: str, repeats: int) -> dict:
    """Median and all wall times (s) of ``sos-vo COMMAND --help``, and the heavy imports."""
    times, heavy = [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        run = subprocess.run([sys.executable, "-c", _PROBE, command, json.dumps(HEAVY)],
                             capture_output=True, text=True, check=True)
        times.append(time.perf_counter() - t0)
        heavy = json.loads(run.stdout.strip().splitlines()[-1])
    return {"median_s": round(statistics.median(times), 3),
            "times_s": [round(t, 3) for t in times], "heavy_imports": heavy}


def main(argv: Sequence[str] | None = None) -> int:
    from sos_vo.commands import COMMAND_MODULES

    parser = argparse.ArgumentParser(prog="python -m benchmarks.cli_startup",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5, help="runs per command (default 5)")
    parser.add_argument("--json", type=Path, default=Path("benchmarks/results/cli_startup.json"),
                        help="where to write the results")
    args = parser.parse_args(argv)
    load_before = os.getloadavg()
    results = {cmd: measure(cmd, args.repeats) for cmd in COMMAND_MODULES}
    record = {"benchmark": "cli_startup", "repeats": args.repeats, "python": sys.version.split()[0],
              "loadavg_before": load_before, "loadavg_after": os.getloadavg(),
              "cpu_count": os.cpu_count(), "commands": results}
    for cmd, r in results.items():
        print(f"sos-vo {cmd} --help: median {r['median_s']:.2f} s over {args.repeats} runs; "
              f"heavy imports: {', '.join(r['heavy_imports']) or 'none'}")
    print(f"load average before/after: {load_before[0]:.1f} / {record['loadavg_after'][0]:.1f}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.json.with_name(args.json.name + ".tmp")
    tmp.write_text(json.dumps(record, indent=1) + "\n")
    tmp.replace(args.json)  # atomic: a killed run leaves the previous results
    print(f"results written to {args.json}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
