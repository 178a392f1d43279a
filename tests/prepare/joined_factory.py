"""Small hand-made joined tables (schema.joined_columns) whose rows all pass the T25 cuts."""

from __future__ import annotations

import numpy as np
from astropy.table import MaskedColumn, Table

from sos_vo.schema import BANDS, joined_columns

UNITS = {
    "ra": "deg", "dec": "deg", "l": "deg", "b": "deg",
    "parallax": "mas", "parallax_error": "mas", "astrometric_sigma5d_max": "mas",
    "phot_g_mean_mag": "mag", "phot_bp_mean_mag": "mag", "phot_rp_mean_mag": "mag",
    "vbroad": "km / s",
    "teff_gspphot": "K", "teff_gspphot_lower": "K", "teff_gspphot_upper": "K",
    "logg_gspphot": "dex", "logg_gspphot_lower": "dex", "logg_gspphot_upper": "dex",
    "r_med_geo": "pc", "mh_andrae": "dex", "mh_andrae_err": "dex", "ebmv_sfd": "mag",
}


def make_joined(survey: str, n: int = 20, seed: int = 1) -> Table:
    """A joined table of ``n`` clean stars (every row passes every cut)."""
    rng = np.random.default_rng(seed)
    cols: dict[str, np.ndarray] = {
        "source_id": np.arange(1, n + 1, dtype=np.int64) * 1_000_003,
        "ra": rng.uniform(0, 360, n), "dec": rng.uniform(-60, 60, n),
        "l": rng.uniform(0, 360, n), "b": rng.uniform(-60, 60, n),
        "parallax": rng.uniform(0.5, 5, n), "parallax_error": rng.uniform(0.01, 0.09, n),
        "astrometric_sigma5d_max": rng.uniform(0.01, 0.09, n), "ruwe": rng.uniform(0.8, 1.3, n),
        "ipd_frac_multi_peak": rng.integers(0, 10, n), "ipd_frac_odd_win": rng.integers(0, 10, n),
        "non_single_star": np.zeros(n, dtype=np.int16),
        "phot_g_mean_mag": rng.uniform(10, 17.5, n),
        "phot_variable_flag": np.array(["NOT_AVAILABLE"] * n),
        "in_qso_candidates": np.zeros(n, bool), "in_galaxy_candidates": np.zeros(n, bool),
        "vbroad": rng.uniform(1, 25, n),
        "teff_gspphot": rng.uniform(4000, 7000, n),
        "logg_gspphot": rng.uniform(1.5, 4.8, n),
        "r_med_geo": rng.uniform(100, 3000, n),
        "mh_andrae": rng.uniform(-2, 0.4, n), "mh_andrae_err": rng.uniform(0.05, 0.2, n),
        "number_of_neighbours": np.ones(n, dtype=np.int32),
        "number_of_mates": np.zeros(n, dtype=np.int16),
    }
    cols["phot_bp_mean_mag"] = cols["phot_g_mean_mag"] + 0.4
    cols["phot_rp_mean_mag"] = cols["phot_g_mean_mag"] - 0.6
    for p, lo, hi in (("teff", 80, 120), ("logg", 0.05, 0.2)):
        cols[f"{p}_gspphot_lower"] = cols[f"{p}_gspphot"] - rng.uniform(lo, hi, n)
        cols[f"{p}_gspphot_upper"] = cols[f"{p}_gspphot"] + rng.uniform(lo, hi, n)
    bands = BANDS[survey]
    if survey == "sdss":
        cols["sdss_objid"] = np.arange(n, dtype=np.int64) + 1237650000000000000
        cols["type"] = np.full(n, 6, dtype=np.int16)
        cols["clean"] = np.ones(n, dtype=np.int16)
        for b in bands:
            cols[f"psfmag_{b}"] = cols["phot_g_mean_mag"] + rng.uniform(-1, 2, n)
            cols[f"psfmagerr_{b}"] = rng.uniform(0.01, 0.05, n)
            cols[f"extinction_{b}"] = rng.uniform(0.01, 0.5, n)
            UNITS[f"psfmag_{b}"] = UNITS[f"psfmagerr_{b}"] = UNITS[f"extinction_{b}"] = "mag"
    else:
        cols["sm_object_id"] = np.arange(n, dtype=np.int64) + 100_000_000
        cols["class_star"] = rng.uniform(0.85, 1.0, n)
        cols["flags"] = np.zeros(n, dtype=np.int16)
        cols["ebmv_sfd"] = rng.uniform(0.01, 0.3, n)
        for b in bands:
            cols[f"{b}_psf"] = cols["phot_g_mean_mag"] + rng.uniform(-1, 2, n)
            cols[f"e_{b}_psf"] = rng.uniform(0.01, 0.05, n)
            cols[f"{b}_flags"] = np.zeros(n, dtype=np.int16)
            UNITS[f"{b}_psf"] = UNITS[f"e_{b}_psf"] = "mag"
    names = joined_columns(survey)
    if survey == "skymapper":
        cols["flags_psf"] = np.zeros(n, dtype=np.int32)   # DR2 master column (T25 "flagPSF")
        names = (*names, "flags_psf")
    table = Table()
    for name in names:
        table[name] = MaskedColumn(cols[name], unit=UNITS.get(name),
                                   mask=np.zeros(n, dtype=bool))
    return table
