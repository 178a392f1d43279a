"""The DaCHS resource descriptor sos-vo writes for its catalogues."""

import shutil
import subprocess
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import astropy.units as u
import numpy as np
import pytest
from astropy.coordinates import SkyCoord
from astropy.table import Table

from sos_vo.archives.exceptions import ArchiveError
from sos_vo.archives.tap import TapClient
from sos_vo.publish.dachs_rd import write_catalogue_rd, write_rd
from sos_vo.schema import CATALOGUE_COLUMNS

INPUTS = Path("/var/gavo/inputs")
RESOURCE = "sosvo_test_catalogue"


def _catalogue(n=200, seed=5):
    rng = np.random.default_rng(seed)
    t = Table()
    for c in CATALOGUE_COLUMNS:
        if c.dtype == "str":
            t[c.name] = rng.choice(["SDSS", "SM", "SDSS+SM"], n)
        elif c.dtype == "bool":
            t[c.name] = rng.random(n) < 0.5
        elif c.dtype == "int64":
            t[c.name] = np.arange(n, dtype=np.int64) + 10**12
        else:
            t[c.name] = rng.uniform(0, 1, n).astype(c.dtype)
    t["ra"] = rng.uniform(10, 12, n)
    t["dec"] = rng.uniform(-1, 1, n)
    return t


def test_rd_carries_catalogue_metadata(tmp_path):
    rd = write_catalogue_rd(_catalogue(), tmp_path / RESOURCE)
    root = ET.parse(rd).getroot()
    assert root.get("schema") == "sosvo" and root.get("resdir") == RESOURCE
    cols = {c.get("name"): c for c in root.iter("column")}
    assert set(cols) == {c.name for c in CATALOGUE_COLUMNS}
    for c in CATALOGUE_COLUMNS:
        assert cols[c.name].get("ucd") == c.ucd
        assert (cols[c.name].get("unit") or None) == c.unit
        assert c.paper_name in cols[c.name].get("description")
    assert root.find("table").get("primary") == "sosid"
    assert (tmp_path / RESOURCE / "data" / "sos_ml.vot").exists()
    with pytest.raises(FileExistsError):
        write_catalogue_rd(_catalogue(), tmp_path / RESOURCE)


def test_catalogue_with_astropy_units_gets_the_schema_units(tmp_path):
    # a catalogue as the pipeline returns it carries astropy units, dex among them (no VOUnit)
    cat = _catalogue()
    for c in CATALOGUE_COLUMNS:
        if c.unit:
            cat[c.name].unit = u.Unit(c.unit)
    cat["extra"] = cat["ml_logg"]  # a column outside the catalogue schema keeps its own unit
    root = ET.parse(write_catalogue_rd(cat, tmp_path / RESOURCE)).getroot()
    cols = {c.get("name"): c for c in root.iter("column")}
    for c in CATALOGUE_COLUMNS:
        assert (cols[c.name].get("unit") or None) == c.unit
    assert cols["extra"].get("unit") == "dex"


def test_rejects_non_sql_names(tmp_path):
    with pytest.raises(ArchiveError, match="SQL identifier"):
        write_rd(tmp_path / "x", "J/A+A/659", {"t": Table({"a": [1]})}, title="t",
                 description="d")


@pytest.mark.dachs
def test_rd_imported_by_dachs_answers_adql(dachs_url, tmp_path):
    if shutil.which("dachs") is None or not INPUTS.is_dir():
        pytest.skip("dachs command or /var/gavo/inputs missing")
    cat = _catalogue()
    target = INPUTS / RESOURCE
    shutil.rmtree(target, ignore_errors=True)
    write_catalogue_rd(cat, target)
    try:
        subprocess.run(["dachs", "imp", f"{RESOURCE}/q"], check=True, capture_output=True,
                       timeout=120)
        subprocess.run(["dachs", "serve", "reload"], capture_output=True, timeout=60)
        client = TapClient(dachs_url)
        query = ("SELECT sosid, ml_teff FROM sosvo.sos_ml WHERE 1 = CONTAINS(POINT('ICRS', ra, "
                 "dec), CIRCLE('ICRS', 11.0, 0.0, 0.5))")
        for _ in range(20):  # the reload is asynchronous
            try:
                got = client.run(query)
                break
            except Exception:
                time.sleep(0.5)
        else:
            got = client.run(query)
        sep = SkyCoord(cat["ra"], cat["dec"], unit="deg").separation(
            SkyCoord(11.0, 0.0, unit="deg")).deg
        expected = cat[sep <= 0.5]
        assert len(expected) > 5
        assert sorted(got["sosid"]) == sorted(expected["sosid"])
        assert str(got["ml_teff"].unit) == "K"
    finally:
        subprocess.run(["dachs", "drop", f"{RESOURCE}/q"], capture_output=True, timeout=120)
        shutil.rmtree(target, ignore_errors=True)
