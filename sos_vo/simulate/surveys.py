"""Synthetic SDSS DR13 and SkyMapper DR2 photometry and their Gaia DR3 best-neighbour tables."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from astropy.table import Table

from . import archive_tables as at
from .photometry import (
    EXTINCTION_COEFFICIENTS,
    SDSS_FLOOR,
    SDSS_LIMITS,
    SDSS_SATURATED_IS_UNCLEAN,
    SDSS_SATURATION,
    SKYMAPPER_FLOOR,
    SKYMAPPER_LIMITS,
    SKYMAPPER_SATURATION,
    SKYMAPPER_UV_MISSING_FRACTION,
    magnitude_error,
)

SDSS_MIN_DEC = -10.0
SKYMAPPER_MAX_DEC = 10.0
"""Survey footprints as declination limits (*synthetic choice*: SDSS is mostly northern,
SkyMapper southern; a cone across the equator has stars in both)."""
SURVEY_DETECTION_FRACTION = 0.97
"""Fraction of Gaia stars in a footprint that have a best neighbour (*synthetic choice*)."""
EXTRA_NEIGHBOUR_FRACTION = 0.03
"""Fraction of matches with a second good neighbour in the survey (number_of_neighbours = 2)
(*synthetic choice*)."""
POSITION_SCATTER_ARCSEC = {"sdss": 0.08, "skymapper": 0.15}
"""Survey-minus-Gaia position scatter per coordinate (SDSS ~0.1", Pier et al. 2003; SkyMapper
DR2 ~0.1-0.2", Onken et al. 2019; rounded)."""
MAG_OUT_OF_RANGE = 25.5
"""Magnitude written for injected out-of-range values (outside the paper's 0-25 window)."""
SDSS_OBJID_BASE = 1237645000000000000
SKYMAPPER_ID_BASE = 100000000
"""Offsets of the synthetic survey identifiers (SDSS objIDs of DR13 start with 1237...)."""


def _noisy(rng: np.random.Generator, mag: np.ndarray, limit: float, floor: float) -> tuple[np.ndarray, np.ndarray]:
    sigma = magnitude_error(mag, limit, floor)
    obs = mag + rng.normal(0, 1, len(mag)) * sigma
    reported = sigma * np.exp(rng.normal(0, 0.05, len(mag)))
    return obs, reported


def _offset(rng: np.random.Generator, ra: np.ndarray, dec: np.ndarray, sigma_arcsec: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    dra = rng.normal(0, sigma_arcsec, len(ra))
    ddec = rng.normal(0, sigma_arcsec, len(ra))
    ra2 = (ra + dra / 3600.0 / np.cos(np.deg2rad(dec))) % 360.0
    dec2 = np.clip(dec + ddec / 3600.0, -90, 90)
    return ra2, dec2, np.hypot(dra, ddec)


def survey_tables(rng: np.random.Generator, survey: str, s: Mapping[str, np.ndarray],
                  plan: Mapping[str, np.ndarray], primary: np.ndarray) -> dict[str, Table]:
    """Photometry and best-neighbour tables of one survey.

    ``primary[i]`` is the index of the star whose survey object star ``i`` shares (``i`` itself
    for ordinary stars; a close Gaia companion points to its primary: number_of_mates = 1).
    """
    n = len(s["ra"])
    dec = s["dec"]
    in_foot = dec > SDSS_MIN_DEC if survey == "sdss" else dec < SKYMAPPER_MAX_DEC
    detected = in_foot & (rng.random(n) < SURVEY_DETECTION_FRACTION)
    # a companion is matched iff its primary is; the primary owns the survey object
    detected = detected[primary]
    owners = np.flatnonzero(detected & (primary == np.arange(n)))
    m = len(owners)
    base = SDSS_OBJID_BASE if survey == "sdss" else SKYMAPPER_ID_BASE
    obj_id = base + rng.permutation(max(3 * m, 1))[:m].astype(np.int64) * 7 + 1
    ra, dec_o, _ = _offset(rng, s["ra"][owners], dec[owners], POSITION_SCATTER_ARCSEC[survey])
    ebv_sfd = s["ebv_sfd"][owners].copy()
    ebv = s["ebv"][owners]
    coeff = EXTINCTION_COEFFICIENTS[survey]
    ag_fail = plan[f"{'sdss' if survey == 'sdss' else 'sm'}_ag"][owners]
    ebv_sfd[ag_fail] = rng.uniform(10.5, 15.0, ag_fail.sum()) / coeff["g"]
    key = "sdss" if survey == "sdss" else "sm"
    values: dict[str, np.ndarray] = {}
    masks: dict[str, np.ndarray] = {}
    two_fail = plan[f"{key}_two_mags"][owners]
    bands = tuple(coeff)
    keep_band = rng.integers(0, len(bands), m)
    uv_missing = rng.random(m) < SKYMAPPER_UV_MISSING_FRACTION
    saturated = np.zeros(m, dtype=bool)
    for k, b in enumerate(bands):
        true = s[f"app_{key}_{b}"][owners] + coeff[b] * ebv
        if survey == "sdss":
            obs, err = _noisy(rng, true, SDSS_LIMITS[b], SDSS_FLOOR[b])
            saturated |= true < SDSS_SATURATION[b]
            missing = (true < SDSS_SATURATION[b]) | (two_fail & (keep_band != k))
            values[f"psfmag_{b}"] = np.where(missing, at.SDSS_NULL, obs)
            values[f"psfmagerr_{b}"] = np.where(missing, at.SDSS_NULL, err)
            values[f"extinction_{b}"] = coeff[b] * ebv_sfd
        else:
            obs, err = _noisy(rng, true, SKYMAPPER_LIMITS[b], SKYMAPPER_FLOOR[b])
            missing = (true < SKYMAPPER_SATURATION) | (true > SKYMAPPER_LIMITS[b] + 0.5)
            if b in ("u", "v"):
                missing |= uv_missing
            missing |= two_fail & (keep_band != k)
            values[f"{b}_psf"], values[f"e_{b}_psf"] = obs, err
            masks[f"{b}_psf"] = masks[f"e_{b}_psf"] = missing
            values[f"{b}_flags"] = np.zeros(m, np.int16)
            values[f"{b}_ngood"] = np.where(missing, 0, rng.integers(2, 9, m))
    if survey == "sdss":
        values.update({
            "objid": obj_id, "ra": ra, "dec": dec_o,
            "type": np.where(plan["sdss_type"][owners], 3, 6),
            "clean": np.where(plan["sdss_clean"][owners]
                              | (saturated & SDSS_SATURATED_IS_UNCLEAN), 0, 1),
        })
    else:
        flags_psf = np.where(plan["sm_flags_psf"][owners], 1 << rng.integers(0, 6, m), 0)
        values.update({
            "object_id": obj_id, "raj2000": ra, "dej2000": dec_o,
            "flags": np.where(plan["sm_flags"][owners], rng.integers(1, 4, m), 0),
            "class_star": np.where(plan["sm_class_star"][owners], rng.uniform(0.02, 0.79, m),
                                   rng.uniform(0.9, 0.99, m)),
            "flags_psf": flags_psf,
            "ebmv_sfd": ebv_sfd,
        })
    name_phot = at.PHOTOMETRY_TABLE[survey]
    id_col = at.PHOTOMETRY_ID[survey]
    ra_col, dec_col = ("ra", "dec") if survey == "sdss" else ("raj2000", "dej2000")

    # second good neighbours: an extra, fainter survey object near some matched stars
    extra = rng.random(m) < EXTRA_NEIGHBOUR_FRACTION
    n_extra = int(extra.sum())
    if n_extra:
        ex_ra, ex_dec, _ = _offset(rng, ra[extra], dec_o[extra], 1.0)
        for c in list(values):
            col = values[c]
            add = col[extra].copy()
            if c == id_col:
                add = base + (3 * m + 1 + np.arange(n_extra)).astype(np.int64) * 7 + 1
            elif c == ra_col:
                add = ex_ra
            elif c == dec_col:
                add = ex_dec
            elif c.startswith("psfmag_") or (c.endswith("_psf") and not c.startswith("e_") and c != "flags_psf"):
                add = np.where(add == at.SDSS_NULL, add, add + 2.5)
            values[c] = np.concatenate([col, add])
        for c in list(masks):
            masks[c] = np.concatenate([masks[c], masks[c][extra]])
    phot = at.build_table(name_phot, values, masks)

    # best neighbours: one row per matched Gaia star (companions included)
    matched = np.flatnonzero(detected)
    owner_pos = np.full(n, -1)
    owner_pos[owners] = np.arange(m)
    obj_of = obj_id[owner_pos[primary[matched]]]
    mates = np.bincount(primary[matched], minlength=n)[primary[matched]] - 1
    n_nb = 1 + extra[owner_pos[primary[matched]]].astype(int)
    dra = (s["ra"][matched] - ra[owner_pos[primary[matched]]]) * np.cos(np.deg2rad(dec[matched]))
    ddec = s["dec"][matched] - dec_o[owner_pos[primary[matched]]]
    sep = np.hypot(dra, ddec) * 3600.0
    nb_values = {
        "source_id": s["source_id"][matched],
        "original_ext_source_id": obj_of,
        "angular_distance": sep,
        "number_of_neighbours": n_nb,
        "number_of_mates": mates,
        "xm_flag": np.where(mates > 0, 2, 0),
    }
    if survey == "sdss":
        nb_values["clean_sdssdr13_oid"] = (owner_pos[primary[matched]] + 1).astype(np.int32)
    nb = at.build_table(at.NEIGHBOUR_TABLE[survey], nb_values)
    return {name_phot: phot, at.NEIGHBOUR_TABLE[survey]: nb}
