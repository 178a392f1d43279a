"""Stars that fail the quality cuts of T25 Sect. 2, injected on purpose.

Each cut has a name.  :func:`injection_plan` chooses, for every injectable cut, a random
:data:`INJECTED_FAIL_FRACTION` of the stars whose archive values are then set to fail exactly
that cut (the table builders read the plan).  :func:`evaluate_cuts` re-derives, from the final
archive tables, every cut each star fails (injected or natural, e.g. G > 18): the truth table's
``fails`` column, which lets the cut report of :mod:`sos_vo.prepare.cuts` be checked.

Interpretation used by :func:`evaluate_cuts` (documented because the paper leaves room):

* a missing ``vbroad`` or ``teff_gspphot`` passes its cut ("where given");
* a survey magnitude outside 0-25 (or an SDSS -9999 / SkyMapper null) counts as missing; a star
  fails ``sdss_two_mags`` / ``sm_two_mags`` when fewer than two bands are left;
* A_g is ``extinction_g`` (SDSS) or ``R_g * ebmv_sfd`` (SkyMapper, R_g of
  :data:`sos_vo.simulate.photometry.EXTINCTION_COEFFICIENTS`);
* SkyMapper ``flags_psf`` is the DR2 master column of that name.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from astropy.table import Table

from .photometry import EXTINCTION_COEFFICIENTS

GAIA_CUTS: tuple[str, ...] = (
    "bp_rp_present", "ipd_frac_multi_peak", "ipd_frac_odd_win", "ruwe", "non_single_star",
    "variable", "qso_candidate", "galaxy_candidate", "no_distance", "vbroad", "teff_gspphot",
    "g_mag", "parallax_error", "astrometric_sigma5d_max",
)
SDSS_CUTS: tuple[str, ...] = ("sdss_type", "sdss_clean", "sdss_two_mags", "sdss_ag", "sdss_one_to_one")
SKYMAPPER_CUTS: tuple[str, ...] = (
    "sm_class_star", "sm_flags", "sm_flags_psf", "sm_two_mags", "sm_ag", "sm_one_to_one",
)
CUT_NAMES: tuple[str, ...] = GAIA_CUTS + SDSS_CUTS + SKYMAPPER_CUTS

NATURAL_ONLY: tuple[str, ...] = ("g_mag", "parallax_error", "astrometric_sigma5d_max", "sdss_one_to_one", "sm_one_to_one")
"""Cuts that plenty of stars fail naturally (faint stars; the cross-match builds its own
one-to-many cases), so nothing is injected for them."""

INJECTED_FAIL_FRACTION = 0.01
"""Fraction of all stars set to fail each injectable cut (*synthetic choice*)."""

THRESHOLDS = {
    "ipd_frac_multi_peak": 10, "ipd_frac_odd_win": 10, "ruwe": 1.4, "vbroad": 30.0,
    "teff_gspphot": 9000.0, "g_mag": 18.0, "parallax_error": 0.1, "astrometric_sigma5d_max": 0.1,
    "class_star": 0.8, "a_g": 10.0, "mag_min": 0.0, "mag_max": 25.0,
}
"""T25 Sect. 2.1-2.3 thresholds."""


def injection_plan(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """Boolean mask per injectable cut: the stars made to fail it."""
    plan = {}
    for name in CUT_NAMES:
        if name in NATURAL_ONLY:
            continue
        plan[name] = rng.random(n) < INJECTED_FAIL_FRACTION
    return plan


def _filled(table: Table, name: str, fill: float) -> np.ndarray:
    col = table[name]
    return np.ma.filled(np.ma.asarray(col).astype(float), fill)


def _present(table: Table, name: str) -> np.ndarray:
    return ~np.ma.getmaskarray(table[name])


def evaluate_gaia_cuts(gaia: Table, distance_ids: np.ndarray) -> dict[str, np.ndarray]:
    """Per Gaia cut, True where the ``gaia_source`` row fails it."""
    out = {
        "bp_rp_present": ~(_present(gaia, "phot_bp_mean_mag") & _present(gaia, "phot_rp_mean_mag")),
        "ipd_frac_multi_peak": _filled(gaia, "ipd_frac_multi_peak", 0) > THRESHOLDS["ipd_frac_multi_peak"],
        "ipd_frac_odd_win": _filled(gaia, "ipd_frac_odd_win", 0) > THRESHOLDS["ipd_frac_odd_win"],
        "ruwe": _filled(gaia, "ruwe", np.inf) > THRESHOLDS["ruwe"],
        "non_single_star": _filled(gaia, "non_single_star", 0) != 0,
        "variable": np.asarray(gaia["phot_variable_flag"]).astype(str) == "VARIABLE",
        "qso_candidate": np.ma.filled(gaia["in_qso_candidates"], False).astype(bool),
        "galaxy_candidate": np.ma.filled(gaia["in_galaxy_candidates"], False).astype(bool),
        "no_distance": ~np.isin(np.asarray(gaia["source_id"]), distance_ids),
        "vbroad": _filled(gaia, "vbroad", 0.0) > THRESHOLDS["vbroad"],
        "teff_gspphot": _filled(gaia, "teff_gspphot", 0.0) > THRESHOLDS["teff_gspphot"],
        "g_mag": _filled(gaia, "phot_g_mean_mag", np.inf) > THRESHOLDS["g_mag"],
        "parallax_error": _filled(gaia, "parallax_error", np.inf) > THRESHOLDS["parallax_error"],
        "astrometric_sigma5d_max": _filled(gaia, "astrometric_sigma5d_max", np.inf) > THRESHOLDS["astrometric_sigma5d_max"],
    }
    return out


def _valid_mags(values: list[np.ndarray]) -> np.ndarray:
    stack = np.vstack(values)
    ok = np.isfinite(stack) & (stack >= THRESHOLDS["mag_min"]) & (stack <= THRESHOLDS["mag_max"])
    return ok.sum(axis=0)


def evaluate_survey_cuts(survey: str, photometry: Table, neighbours: Table) -> dict[str, np.ndarray]:
    """Per survey cut, True where the photometric row (aligned with ``neighbours``) fails it.

    ``photometry`` must already be aligned row by row with ``neighbours``.
    """
    one_to_one = (np.asarray(neighbours["number_of_neighbours"]) > 1) | (np.asarray(neighbours["number_of_mates"]) > 0)
    if survey == "sdss":
        mags = [np.where(_filled(photometry, f"psfmag_{b}", np.nan) == -9999.0, np.nan,
                         _filled(photometry, f"psfmag_{b}", np.nan)) for b in "ugriz"]
        return {
            "sdss_type": np.asarray(photometry["type"]) != 6,
            "sdss_clean": np.asarray(photometry["clean"]) != 1,
            "sdss_two_mags": _valid_mags(mags) < 2,
            "sdss_ag": _filled(photometry, "extinction_g", 0.0) > THRESHOLDS["a_g"],
            "sdss_one_to_one": one_to_one,
        }
    mags = [_filled(photometry, f"{b}_psf", np.nan) for b in "uvgriz"]
    r_g = EXTINCTION_COEFFICIENTS["skymapper"]["g"]
    return {
        "sm_class_star": _filled(photometry, "class_star", 0.0) <= THRESHOLDS["class_star"],
        "sm_flags": _filled(photometry, "flags", 0) != 0,
        "sm_flags_psf": _filled(photometry, "flags_psf", 0) != 0,
        "sm_two_mags": _valid_mags(mags) < 2,
        "sm_ag": r_g * _filled(photometry, "ebmv_sfd", 0.0) > THRESHOLDS["a_g"],
        "sm_one_to_one": one_to_one,
    }


def fails_strings(n: int, failures: Mapping[str, np.ndarray]) -> np.ndarray:
    """Comma-separated names of the failed cuts per star ('' when it passes all)."""
    parts = [np.where(mask, name, "") for name, mask in failures.items()]
    if not parts:
        return np.full(n, "", dtype="<U1")
    out = parts[0].astype(object)
    for p in parts[1:]:
        sep = np.where((out != "") & (p != ""), ",", "")
        out = out + sep + p.astype(object)
    return out.astype(str)
