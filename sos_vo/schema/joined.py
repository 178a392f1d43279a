"""The names of the surveys, labels, bands, joined-table columns and features.

``joined table``
    one row per Gaia DR3 source with one photometric survey attached through the Gaia
    best-neighbour table (:func:`sos_vo.prepare.crossmatch.join_survey`).  Gaia, distance and
    photometry columns keep their archive names; the two columns that do not come from the
    Gaia archive are renamed (``mh_andrae``, ``mh_andrae_err``) as in Tables 2-3 of
    Turchi et al. (2025, hereafter T25).  Survey identifiers get an explicit prefix
    (``sdss_objid``, ``sm_object_id``) so that SDSS and SkyMapper rows can be merged.
``features``
    the names of T25 Tables 2 (SDSS, 24 features) and 3 (SkyMapper, 28 features).
"""

from __future__ import annotations

# --------------------------------------------------------------------------------------
# Surveys and labels
# --------------------------------------------------------------------------------------
SURVEYS: tuple[str, ...] = ("sdss", "skymapper")
"""Photometric surveys of T25 Sect. 2.2 (SDSS DR13) and 2.3 (SkyMapper DR2)."""

SURVEY_SHORT = {"sdss": "SDSS", "skymapper": "SM"}
"""Survey codes used in T25 Table 6 (``source`` column, ``SDSS_train_set``, ``SM_train_set``)."""

LABELS: tuple[str, ...] = ("teff", "logg", "feh")
"""The three predicted parameters, one network each (T25 Sect. 4.1)."""

LABEL_UNITS = {"teff": "K", "logg": "dex", "feh": "dex"}
LABEL_LATEX = {"teff": r"$T_{\rm eff}$", "logg": r"$\log g$", "feh": "[Fe/H]"}

BANDS = {"sdss": ("u", "g", "r", "i", "z"), "skymapper": ("u", "v", "g", "r", "i", "z")}
"""Photometric bands used as features (T25 Tables 2 and 3)."""

# --------------------------------------------------------------------------------------
# Joined-table columns
# --------------------------------------------------------------------------------------
GAIA_COLUMNS: tuple[str, ...] = (
    "source_id", "ra", "dec", "l", "b",
    "parallax", "parallax_error", "astrometric_sigma5d_max", "ruwe",
    "ipd_frac_multi_peak", "ipd_frac_odd_win", "non_single_star",
    "phot_g_mean_mag", "phot_bp_mean_mag", "phot_rp_mean_mag",
    "phot_variable_flag", "in_qso_candidates", "in_galaxy_candidates", "vbroad",
    "teff_gspphot", "teff_gspphot_lower", "teff_gspphot_upper",
    "logg_gspphot", "logg_gspphot_lower", "logg_gspphot_upper",
)
"""``gaiadr3.gaia_source`` columns used by the cuts (T25 Sect. 2.1) and features."""

DISTANCE_COLUMNS: tuple[str, ...] = ("r_med_geo",)
"""``external.gaiaedr3_distance`` (Bailer-Jones et al. 2021): geometric median distance, pc."""

ANDRAE_COLUMNS: tuple[str, ...] = ("mh_andrae", "mh_andrae_err")
"""Andrae et al. (2023) [M/H] and its error, renamed as in T25 Tables 2-3."""

NEIGHBOUR_COLUMNS: tuple[str, ...] = ("number_of_neighbours", "number_of_mates")
"""Gaia DR3 best-neighbour columns used for the one-to-one rule (T25 Sect. 2)."""

SDSS_COLUMNS: tuple[str, ...] = (
    "sdss_objid", "type", "clean",
    *(f"psfmag_{b}" for b in BANDS["sdss"]),
    *(f"psfmagerr_{b}" for b in BANDS["sdss"]),
    *(f"extinction_{b}" for b in BANDS["sdss"]),
)
"""SDSS DR13 PhotoPrimary columns (lower case, as the Gaia archive's ``external`` copy)."""

SKYMAPPER_COLUMNS: tuple[str, ...] = (
    "sm_object_id", "class_star", "flags", "flags_psf", "ebmv_sfd",
    *(f"{b}_psf" for b in BANDS["skymapper"]),
    *(f"e_{b}_psf" for b in BANDS["skymapper"]),
    *(f"{b}_flags" for b in BANDS["skymapper"]),
)
"""SkyMapper DR2 ``master`` columns.  ``flags_psf`` ("photometry likely biased by neighbours",
bits 0-5 for filters z..u) is the column T25 Sect. 2.3 cuts on; the per-band ``{b}_flags`` are
kept for the optional stricter cut of :func:`sos_vo.prepare.cuts.apply_cuts`."""

SURVEY_COLUMNS = {"sdss": SDSS_COLUMNS, "skymapper": SKYMAPPER_COLUMNS}
SURVEY_ID_COLUMN = {"sdss": "sdss_objid", "skymapper": "sm_object_id"}

SPEC_COLUMNS: tuple[str, ...] = (
    "spec_teff", "spec_err_teff", "spec_logg", "spec_err_logg", "spec_feh", "spec_err_feh",
)
"""Spectroscopic labels (SoS-Spectro, possibly PASTEL-recalibrated) attached to a joined table."""


def joined_columns(survey: str) -> tuple[str, ...]:
    """Columns a joined table must carry for ``survey`` (cuts + features)."""
    check_survey(survey)
    return GAIA_COLUMNS + DISTANCE_COLUMNS + ANDRAE_COLUMNS + NEIGHBOUR_COLUMNS + SURVEY_COLUMNS[survey]


def check_survey(survey: str) -> str:
    """Return ``survey`` if known, else raise a ValueError naming the allowed values."""
    if survey not in SURVEYS:
        raise ValueError(f"unknown survey {survey!r}: expected one of {', '.join(SURVEYS)}")
    return survey


# --------------------------------------------------------------------------------------
# Features (T25 Tables 2 and 3)
# --------------------------------------------------------------------------------------
def feature_names(survey: str) -> tuple[str, ...]:
    """Feature names of T25 Table 2 (SDSS, 24) or Table 3 (SkyMapper, 28), in table order."""
    check_survey(survey)
    bands = BANDS[survey]
    errs = (
        tuple(f"psfMagErr_{b}" for b in bands)
        if survey == "sdss"
        else tuple(f"e_{b}_psf" for b in bands)
    )
    return (
        "r_med_geo", "phot_bp_mean_mag", "phot_rp_mean_mag",
        *(f"{b}abs" for b in bands),
        *(f"{b}abs_nored" for b in bands),
        *errs,
        "teff_gspphot", "logg_gspphot", "mh_andrae",
        "teff_gspphot_err", "logg_gspphot_err", "mh_andrae_err",
    )


PRIOR_COLUMNS = {"teff": "teff_gspphot", "logg": "logg_gspphot", "feh": "mh_andrae"}
"""The prior estimates that the network refines (T25 Sect. 4.2): the baseline to beat."""

PASTEL_MATCH_COLUMNS: tuple[str, ...] = (
    "source_id", "pastel_id", "pastel_teff", "pastel_e_teff", "pastel_logg", "pastel_e_logg",
    "pastel_feh", "pastel_e_feh", "bibcode", "match_distance",
)
"""Columns of :func:`sos_vo.prepare.crossmatch.join_pastel` (one row per PASTEL entry)."""
