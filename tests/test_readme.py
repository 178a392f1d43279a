"""The README is executable documentation: every command of its ``bash`` blocks runs, in order.

Rules (which lines run, and how):

* ``pip install ...`` and ``bash tools/run_tests.sh`` lines are set-up, not usage: skipped;
* ``sos-vo demo`` is the long main job (minutes): skipped here, it has its own tests;
* ``sos-vo train`` lines get ``--members 1 --epochs 30 --blocks 2`` appended so that the chain
  fits in CI time (the README shows the paper's defaults);
* ``sos-vo query`` lines need the real archives: they run against an address where nothing
  listens (``--tap-url http://127.0.0.1:9/tap``) and must fail cleanly (exit code 2, one line,
  no traceback);
* ``sos-vo send`` needs a SAMP hub and TOPCAT: without a hub it must fail cleanly (exit 2);
* ``sos-vo plot`` draws the ML values: on the README's 1-degree sky (~600 stars, ~30 labelled)
  the capped ensemble's predictions may all fail the T25 catalogue filters, and then the plot
  must fail cleanly (exit 2, "no row has finite values"); with ML rows it must exit 0;
* every other command must exit 0.  Each runs in a fresh temporary folder shared by the
  lines, in README order.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
UNREACHABLE_TAP = "http://127.0.0.1:9/tap"
TRAIN_CAP = ["--members", "1", "--epochs", "30", "--blocks", "2"]


def readme_commands() -> list[list[str]]:
    """The ``sos-vo`` command lines of README.md's bash blocks, comments removed."""
    text = README.read_text()
    commands = []
    for block in re.findall(r"```bash\n(.*?)```", text, flags=re.S):
        for line in block.splitlines():
            words = shlex.split(line, comments=True)
            if not words or words[0] != "sos-vo":
                continue  # pip install, bash tools/run_tests.sh
            if "&&" in words:  # "pip install ... && sos-vo demo": not reached (first word)
                continue
            commands.append(words)
    return commands


def test_readme_lists_the_everyday_commands():
    names = [c[1] for c in readme_commands()]
    for name in ("simulate", "train", "predict", "query", "plan", "export", "send", "plot"):
        assert name in names


@pytest.mark.slow
def test_readme_commands_run_in_order(tmp_path, monkeypatch):
    monkeypatch.delenv("SAMP_HUB", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.samp lock file of a running hub
    monkeypatch.delenv("SOS_VO_MODELS_DIR", raising=False)  # installs go to $HOME/.sos-vo/models
    for words in readme_commands():
        command = words[1] if len(words) > 1 else ""
        if command == "demo":
            continue
        argv = [sys.executable, "-m", "sos_vo.cli", *words[1:]]
        expect = {0}
        if command == "train":
            argv += TRAIN_CAP
        elif command == "query":
            argv += ["--tap-url", UNREACHABLE_TAP, "--no-cache"]
            expect = {2}
        elif command == "send":
            expect = {2}
        elif command == "plot" and not _has_ml_rows(tmp_path / "cat.fits"):
            expect = {2}
        proc = subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True, timeout=900)
        shown = " ".join(words)
        assert proc.returncode in expect, f"{shown}: exit {proc.returncode}\n{proc.stderr[-2000:]}"
        assert "Traceback" not in proc.stderr, f"{shown}:\n{proc.stderr[-2000:]}"
        if proc.returncode == 2:
            errors = [line for line in proc.stderr.splitlines() if "error:" in line]
            assert len(errors) == 1, f"{shown}:\n{proc.stderr}"
    assert (tmp_path / "cat.fits").is_file() and (tmp_path / "cds" / "ReadMe").is_file()
    assert (tmp_path / "kiel.png").is_file() == _has_ml_rows(tmp_path / "cat.fits")


def _has_ml_rows(path: Path) -> bool:
    import numpy as np
    from astropy.table import Table

    return path.is_file() and bool(np.isfinite(np.ma.filled(Table.read(path)["ml_teff"],
                                                            np.nan)).any())
