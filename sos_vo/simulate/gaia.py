"""Synthetic ``gaiadr3.gaia_source``, ``external.gaiaedr3_distance`` and ``external.xgboost_table1``.

The Gaia-like priors (GSP-Phot Teff/log g, Andrae et al. [M/H]) are the truth plus bias and
noise, worse for metal-poor giants, tuned so that their scatter against SoS-like labels is near
the paper's: GSP-Phot vs SoS MAD 165 K / 0.21 dex, Andrae [M/H] vs SoS 0.17 dex (T25 Sect. 4.2).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from astropy import units as u
from astropy.coordinates import BarycentricMeanEcliptic, SkyCoord
from astropy.table import Table

from ..gaia_dr3 import SOURCE_ID_SHIFT, andrae_mh_error, healpix_index
from . import archive_tables as at
from .photometry import (
    GAIA_ZERO_POINTS,
    PARALLAX_ZERO_POINT,
    gaia_mag_error,
    parallax_error,
)

SOLUTION_ID = 1636148068921376768
"""``solution_id`` of Gaia DR3 gaia_source rows (as in real DR3 responses)."""
SOURCE_ID_HEALPIX_FACTOR = 2**SOURCE_ID_SHIFT
"""Gaia source_id = HEALPix level-12 nested index * 2^35 + running number (Gaia DR3 data model,
gaia_source.source_id)."""
HEALPIX_LEVEL = 12

XP_G_LIMIT = 17.65
"""XP spectra (hence Andrae et al. 2023 values) are published for G < 17.65 (Gaia DR3, De Angeli
et al. 2023, Sect. 1)."""
GSPPHOT_G_LIMIT = 19.0
"""GSP-Phot parameters exist for G < 19 (Andrae et al. 2023, A&A 674, A27, Sect. 1)."""
GSPPHOT_MISSING_FRACTION = 0.03
"""Random fraction of stars without GSP-Phot values (*synthetic choice*)."""
RVS_G_LIMIT = 14.0
VBROAD_G_LIMIT = 12.0
"""Radial velocities for G_RVS <= 14, vbroad for G_RVS <= 12 (Katz et al. 2023; Fremat et al. 2023)."""

PRIOR_NOISE = {
    # (sigma_teff as a fraction of Teff, sigma_logg dex, sigma [M/H]_gspphot dex)
    "default": (0.024, 0.17, 0.35),
    "metal_poor_giant": (0.05, 0.45, 0.6),
}
"""GSP-Phot scatter (*synthetic choice*, tuned to the MADs quoted above; ``metal_poor_giant``
= giants with [Fe/H] < -1, for which GSP-Phot is known to do worst, Andrae et al. 2023b)."""
TEFF_EXTINCTION_BIAS = 600.0
"""GSP-Phot Teff bias per mag of E(B-V) (the Teff-A0 degeneracy, Andrae et al. 2023b Sect. 3;
*synthetic* amplitude), K."""
PRIOR_OUTLIER_FRACTION = 0.06
PRIOR_OUTLIER_SCALE = 3.0
"""A fraction of priors with 3x larger errors: heavy tails (*synthetic choice*)."""
REPORTED_SIGMA_FACTOR = 0.5
"""GSP-Phot percentile intervals underestimate the true scatter ~2x (Andrae et al. 2023b,
Sect. 4); the synthetic lower/upper percentiles use half the true sigma."""
ANDRAE_METAL_POOR_SHRINK = 0.25
"""Regression to the mean of XGBoost [M/H] below [Fe/H] = -1 (few training stars there,
Andrae, Rix & Chandra 2023, Sect. 5): bias = 0.25 * (-1 - [Fe/H]) (*synthetic* amplitude)."""
ANDRAE_METAL_POOR_GIANT_NOISE = 2.0
"""Metal-poor giants get 2x the nominal Andrae [M/H] noise (*synthetic choice*)."""


def source_ids(rng: np.random.Generator, ra: np.ndarray, dec: np.ndarray) -> np.ndarray:
    """Unique Gaia-like source_id: HEALPix level-12 nested index * 2^35 + running number."""
    pix = healpix_index(ra, dec, HEALPIX_LEVEL)
    order = np.lexsort((rng.random(len(pix)), pix))
    sorted_pix = pix[order]
    start = np.r_[0, np.flatnonzero(np.diff(sorted_pix)) + 1]
    counts = np.diff(np.r_[start, len(pix)])
    rank = np.arange(len(pix)) - np.repeat(start, counts)
    running = np.empty(len(pix), np.int64)
    running[order] = rank + 1 + rng.integers(0, 1000, len(start)).repeat(counts)
    return pix * SOURCE_ID_HEALPIX_FACTOR + running


def _flux_columns(prefix: str, band: str, mag: np.ndarray, sigma: np.ndarray, n_obs: np.ndarray) -> dict[str, np.ndarray]:
    flux = 10 ** (-0.4 * (mag - GAIA_ZERO_POINTS[band]))
    ferr = flux * sigma / 1.0857
    return {
        f"phot_{prefix}_n_obs": n_obs,
        f"phot_{prefix}_mean_flux": flux,
        f"phot_{prefix}_mean_flux_error": ferr,
        f"phot_{prefix}_mean_flux_over_error": flux / ferr,
        f"phot_{prefix}_mean_mag": mag,
    }


def _priors(rng: np.random.Generator, s: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    n = len(s["teff"])
    mp_giant = (s["logg"] < 3.5) & (s["feh"] < -1.0)
    ft, fg, fm = (np.where(mp_giant, PRIOR_NOISE["metal_poor_giant"][k], PRIOR_NOISE["default"][k]) for k in range(3))
    scale = np.where(rng.random(n) < PRIOR_OUTLIER_FRACTION, PRIOR_OUTLIER_SCALE, 1.0)
    sig_t = ft * s["teff"] * scale
    sig_g = fg * scale
    sig_m = fm * scale
    teff = s["teff"] + TEFF_EXTINCTION_BIAS * s["ebv"] + rng.normal(0, 1, n) * sig_t
    logg = s["logg"] + 0.05 * (s["logg"] < 3.5) + rng.normal(0, 1, n) * sig_g
    logg = np.clip(logg, -0.5, 5.6)
    mh = -0.2 + 0.6 * s["feh"] + rng.normal(0, 1, n) * sig_m
    out = {}
    for name, val, sig in (("teff_gspphot", teff, sig_t), ("logg_gspphot", logg, sig_g), ("mh_gspphot", mh, sig_m)):
        rep = REPORTED_SIGMA_FACTOR * sig * np.exp(rng.normal(0, 0.3, n))
        out[name] = val
        out[f"{name}_lower"] = val - rep * np.abs(1 + 0.2 * rng.normal(0, 1, n))
        out[f"{name}_upper"] = val + rep * np.abs(1 + 0.2 * rng.normal(0, 1, n))
    return out


def gaia_tables(rng: np.random.Generator, s: Mapping[str, np.ndarray], plan: Mapping[str, np.ndarray]) -> dict[str, Table]:
    """Build gaia_source, the Bailer-Jones distances and the Andrae table.

    ``s`` holds per-star truth and apparent magnitudes (keys ``source_id, ra, dec, l, b, teff,
    logg, feh, distance_pc, ebv, pmra, pmdec, app_G, app_BP, app_RP, population``).
    """
    n = len(s["ra"])
    g_true, bp_true, rp_true = s["app_G"], s["app_BP"], s["app_RP"]
    sig = {k: gaia_mag_error(m, k) for k, m in (("G", g_true), ("BP", bp_true), ("RP", rp_true))}
    gmag = g_true + rng.normal(0, 1, n) * sig["G"]
    bp = bp_true + rng.normal(0, 1, n) * sig["BP"]
    rp = rp_true + rng.normal(0, 1, n) * sig["RP"]
    plx_err = parallax_error(gmag) * np.exp(rng.normal(0, 0.1, n))
    plx_noise = rng.normal(0, 1, n)
    parallax = 1000.0 / s["distance_pc"] + PARALLAX_ZERO_POINT + plx_noise * plx_err
    ecl = SkyCoord(ra=s["ra"] * u.deg, dec=s["dec"] * u.deg).transform_to(BarycentricMeanEcliptic())
    n_obs_g = rng.integers(150, 600, n)
    values: dict[str, np.ndarray] = {
        "solution_id": np.full(n, SOLUTION_ID, np.int64),
        "designation": np.char.add("Gaia DR3 ", s["source_id"].astype(str)),
        "source_id": s["source_id"],
        "random_index": rng.permutation(n).astype(np.int64),
        "ref_epoch": np.full(n, 2016.0),
        "ra": s["ra"], "dec": s["dec"],
        "ra_error": 0.8 * plx_err, "dec_error": 0.7 * plx_err,
        "parallax": parallax, "parallax_error": plx_err, "parallax_over_error": parallax / plx_err,
        "pm": np.hypot(s["pmra"], s["pmdec"]),
        "pmra": s["pmra"] + rng.normal(0, 1, n) * 1.1 * plx_err, "pmra_error": 1.1 * plx_err,
        "pmdec": s["pmdec"] + rng.normal(0, 1, n) * plx_err, "pmdec_error": plx_err.copy(),
        "astrometric_params_solved": np.where((gmag > 19) & (rng.random(n) < 0.5), 95, 31),
        "visibility_periods_used": rng.integers(12, 32, n),
        "astrometric_sigma5d_max": 1.5 * plx_err * np.exp(rng.normal(0, 0.15, n)),
        "ipd_frac_multi_peak": np.minimum(rng.poisson(0.3, n), 5),
        "ipd_frac_odd_win": np.minimum(rng.poisson(0.5, n), 5),
        "ruwe": np.exp(rng.normal(0.0, 0.07, n)),
        "duplicated_source": np.zeros(n, bool),
        **_flux_columns("g", "G", gmag, sig["G"], n_obs_g),
        **_flux_columns("bp", "BP", bp, sig["BP"], n_obs_g // 9),
        **_flux_columns("rp", "RP", rp, sig["RP"], n_obs_g // 9),
        "phot_bp_rp_excess_factor": 1.16 + 0.05 * (bp - rp) + np.abs(rng.normal(0, 0.01, n)),
        "bp_rp": bp - rp, "bp_g": bp - gmag, "g_rp": gmag - rp,
        "l": s["l"], "b": s["b"], "ecl_lon": ecl.lon.deg, "ecl_lat": ecl.lat.deg,
        "phot_variable_flag": np.full(n, "NOT_AVAILABLE"),
        "in_qso_candidates": np.zeros(n, bool), "in_galaxy_candidates": np.zeros(n, bool),
        "non_single_star": np.zeros(n, np.int16),
        "has_xp_continuous": gmag < XP_G_LIMIT,
    }
    grvs = rp - 0.05
    rv_ok = grvs <= RVS_G_LIMIT
    vb_ok = grvs <= VBROAD_G_LIMIT
    hot = s["teff"] > 7000
    vbroad = np.where(hot, np.exp(rng.normal(np.log(60.0), 0.6, n)), np.exp(rng.normal(np.log(7.0), 0.4, n)))
    values.update({
        "radial_velocity": rng.normal(0, 45.0, n), "radial_velocity_error": 0.5 + 3 * rng.random(n),
        "vbroad": vbroad, "vbroad_error": 1.0 + 4 * rng.random(n), "grvs_mag": grvs,
    })
    values.update(_priors(rng, s))
    values["distance_gspphot"] = s["distance_pc"] * np.exp(rng.normal(0, 0.15, n))
    values["ag_gspphot"] = np.clip(2.74 * s["ebv"] + rng.normal(0, 0.1, n), 0, None)
    values["ebpminrp_gspphot"] = values["ag_gspphot"] * 0.45
    values["libname_gspphot"] = np.where(values["teff_gspphot"] < 8000, "MARCS", "A")

    masks: dict[str, np.ndarray] = {}
    for k in ("radial_velocity", "radial_velocity_error"):
        masks[k] = ~rv_ok
    for k in ("vbroad", "vbroad_error"):
        masks[k] = ~vb_ok
    masks["grvs_mag"] = ~rv_ok
    no_gsp = (gmag > GSPPHOT_G_LIMIT) | (rng.random(n) < GSPPHOT_MISSING_FRACTION)
    for k in list(values):
        if k.endswith("gspphot") or "gspphot_" in k:
            masks[k] = no_gsp
    _inject_gaia(rng, values, masks, plan)

    gaia = at.build_table(at.GAIA_SOURCE, values, masks)

    # Bailer-Jones: log-normal around the true distance, width = fractional parallax error
    # shrunk by the prior (f / (1 + f)); same deviate as the parallax noise so that r_med_geo
    # and parallax scatter coherently.
    f = plx_err * s["distance_pc"] / 1000.0
    f_eff = f / (1 + f)
    r_geo = s["distance_pc"] * np.exp(-f_eff * plx_noise)
    r_pg = s["distance_pc"] * np.exp(-0.7 * f_eff * plx_noise)
    keep = ~plan["no_distance"]
    dist = at.build_table(at.GAIA_DISTANCE, {
        "source_id": s["source_id"][keep],
        "r_med_geo": r_geo[keep], "r_lo_geo": (r_geo * np.exp(-f_eff))[keep], "r_hi_geo": (r_geo * np.exp(f_eff))[keep],
        "r_med_photogeo": r_pg[keep], "r_lo_photogeo": (r_pg * np.exp(-0.7 * f_eff))[keep],
        "r_hi_photogeo": (r_pg * np.exp(0.7 * f_eff))[keep],
        "flag": np.full(keep.sum(), "10033"),
    })

    # Andrae et al. (2023): stars with XP spectra
    xp = gmag < XP_G_LIMIT
    mp = s["feh"] < -1.0
    giant = s["logg"] < 3.5
    sig_mh = andrae_mh_error(s["feh"], gmag) * np.where(mp & giant, ANDRAE_METAL_POOR_GIANT_NOISE, 1.0)
    mh = s["feh"] + ANDRAE_METAL_POOR_SHRINK * np.clip(-1.0 - s["feh"], 0, None) + rng.normal(0, 1, n) * sig_mh
    mh = mh + np.where(rng.random(n) < PRIOR_OUTLIER_FRACTION, rng.normal(0, 0.3, n), 0.0)
    andrae = at.build_table(at.ANDRAE, {
        "source_id": s["source_id"][xp],
        "catwise_w1": (rp - 1.2 * (bp - rp) - 0.3)[xp], "catwise_w2": (rp - 1.25 * (bp - rp) - 0.3)[xp],
        "in_training_sample": (rng.random(n) < 0.02)[xp],
        "mh_xgboost": mh[xp],
        "teff_xgboost": (s["teff"] + rng.normal(0, 60.0, n))[xp],
        "logg_xgboost": (s["logg"] + rng.normal(0, 0.1, n))[xp],
    })
    return {at.GAIA_SOURCE: gaia, at.GAIA_DISTANCE: dist, at.ANDRAE: andrae}


def _inject_gaia(rng: np.random.Generator, values: dict[str, np.ndarray], masks: dict[str, np.ndarray],
                 plan: Mapping[str, np.ndarray]) -> None:
    """Overwrite the archive values of the stars chosen to fail each Gaia cut."""
    sel = plan["bp_rp_present"]
    lose_bp = sel & (rng.random(len(sel)) < 0.5)
    lose_rp = sel & ~lose_bp
    for band, lose in (("bp", lose_bp), ("rp", lose_rp)):
        for k in (f"phot_{band}_mean_flux", f"phot_{band}_mean_flux_error",
                  f"phot_{band}_mean_flux_over_error", f"phot_{band}_mean_mag"):
            masks[k] = masks.get(k, np.zeros(len(sel), bool)) | lose
    for k in ("bp_rp", "bp_g", "g_rp", "phot_bp_rp_excess_factor"):
        masks[k] = masks.get(k, np.zeros(len(sel), bool)) | sel
    for cut in ("ipd_frac_multi_peak", "ipd_frac_odd_win"):
        values[cut] = np.where(plan[cut], rng.integers(11, 60, len(sel)), values[cut])
    values["ruwe"] = np.where(plan["ruwe"], rng.uniform(1.5, 5.0, len(sel)), values["ruwe"])
    values["non_single_star"] = np.where(plan["non_single_star"], rng.integers(1, 4, len(sel)), 0)
    values["phot_variable_flag"] = np.where(plan["variable"], "VARIABLE", values["phot_variable_flag"])
    values["in_qso_candidates"] = plan["qso_candidate"].copy()
    values["in_galaxy_candidates"] = plan["galaxy_candidate"].copy()
    vb = plan["vbroad"]
    values["vbroad"] = np.where(vb, rng.uniform(31.0, 120.0, len(sel)), values["vbroad"])
    masks["vbroad"] = masks["vbroad"] & ~vb
    masks["vbroad_error"] = masks["vbroad_error"] & ~vb
    hot = plan["teff_gspphot"]
    new_t = rng.uniform(9100.0, 15000.0, len(sel))
    for suffix, f in (("", 1.0), ("_lower", 0.97), ("_upper", 1.03)):
        values[f"teff_gspphot{suffix}"] = np.where(hot, new_t * f, values[f"teff_gspphot{suffix}"])
    for k in [k for k in masks if "gspphot" in k]:
        masks[k] = masks[k] & ~hot
    values["libname_gspphot"] = np.where(hot, "A", values["libname_gspphot"])
