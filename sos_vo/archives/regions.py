"""Sky regions for archive queries, and their ADQL.

A query region is one of

* :class:`Cone` — centre + radius; ADQL ``CONTAINS(POINT, CIRCLE)``, exact on the server;
* :class:`Polygon` — vertices joined by great-circle arcs (ADQL ``POLYGON`` semantics),
  exact on the server.  A ``regions`` RectangleSkyRegion becomes the polygon of its four
  corners (computed in the tangent plane at its centre);
* :class:`MocRegion` — a MOC (``mocpy``), including a list of HEALPix cells.  ADQL has no
  portable MOC geometry, so the server gets the Gaia ``source_id`` ranges of the MOC
  (``source_id // 2**35`` is the level-12 nested HEALPix index, Gaia DR3 documentation,
  gaia_source.source_id), widened by one ring of cells, and the rows are then filtered
  exactly on (ra, dec) with ``MOC.contains_lonlat``.

:func:`as_region` turns anything a user may hold (a ``regions`` sky region, a SkyCoord and
a radius, a MOC, a string, a ds9/CRTF file) into one of these, and checks it: a region that
cannot be parsed, has zero area or is wider than ``conf.max_radius_deg`` raises
:class:`~sos_vo.archives.exceptions.RegionError` before any job is sent.

Command-line strings (angles in degrees unless a unit is given, e.g. ``30arcmin``)::

    circle RA DEC RADIUS                     circle 56.75 24.12 0.5deg
    box RA DEC WIDTH HEIGHT [ANGLE]          box 56.75 24.12 2deg 1deg
    polygon RA1 DEC1 RA2 DEC2 RA3 DEC3 ...
    moc FILE | moc ORDER/IPIX[-IPIX] ...     moc 6/100-120   (mocpy ASCII MOC)
    healpix ORDER IPIX[,IPIX...]             healpix 5 1234,1235   (nested)
    FILE.reg | FILE.crtf | FILE.fits         ds9 / CRTF region file, FITS MOC
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import astropy.units as u
import numpy as np
from astropy.coordinates import Angle, SkyCoord
from mocpy import MOC

from ..gaia_dr3 import MOC_DEPTH, healpix_source_id_range
from ..gaia_dr3 import SOURCE_ID_ORDER as GAIA_SOURCE_ID_ORDER
from ..gaia_dr3 import SOURCE_ID_SHIFT as GAIA_SOURCE_ID_SHIFT  # noqa: F401 - re-exported
from .conf import setting
from .exceptions import RegionError

MOC_MAX_ADQL_RANGES = 64
"""A MOC is degraded (widened) until its source_id ranges fit in this many ADQL BETWEENs."""
FULL_SKY_DEG2 = 4 * math.pi * (180 / math.pi) ** 2


def _angle(text: str | float | u.Quantity, what: str, default_unit=u.deg) -> Angle:
    try:
        if isinstance(text, str):
            try:
                angle = Angle(float(text), default_unit)
            except ValueError:
                angle = Angle(text)
        elif isinstance(text, u.Quantity):
            angle = Angle(text)
        else:
            angle = Angle(float(text), default_unit)
    except (ValueError, u.UnitsError, TypeError, OverflowError) as exc:
        raise RegionError(f"cannot read {what} {text!r} as an angle: {exc}") from None
    if not np.all(np.isfinite(angle.value)):  # nan, inf, or 1e400 (a float overflow)
        raise RegionError(f"{what} {text!r} is not a finite angle")
    return angle


def _check_finite(value: float, what: str) -> None:
    if not np.isfinite(value):
        raise RegionError(f"{what} {value} is not a finite number")


def _check_dec(dec: float, what: str = "declination") -> None:
    if not -90.0 <= dec <= 90.0 or not np.isfinite(dec):
        raise RegionError(f"{what} {dec} deg is outside [-90, 90]")


@dataclass(frozen=True)
class Region:
    """Base class of query regions (see the module docstring)."""

    exact_on_server: bool = field(default=True, init=False)

    def adql(self, ra: str = "ra", dec: str = "dec", source_id: str = "source_id") -> str:
        """ADQL constraint selecting (at least) the rows in the region."""
        raise NotImplementedError

    def contains(self, ra: np.ndarray, dec: np.ndarray) -> np.ndarray:
        """Exact membership of positions (deg); used where the server constraint is wider."""
        raise NotImplementedError

    def moc(self, order: int) -> MOC:
        """A MOC of HEALPix cells at ``order`` covering the region (a superset)."""
        raise NotImplementedError

    @property
    def area_deg2(self) -> float:
        raise NotImplementedError

    def describe(self) -> str:
        raise NotImplementedError


@dataclass(frozen=True)
class Cone(Region):
    """A cone: centre (ICRS, deg) and radius (deg)."""

    ra: float = 0.0
    dec: float = 0.0
    radius: float = 0.0

    def adql(self, ra: str = "ra", dec: str = "dec", source_id: str = "source_id") -> str:
        return (f"1 = CONTAINS(POINT('ICRS', {ra}, {dec}), "
                f"CIRCLE('ICRS', {self.ra!r}, {self.dec!r}, {self.radius!r}))")

    def contains(self, ra, dec):
        sep = SkyCoord(ra, dec, unit="deg").separation(SkyCoord(self.ra, self.dec, unit="deg"))
        return np.asarray(sep.deg <= self.radius)

    def moc(self, order: int) -> MOC:
        m = MOC.from_cone(self.ra * u.deg, self.dec * u.deg, radius=self.radius * u.deg,
                          max_depth=order)
        return m.add_neighbours()

    @property
    def area_deg2(self) -> float:
        return 2 * math.pi * (1 - math.cos(math.radians(self.radius))) * (180 / math.pi) ** 2

    def describe(self) -> str:
        return f"circle {self.ra!r} {self.dec!r} {self.radius!r}deg"


def _unit_vectors(ra: np.ndarray, dec: np.ndarray) -> np.ndarray:
    ra, dec = np.radians(ra), np.radians(dec)
    return np.stack([np.cos(dec) * np.cos(ra), np.cos(dec) * np.sin(ra), np.sin(dec)], axis=-1)


@dataclass(frozen=True)
class Polygon(Region):
    """A spherical polygon: vertices (ICRS, deg) joined by great-circle arcs."""

    vertices: tuple[tuple[float, float], ...] = ()

    def adql(self, ra: str = "ra", dec: str = "dec", source_id: str = "source_id") -> str:
        coords = ", ".join(f"{a!r}, {d!r}" for a, d in self.vertices)
        return f"1 = CONTAINS(POINT('ICRS', {ra}, {dec}), POLYGON('ICRS', {coords}))"

    def contains(self, ra, dec):
        """Membership to within the size of an order-16 HEALPix cell (~3 arcsec).

        Only for client-side checks: the ADQL polygon is exact on the server.
        """
        coords = SkyCoord([v[0] for v in self.vertices], [v[1] for v in self.vertices], unit="deg")
        moc = MOC.from_polygon_skycoord(coords, max_depth=16)
        return np.asarray(moc.contains_lonlat(np.asarray(ra) * u.deg, np.asarray(dec) * u.deg))

    def moc(self, order: int) -> MOC:
        coords = SkyCoord([v[0] for v in self.vertices], [v[1] for v in self.vertices], unit="deg")
        return MOC.from_polygon_skycoord(coords, max_depth=order).add_neighbours()

    @property
    def area_deg2(self) -> float:
        """Spherical excess of the polygon (fan triangulation from the first vertex)."""
        v = _unit_vectors(np.array([p[0] for p in self.vertices]),
                          np.array([p[1] for p in self.vertices]))
        total = 0.0
        for i in range(1, len(v) - 1):
            a, b, c = v[0], v[i], v[i + 1]
            num = np.dot(a, np.cross(b, c))
            den = 1 + np.dot(a, b) + np.dot(b, c) + np.dot(c, a)
            total += 2 * math.atan2(num, den)
        area = abs(total)
        return min(area, 4 * math.pi - area) * (180 / math.pi) ** 2

    @property
    def bounding_radius(self) -> float:
        """Largest distance (deg) from the vertex mean to a vertex."""
        v = _unit_vectors(np.array([p[0] for p in self.vertices]),
                          np.array([p[1] for p in self.vertices]))
        centre = v.mean(axis=0)
        centre /= np.linalg.norm(centre)
        return float(np.degrees(np.arccos(np.clip(v @ centre, -1, 1))).max())

    def describe(self) -> str:
        return "polygon " + " ".join(f"{a!r} {d!r}" for a, d in self.vertices)


def _widened(moc: MOC) -> MOC:
    """``moc`` plus one ring of neighbour cells, as a new MOC (mocpy's add_neighbours works
    in place)."""
    copy = MOC.from_depth29_ranges(moc.max_order, np.asarray(moc.to_depth29_ranges))
    return copy.add_neighbours()


def source_id_ranges(moc: MOC) -> list[tuple[int, int]]:
    """Inclusive Gaia source_id ranges of the sources whose level-12 HEALPix cell is in ``moc``."""
    if moc.max_order > GAIA_SOURCE_ID_ORDER:
        moc = moc.degrade_to_order(GAIA_SOURCE_ID_ORDER)
    shift = 2 * (MOC_DEPTH - GAIA_SOURCE_ID_ORDER)
    out = []
    for lo, hi in np.asarray(moc.to_depth29_ranges, dtype=np.uint64):
        first, last = int(lo) >> shift, (int(hi) >> shift) - 1  # level-12 cells, inclusive
        out.append((healpix_source_id_range(GAIA_SOURCE_ID_ORDER, first)[0],
                    healpix_source_id_range(GAIA_SOURCE_ID_ORDER, last)[1]))
    return out


def source_id_adql(moc: MOC, column: str = "source_id") -> str:
    """ADQL selecting the Gaia sources of ``moc`` by source_id (one BETWEEN per range)."""
    ranges = source_id_ranges(moc)
    if not ranges:
        return "1 = 0"
    parts = [f"{column} BETWEEN {lo} AND {hi}" for lo, hi in ranges]
    return parts[0] if len(parts) == 1 else "(" + " OR ".join(parts) + ")"


@dataclass(frozen=True)
class MocRegion(Region):
    """A MOC region; the server gets source_id ranges, rows are filtered on (ra, dec)."""

    moc_: MOC | None = None
    exact_on_server: bool = field(default=False, init=False)

    def server_moc(self) -> MOC:
        """The MOC sent to the server: widened by one ring and degraded to few ranges."""
        moc = self.moc_
        if moc.max_order > GAIA_SOURCE_ID_ORDER:
            moc = moc.degrade_to_order(GAIA_SOURCE_ID_ORDER)
        moc = _widened(moc)  # sources whose source_id cell differs from their position's
        order = moc.max_order
        while len(moc.to_depth29_ranges) > MOC_MAX_ADQL_RANGES and order > 0:
            order -= 1
            moc = moc.degrade_to_order(order)
        return moc

    def adql(self, ra: str = "ra", dec: str = "dec", source_id: str = "source_id") -> str:
        return source_id_adql(self.server_moc(), source_id)

    def contains(self, ra, dec):
        return np.asarray(self.moc_.contains_lonlat(np.asarray(ra) * u.deg,
                                                    np.asarray(dec) * u.deg))

    def moc(self, order: int) -> MOC:
        m = self.moc_
        m = m.degrade_to_order(order) if m.max_order > order else m
        return _widened(m)

    @property
    def area_deg2(self) -> float:
        return self.moc_.sky_fraction * FULL_SKY_DEG2

    def describe(self) -> str:
        return f"moc {self.moc_.to_string(format='ascii').strip()}"


# --------------------------------------------------------------------------------------
# Building and checking regions
# --------------------------------------------------------------------------------------
def _check(region: Region, max_radius_deg: float | None) -> Region:
    max_radius = float(setting("max_radius_deg", max_radius_deg))
    if isinstance(region, Cone):
        _check_finite(region.ra, "cone centre RA")
        _check_dec(region.dec, "cone centre declination")
        _check_finite(region.radius, "cone radius")
        if not region.radius > 0:
            raise RegionError(f"cone radius {region.radius} deg: a region must have a "
                              "non-zero area")
        if region.radius > max_radius:
            raise RegionError(f"cone radius {region.radius} deg is over the maximum "
                              f"{max_radius} deg (conf.max_radius_deg / --max-radius)")
    elif isinstance(region, Polygon):
        if len(region.vertices) < 3:
            raise RegionError(f"a polygon needs at least 3 vertices, got {len(region.vertices)}")
        for ra, dec in region.vertices:
            _check_finite(ra, "polygon vertex RA")
            _check_dec(dec, "polygon vertex declination")
        if not region.area_deg2 > 1e-12:
            raise RegionError(f"polygon {region.describe()} has zero area")
        if region.bounding_radius > max_radius:
            raise RegionError(f"polygon extends {region.bounding_radius:.3g} deg from its centre, "
                              f"over the maximum {max_radius} deg (conf.max_radius_deg)")
    elif isinstance(region, MocRegion):
        if region.moc_ is None or region.moc_.empty():
            raise RegionError("the MOC is empty: a region must have a non-zero area")
    return region


def cone(center: SkyCoord, radius: u.Quantity | float, max_radius_deg: float | None = None) -> Cone:
    """A :class:`Cone` from a SkyCoord (any frame) and a radius (Quantity or deg)."""
    c = center.icrs
    r = _angle(radius, "radius").deg
    return _check(Cone(ra=float(c.ra.deg), dec=float(c.dec.deg), radius=float(r)),
                  max_radius_deg)


def polygon(vertices: SkyCoord | Sequence[tuple[float, float]],
            max_radius_deg: float | None = None) -> Polygon:
    """A :class:`Polygon` from a SkyCoord array or (ra, dec) pairs in deg."""
    if isinstance(vertices, SkyCoord):
        v = vertices.icrs
        pairs = tuple((float(a), float(d)) for a, d in zip(v.ra.deg, v.dec.deg, strict=True))
    else:
        pairs = tuple((float(a) % 360.0, float(d)) for a, d in vertices)
    return _check(Polygon(vertices=pairs), max_radius_deg)


def rectangle_corners(center: SkyCoord, width: Angle, height: Angle,
                      angle: Angle | None = None) -> SkyCoord:
    """Corners of a sky rectangle, offsets taken in the tangent plane at ``center``.

    ``angle`` rotates the rectangle anti-clockwise from the longitude axis (``regions``'
    convention for RectangleSkyRegion).
    """
    theta = 0.0 if angle is None else Angle(angle).rad
    hw, hh = width.deg / 2, height.deg / 2
    corners = [(-hw, -hh), (hw, -hh), (hw, hh), (-hw, hh)]
    c, s = math.cos(theta), math.sin(theta)
    rot = [(x * c - y * s, x * s + y * c) for x, y in corners]
    # offsets along +lon are East, i.e. towards increasing RA
    pts = [center.spherical_offsets_by(x * u.deg, y * u.deg) for x, y in rot]
    return SkyCoord([p.ra for p in pts], [p.dec for p in pts], frame=center.frame)


def from_regions(region, max_radius_deg: float | None = None) -> Region:
    """A query region from an ``astropy-regions`` sky region."""
    from regions import CircleSkyRegion, PolygonSkyRegion, RectangleSkyRegion, Regions, SkyRegion

    if isinstance(region, Regions):
        if len(region) != 1:
            raise RegionError(f"expected one sky region, got {len(region)}; query them one by one")
        region = region[0]
    if not isinstance(region, SkyRegion):
        raise RegionError(f"{type(region).__name__} is not a sky region (pixel regions need a "
                          "WCS; convert with region.to_sky(wcs))")
    if isinstance(region, CircleSkyRegion):
        return cone(region.center, region.radius, max_radius_deg)
    if isinstance(region, PolygonSkyRegion):
        return polygon(region.vertices, max_radius_deg)
    if isinstance(region, RectangleSkyRegion):
        if not (region.width.value > 0 and region.height.value > 0):
            raise RegionError(f"rectangle {region.width} x {region.height} has zero area")
        corners = rectangle_corners(region.center.icrs, Angle(region.width),
                                    Angle(region.height), Angle(region.angle))
        return polygon(corners, max_radius_deg)
    raise RegionError(f"{type(region).__name__} is not supported: use a circle, rectangle, "
                      "polygon, MOC or HEALPix cells")


def from_moc(moc: MOC) -> MocRegion:
    """A :class:`MocRegion` (checked non-empty)."""
    return _check(MocRegion(moc_=moc), None)


def from_healpix(order: int, ipix: Sequence[int]) -> MocRegion:
    """A MOC region from nested HEALPix cells at ``order``."""
    order = int(order)
    if not 0 <= order <= 29:
        raise RegionError(f"HEALPix order {order} outside 0..29")
    ipix = [int(i) for i in ipix]
    if any(i < 0 for i in ipix):
        raise RegionError(f"HEALPix index {min(ipix)} is negative")
    npix = 12 * 4**order
    if any(i >= npix for i in ipix):
        raise RegionError(f"HEALPix index {max(ipix)} outside 0..{npix - 1} at order {order}")
    if not ipix:
        raise RegionError("no HEALPix cells given: a region must have a non-zero area")
    ipix = np.asarray(ipix, dtype=np.uint64)
    return from_moc(MOC.from_healpix_cells(ipix, np.full(ipix.shape, order, dtype=np.uint8),
                                           max_depth=order))


def _read_file(path: Path, max_radius_deg: float | None) -> Region:
    suffix = path.suffix.lower()
    if suffix in (".fits", ".fit", ".json"):
        try:
            moc = (MOC.from_fits(str(path)) if suffix != ".json"
                   else MOC.load(str(path), format="json"))
        except Exception as exc:  # mocpy/astropy raise several error types on a bad file
            raise RegionError(f"cannot read MOC file {path}: {' '.join(str(exc).split())}") from None
        return from_moc(moc)
    from regions import Regions

    fmt = "crtf" if suffix == ".crtf" else "ds9"
    try:
        regs = Regions.read(str(path), format=fmt)
    except Exception as exc:  # regions raises several parser errors
        raise RegionError(f"cannot read region file {path} as {fmt}: {exc}") from None
    if len(regs) == 0:
        raise RegionError(f"region file {path} holds no region")
    return from_regions(regs, max_radius_deg)


def parse_region(text: str, max_radius_deg: float | None = None) -> Region:
    """Parse a command-line region string or file name (see the module docstring)."""
    text = text.strip()
    if not text:
        raise RegionError("empty region string")
    if os.path.exists(text):
        return _read_file(Path(text), max_radius_deg)
    words = text.replace(",", " ").split()
    if not words:
        raise RegionError(f"cannot parse region {text!r}: no shape given")
    kind, args = words[0].lower(), words[1:]
    try:
        if kind in ("circle", "cone"):
            if len(args) != 3:
                raise RegionError(f"'circle' takes RA DEC RADIUS, got {len(args)} values in {text!r}")
            center = SkyCoord(_angle(args[0], "RA"), _angle(args[1], "Dec"), frame="icrs")
            return cone(center, _angle(args[2], "radius"), max_radius_deg)
        if kind in ("box", "rectangle"):
            if len(args) not in (4, 5):
                raise RegionError(f"'{kind}' takes RA DEC WIDTH HEIGHT [ANGLE], got {text!r}")
            center = SkyCoord(_angle(args[0], "RA"), _angle(args[1], "Dec"), frame="icrs")
            w, h = _angle(args[2], "width"), _angle(args[3], "height")
            if not (w.deg > 0 and h.deg > 0):
                raise RegionError(f"{kind} {w.deg} x {h.deg} deg has zero area")
            ang = _angle(args[4], "angle") if len(args) == 5 else None
            return polygon(rectangle_corners(center, w, h, ang), max_radius_deg)
        if kind == "polygon":
            if len(args) < 6 or len(args) % 2:
                raise RegionError(f"'polygon' takes at least 3 RA DEC pairs, got {text!r}")
            pairs = [(_angle(args[i], "RA").deg, _angle(args[i + 1], "Dec").deg)
                     for i in range(0, len(args), 2)]
            return polygon(pairs, max_radius_deg)
        if kind == "healpix":
            if len(args) < 2:
                raise RegionError(f"'healpix' takes ORDER IPIX[,IPIX...], got {text!r}")
            return from_healpix(int(args[0]), [int(a) for a in args[1:]])
        if kind == "moc":
            rest = text.split(None, 1)[1] if len(words) > 1 else ""
            if os.path.exists(rest.strip()):
                return _read_file(Path(rest.strip()), max_radius_deg)
            try:
                moc = MOC.from_str(rest)
            except Exception as exc:  # mocpy's parser raises its own error types
                raise RegionError(f"cannot parse MOC {rest.strip()!r} (expected ASCII MOC "
                                  f"'ORDER/IPIX[-IPIX] ...'): {' '.join(str(exc).split())}") from None
            return from_moc(moc)
    except RegionError:
        raise
    except (ValueError, TypeError, OverflowError) as exc:
        raise RegionError(f"cannot parse region {text!r}: {exc}") from None
    # last resort: a ds9 region string, e.g. "icrs; circle(56.75, 24.12, 0.5d)"
    from regions import Regions

    try:
        regs = Regions.parse(text, format="ds9")
    except Exception:
        regs = []
    if len(regs):
        return from_regions(regs, max_radius_deg)
    raise RegionError(f"cannot parse region {text!r}: expected 'circle RA DEC RADIUS', "
                      "'box RA DEC W H', 'polygon RA1 DEC1 ...', 'moc ...', 'healpix ORDER IPIX', "
                      "or a .reg/.crtf/.fits file")


def as_region(region, radius=None, max_radius_deg: float | None = None) -> Region:
    """Anything region-like -> a checked :class:`Region`.

    Accepts a :class:`Region`, a string or path (:func:`parse_region`), a SkyCoord with
    ``radius``, a ``regions`` sky region, a ``mocpy.MOC``.
    """
    if isinstance(region, Region):
        return _check(region, max_radius_deg)
    if isinstance(region, SkyCoord):
        if radius is None:
            raise RegionError("a SkyCoord needs a radius to be a region")
        return cone(region, radius, max_radius_deg)
    if isinstance(region, MOC):
        return from_moc(region)
    if isinstance(region, os.PathLike):
        return _read_file(Path(region), max_radius_deg)
    if isinstance(region, str):
        return parse_region(region, max_radius_deg)
    return from_regions(region, max_radius_deg)
