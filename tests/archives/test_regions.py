"""Regions -> ADQL: parsing, checks, and source_id ranges against independent computations."""

import astropy.units as u
import numpy as np
import pytest
from astropy.coordinates import SkyCoord
from astropy_healpix import HEALPix
from regions import CircleSkyRegion, PolygonSkyRegion, RectangleSkyRegion

from sos_vo.archives import regions
from sos_vo.archives.exceptions import RegionError


def test_circle_string_units():
    r = regions.parse_region("circle 56.75 24.12 30arcmin")
    assert isinstance(r, regions.Cone)
    assert (r.ra, r.dec) == (56.75, 24.12)
    assert r.radius == pytest.approx(0.5)
    assert "CIRCLE('ICRS', 56.75, 24.12, 0.5)" in r.adql()


def test_sexagesimal_centre():
    r = regions.parse_region("circle 03h47m00s +24d07m12s 0.5deg")
    assert r.ra == pytest.approx(56.75)
    assert r.dec == pytest.approx(24.12)


@pytest.mark.parametrize("text", ["", "circle 1 2", "triangle 1 2 3", "circle a b c",
                                  "polygon 1 2 3 4", "healpix 5"])
def test_unparsable(text):
    with pytest.raises(RegionError):
        regions.parse_region(text)


@pytest.mark.parametrize("text", ["circle 10 10 0", "box 10 10 0deg 1deg",
                                  "polygon 10 0 11 0 12 0"])
def test_zero_area(text):
    with pytest.raises(RegionError, match="zero area"):
        regions.parse_region(text)


def test_radius_over_max():
    with pytest.raises(RegionError, match="over the maximum"):
        regions.parse_region("circle 10 10 5deg", max_radius_deg=2)


def test_declination_out_of_range():
    with pytest.raises(RegionError, match="90"):
        regions.parse_region("circle 10 95 1")


def test_cone_area_matches_mocpy():
    r = regions.parse_region("circle 40 -30 2")
    # small-cap limit pi r^2 (relative difference ~ r^2/12 = 1e-4 for r = 2 deg)
    assert r.area_deg2 == pytest.approx(np.pi * 2.0**2, rel=1e-3)


def test_polygon_area_small_square():
    # a 1 deg x 1 deg square at the equator is 1 deg^2 to within its curvature (< 1e-4)
    r = regions.parse_region("polygon 10 -0.5 11 -0.5 11 0.5 10 0.5")
    assert r.area_deg2 == pytest.approx(1.0, rel=1e-3)


def test_regions_objects():
    c = SkyCoord(56.75, 24.12, unit="deg")
    assert isinstance(regions.as_region(CircleSkyRegion(c, 0.5 * u.deg)), regions.Cone)
    poly = PolygonSkyRegion(SkyCoord([10, 11, 11], [0, 0, 1], unit="deg"))
    assert isinstance(regions.as_region(poly), regions.Polygon)
    rect = regions.as_region(RectangleSkyRegion(c, 1 * u.deg, 0.5 * u.deg))
    assert isinstance(rect, regions.Polygon)
    # the corners lie 0.5 deg and 0.25 deg from the centre along the axes' offsets
    corners = SkyCoord([v[0] for v in rect.vertices], [v[1] for v in rect.vertices], unit="deg")
    expected = np.hypot(0.5, 0.25)
    assert np.allclose(corners.separation(c).deg, expected, rtol=1e-3)
    assert isinstance(regions.as_region(c, radius=1 * u.arcmin), regions.Cone)


def test_ds9_file(tmp_path):
    f = tmp_path / "r.reg"
    f.write_text("# Region file format: DS9\nicrs\ncircle(56.75,24.12,0.5)\n")
    r = regions.parse_region(str(f))
    assert isinstance(r, regions.Cone) and r.radius == pytest.approx(0.5)


def test_crtf_file(tmp_path):
    f = tmp_path / "r.crtf"
    f.write_text("#CRTFv0\ncircle [[56.75deg, 24.12deg], 0.5deg], coord=ICRS\n")
    r = regions.parse_region(str(f))
    assert isinstance(r, regions.Cone) and r.ra == pytest.approx(56.75)


def test_healpix_source_id_ranges_select_exactly_those_cells():
    rng = np.random.default_rng(3)
    hp12 = HEALPix(2**12, order="nested")
    ra, dec = rng.uniform(40, 60, 5000), rng.uniform(0, 15, 5000)
    pix12 = hp12.lonlat_to_healpix(ra * u.deg, dec * u.deg).astype(np.int64)
    sid = pix12 * 2**35 + rng.integers(0, 2**35, 5000)
    cells = np.unique(HEALPix(2**6, order="nested").lonlat_to_healpix(ra[:5] * u.deg,
                                                                      dec[:5] * u.deg))
    region = regions.from_healpix(6, cells)
    ranges = regions.source_id_ranges(region.moc_)
    inside = np.zeros(len(sid), bool)
    for lo, hi in ranges:
        inside |= (sid >= lo) & (sid <= hi)
    # independent: level-12 pixel -> level-6 parent by dropping 2*6 bits
    expected = np.isin(pix12 >> 12, cells)
    assert inside.sum() > 0
    np.testing.assert_array_equal(inside, expected)


def test_moc_region_not_exact_on_server():
    r = regions.parse_region("moc 6/100-103")
    assert not r.exact_on_server
    assert "source_id BETWEEN" in r.adql()


def test_empty_moc():
    with pytest.raises(RegionError):
        regions.from_healpix(5, [])
