"""``sos-vo predict`` on fields a model does not cover and on damaged input tables (through main)."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from astropy.table import Table

from sos_vo.cli import main


@pytest.fixture(scope="module")
def northern_sky(tmp_path_factory):
    """A small synthetic field around the Pleiades: SDSS rows, no SkyMapper rows."""
    out = tmp_path_factory.mktemp("north") / "sky"
    assert main(["simulate", "--center", "56.75", "24.12", "--radius", "0.3", "--n-stars", "400",
                 "--seed", "2", "--out", str(out), "--format", "ecsv"]) == 0
    return out


def test_skymapper_model_on_a_northern_field_is_a_zero_rows_error(northern_sky, tmp_path, capsys):
    capsys.readouterr()
    out = tmp_path / "cat.fits"
    assert main(["predict", str(northern_sky), "--model", "demo_skymapper", "--out", str(out),
                 "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "skymapper" in err and "0 rows" in err
    assert "IndexError" not in err and not out.exists()


def test_nan_positions_are_one_line_naming_the_column(northern_sky, tmp_path, capsys):
    damaged = tmp_path / "damaged"
    shutil.copytree(northern_sky, damaged)
    path = damaged / "gaiadr3.gaia_source.ecsv"
    gaia = Table.read(path)
    gaia["dec"][[0, 5]] = np.nan
    gaia.write(path, overwrite=True)
    capsys.readouterr()
    out = tmp_path / "cat.fits"
    assert main(["predict", str(damaged), "--model", "demo_sdss", "--out", str(out),
                 "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "column dec" in err and f"2 of {len(gaia)} rows" in err
    assert not out.exists()
