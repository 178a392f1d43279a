"""The schema of the archive tables sos-vo reads: names, columns, dtypes, units, UCDs.

This module is the single source of truth for each archive table's name and each of its
columns (a :class:`~sos_vo.schema.column.Column`: numpy dtype, unit in the archive's own VOUnit
spelling, UCD, description; the ADQL type follows from the dtype).  Two consumers share it:

* :mod:`sos_vo.simulate.archive_tables` writes synthetic tables with every column listed here;
* :mod:`sos_vo.archives.tables` selects a subset of the columns (the ones the ADQL templates
  in ``sos_vo/tap_queries/`` read and the DaCHS fixture mirror publishes), the very
  :class:`~sos_vo.schema.column.Column` objects listed here.

Where each schema comes from
----------------------------
``gaiadr3.gaia_source``
    The ESA Gaia archive (a real ``SELECT *`` response, VOTable 1.4): datatypes, units in the
    archive's own VOUnit spelling, UCDs and null conventions (float columns are IEEE NaN, masked
    on reading; ``phot_variable_flag`` is ``char`` with values ``VARIABLE`` / ``NOT_AVAILABLE``).
    We emit a subset of the 152 columns: every column of :data:`sos_vo.schema.GAIA_COLUMNS` plus
    the identifiers, errors, fluxes and flags that a user of the table expects.
``external.gaiaedr3_distance``
    Bailer-Jones et al. (2021, AJ 161, 147) as replicated in the Gaia archive (columns
    ``source_id, r_med_geo, r_lo_geo, r_hi_geo, r_med_photogeo, r_lo_photogeo, r_hi_photogeo,
    flag``; pc).  UCDs as in the GAVO copy ``gedr3dist.main``.
``external.xgboost_table1``
    Andrae, Rix & Chandra (2023, ApJS 267, 8), Table 1, as served by the Gaia archive (created
    November 2023 from version 2.1 of the Zenodo data set, doi:10.5281/zenodo.7945154).  Columns:
    ``source_id, catwise_w1, catwise_w2, in_training_sample, mh_xgboost, teff_xgboost,
    logg_xgboost``.  The same table is VizieR J/ApJS/267/8.  **Neither copy has a per-star
    uncertainty**: the paper quotes a mean precision (0.1 dex in [M/H], 50 K, 0.08 dex).  How
    ``mh_andrae_err`` is formed is documented in :func:`sos_vo.prepare.crossmatch.andrae_mh_error`.
``external.sdssdr13_photoprimary``
    SDSS DR13 PhotoPrimary as copied into the Gaia archive (lower-case CasJobs names: ``objid,
    ra, dec, type, clean, psfmag_u .. psfmagerr_z, extinction_u ..``).  SDSS writes -9999 for a
    magnitude it did not measure; we keep that convention in this table.
``gaiadr3.sdssdr13_best_neighbour``
    Gaia DR3 data model (Marrese et al. 2017, 2019): ``source_id, clean_sdssdr13_oid,
    original_ext_source_id, angular_distance [arcsec], number_of_neighbours, number_of_mates,
    xm_flag``.  ``original_ext_source_id`` is the SDSS ``objid``.
``external.skymapperdr2_master``
    SkyMapper DR2 ``dr2.master`` (Onken et al. 2019, PASA 36, e033) as copied into the Gaia
    archive.  Note that DR2 master **does** have a ``flags_psf`` column (bitmask: photometry
    biased by neighbours, bits 0-5 for z..u) besides the per-band ``{b}_flags``.  Missing values
    are nulls.
``gaiadr3.skymapperdr2_best_neighbour``
    ``source_id, original_ext_source_id, angular_distance, number_of_neighbours,
    number_of_mates, xm_flag``; ``original_ext_source_id`` is the SkyMapper ``object_id``.
``B/pastel/pastel``
    VizieR PASTEL (Soubiran et al. 2016): ``ID, RAJ2000, DEJ2000, Teff, e_Teff, logg, e_logg,
    [Fe/H], e_[Fe/H], bibcode`` (VizieR's names; ``[Fe/H]`` needs quoting in ADQL).  Several
    rows (bibliographic entries) per star; matched to Gaia by position.
``sos_spectro.main``
    The SoS-Spectro stellar parameters (Tsantaki et al., used in T25 Sect. 3) are not public:
    SoS DR1 (VizieR J/A+A/659/A95) holds radial velocities only.  This schema is OUR choice:
    one row per Gaia DR3 ``source_id`` with ``teff, e_teff, logg, e_logg, feh, e_feh`` and the
    number of contributing surveys ``n_surveys``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .column import STR, Column

if TYPE_CHECKING:
    import astropy.units as u

# --------------------------------------------------------------------------------------
# Archive table names (fully qualified, as the archives serve them)
# --------------------------------------------------------------------------------------
GAIA_SOURCE = "gaiadr3.gaia_source"
"""Gaia DR3 main source table in the ESA Gaia archive."""
GAIA_DISTANCE = "external.gaiaedr3_distance"
"""Bailer-Jones et al. (2021) distances in the Gaia archive."""
ANDRAE = "external.xgboost_table1"
"""Andrae, Rix & Chandra (2023) Table 1 in the Gaia archive (also VizieR J/ApJS/267/8)."""
SDSS_PHOTO = "external.sdssdr13_photoprimary"
SDSS_NEIGHBOUR = "gaiadr3.sdssdr13_best_neighbour"
SKYMAPPER_MASTER = "external.skymapperdr2_master"
SKYMAPPER_NEIGHBOUR = "gaiadr3.skymapperdr2_best_neighbour"
PASTEL = "B/pastel/pastel"
"""VizieR PASTEL (Soubiran et al. 2016); columns ID, RAJ2000, DEJ2000, Teff, e_Teff, logg, e_logg,
[Fe/H], e_[Fe/H], bibcode."""
SOS_SPECTRO = "sos_spectro.main"
"""SoS-Spectro parameters: not public, schema chosen by sos-vo (source_id, teff, e_teff, logg,
e_logg, feh, e_feh, n_surveys), see :data:`SOS_SPECTRO_COLUMNS`."""

PHOTOMETRY_TABLE = {"sdss": SDSS_PHOTO, "skymapper": SKYMAPPER_MASTER}
NEIGHBOUR_TABLE = {"sdss": SDSS_NEIGHBOUR, "skymapper": SKYMAPPER_NEIGHBOUR}
PHOTOMETRY_ID = {"sdss": "objid", "skymapper": "object_id"}
"""Identifier column of each photometric table (= ``original_ext_source_id`` of its best neighbour)."""

SDSS_NULL = -9999.0
"""SDSS's value for an unmeasured magnitude or error (SDSS DR13 schema browser)."""


def _c(name: str, dtype: str, unit: str | None, ucd: str | None, description: str) -> Column:
    return Column(name, dtype=dtype, unit=unit, ucd=ucd or "", description=description)


FLUX = "'electron'.s**-1"
PM = "mas.yr**-1"
KMS = "km.s**-1"
LOGG = "log(cm.s**-2)"
DEX = "'dex'"


def _band_flux(band: str, ucd_band: str) -> list[Column]:
    b = band
    return [
        _c(f"phot_{b}_n_obs", "int16", None, "meta.number", f"Number of observations contributing to {b.upper()} photometry"),
        _c(f"phot_{b}_mean_flux", "float64", FLUX, f"phot.flux;{ucd_band}", f"{b.upper()}-band mean flux"),
        _c(f"phot_{b}_mean_flux_error", "float32", FLUX, f"stat.error;phot.flux;{ucd_band}", f"Error on {b.upper()}-band mean flux"),
        _c(f"phot_{b}_mean_flux_over_error", "float32", None, f"stat.snr;phot.flux;{ucd_band}", f"{b.upper()}-band mean flux divided by its error"),
        _c(f"phot_{b}_mean_mag", "float32", "mag", f"phot.mag;{ucd_band}", f"{b.upper()}-band mean magnitude"),
    ]


def _gspphot(name: str, unit: str, ucd: str, what: str, lohi: bool = True) -> list[Column]:
    out = [_c(name, "float32", unit, ucd, f"{what} from GSP-Phot Aeneas best library using BP/RP spectra")]
    if lohi:
        out += [
            _c(f"{name}_lower", "float32", unit, f"{ucd};stat.min", f"Lower confidence level (16%) of {name}"),
            _c(f"{name}_upper", "float32", unit, f"{ucd};stat.max", f"Upper confidence level (84%) of {name}"),
        ]
    return out


def _with_error(name: str, dtype: str, unit: str | None, ucd: str, description: str) -> list[Column]:
    """A value and its error ``e_<name>`` (VizieR's naming), described as ``Error on <name>``,
    with the value's dtype and unit and the UCD ``stat.error;<ucd>``."""
    return [
        _c(name, dtype, unit, ucd, description),
        _c(f"e_{name}", dtype, unit, f"stat.error;{ucd}", f"Error on {name}"),
    ]


def _distance_posterior(kind: str, label: str) -> list[Column]:
    """Median, 16th and 84th percentile of one Bailer-Jones et al. (2021) distance posterior."""
    return [
        _c(f"r_med_{kind}", "float32", "pc", "pos.distance", f"Median of the {label} distance posterior"),
        _c(f"r_lo_{kind}", "float32", "pc", "pos.distance;stat.min", f"16th percentile of the {label} distance posterior"),
        _c(f"r_hi_{kind}", "float32", "pc", "pos.distance;stat.max", f"84th percentile of the {label} distance posterior"),
    ]


GAIA_SOURCE_COLUMNS: tuple[Column, ...] = (
    _c("solution_id", "int64", None, "meta.version", "Solution Identifier"),
    _c("designation", STR, None, "meta.id;meta.main", "Unique source designation (unique across all Data Releases)"),
    _c("source_id", "int64", None, "meta.id", "Unique source identifier (unique within a particular Data Release)"),
    _c("random_index", "int64", None, "meta.code", "Random index for use when selecting subsets"),
    _c("ref_epoch", "float64", "yr", "meta.ref;time.epoch", "Reference epoch"),
    _c("ra", "float64", "deg", "pos.eq.ra;meta.main", "Right ascension"),
    _c("ra_error", "float32", "mas", "stat.error;pos.eq.ra", "Standard error of right ascension"),
    _c("dec", "float64", "deg", "pos.eq.dec;meta.main", "Declination"),
    _c("dec_error", "float32", "mas", "stat.error;pos.eq.dec", "Standard error of declination"),
    _c("parallax", "float64", "mas", "pos.parallax.trig", "Parallax"),
    _c("parallax_error", "float32", "mas", "stat.error;pos.parallax.trig", "Standard error of parallax"),
    _c("parallax_over_error", "float32", None, "stat.snr;pos.parallax.trig", "Parallax divided by its standard error"),
    _c("pm", "float32", PM, "pos.pm;pos.eq", "Total proper motion"),
    _c("pmra", "float64", PM, "pos.pm;pos.eq.ra", "Proper motion in right ascension direction"),
    _c("pmra_error", "float32", PM, "stat.error;pos.pm;pos.eq.ra", "Standard error of proper motion in right ascension direction"),
    _c("pmdec", "float64", PM, "pos.pm;pos.eq.dec", "Proper motion in declination direction"),
    _c("pmdec_error", "float32", PM, "stat.error;pos.pm;pos.eq.dec", "Standard error of proper motion in declination direction"),
    _c("astrometric_params_solved", "int16", None, "meta.number", "Which parameters have been solved for?"),
    _c("visibility_periods_used", "int16", None, "meta.number", "Number of visibility periods used in Astrometric solution"),
    _c("astrometric_sigma5d_max", "float32", "mas", "stat;pos.errorEllipse", "The longest semi-major axis of the 5-d error ellipsoid"),
    _c("ipd_frac_multi_peak", "int16", None, "stat.value", "Percent of successful-IPD windows with more than one peak"),
    _c("ipd_frac_odd_win", "int16", None, "stat.value", "Percent of transits with truncated windows or multiple gate"),
    _c("ruwe", "float32", None, "stat.error", "Renormalised unit weight error"),
    _c("duplicated_source", "bool", None, "meta.code.status", "Source with multiple source identifiers"),
    *_band_flux("g", "em.opt"),
    *_band_flux("bp", "em.opt.B"),
    *_band_flux("rp", "em.opt.R"),
    _c("phot_bp_rp_excess_factor", "float32", None, "arith.factor;phot.flux;em.opt", "BP/RP excess factor"),
    _c("bp_rp", "float32", "mag", "phot.color;em.opt.B;em.opt.R", "BP - RP colour"),
    _c("bp_g", "float32", "mag", "phot.color;em.opt.B;em.opt", "BP - G colour"),
    _c("g_rp", "float32", "mag", "phot.color;em.opt;em.opt.R", "G - RP colour"),
    _c("radial_velocity", "float32", KMS, "spect.dopplerVeloc.opt;em.opt.I", "Radial velocity"),
    _c("radial_velocity_error", "float32", KMS, "stat.error;spect.dopplerVeloc.opt;em.opt.I", "Radial velocity error"),
    _c("vbroad", "float32", KMS, "spect.dopplerVeloc.opt;em.opt.I", "Spectral line broadening parameter"),
    _c("vbroad_error", "float32", KMS, "stat.error;spect.dopplerVeloc.opt;em.opt.I", "Uncertainty on the spectral line broadening"),
    _c("grvs_mag", "float32", "mag", "phot.mag;em.opt", "Integrated Grvs magnitude"),
    _c("phot_variable_flag", STR, None, "meta.code;src.var", "Photometric variability flag"),
    _c("l", "float64", "deg", "pos.galactic.lon", "Galactic longitude"),
    _c("b", "float64", "deg", "pos.galactic.lat", "Galactic latitude"),
    _c("ecl_lon", "float64", "deg", "pos.ecliptic.lon", "Ecliptic longitude"),
    _c("ecl_lat", "float64", "deg", "pos.ecliptic.lat", "Ecliptic latitude"),
    _c("in_qso_candidates", "bool", None, "meta.code.status", "Flag indicating the availability of additional information in the QSO candidates table"),
    _c("in_galaxy_candidates", "bool", None, "meta.code.status", "Flag indicating the availability of additional information in the galaxy candidates table"),
    _c("non_single_star", "int16", None, "meta.code.status", "Flag indicating the availability of additional information in the various Non-Single Star tables"),
    _c("has_xp_continuous", "bool", None, "meta.code.status", "Flag indicating the availability of mean BP/RP spectrum in continuous representation for this source"),
    *_gspphot("teff_gspphot", "K", "phys.temperature.effective", "Effective temperature"),
    *_gspphot("logg_gspphot", LOGG, "phys.gravity", "Surface gravity"),
    *_gspphot("mh_gspphot", DEX, "phys.abund.Z", "Iron abundance"),
    _c("distance_gspphot", "float32", "pc", "pos.distance;pos.eq", "Distance from GSP-Phot Aeneas best library using BP/RP spectra"),
    _c("ag_gspphot", "float32", "mag", "phys.absorption;em.opt", "Extinction in G band from GSP-Phot Aeneas best library using BP/RP spectra"),
    _c("ebpminrp_gspphot", "float32", "mag", "phot.color.excess", "Reddening E(GBP - GRP) from GSP-Phot Aeneas best library using BP/RP spectra"),
    _c("libname_gspphot", STR, None, "meta.note", "Name of library that achieves the highest mean log-posterior in MCMC samples"),
)

DISTANCE_COLUMNS: tuple[Column, ...] = (
    _c("source_id", "int64", None, "meta.id;meta.main", "Gaia (E)DR3 unique source identifier"),
    *_distance_posterior("geo", "geometric"),
    *_distance_posterior("photogeo", "photogeometric"),
    _c("flag", STR, None, "meta.code", "Additional information on the source (Bailer-Jones et al. 2021, Sect. 2.5)"),
)

ANDRAE_COLUMNS: tuple[Column, ...] = (
    _c("source_id", "int64", None, "meta.id;meta.main", "Gaia DR3 source identifier"),
    _c("catwise_w1", "float32", "mag", "phot.mag;em.IR.3-4um", "Apparent CatWISE 2020 W1 magnitude"),
    _c("catwise_w2", "float32", "mag", "phot.mag;em.IR.4-8um", "Apparent CatWISE 2020 W2 magnitude"),
    _c("in_training_sample", "bool", None, "meta.code", "Flag for membership in training sample"),
    _c("mh_xgboost", "float32", DEX, "phys.abund.Z", "XGBoost estimate of [M/H]"),
    _c("teff_xgboost", "float32", "K", "phys.temperature.effective", "XGBoost estimate of Teff"),
    _c("logg_xgboost", "float32", LOGG, "phys.gravity", "XGBoost estimate of log(g)"),
)

_SDSS_BANDS = ("u", "g", "r", "i", "z")
_SM_BANDS = ("u", "v", "g", "r", "i", "z")
_BAND_UCD = {"u": "em.opt.U", "v": "em.opt.U", "g": "em.opt.B", "r": "em.opt.R", "i": "em.opt.I", "z": "em.opt.I"}

SDSS_PHOTO_COLUMNS: tuple[Column, ...] = (
    _c("objid", "int64", None, "meta.id;meta.main", "Unique SDSS identifier composed from [skyVersion,rerun,run,camcol,field,obj]"),
    _c("ra", "float64", "deg", "pos.eq.ra;meta.main", "J2000 Right Ascension (r-band)"),
    _c("dec", "float64", "deg", "pos.eq.dec;meta.main", "J2000 Declination (r-band)"),
    _c("type", "int16", None, "src.class", "Type classification of the object (star, galaxy, cosmic ray, etc.); 6 = STAR"),
    _c("clean", "int32", None, "meta.code.qual", "Clean photometry flag (1=clean, 0=unclean)"),
    *(_c(f"psfmag_{b}", "float32", "mag", f"phot.mag;{_BAND_UCD[b]}", f"PSF magnitude, {b} band (-9999: not measured)") for b in _SDSS_BANDS),
    *(_c(f"psfmagerr_{b}", "float32", "mag", f"stat.error;phot.mag;{_BAND_UCD[b]}", f"PSF magnitude error, {b} band (-9999: not measured)") for b in _SDSS_BANDS),
    *(_c(f"extinction_{b}", "float32", "mag", f"phys.absorption;{_BAND_UCD[b]}", f"Extinction in {b}-band") for b in _SDSS_BANDS),
)

_NEIGHBOUR_TAIL: tuple[Column, ...] = (
    _c("original_ext_source_id", "int64", None, "meta.id.cross", "Original External Catalogue source identifier"),
    _c("angular_distance", "float32", "arcsec", "pos.angDistance", "Angular Distance between the two sources"),
    _c("number_of_neighbours", "int16", None, "meta.number", "Number of neighbours in External Catalogue"),
    _c("number_of_mates", "int16", None, "meta.number", "Number of mates in Gaia Catalogue"),
    _c("xm_flag", "int16", None, "meta.code.status", "Cross-match algorithm flag"),
)

SDSS_NEIGHBOUR_COLUMNS: tuple[Column, ...] = (
    _c("source_id", "int64", None, "meta.id;meta.main", "Unique Gaia source identifier"),
    _c("clean_sdssdr13_oid", "int32", None, "meta.id.cross", "External Catalogue source identifier"),
    *_NEIGHBOUR_TAIL,
)

SKYMAPPER_NEIGHBOUR_COLUMNS: tuple[Column, ...] = (
    _c("source_id", "int64", None, "meta.id;meta.main", "Unique Gaia source identifier"),
    *_NEIGHBOUR_TAIL,
)

SKYMAPPER_MASTER_COLUMNS: tuple[Column, ...] = (
    _c("object_id", "int64", None, "meta.id;meta.main", "Global unique object ID in the master table"),
    _c("raj2000", "float64", "deg", "pos.eq.ra;meta.main", "Mean ICRS Right Ascension of the object"),
    _c("dej2000", "float64", "deg", "pos.eq.dec;meta.main", "Mean ICRS Declination of the object"),
    _c("flags", "int16", None, "meta.code", "Bitwise OR of Source Extractor flags across all observations"),
    _c("class_star", "float32", None, "src.class.starGalaxy", "Maximum stellarity index from photometry table (between 0=no star and 1=star)"),
    _c("flags_psf", "int32", None, "meta.code", "Bitmask indicating whether photometry is likely biased by neighbours at >1%; bits 0-5 correspond to filters z-u"),
    *(_c(f"{b}_flags", "int16", None, "meta.code", f"Bitwise OR of Source Extractor flags from {b}-band measurements in photometry table") for b in _SM_BANDS),
    *(_c(f"{b}_ngood", "int16", None, "meta.number", f"Number of {b}-band observations used") for b in _SM_BANDS),
    *(x for b in _SM_BANDS for x in (
        _c(f"{b}_psf", "float32", "mag", f"phot.mag;{_BAND_UCD[b]}", f"Mean {b}-band PSF magnitude"),
        _c(f"e_{b}_psf", "float32", "mag", f"stat.error;phot.mag;{_BAND_UCD[b]}", f"Error in {b}-band PSF magnitude"),
    )),
    _c("ebmv_sfd", "float32", "mag", "phot.color.excess", "E(B-V) from Schlegel+1998 extinction maps at the ICRS coordinates"),
)

PASTEL_COLUMNS: tuple[Column, ...] = (
    _c("ID", STR, None, "meta.id;meta.main", "Star identifier"),
    _c("RAJ2000", "float64", "deg", "pos.eq.ra;meta.main", "Right ascension (J2000, epoch 2000)"),
    _c("DEJ2000", "float64", "deg", "pos.eq.dec;meta.main", "Declination (J2000, epoch 2000)"),
    *_with_error("Teff", "float32", "K", "phys.temperature.effective", "Effective temperature"),
    *_with_error("logg", "float32", "[cm/s2]", "phys.gravity", "Surface gravity"),
    *_with_error("[Fe/H]", "float32", "[-]", "phys.abund.Fe", "Metallicity"),
    _c("bibcode", STR, None, "meta.bib.bibcode", "Bibcode of the reference"),
)

SOS_SPECTRO_COLUMNS: tuple[Column, ...] = (
    _c("source_id", "int64", None, "meta.id;meta.main", "Gaia DR3 source identifier"),
    *_with_error("teff", "float32", "K", "phys.temperature.effective", "SoS-Spectro effective temperature (not recalibrated)"),
    *_with_error("logg", "float32", "dex", "phys.gravity", "SoS-Spectro surface gravity log10(g/[cm s-2]) (not recalibrated)"),
    *_with_error("feh", "float32", "dex", "phys.abund.Fe", "SoS-Spectro [Fe/H] (not recalibrated)"),
    _c("n_surveys", "int16", None, "meta.number", "Number of spectroscopic surveys combined"),
)

TABLE_COLUMNS: dict[str, tuple[Column, ...]] = {
    GAIA_SOURCE: GAIA_SOURCE_COLUMNS,
    GAIA_DISTANCE: DISTANCE_COLUMNS,
    ANDRAE: ANDRAE_COLUMNS,
    SDSS_PHOTO: SDSS_PHOTO_COLUMNS,
    SDSS_NEIGHBOUR: SDSS_NEIGHBOUR_COLUMNS,
    SKYMAPPER_MASTER: SKYMAPPER_MASTER_COLUMNS,
    SKYMAPPER_NEIGHBOUR: SKYMAPPER_NEIGHBOUR_COLUMNS,
    PASTEL: PASTEL_COLUMNS,
    SOS_SPECTRO: SOS_SPECTRO_COLUMNS,
}
"""Every archive table sos-vo knows, with its columns in archive order (the simulator writes all of them)."""

TABLE_DESCRIPTIONS = {
    GAIA_SOURCE: "Gaia DR3 main source catalogue",
    GAIA_DISTANCE: "Bailer-Jones et al. (2021) geometric and photogeometric distances",
    ANDRAE: "Andrae et al. (2023) XGBoost [M/H], Teff, log g (Table 1)",
    SDSS_PHOTO: "SDSS DR13 PhotoPrimary",
    SDSS_NEIGHBOUR: "Gaia DR3 x SDSS DR13 best neighbours",
    SKYMAPPER_MASTER: "SkyMapper DR2 master table",
    SKYMAPPER_NEIGHBOUR: "Gaia DR3 x SkyMapper DR2 best neighbours",
    PASTEL: "PASTEL catalogue of stellar atmospheric parameters (Soubiran et al. 2016)",
    SOS_SPECTRO: "SoS-Spectro stellar parameters (schema chosen by sos-vo; keyed by Gaia DR3 source_id)",
}


def column_spec(table: str, name: str) -> Column:
    """The specification of column ``name`` of archive table ``table`` (a :data:`TABLE_COLUMNS` key).

    Raises
    ------
    KeyError
        If the table or the column is not described here (the message names both).
    """
    for spec in TABLE_COLUMNS[table]:
        if spec.name == name:
            return spec
    raise KeyError(f"{table}: no column {name!r} in sos_vo.schema.archive "
                   f"(known: {', '.join(s.name for s in TABLE_COLUMNS[table])})")


def astropy_unit(text: str) -> u.UnitBase:
    """Read a unit string of this schema as an astropy unit.

    The Gaia archive writes VOUnits, which astropy's default (generic) parser does not always
    read: VOUnit quotes names outside its standard (``'dex'``, ``'electron'``) although astropy
    knows them, and ``log(X)`` (the Gaia ``log(cm.s**-2)`` of log g) is read as ``dex(X)``.
    Other strings are read as a VOUnit, else in VizieR's CDS syntax (PASTEL's ``[cm/s2]``),
    else in astropy's generic syntax (``dex``).

    Raises
    ------
    ValueError
        If no syntax reads ``text``.
    """
    import astropy.units as u  # here: reading the table names needs no astropy

    text = text.strip().replace("'", "")
    if text.startswith("log(") and text.endswith(")"):
        return u.dex(u.Unit(text[4:-1], format="vounit"))
    for syntax in ("vounit", "cds"):
        try:
            return u.Unit(text, format=syntax)
        except ValueError:
            pass
    return u.Unit(text)
