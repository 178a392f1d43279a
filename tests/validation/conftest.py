"""Fixtures of the validation tests: the local DaCHS TAP mirror of tests/archives.

The mirror fixtures (``dachs_url``, ``fixture_tables``) are defined once in
``tests/archives/conftest.py``; they are loaded from there by path (the test folders are not
packages of one tree) and re-exported here.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
from astropy.table import Table

_spec = importlib.util.spec_from_file_location(
    "_sos_vo_archives_conftest", Path(__file__).resolve().parents[1] / "archives" / "conftest.py")
_archives = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_archives)

dachs_url = _archives.dachs_url
fixture_tables = _archives.fixture_tables
FIXTURE_DIR = _archives.FIXTURE_DIR


@pytest.fixture(scope="session")
def reference_fixtures(dachs_url) -> dict[str, Table]:
    """The VizieR reference rows the mirror serves (VizieR labels), by VizieR table path."""
    manifest = json.loads((FIXTURE_DIR / "manifest.json").read_text())
    if "references" not in manifest:
        _archives._unavailable(f"{FIXTURE_DIR} has no reference fixtures "
                               "(re-run tools/setup_dachs.sh)")
    return {path: Table.read(FIXTURE_DIR / name)
            for path, name in manifest["references"]["files"].items()}
