"""Units read back from every format the package writes (astropy parses 'dex' differently
across versions: u.dex, UnrecognizedUnit or a deci-prefixed unit; sos_vo.io restores it)."""

from __future__ import annotations

import astropy.units as u
import numpy as np
import pytest
from astropy.table import Table

from sos_vo.api import simulate
from sos_vo.prepare.columns import float_values
from sos_vo.publish.writers import read_table, write_table
from sos_vo.simulate.sky import read_synthetic_sky


def _is_dex(unit) -> bool:
    return unit == u.dex or isinstance(unit, u.DexUnit)


@pytest.fixture(scope="module")
def sky():
    return simulate(center=(180.0, 0.0), radius=0.5, seed=3, n_stars=200)


@pytest.mark.parametrize("fmt", ["votable", "ecsv"])
def test_sky_folder_units(tmp_path, sky, fmt):
    sky.write(tmp_path / "sky", format=fmt)
    back = read_synthetic_sky(tmp_path / "sky")
    spectro = back.tables["sos_spectro.main"]
    for name in ("logg", "feh", "e_logg", "e_feh"):
        assert _is_dex(spectro[name].unit), (name, repr(spectro[name].unit))
    assert spectro["teff"].unit == u.K
    gaia = back.tables["gaiadr3.gaia_source"]
    assert _is_dex(gaia["mh_gspphot"].unit)
    assert gaia["ra"].unit == u.deg
    float_values(spectro, "logg", "dex")  # the check that failed on astropy 8


@pytest.mark.parametrize("fmt, name", [("votable", "t.vot"), ("votable-tabledata", "t.vot"),
                                       ("fits", "t.fits")])
def test_published_table_units(tmp_path, fmt, name):
    t = Table({"teff": np.array([5000.0]), "logg": np.array([4.4]), "feh": np.array([-0.5])})
    t["teff"].unit, t["logg"].unit, t["feh"].unit = u.K, u.dex, u.dex
    path = write_table(t, tmp_path / name, fmt, strict=False)
    back = read_table(path)
    assert back["teff"].unit == u.K
    for col in ("logg", "feh"):
        assert _is_dex(back[col].unit) or back[col].unit.physical_unit != u.dimensionless_unscaled \
            and isinstance(back[col].unit, u.DexUnit), (fmt, col, repr(back[col].unit))
        float_values(back, col, "dex")
