"""True stellar parameters, positions, distances and extinction of the synthetic stars.

Everything here is a deliberately simple, vectorised model meant to give the network something
learnable with the right physical dependences, not a Galaxy model.  Every number is either cited
or marked *synthetic choice*.
"""

from __future__ import annotations

import numpy as np
from astropy import units as u
from astropy.coordinates import SkyCoord

POPULATIONS: tuple[str, ...] = (
    "thin_disc_dwarf", "thick_disc_dwarf", "subgiant", "giant",
    "metal_poor_halo_dwarf", "metal_poor_halo_giant", "hot_star",
)

POPULATION_FRACTIONS = {
    "thin_disc_dwarf": 0.45, "thick_disc_dwarf": 0.15, "subgiant": 0.08, "giant": 0.16,
    "metal_poor_halo_dwarf": 0.07, "metal_poor_halo_giant": 0.06, "hot_star": 0.03,
}
"""Fractions in the final (magnitude-limited) sample.  *Synthetic choice*, loosely like a
high-latitude G < 20 field; halo stars are over-represented so that metal-poor stars, which the
paper treats specially (T25 Sect. 3, PASTEL augmentation), are numerous enough to test."""

FEH_DISTRIBUTION = {  # (mean, sigma, min, max) of [Fe/H]
    "thin_disc": (-0.10, 0.22, -1.0, 0.5),
    "thick_disc": (-0.55, 0.25, -1.5, 0.1),
    "halo": (-1.60, 0.50, -3.5, -0.8),
}
"""Metallicity distributions: thin disc ~-0.1 +- 0.2, thick disc ~-0.5 +- 0.25, halo ~-1.6 +- 0.5
(Bland-Hawthorn & Gerhard 2016, ARA&A 54, 529, Sects. 5-6, rounded)."""

SCALE_HEIGHT_PC = {"thin_disc": 300.0, "thick_disc": 900.0}
SCALE_LENGTH_PC = {"thin_disc": 2600.0, "thick_disc": 2000.0}
"""Disc scale heights and lengths (Bland-Hawthorn & Gerhard 2016, Table 2 / Sect. 5, rounded)."""

HALO_DENSITY_SLOPE = 3.5
"""Stellar halo density ~ r^-3.5 (Bland-Hawthorn & Gerhard 2016, Sect. 6); we apply it to the
heliocentric distance (a simplification)."""

HALO_DISTANCE_RANGE_PC = (200.0, 60000.0)
DUST_SCALE_HEIGHT_PC = 125.0
"""Dust layer scale height (Drimmel & Spergel 2001, ApJ 556, 181: ~134 pc; rounded)."""

EBV_POLE = 0.03
"""E(B-V) towards the Galactic poles scaled by cosec|b| (a cosecant law; the SFD map gives a few
hundredths at high latitude, Schlegel et al. 1998).  *Synthetic choice* of the normalisation."""

EBV_PATCHINESS = 0.25
"""Log-normal scatter of E(B-V)_SFD around the cosecant law (*synthetic choice*)."""

SUN_TEFF = 5772.0
"""Nominal solar effective temperature (IAU 2015 Resolution B3)."""
SUN_LOGG = 4.438
"""Nominal solar log g (IAU 2015 Resolution B3)."""
SUN_MBOL = 4.74
"""Nominal solar absolute bolometric magnitude (IAU 2015 Resolution B2)."""

TANGENTIAL_VELOCITY_KMS = {"thin_disc": 35.0, "thick_disc": 80.0, "halo": 220.0}
"""Typical tangential velocities relative to the Sun (*synthetic choice*, order of magnitude of
the velocity dispersions of the three components)."""
KAPPA = 4.740470446
"""km/s per (mas/yr x kpc)."""


def component(population: np.ndarray) -> np.ndarray:
    """Galactic component (thin_disc, thick_disc, halo) of each population label."""
    out = np.full(population.shape, "thin_disc", dtype="<U10")
    out[population == "thick_disc_dwarf"] = "thick_disc"
    out[np.char.startswith(population.astype(str), "metal_poor_halo")] = "halo"
    return out


def sample_populations(rng: np.random.Generator, n: int) -> np.ndarray:
    """Population label of ``n`` stars drawn with :data:`POPULATION_FRACTIONS`."""
    names = np.array(POPULATIONS)
    p = np.array([POPULATION_FRACTIONS[k] for k in POPULATIONS])
    return names[rng.choice(len(names), size=n, p=p / p.sum())]


def _truncnorm(rng: np.random.Generator, mean: float, sigma: float, lo: float, hi: float, n: int) -> np.ndarray:
    x = rng.normal(mean, sigma, n)
    bad = (x < lo) | (x > hi)
    while bad.any():
        x[bad] = rng.normal(mean, sigma, bad.sum())
        bad = (x < lo) | (x > hi)
    return x


def main_sequence_logg(teff: np.ndarray, feh: np.ndarray) -> np.ndarray:
    """log g of a main-sequence star: 4.44 at the Sun, rising to ~4.75 for M dwarfs and
    falling to ~4.25 for F stars; metal-poor dwarfs are slightly more compact at a given Teff.
    *Synthetic* linear fit to the shape of solar-metallicity isochrones (e.g. PARSEC)."""
    return SUN_LOGG + 1.5e-4 * (SUN_TEFF - teff) + 0.04 * np.clip(-feh, 0.0, None)


def giant_teff(logg: np.ndarray, feh: np.ndarray) -> np.ndarray:
    """Red-giant-branch Teff: cooler up the branch and hotter at low metallicity.

    ~+280 K per dex of log g and ~-180 K per dex of [Fe/H]: a *synthetic* linear description of
    the RGB of PARSEC/MIST isochrones between [Fe/H] = -2.5 and +0.3."""
    return 4650.0 + 280.0 * (logg - 2.5) - 180.0 * feh


def stellar_parameters(rng: np.random.Generator, population: np.ndarray) -> dict[str, np.ndarray]:
    """Draw true Teff, log g, [Fe/H] and mass for each star according to its population."""
    n = len(population)
    teff = np.empty(n)
    logg = np.empty(n)
    feh = np.empty(n)
    mass = np.empty(n)
    comp = component(population)
    for name, (m, s, lo, hi) in FEH_DISTRIBUTION.items():
        sel = comp == name
        feh[sel] = _truncnorm(rng, m, s, lo, hi, sel.sum())

    def pick(name: str) -> np.ndarray:
        return np.flatnonzero(population == name)

    # dwarfs: Teff ranges (M to F dwarfs; old populations stop at their turn-off, ~6300-6500 K)
    for name, (lo, hi) in {"thin_disc_dwarf": (3600.0, 7000.0), "thick_disc_dwarf": (4000.0, 6400.0),
                           "metal_poor_halo_dwarf": (4500.0, 6600.0)}.items():
        idx = pick(name)
        teff[idx] = lo + (hi - lo) * rng.beta(1.6, 1.6, idx.size)
        logg[idx] = main_sequence_logg(teff[idx], feh[idx]) + rng.normal(0, 0.06, idx.size)
        mass[idx] = (teff[idx] / SUN_TEFF) ** 1.6 * 10 ** (0.1 * np.clip(feh[idx], None, 0))
    idx = pick("subgiant")
    teff[idx] = rng.uniform(4900.0, 6300.0, idx.size)
    logg[idx] = rng.uniform(3.4, 4.1, idx.size)
    mass[idx] = rng.uniform(0.9, 1.5, idx.size)
    for name, lo in {"giant": 0.9, "metal_poor_halo_giant": 0.6}.items():
        idx = pick(name)
        logg[idx] = rng.uniform(lo, 3.5, idx.size)
        if name == "giant":  # 35 % red clump at log g ~ 2.45, Teff ~ 4700 K (synthetic choice)
            clump = rng.random(idx.size) < 0.35
            logg[idx[clump]] = rng.normal(2.45, 0.08, clump.sum())
        teff[idx] = giant_teff(logg[idx], feh[idx]) + rng.normal(0, 60.0, idx.size)
        mass[idx] = rng.uniform(1.0, 1.8, idx.size) if name == "giant" else rng.uniform(0.75, 0.9, idx.size)
    idx = pick("hot_star")
    teff[idx] = np.exp(rng.uniform(np.log(7000.0), np.log(11500.0), idx.size))
    logg[idx] = rng.uniform(3.7, 4.3, idx.size)
    mass[idx] = (teff[idx] / SUN_TEFF) ** 1.6
    return {"teff": teff, "logg": logg, "feh": feh, "mass": mass}


def bolometric_magnitude(teff: np.ndarray, logg: np.ndarray, mass: np.ndarray) -> np.ndarray:
    """M_bol from L = R^2 Teff^4 with R^2 = G M / g (all in solar units): the link between
    log g and absolute magnitude that lets the network infer log g from the distance."""
    radius2 = mass * 10 ** (SUN_LOGG - logg)
    lum = radius2 * (teff / SUN_TEFF) ** 4
    return SUN_MBOL - 2.5 * np.log10(lum)


def uniform_cone(rng: np.random.Generator, center: SkyCoord, radius_deg: float, n: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` positions uniformly distributed on the sphere inside the cone (ICRS degrees).

    Draws cos(theta) uniformly in [cos r, 1] around the pole and rotates to ``center``.  The
    opening angle is shrunk by 1e-9 relative so that round-off never puts a star outside.
    """
    rmax = np.deg2rad(radius_deg) * (1 - 1e-9)
    cos_t = rng.uniform(np.cos(rmax), 1.0, n)
    theta = np.arccos(np.clip(cos_t, -1, 1))
    phi = rng.uniform(0, 2 * np.pi, n)
    # position relative to the pole, then rotate the pole onto the centre
    x, y, z = np.sin(theta) * np.cos(phi), np.sin(theta) * np.sin(phi), np.cos(theta)
    ra0 = np.deg2rad(center.icrs.ra.deg)
    dec0 = np.deg2rad(center.icrs.dec.deg)
    # rotation about y by (90 deg - dec0), then about z by ra0
    t = np.pi / 2 - dec0
    x1 = x * np.cos(t) + z * np.sin(t)
    z1 = -x * np.sin(t) + z * np.cos(t)
    x2 = x1 * np.cos(ra0) - y * np.sin(ra0)
    y2 = x1 * np.sin(ra0) + y * np.cos(ra0)
    ra = np.rad2deg(np.arctan2(y2, x2)) % 360.0
    dec = np.rad2deg(np.arcsin(np.clip(z1, -1, 1)))
    return ra, dec


def galactic(ra: np.ndarray, dec: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Galactic (l, b) in degrees of ICRS positions."""
    g = SkyCoord(ra=ra * u.deg, dec=dec * u.deg, frame="icrs").galactic
    return g.l.deg, g.b.deg


def sample_distances(rng: np.random.Generator, comp: np.ndarray, b_deg: np.ndarray) -> np.ndarray:
    """Heliocentric distances (pc) drawn from each component's density along the line of sight.

    Discs: density exp(-|z|/h_z - R/h_R) approximated along the line of sight by exp(-d/s) with
    1/s = |sin b|/h_z + |cos b|/h_R, times the d^2 volume element: a Gamma(3, s) distribution.
    Halo: d^2 * d^-3.5 = d^-1.5 between :data:`HALO_DISTANCE_RANGE_PC` (inverse CDF).
    """
    d = np.empty(len(comp))
    sinb = np.abs(np.sin(np.deg2rad(b_deg)))
    cosb = np.abs(np.cos(np.deg2rad(b_deg)))
    for name in ("thin_disc", "thick_disc"):
        sel = comp == name
        s = 1.0 / (sinb[sel] / SCALE_HEIGHT_PC[name] + cosb[sel] / SCALE_LENGTH_PC[name])
        d[sel] = rng.gamma(3.0, s)
    sel = comp == "halo"
    a = 3.0 - HALO_DENSITY_SLOPE  # exponent of d in the CDF
    lo, hi = HALO_DISTANCE_RANGE_PC
    uu = rng.random(sel.sum())
    d[sel] = (lo**a + uu * (hi**a - lo**a)) ** (1 / a)
    return np.clip(d, 5.0, None)


def sfd_reddening(rng: np.random.Generator, b_deg: np.ndarray) -> np.ndarray:
    """Total line-of-sight E(B-V) as an SFD-like map would give it: cosecant law with patchiness."""
    sinb = np.maximum(np.abs(np.sin(np.deg2rad(b_deg))), 0.02)
    return EBV_POLE / sinb * np.exp(rng.normal(0, EBV_PATCHINESS, len(b_deg)))


def star_reddening(ebv_sfd: np.ndarray, distance_pc: np.ndarray, b_deg: np.ndarray) -> np.ndarray:
    """E(B-V) in front of a star: the fraction of the dust column within its distance."""
    sinb = np.maximum(np.abs(np.sin(np.deg2rad(b_deg))), 0.02)
    return ebv_sfd * (1 - np.exp(-distance_pc * sinb / DUST_SCALE_HEIGHT_PC))


def proper_motions(rng: np.random.Generator, comp: np.ndarray, distance_pc: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """pmra, pmdec (mas/yr) from a random tangential velocity of the component's typical size."""
    v = np.array([TANGENTIAL_VELOCITY_KMS[c] for c in ("thin_disc", "thick_disc", "halo")])
    idx = np.select([comp == "thin_disc", comp == "thick_disc"], [0, 1], 2)
    vt = np.abs(rng.normal(0, 1, len(comp))) * v[idx]
    pm = vt / (KAPPA * distance_pc / 1000.0)
    ang = rng.uniform(0, 2 * np.pi, len(comp))
    return pm * np.sin(ang), pm * np.cos(ang)
