"""Fixtures for the publishing tests: real Debian tools (fitsverify, STILTS, TOPCAT, Aladin, Xvfb).

A test that needs a tool skips when the tool is absent, unless ``SOS_VO_REQUIRE_SERVICES=1``
(set by tools/run_tests.sh in CI), where a missing tool is a failure.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))


from vo_tools import require_tool  # noqa: E402

VOTLINT_NOISE = ("StarTableFactory", "can't register")
"""STILTS start-up lines that are not about the file (STILTS prints them on start-up)."""


@pytest.fixture(scope="session")
def votlint():
    """Run ``stilts votlint`` on a file and return its output lines (it always exits 0)."""
    stilts = require_tool("stilts")

    def run(path) -> list[str]:
        proc = subprocess.run([stilts, "votlint", str(path)], capture_output=True, text=True,
                              timeout=120)
        lines = (proc.stdout + proc.stderr).splitlines()
        return [ln for ln in lines if ln.strip() and not any(n in ln for n in VOTLINT_NOISE)]

    return run


@pytest.fixture(scope="session")
def fitsverify():
    """Run ``fitsverify`` on a file; return (exit status, full report)."""
    exe = require_tool("fitsverify")

    def run(path) -> tuple[int, str]:
        proc = subprocess.run([exe, str(path)], capture_output=True, text=True, timeout=120)
        return proc.returncode, proc.stdout + proc.stderr

    return run


@pytest.fixture(scope="session")
def stilts():
    """Path of the ``stilts`` executable."""
    return require_tool("stilts")
