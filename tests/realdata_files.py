"""Where the tests find the real public tables: ``../shared/realdata`` beside the repository.

The files are never copied into the repository (their origins and licences are listed in the
folder's ``SOURCES.md``).  :func:`realdata` returns the path of one of them; when it is missing the
test is skipped, except where ``SOS_VO_REQUIRE_SERVICES=1`` (CI), where a missing real-data file
is a failure, as a missing service is.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
REALDATA_DIR = Path(os.environ.get("SOS_VO_REALDATA", ROOT.parent / "shared" / "realdata"))


def realdata(name: str) -> Path:
    """Path of ``name`` (relative to the real-data folder); skip (or fail in CI) when absent."""
    path = REALDATA_DIR / name
    if not path.is_file():
        reason = f"real-data file {path} not found"
        if os.environ.get("SOS_VO_REQUIRE_SERVICES") == "1":
            pytest.fail(f"SOS_VO_REQUIRE_SERVICES=1 but {reason}")
        pytest.skip(reason)
    return path
