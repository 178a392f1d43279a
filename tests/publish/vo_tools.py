"""Finding the real VO tools of the publishing tests (a module with a unique name, importable
from the tests; ``from conftest import`` would depend on which folder's conftest came first)."""

from __future__ import annotations

import os
import shutil

import pytest


def require_tool(name: str) -> str:
    """Path of executable ``name``; skip (or fail in CI) when it is not installed."""
    path = shutil.which(name)
    if path is None:
        msg = f"{name} is not installed (tools/setup_vo_tools.sh installs it)"
        if os.environ.get("SOS_VO_REQUIRE_SERVICES") == "1":
            pytest.fail(msg)
        pytest.skip(msg)
    return path
