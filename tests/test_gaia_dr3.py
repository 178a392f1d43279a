"""Gaia DR3 source_id <-> HEALPix helpers, checked against astropy-healpix and mocpy."""

from __future__ import annotations

import astropy.units as u
import numpy as np
import pytest
from astropy_healpix import HEALPix
from mocpy import MOC

from sos_vo import gaia_dr3


def test_source_id_encodes_the_healpix_of_the_position():
    rng = np.random.default_rng(4)
    ra, dec = rng.uniform(0, 360, 500), np.degrees(np.arcsin(rng.uniform(-1, 1, 500)))
    pix12 = HEALPix(nside=4096, order="nested").lonlat_to_healpix(ra * u.deg, dec * u.deg)
    source_id = pix12.astype(np.int64) * 2**35 + rng.integers(0, 2**35, 500)
    np.testing.assert_array_equal(gaia_dr3.source_id_to_healpix(source_id), pix12)
    np.testing.assert_array_equal(gaia_dr3.healpix_index(ra, dec), pix12)
    for order in (0, 3, 7):
        expected = HEALPix(nside=2**order, order="nested").lonlat_to_healpix(ra * u.deg,
                                                                             dec * u.deg)
        np.testing.assert_array_equal(gaia_dr3.source_id_to_healpix(source_id, order), expected)
        np.testing.assert_array_equal(gaia_dr3.healpix_index(ra, dec, order), expected)


def test_source_id_range_of_a_cell():
    lo, hi = gaia_dr3.healpix_source_id_range(12, 5)
    assert (lo, hi) == (5 * 2**35, 6 * 2**35 - 1)
    lo, hi = gaia_dr3.healpix_source_id_range(3, 2)
    assert gaia_dr3.source_id_to_healpix([lo, hi], 3).tolist() == [2, 2]
    assert gaia_dr3.source_id_to_healpix([lo - 1, hi + 1], 3).tolist() == [1, 3]
    with pytest.raises(ValueError, match="0..12"):
        gaia_dr3.source_id_shift(13)


def test_moc_cells_match_mocpy():
    moc = MOC.from_cone(lon=40 * u.deg, lat=-30 * u.deg, radius=2 * u.deg, max_depth=6)
    np.testing.assert_array_equal(gaia_dr3.moc_cells(moc, 6), np.sort(moc.flatten()))
    # at a coarser order every touched parent cell is listed once
    parents = np.unique(np.asarray(moc.flatten()) // 4**2)
    np.testing.assert_array_equal(gaia_dr3.moc_cells(moc, 4), parents)


def test_cell_area_and_centres():
    assert gaia_dr3.healpix_area_deg2(0) == pytest.approx(41252.96 / 12, rel=1e-5)
    lon, lat = gaia_dr3.healpix_centres(1, [0])
    assert gaia_dr3.healpix_index(lon.to_value(u.deg), lat.to_value(u.deg), 1).tolist() == [0]
