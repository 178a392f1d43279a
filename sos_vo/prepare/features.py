"""Input features of the networks (T25 Sect. 2.2-2.3, Eq. 1; Sect. 4.2, Tables 2-3).

T25 = Turchi et al. (2025), Survey of Surveys II.

* :func:`compute_features` turns a joined table (:func:`sos_vo.schema.joined_columns`) into a
  table whose columns are exactly :func:`sos_vo.schema.feature_names`, in that order, with
  units; missing values are NaN.
* :func:`feature_matrix` turns that table into the network input: values with missing
  entries replaced by 0, followed by one 0/1 "present" flag per feature (T25 Sect. 4.1,
  "we added a flag for each parameter (thus doubling the input size) ... substitute all
  missing parameters with zeros").

Absolute magnitudes (T25 Eq. 1)::

    M_B = m_B - 5 log10(D / pc) + 5 - A_B

with D = ``r_med_geo`` (Bailer-Jones et al. 2021 geometric median distance).  ``{b}abs`` is
dereddened (A_B subtracted), ``{b}abs_nored`` is not (A_B = 0).
"""

from __future__ import annotations

import astropy.units as u
import numpy as np
from astropy.table import Column, Table

from ..exceptions import SchemaError
from ..schema import BANDS, check_survey, feature_names
from .columns import float_values, require_columns, require_rows

# --------------------------------------------------------------------------------------
# Extinction
# --------------------------------------------------------------------------------------
SKYMAPPER_R: dict[str, float] = {
    "u": 4.294, "v": 4.026, "g": 2.986, "r": 2.288, "i": 1.588, "z": 1.206,
}
"""SkyMapper extinction coefficients R_B = A_B / E(B-V)_SFD.

Source: Wolf et al. (2018), PASA 35, e010 (SkyMapper DR1 paper), the coefficients the
SkyMapper "filter-transformations" page (T25 footnote 4) recommends with the SFD ``ebmv_sfd``
column of the ``master`` table.  T25 Sect. 2.3: "we obtained the A_B absorption in each band
B following the SM recipes".  Values typed from the paper; the digits were not re-checked against the
filter-transformations page."""

SDSS_EXTINCTION_COLUMN = "extinction_{band}"
"""SDSS DR13 PhotoPrimary gives A_B per band directly (T25 Sect. 2.2: "We used the absorption
coefficients A_B, provided in the SDSS catalog for each band")."""

SKYMAPPER_EBV_COLUMN = "ebmv_sfd"
"""SkyMapper DR2 ``master.ebmv_sfd``: E(B-V) from Schlegel et al. (1998) (T25 Sect. 2.3)."""

# --------------------------------------------------------------------------------------
# Column names of the joined table used for features
# --------------------------------------------------------------------------------------
DISTANCE_COLUMN = "r_med_geo"
"""Bailer-Jones et al. (2021) geometric distance; T25 Sect. 2.1 prefers it to photogeometric."""

PRESENT_SUFFIX = "_present"
"""Suffix of the 0/1 "present" flag column that :func:`feature_matrix` adds per feature."""

GAIA_PERCENTILE_COLUMNS = {
    "teff_gspphot_err": ("teff_gspphot_lower", "teff_gspphot_upper", "K"),
    "logg_gspphot_err": ("logg_gspphot_lower", "logg_gspphot_upper", "dex"),
}
"""Gaia DR3 gives no symmetric error on GSP-Phot parameters, only the 16th (``_lower``) and
84th (``_upper``) percentiles of the MCMC samples (Gaia DR3 documentation, Sect. 11.3 of
the astrophysical-parameters chapter).  T25 Tables 2-3 use ``teff_gspphot_err`` and
``logg_gspphot_err`` without saying how they were formed: we use half the 16th-84th
interval, ``(upper - lower) / 2``, which equals sigma for a Gaussian (:func:`gaia_error`)."""


def magnitude_column(survey: str, band: str) -> str:
    """Joined-table column of the PSF magnitude in ``band`` (SDSS ``psfmag_g``, SM ``g_psf``)."""
    return f"psfmag_{band}" if check_survey(survey) == "sdss" else f"{band}_psf"


def magnitude_error_column(survey: str, band: str) -> str:
    """Joined-table column of the PSF magnitude error (SDSS ``psfmagerr_g``, SM ``e_g_psf``)."""
    return f"psfmagerr_{band}" if check_survey(survey) == "sdss" else f"e_{band}_psf"


def extinction_columns(survey: str) -> tuple[str, ...]:
    """Joined-table columns needed to compute A_B for ``survey``."""
    if check_survey(survey) == "sdss":
        return tuple(SDSS_EXTINCTION_COLUMN.format(band=b) for b in BANDS["sdss"])
    return (SKYMAPPER_EBV_COLUMN,)


def extinction(table: Table, survey: str, band: str) -> np.ndarray:
    """A_B in mag for ``band``: SDSS ``extinction_b``; SkyMapper ``R_b * ebmv_sfd``."""
    if check_survey(survey) == "sdss":
        return float_values(table, SDSS_EXTINCTION_COLUMN.format(band=band), u.mag)
    return SKYMAPPER_R[band] * float_values(table, SKYMAPPER_EBV_COLUMN, u.mag)


def absolute_magnitude(m: np.ndarray, distance_pc: np.ndarray,
                       a: np.ndarray | float = 0.0) -> np.ndarray:
    """T25 Eq. 1: ``M = m - 5 log10(D/pc) + 5 - A``; NaN where D <= 0 or an input is NaN."""
    m = np.asarray(m, dtype=np.float64)
    d = np.asarray(distance_pc, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        mu = np.where(d > 0, 5.0 * np.log10(np.where(d > 0, d, 1.0)) - 5.0, np.nan)
    return m - mu - a


def gaia_error(lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """Symmetric error from Gaia's 16th/84th percentiles: ``(upper - lower) / 2``."""
    return (np.asarray(upper, dtype=np.float64) - np.asarray(lower, dtype=np.float64)) / 2.0


def feature_input_columns(survey: str) -> tuple[str, ...]:
    """Joined-table columns that :func:`compute_features` reads for ``survey``."""
    bands = BANDS[check_survey(survey)]
    return (
        DISTANCE_COLUMN, "phot_bp_mean_mag", "phot_rp_mean_mag",
        *(magnitude_column(survey, b) for b in bands),
        *(magnitude_error_column(survey, b) for b in bands),
        *extinction_columns(survey),
        "teff_gspphot", "logg_gspphot", "mh_andrae",
        "teff_gspphot_lower", "teff_gspphot_upper",
        "logg_gspphot_lower", "logg_gspphot_upper", "mh_andrae_err",
    )


def feature_units(survey: str) -> dict[str, str]:
    """Unit of each feature of ``survey`` (pc, mag, K or dex)."""
    units = {}
    for name in feature_names(survey):
        if name == DISTANCE_COLUMN:
            units[name] = "pc"
        elif name.startswith("teff"):
            units[name] = "K"
        elif name.startswith(("logg", "mh_")):
            units[name] = "dex"
        else:
            units[name] = "mag"
    return units


def compute_features(joined: Table, survey: str) -> Table:
    """Compute the features of T25 Table 2 (SDSS) or Table 3 (SkyMapper).

    Parameters
    ----------
    joined
        Joined table after the quality cuts (:func:`sos_vo.prepare.cuts.apply_cuts`), with
        the columns of :func:`feature_input_columns`.
    survey
        ``"sdss"`` or ``"skymapper"``.

    Returns
    -------
    astropy.table.Table
        Same row order as ``joined``; columns exactly ``feature_names(survey)`` in order,
        float64 with units; missing values are NaN.
    """
    check_survey(survey)
    require_columns(joined, feature_input_columns(survey), f"features ({survey})")
    require_rows(joined, f"features ({survey})")
    dist = float_values(joined, DISTANCE_COLUMN, u.pc)
    values: dict[str, np.ndarray] = {
        DISTANCE_COLUMN: dist,
        "phot_bp_mean_mag": float_values(joined, "phot_bp_mean_mag", u.mag),
        "phot_rp_mean_mag": float_values(joined, "phot_rp_mean_mag", u.mag),
    }
    err_names = [n for n in feature_names(survey) if n.lower().startswith(("psfmagerr", "e_"))]
    for band, err_name in zip(BANDS[survey], err_names, strict=True):
        m = float_values(joined, magnitude_column(survey, band), u.mag)
        values[f"{band}abs"] = absolute_magnitude(m, dist, extinction(joined, survey, band))
        values[f"{band}abs_nored"] = absolute_magnitude(m, dist)
        values[err_name] = float_values(joined, magnitude_error_column(survey, band), u.mag)
    values["teff_gspphot"] = float_values(joined, "teff_gspphot", u.K)
    values["logg_gspphot"] = float_values(joined, "logg_gspphot", "dex")
    values["mh_andrae"] = float_values(joined, "mh_andrae", "dex")
    for name, (lo, hi, unit) in GAIA_PERCENTILE_COLUMNS.items():
        values[name] = gaia_error(float_values(joined, lo, unit), float_values(joined, hi, unit))
    values["mh_andrae_err"] = float_values(joined, "mh_andrae_err", "dex")
    units = feature_units(survey)
    out = Table()
    for name in feature_names(survey):
        out[name] = Column(values[name], unit=units[name])
    return out


def feature_matrix(features: Table, survey: str, *,
                   allow_all_missing: bool = False) -> tuple[np.ndarray, list[str]]:
    """Network input: zero-filled values followed by 0/1 present flags (T25 Sect. 4.1).

    Parameters
    ----------
    features
        Output of :func:`compute_features` (only the feature columns are read).
    survey
        ``"sdss"`` or ``"skymapper"``.
    allow_all_missing
        If False (default), a feature that is missing in every row raises
        :class:`SchemaError` (it usually means a wrong join or unit); set True when
        predicting on small chunks where, e.g., a whole patch lacks SkyMapper ``u``.

    Returns
    -------
    X : numpy.ndarray
        float32, shape (n, 2F): columns 0..F-1 are the feature values (missing -> 0),
        columns F..2F-1 the flags (1 present, 0 missing), both in ``feature_names`` order.
    names : list of str
        The 2F column names: the feature names, then ``name + PRESENT_SUFFIX``.
    """
    names = list(feature_names(survey))
    require_columns(features, names, f"feature matrix ({survey})")
    require_rows(features, f"feature matrix ({survey})")
    n, f = len(features), len(names)
    x = np.zeros((n, 2 * f), dtype=np.float32)
    all_missing = []
    for j, name in enumerate(names):
        v = float_values(features, name)
        ok = np.isfinite(v)
        if not ok.any():
            all_missing.append(name)
        x[ok, j] = v[ok]
        x[:, f + j] = ok
    if all_missing and not allow_all_missing:
        raise SchemaError(f"feature column(s) {', '.join(all_missing)} missing or NaN in all "
                          f"{n} rows ({survey}); pass allow_all_missing=True if expected")
    return x, names + [name + PRESENT_SUFFIX for name in names]
