"""Absolute magnitudes, colours, extinction and photometric noise of the synthetic stars.

The colour-Teff relations are smooth analytic functions of theta = 5040/Teff anchored on the
Sun's SDSS colours; the blue bands carry the metallicity information (line blanketing):
SDSS u-g changes by up to ~0.34 mag per dex of [Fe/H] at fixed g-r near solar metallicity and
saturates below [Fe/H] ~ -2 (:func:`sdss_u_minus_g`, fitted to real SEGUE stars), SkyMapper v-g
by ~0.4 mag per dex, the red bands by a few hundredths.  Apart from the SDSS u-g relation these
are *synthetic* relations with realistic signs and sizes, not fits to synthetic spectra.
"""

from __future__ import annotations

import numpy as np

from .stars import SUN_TEFF

SUN_SDSS_COLOURS = {"u-g": 1.43, "g-r": 0.44, "r-i": 0.11, "i-z": 0.03}
"""Solar colours in the SDSS system (Holmberg, Flynn & Portinari 2006, MNRAS 367, 449, Table 6)."""

THETA_SUN = 5040.0 / SUN_TEFF

EXTINCTION_COEFFICIENTS = {
    "sdss": {"u": 4.239, "g": 3.303, "r": 2.285, "i": 1.698, "z": 1.263},
    "skymapper": {"u": 4.294, "v": 4.026, "g": 2.986, "r": 2.288, "i": 1.588, "z": 1.206},
    "gaia": {"G": 2.740, "BP": 3.374, "RP": 2.035},
}
"""A_band / E(B-V)_SFD.  SDSS: Schlafly & Finkbeiner (2011, ApJ 737, 103) Table 6, R_V = 3.1, the
coefficients of SDSS DR8+ ``extinction_*``.  SkyMapper: Wolf et al. (2018, PASA 35, e010),
Sect. 5 / SkyMapper DR1 documentation (same Schlafly & Finkbeiner approach).  Gaia: Casagrande &
VandenBerg (2018, MNRAS 479, L102), Table 2 (R_G, R_BP, R_RP for E(B-V)_SFD)."""

INTRINSIC_COLOUR_SCATTER = 0.005
"""Star-to-star scatter (mag) added to every colour relation (*synthetic choice*)."""

GAIA_ZERO_POINTS = {"G": 25.6874, "BP": 25.3385, "RP": 24.7479}
"""Gaia DR3 VEGAMAG zero points (Riello et al. 2021, A&A 649, A3, Table 2)."""


def bolometric_correction_v(teff: np.ndarray) -> np.ndarray:
    """BC_V: ~-0.08 at 5800-6300 K, ~-1.1 at 3900 K, ~-0.7 at 9000 K.

    A parabola in theta reproducing the shape of Flower (1996, ApJ 469, 355) Table 6 within
    ~0.2 mag over 3700-11000 K (*synthetic* simplification)."""
    theta = 5040.0 / teff
    return -0.08 - 6.0 * (theta - 0.88) ** 2


UG_CALIBRATION = {
    "zero": 1.409, "gr": 1.567, "gr2": 0.645, "feh": 0.337, "feh2": 0.078, "feh_gr": 0.026,
    "feh_gr2": -1.423, "logg": 0.04,
}
"""Coefficients of the SDSS u-g relation :func:`sdss_u_minus_g`, fitted to real stars: the median
u-g of 27 901 SDSS DR17 SEGUE stars (photoObj colours, SSPP FEH_ADOP; the table of R. Ghosh & S.
Saha, CC-BY-4.0) in bins 0.25 < g-r < 0.75 x -2.5 < [Fe/H] < 0.3, reproduced through the
simulator with :mod:`sos_vo.simulate.realism` (reddened synthetic colours, SSPP-like label noise,
SEGUE's (g-r, [Fe/H]) distribution; fitted on a sky of seed 1, least squares of the bin
differences plus a penalty on the slope ratio, scipy Powell); see docs/benchmarks.md, Sect. 3.  The fit
replaces a linear relation (0.30 mag/dex) that gave ~1.5x the u-g change per dex of [Fe/H]
that the real stars show.  The surface-gravity term is held at 0.04 mag/dex, the size of the
giant-dwarf u-g difference of the SDSS stellar loci at fixed g-i and [Fe/H] (Zhang et al. 2021,
RAA 21, 319, Table 1, against Yuan et al. 2015, ApJ 799, 134, Table 1: 0.03-0.07 mag for
Delta log g ~ 2 at 0.6 < g-i < 0.8); ``zero`` = the solar u-g of :data:`SUN_SDSS_COLOURS` minus a
fitted 0.021 mag."""
UG_GR_RANGE = (0.20, 0.80)
"""g-r range of the calibration (the comparison bins plus a margin); outside it u-g continues
linearly in g-r with the slope at the edge (our choice: no extrapolation of the curvature)."""
UG_FEH_SATURATION = -UG_CALIBRATION["feh"] / (2 * UG_CALIBRATION["feh2"])
"""[Fe/H] (~-2.16) below which u-g no longer changes with [Fe/H]: the vertex of the fitted
parabola.  The blanketing of the u band saturates for very metal-poor stars (photometric
metallicities lose their sensitivity below [Fe/H] ~ -2, Ivezic et al. 2008, ApJ 684, 287,
Sect. 3.2)."""


def sdss_u_minus_g(gr: np.ndarray, feh: np.ndarray, logg: np.ndarray) -> np.ndarray:
    """Intrinsic SDSS u-g of a star of intrinsic g-r, [Fe/H] and log g (:data:`UG_CALIBRATION`).

    ``u-g = zero + gr x + gr2 x^2 + feh f + feh2 f^2 + feh_gr f x + feh_gr2 f x^2 - logg (log g - 4.44)``
    with x = g-r - 0.44 clipped to :data:`UG_GR_RANGE` (linear continuation beyond) and
    f = max([Fe/H], :data:`UG_FEH_SATURATION`).
    """
    c = UG_CALIBRATION
    f = np.maximum(feh, UG_FEH_SATURATION)
    x = np.asarray(gr, float) - SUN_SDSS_COLOURS["g-r"]
    xc = np.clip(x, UG_GR_RANGE[0] - SUN_SDSS_COLOURS["g-r"], UG_GR_RANGE[1] - SUN_SDSS_COLOURS["g-r"])
    base = (c["zero"] + c["gr"] * xc + c["gr2"] * xc**2 + c["feh"] * f + c["feh2"] * f**2
            + c["feh_gr"] * f * xc + c["feh_gr2"] * f * xc**2)
    edge_slope = c["gr"] + 2 * c["gr2"] * xc + c["feh_gr"] * f + 2 * c["feh_gr2"] * f * xc
    return base + edge_slope * (x - xc) - c["logg"] * (logg - 4.44)


def absolute_magnitudes(rng: np.random.Generator, teff: np.ndarray, logg: np.ndarray,
                        feh: np.ndarray, mbol: np.ndarray) -> dict[str, np.ndarray]:
    """Absolute magnitudes in every band: Gaia G, BP, RP; SDSS u..z; SkyMapper u, v, g..z.

    Keys: ``G, BP, RP, sdss_u .. sdss_z, sm_u .. sm_z``.
    """
    n = len(teff)

    def jitter() -> np.ndarray:
        return rng.normal(0.0, INTRINSIC_COLOUR_SCATTER, n)

    theta = 5040.0 / teff
    dlogg = logg - 4.44
    # g-r: linear in theta through the solar colour, slightly redder for metal-rich stars
    gr = SUN_SDSS_COLOURS["g-r"] + 1.9 * (theta - THETA_SUN) + 0.03 * feh + jitter()
    gr = np.clip(gr, -0.6, 1.7)
    cool = np.clip(theta - 1.15, 0, None)  # M dwarfs get much redder in r-i
    ri = SUN_SDSS_COLOURS["r-i"] + 0.42 * (gr - 0.44) + 2.0 * cool**1.5 + jitter()
    iz = SUN_SDSS_COLOURS["i-z"] + 0.55 * (ri - 0.11) + jitter()
    ug = sdss_u_minus_g(gr, feh, logg) + jitter()
    vmag = mbol - bolometric_correction_v(teff)
    g = vmag + 0.59 * gr + 0.01  # V = g - 0.59 (g-r) - 0.01 (Jester et al. 2005, AJ 130, 873, Table 1)
    r = g - gr
    i = r - ri
    z = i - iz
    uu = g + ug
    # Gaia: BP-RP from g-r (synthetic linear relation, BP-RP = 0.82 for the Sun),
    # G-V from Riello et al. (2021) Table C.2 polynomial in BP-RP
    bprp = 0.29 + 1.2 * gr + 0.2 * np.clip(gr - 1.0, 0, None) + jitter()
    gv = -0.02704 + 0.01424 * bprp - 0.2156 * bprp**2 + 0.01426 * bprp**3
    gmag = vmag + gv
    grp = 0.03 + 0.53 * bprp
    rp = gmag - grp
    bp = rp + bprp
    # SkyMapper: g, r, i, z from SDSS with small colour terms (synthetic; the SkyMapper g and r
    # filters differ from SDSS, Bessell et al. 2011, PASP 123, 789); v and u carry [Fe/H] and log g
    sm_g = g - 0.05 - 0.10 * (gr - 0.44)
    sm_r = r - 0.02 * (gr - 0.44)
    sm_i = i - 0.05 * (ri - 0.11)
    sm_z = z
    vg = 0.95 + 1.7 * (gr - 0.44) + 0.40 * feh + 0.05 * feh**2 - 0.03 * dlogg + jitter()
    sm_v = sm_g + vg
    uv = 0.35 + 0.4 * (gr - 0.44) + 0.06 * feh + 0.12 * dlogg + jitter()
    sm_u = sm_v + uv
    return {
        "G": gmag, "BP": bp, "RP": rp,
        "sdss_u": uu, "sdss_g": g, "sdss_r": r, "sdss_i": i, "sdss_z": z,
        "sm_u": sm_u, "sm_v": sm_v, "sm_g": sm_g, "sm_r": sm_r, "sm_i": sm_i, "sm_z": sm_z,
    }


def magnitude_error(mag: np.ndarray, limit_5sigma: float, floor: float) -> np.ndarray:
    """Photometric error (mag): background-limited sigma = 1.0857/5 * 10^(0.4 (m - m_5sigma)),
    added in quadrature to a calibration floor.  Grows monotonically with magnitude."""
    return np.sqrt(floor**2 + (0.21714 * 10 ** (0.4 * (mag - limit_5sigma))) ** 2)


SDSS_LIMITS = {"u": 22.0, "g": 22.2, "r": 22.2, "i": 21.3, "z": 20.5}
"""SDSS 95 % completeness limits for point sources (York et al. 2000, AJ 120, 1579), used as
5-sigma depths."""
SDSS_SATURATION = {"u": 13.0, "g": 14.0, "r": 14.0, "i": 14.0, "z": 12.5}
"""Approximate SDSS saturation (York et al. 2000: ~14 mag in g, r, i; ~13 in u, ~12 in z).
Saturated bands are written as SDSS nulls (-9999) in the synthetic table (SDSS itself reports
them with the SATURATED flag): a *synthetic choice* that produces realistic missing bands."""
SDSS_SATURATED_IS_UNCLEAN = True
"""An object saturated in any band gets ``clean = 0``.  SDSS's ``clean`` photometry flag is
unset for objects with saturated pixels (SATURATED among the flags it checks; SDSS DR14
"Recommendation on the Use of Photometric Processing Flags", sdss.org/dr14/algorithms/
photo_flags_recommend), and T25 Sect. 2.2 keeps only ``clean = 1``; so, as in the real SoS
SDSS sample, stars brighter than the saturation limits above do not enter it.  Applying the
rule to *any* band is our simplification of the per-band flags (the brighter u and z limits
make g, r, i decide in practice)."""
SDSS_FLOOR = {"u": 0.02, "g": 0.01, "r": 0.01, "i": 0.01, "z": 0.015}
"""Calibration floors (Padmanabhan et al. 2008: ~1 % in g, r, i, ~2 % in u, z)."""

SKYMAPPER_LIMITS = {"u": 20.5, "v": 20.5, "g": 21.7, "r": 21.5, "i": 20.9, "z": 20.1}
"""Approximate SkyMapper DR2 Main Survey 5-sigma depths (Onken et al. 2019, PASA 36, e033,
Sect. 6: ~20.5 in uv, ~21.5 in gr; rounded)."""
SKYMAPPER_SATURATION = 9.0
"""Shallow Survey bright limit (~9 mag, Wolf et al. 2018); brighter bands are null."""
SKYMAPPER_FLOOR = {"u": 0.01, "v": 0.01, "g": 0.007, "r": 0.007, "i": 0.007, "z": 0.007}
"""Onken et al. (2019): internal reproducibility 1 % in u and v, 0.7 % in g, r, i, z."""
SKYMAPPER_UV_MISSING_FRACTION = 0.15
"""Fraction of SkyMapper DR2 objects without u and v (DR2 uv coverage is incomplete; *synthetic
choice* of the number)."""


def gaia_mag_error(mag: np.ndarray, band: str) -> np.ndarray:
    """Gaia DR3 mean-magnitude uncertainty: ~0.3 mmag (G) / 1 mmag (BP, RP) for bright stars,
    ~6 mmag (G) / 30 mmag (BP, RP) at G = 20 (Riello et al. 2021, Fig. 14, rounded)."""
    if band == "G":
        return np.sqrt(3e-4**2 + (0.006 * 10 ** (0.4 * (mag - 20.0))) ** 2)
    return np.sqrt(1e-3**2 + (0.03 * 10 ** (0.4 * (mag - 20.0))) ** 2)


def parallax_error(gmag: np.ndarray) -> np.ndarray:
    """Gaia DR3 parallax uncertainty vs G: ~0.02 mas at G < 15, ~0.07 mas at G = 17, ~0.5 mas at
    G = 20 (Lindegren et al. 2021, A&A 649, A2, Table 4, rounded)."""
    return 0.015 + 0.03 * 10 ** (0.4 * (np.maximum(gmag, 12.0) - 16.5))


PARALLAX_ZERO_POINT = -0.017
"""Median Gaia EDR3 parallax zero point for quasars (Lindegren et al. 2021, Sect. 5.2), mas."""
