"""Column contracts shared by every stage of the pipeline.

This module is the one place that names columns.  The stages talk to each other through
astropy Tables whose columns are named here:

``archive tables``
    exactly the archives' own table and column names (see :mod:`sos_vo.simulate` and
    :mod:`sos_vo.archives`); lower case, as the ESA Gaia archive and VizieR TAP return them.
``joined table``
    one row per Gaia DR3 source with one photometric survey attached through the Gaia
    best-neighbour table (:func:`sos_vo.prepare.crossmatch.join_survey`).  Gaia, distance and
    photometry columns keep their archive names; the two columns that do not come from the
    Gaia archive are renamed (``mh_andrae``, ``mh_andrae_err``) as in Tables 2-3 of
    Turchi et al. (2025, hereafter T25).  Survey identifiers get an explicit prefix
    (``sdss_objid``, ``sm_object_id``) so that SDSS and SkyMapper rows can be merged.
``features``
    the names of T25 Tables 2 (SDSS, 24 features) and 3 (SkyMapper, 28 features).
``catalogue``
    T25 Table 6.  The paper's names contain ``[Fe/H]`` and spaces, which are not valid in
    ADQL without quoting, in FITS TTYPE by convention, nor in DaCHS; we write ADQL-safe names
    (``ml_feh`` for ``ml_[Fe/H]``) and keep the paper's name in every column description.
"""

from __future__ import annotations

from dataclasses import dataclass

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


# --------------------------------------------------------------------------------------
# Final catalogue (T25 Table 6)
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CatalogueColumn:
    """One column of the final catalogue: name, unit, UCD, description, paper name."""

    name: str
    unit: str | None
    ucd: str
    description: str
    paper_name: str
    dtype: str


CATALOGUE_COLUMNS: tuple[CatalogueColumn, ...] = (
    CatalogueColumn("sosid", None, "meta.id;meta.main",
                    "Unique SoS identifier (HEALPix level-12 nested index * 10**7 + running number)",
                    "SoSid", "int64"),
    CatalogueColumn("gaia_dr2_id", None, "meta.id.cross",
                    "Gaia DR2 source_id (gaiadr2.dr2_neighbourhood; null where unknown)", "Gaia DR2 id", "int64"),
    CatalogueColumn("gaia_dr3_id", None, "meta.id.cross", "Gaia DR3 source_id", "Gaia DR3 id", "int64"),
    CatalogueColumn("sdss_objid", None, "meta.id.cross", "SDSS DR13 objID (0 where none)",
                    "SDSS objectId", "int64"),
    CatalogueColumn("sm_object_id", None, "meta.id.cross", "SkyMapper DR2 object_id (0 where none)",
                    "SM objectId", "int64"),
    CatalogueColumn("ra", "deg", "pos.eq.ra;meta.main", "Right ascension from Gaia DR3 (ICRS, epoch J2016.0)",
                    "RA", "float64"),
    CatalogueColumn("dec", "deg", "pos.eq.dec;meta.main", "Declination from Gaia DR3 (ICRS, epoch J2016.0)",
                    "Dec", "float64"),
    CatalogueColumn("spec_teff", "K", "phys.temperature.effective",
                    "SoS-Spectro effective temperature (PASTEL-recalibrated)", "spec_Teff", "float32"),
    CatalogueColumn("spec_err_teff", "K", "stat.error;phys.temperature.effective",
                    "Error on spec_teff", "spec_err_Teff", "float32"),
    CatalogueColumn("spec_logg", "dex", "phys.gravity",
                    "SoS-Spectro surface gravity log10(g/[cm s-2]) (PASTEL-recalibrated)", "spec_log_g", "float32"),
    CatalogueColumn("spec_err_logg", "dex", "stat.error;phys.gravity",
                    "Error on spec_logg", "spec_err_log_g", "float32"),
    CatalogueColumn("spec_feh", "dex", "phys.abund.Fe",
                    "SoS-Spectro metallicity [Fe/H] (PASTEL-recalibrated)", "spec_[Fe/H]", "float32"),
    CatalogueColumn("spec_err_feh", "dex", "stat.error;phys.abund.Fe",
                    "Error on spec_feh", "spec_err_[Fe/H]", "float32"),
    CatalogueColumn("ml_teff", "K", "phys.temperature.effective",
                    "Effective temperature from the MLP ensemble (median of members)", "ml_Teff", "float32"),
    CatalogueColumn("ml_err_teff", "K", "stat.error;phys.temperature.effective",
                    "e_ML on ml_teff = sqrt(e_train**2 + e_rep**2) (T25 Eq. 4)", "ml_err_Teff", "float32"),
    CatalogueColumn("ml_logg", "dex", "phys.gravity",
                    "Surface gravity log10(g/[cm s-2]) from the MLP ensemble", "ml_log_g", "float32"),
    CatalogueColumn("ml_err_logg", "dex", "stat.error;phys.gravity",
                    "e_ML on ml_logg (T25 Eq. 4)", "ml_err_log_g", "float32"),
    CatalogueColumn("ml_feh", "dex", "phys.abund.Fe",
                    "Metallicity [Fe/H] from the MLP ensemble", "ml_[Fe/H]", "float32"),
    CatalogueColumn("ml_err_feh", "dex", "stat.error;phys.abund.Fe",
                    "e_ML on ml_feh (T25 Eq. 4)", "ml_err_[Fe/H]", "float32"),
    CatalogueColumn("source", None, "meta.ref",
                    "Photometric source of the ML values: SDSS, SM or SDSS+SM (average); Spectro for "
                    "SoS-Spectro rows without ML values", "source", "str"),
    CatalogueColumn("sdss_train_set", None, "meta.code",
                    "Star in the SDSS training set", "SDSS_train_set", "bool"),
    CatalogueColumn("sm_train_set", None, "meta.code",
                    "Star in the SkyMapper training set", "SM_train_set", "bool"),
    CatalogueColumn("sdss_train_area", None, "meta.code.qual",
                    "Inputs inside the 99% region of the SDSS training-set density", "SDSS_train_area", "bool"),
    CatalogueColumn("sm_train_area", None, "meta.code.qual",
                    "Inputs inside the 99% region of the SkyMapper training-set density", "SM_train_area", "bool"),
)
"""T25 Table 6, in the paper's order, with ADQL-safe names."""

CATALOGUE_NAMES: tuple[str, ...] = tuple(c.name for c in CATALOGUE_COLUMNS)


# --------------------------------------------------------------------------------------
# Archive table names (fully qualified, as the archives serve them); see sos_vo.simulate
# --------------------------------------------------------------------------------------
GAIA_SOURCE_TABLE = "gaiadr3.gaia_source"
DISTANCE_TABLE = "external.gaiaedr3_distance"
"""Bailer-Jones et al. (2021) distances in the Gaia archive."""
ANDRAE_TABLE = "external.xgboost_table1"
"""Andrae, Rix & Chandra (2023) Table 1 in the Gaia archive (also VizieR J/ApJS/267/8)."""
PHOTOMETRY_TABLES = {"sdss": "external.sdssdr13_photoprimary", "skymapper": "external.skymapperdr2_master"}
NEIGHBOUR_TABLES = {"sdss": "gaiadr3.sdssdr13_best_neighbour", "skymapper": "gaiadr3.skymapperdr2_best_neighbour"}
PHOTOMETRY_ID_COLUMNS = {"sdss": "objid", "skymapper": "object_id"}
"""Identifier of each photometric table, equal to ``original_ext_source_id`` of its best neighbour."""
PASTEL_TABLE = "B/pastel/pastel"
"""VizieR PASTEL (Soubiran et al. 2016); columns ID, RAJ2000, DEJ2000, Teff, e_Teff, logg, e_logg,
[Fe/H], e_[Fe/H], bibcode."""
SOS_SPECTRO_TABLE = "sos_spectro.main"
"""SoS-Spectro parameters: not public, schema chosen by sos-vo (source_id, teff, e_teff, logg,
e_logg, feh, e_feh, n_surveys), see :mod:`sos_vo.simulate.archive_tables`."""
PASTEL_MATCH_COLUMNS: tuple[str, ...] = (
    "source_id", "pastel_id", "pastel_teff", "pastel_e_teff", "pastel_logg", "pastel_e_logg",
    "pastel_feh", "pastel_e_feh", "bibcode", "match_distance",
)
"""Columns of :func:`sos_vo.prepare.crossmatch.join_pastel` (one row per PASTEL entry)."""
