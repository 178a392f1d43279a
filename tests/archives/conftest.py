"""Fixtures of the archive tests: the local DaCHS TAP mirror and its fixture tables.

* Tests marked ``dachs`` use :func:`dachs_url`; it skips when the server started by
  ``tools/setup_dachs.sh`` is not answering, unless ``SOS_VO_REQUIRE_SERVICES=1`` (CI), where a
  missing server is a failure.
* Tests marked ``remote_data`` need the real archives; they are skipped unless
  ``SOS_VO_REMOTE_DATA=1`` (astroquery's convention, as an environment variable because a
  sub-folder conftest cannot add command-line options).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import requests
from astropy.table import Table

DACHS_TAP_URL = os.environ.get("SOS_VO_DACHS_URL", "http://127.0.0.1:8080/tap")
ROOT = Path(__file__).resolve().parents[2]
FIXTURE_DIR = Path(os.environ.get("SOS_VO_DACHS_FIXTURES", ROOT / "build" / "dachs"))


@pytest.fixture(autouse=True)
def _remote_data_gate(request):
    if request.node.get_closest_marker("remote_data") and \
            os.environ.get("SOS_VO_REMOTE_DATA") != "1":
        pytest.skip("needs the real archives (set SOS_VO_REMOTE_DATA=1)")


def _unavailable(reason: str):
    if os.environ.get("SOS_VO_REQUIRE_SERVICES") == "1":
        pytest.fail(f"SOS_VO_REQUIRE_SERVICES=1 but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def dachs_url() -> str:
    """URL of the local DaCHS TAP mirror (skip/fail when it is not running)."""
    try:
        r = requests.get(DACHS_TAP_URL + "/capabilities", timeout=10)
    except requests.RequestException as exc:
        _unavailable(f"no DaCHS TAP server at {DACHS_TAP_URL} (run tools/setup_dachs.sh): {exc}")
    if r.status_code != 200:
        _unavailable(f"DaCHS at {DACHS_TAP_URL} answered HTTP {r.status_code}")
    if not (FIXTURE_DIR / "manifest.json").exists():
        _unavailable(f"no fixture manifest in {FIXTURE_DIR} (run tools/setup_dachs.sh)")
    return DACHS_TAP_URL


@pytest.fixture(scope="session")
def fixture_tables(dachs_url) -> dict[str, Table]:
    """The rows the mirror serves, read from the files setup_dachs.sh imported."""
    manifest = json.loads((FIXTURE_DIR / "manifest.json").read_text())
    return {key: Table.read(FIXTURE_DIR / "fixture" / f"{key}.ecsv")
            for key in manifest["tables"]}


@pytest.fixture
def fast_client_kwargs() -> dict:
    """TapClient settings that keep failing tests fast."""
    return {"retries": 2, "backoff": 0.01, "timeout": 60}
