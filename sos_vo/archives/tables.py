"""The archive tables sos-vo reads: their real names and the columns it uses.

Each :class:`ArchiveTable` names one table under a *logical key* (``gaia_source``,
``sdss_photo``, ...), its real name in the archive that serves it, and the columns sos-vo
selects, with the archive's own names, types, units and UCDs.  The ADQL templates in
``tap_queries/`` select exactly these columns; the DaCHS fixture mirror used by the tests
(``tools/make_dachs_fixtures.py``) publishes exactly these columns under the same names.

Sources of the names (checked against the archives' data models):

* ESA Gaia archive, Gaia DR3 data model (Gaia DR3 documentation, chap. 20 "Gaia archive",
  ``gaia_source``, ``sdssdr13_best_neighbour``, ``skymapperdr2_best_neighbour``) and its
  ``external`` schema (``gaiaedr3_distance``: Bailer-Jones et al. 2021;
  ``sdssdr13_photoprimary``: SDSS DR13 PhotoPrimary, lower-case names;
  ``skymapperdr2_master``: SkyMapper DR2 ``dr2.master`` replicated from NCI;
  ``xgboost_table1``: Andrae et al. 2023, ApJS 267, 8, table 1).
* The best-neighbour tables link to the external catalogue through
  ``original_ext_source_id`` (= SDSS ``objid`` / SkyMapper ``object_id``); the one-to-one
  rule of T25 Sect. 2.2-2.3 uses ``number_of_neighbours`` (SDSS/SkyMapper sources
  compatible with the Gaia source) and ``number_of_mates`` (other Gaia sources sharing the
  same best neighbour).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..schema import BANDS


@dataclass(frozen=True)
class ArchiveColumn:
    """One column of an archive table: name, ADQL/PostgreSQL type, unit, UCD, description."""

    name: str
    type: str
    unit: str | None = None
    ucd: str = ""
    description: str = ""


@dataclass(frozen=True)
class ArchiveTable:
    """An archive table: logical key, service, real qualified name and the columns used."""

    key: str
    service: str
    name: str
    columns: tuple[ArchiveColumn, ...]
    description: str
    ra_column: str | None = None
    dec_column: str | None = None
    primary: str | None = None

    @property
    def schema_name(self) -> str:
        """The schema part of :attr:`name` (``gaiadr3`` in ``gaiadr3.gaia_source``)."""
        return self.name.split(".", 1)[0].strip('"')

    @property
    def table_name(self) -> str:
        """The table part of :attr:`name`."""
        return self.name.split(".", 1)[1].strip('"')

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)


C = ArchiveColumn
_MAG = "phot.mag;em.opt"

GAIA_SOURCE = ArchiveTable(
    "gaia_source", "gaia", "gaiadr3.gaia_source",
    (
        C("source_id", "bigint", None, "meta.id;meta.main",
          "Gaia DR3 source identifier (encodes the HEALPix level-12 nested index: source_id // 2**35)"),
        C("ra", "double precision", "deg", "pos.eq.ra;meta.main", "Right ascension (ICRS, J2016.0)"),
        C("dec", "double precision", "deg", "pos.eq.dec;meta.main", "Declination (ICRS, J2016.0)"),
        C("l", "double precision", "deg", "pos.galactic.lon", "Galactic longitude"),
        C("b", "double precision", "deg", "pos.galactic.lat", "Galactic latitude"),
        C("parallax", "double precision", "mas", "pos.parallax.trig", "Parallax"),
        C("parallax_error", "real", "mas", "stat.error;pos.parallax.trig", "Parallax error"),
        C("astrometric_sigma5d_max", "real", "mas", "stat.error", "5-d astrometric error, max axis"),
        C("ruwe", "real", None, "stat.error", "Renormalised unit weight error"),
        C("ipd_frac_multi_peak", "smallint", None, "meta.number",
          "Percent of windows with more than one peak"),
        C("ipd_frac_odd_win", "smallint", None, "meta.number",
          "Percent of transits with truncated or multiple windows"),
        C("non_single_star", "smallint", None, "meta.code.multip", "Flag: in a non-single-star table"),
        C("phot_g_mean_mag", "real", "mag", _MAG, "G-band mean magnitude"),
        C("phot_bp_mean_mag", "real", "mag", _MAG, "BP mean magnitude"),
        C("phot_rp_mean_mag", "real", "mag", _MAG, "RP mean magnitude"),
        C("phot_variable_flag", "text", None, "meta.code;src.var",
          "Photometric variability flag (VARIABLE, NOT_AVAILABLE, CONSTANT)"),
        C("in_qso_candidates", "boolean", None, "meta.code", "In the QSO candidates table"),
        C("in_galaxy_candidates", "boolean", None, "meta.code", "In the galaxy candidates table"),
        C("vbroad", "real", "km/s", "spect.rotVelocity", "Spectral line broadening"),
        *(C(f"{p}_gspphot{s}", "real", u, ucd, f"GSP-Phot {p} {s.strip('_') or 'value'}")
          for p, u, ucd in (("teff", "K", "phys.temperature.effective"),
                            ("logg", "dex", "phys.gravity"))
          for s in ("", "_lower", "_upper")),
    ),
    "Gaia DR3 main source table (Gaia Collaboration, Vallenari et al. 2023)",
    ra_column="ra", dec_column="dec", primary="source_id",
)

GAIA_DISTANCE = ArchiveTable(
    "distance", "gaia", "external.gaiaedr3_distance",
    (
        C("source_id", "bigint", None, "meta.id;meta.main", "Gaia (E)DR3 source identifier"),
        C("r_med_geo", "real", "pc", "pos.distance", "Median of the geometric distance posterior"),
        C("r_lo_geo", "real", "pc", "pos.distance;stat.min", "16th percentile, geometric"),
        C("r_hi_geo", "real", "pc", "pos.distance;stat.max", "84th percentile, geometric"),
    ),
    "Bailer-Jones et al. (2021) distances to Gaia EDR3 sources",
    primary="source_id",
)

ANDRAE = ArchiveTable(
    "andrae", "gaia", "external.xgboost_table1",
    (
        C("source_id", "bigint", None, "meta.id;meta.main", "Gaia DR3 source identifier"),
        C("mh_xgboost", "real", "dex", "phys.abund.Z", "XGBoost [M/H] (Andrae et al. 2023)"),
        C("teff_xgboost", "real", "K", "phys.temperature.effective", "XGBoost Teff"),
        C("logg_xgboost", "real", "dex", "phys.gravity", "XGBoost log g"),
        C("in_training_sample", "boolean", None, "meta.code", "Star in the XGBoost training sample"),
    ),
    "Andrae, Rix & Chandra (2023, ApJS 267, 8) table 1, as replicated in the Gaia archive",
    primary="source_id",
)


def _neighbour_table(key: str, survey: str, name: str) -> ArchiveTable:
    return ArchiveTable(
        key, "gaia", name,
        (
            C("source_id", "bigint", None, "meta.id;meta.main", "Gaia DR3 source identifier"),
            C("original_ext_source_id", "bigint", None, "meta.id.cross",
              f"Original {survey} source identifier"),
            C("angular_distance", "real", "arcsec", "pos.angDistance", "Gaia - external distance"),
            C("number_of_neighbours", "smallint", None, "meta.number",
              "Number of good neighbours in the external catalogue"),
            C("number_of_mates", "smallint", None, "meta.number",
              "Number of other Gaia sources with the same best neighbour"),
            C("xm_flag", "smallint", None, "meta.code", "Cross-match algorithm flag"),
        ),
        f"Gaia DR3 best neighbours in {survey} (Marrese et al. 2017, 2019)",
        primary="source_id",
    )


SDSS_NEIGHBOUR = _neighbour_table("sdss_neighbour", "SDSS DR13", "gaiadr3.sdssdr13_best_neighbour")
SKYMAPPER_NEIGHBOUR = _neighbour_table("skymapper_neighbour", "SkyMapper DR2",
                                       "gaiadr3.skymapperdr2_best_neighbour")

SDSS_PHOTO = ArchiveTable(
    "sdss_photo", "gaia", "external.sdssdr13_photoprimary",
    (
        C("objid", "bigint", None, "meta.id;meta.main", "SDSS DR13 objID"),
        C("ra", "double precision", "deg", "pos.eq.ra;meta.main", "Right ascension (J2000)"),
        C("dec", "double precision", "deg", "pos.eq.dec;meta.main", "Declination (J2000)"),
        C("type", "smallint", None, "src.class", "Morphological type (6 = STAR)"),
        C("clean", "integer", None, "meta.code.qual", "Clean photometry flag (1 = clean)"),
        *(C(f"psfmag_{b}", "real", "mag", _MAG, f"PSF magnitude in {b}") for b in BANDS["sdss"]),
        *(C(f"psfmagerr_{b}", "real", "mag", "stat.error;phot.mag", f"Error on psfmag_{b}")
          for b in BANDS["sdss"]),
        *(C(f"extinction_{b}", "real", "mag", "phys.absorption", f"SFD extinction in {b}")
          for b in BANDS["sdss"]),
    ),
    "SDSS DR13 PhotoPrimary (Albareti et al. 2017), Gaia archive copy",
    ra_column="ra", dec_column="dec", primary="objid",
)

SKYMAPPER_MASTER = ArchiveTable(
    "skymapper_master", "gaia", "external.skymapperdr2_master",
    (
        C("object_id", "bigint", None, "meta.id;meta.main", "SkyMapper DR2 object_id"),
        C("raj2000", "double precision", "deg", "pos.eq.ra;meta.main", "Mean ICRS right ascension"),
        C("dej2000", "double precision", "deg", "pos.eq.dec;meta.main", "Mean ICRS declination"),
        C("class_star", "real", None, "src.class.starGalaxy", "SExtractor stellarity"),
        C("flags", "smallint", None, "meta.code", "Bitwise OR of SExtractor flags"),
        C("flags_psf", "integer", None, "meta.code", "Bitwise OR of PSF photometry flags"),
        C("ebmv_sfd", "real", "mag", "phys.absorption", "E(B-V) from Schlegel et al. (1998)"),
        *(C(f"{b}_psf", "real", "mag", _MAG, f"Mean PSF magnitude in {b}")
          for b in BANDS["skymapper"]),
        *(C(f"e_{b}_psf", "real", "mag", "stat.error;phot.mag", f"Error on {b}_psf")
          for b in BANDS["skymapper"]),
        *(C(f"{b}_flags", "smallint", None, "meta.code", f"Flags in {b}") for b in BANDS["skymapper"]),
    ),
    "SkyMapper DR2 master table (Onken et al. 2019), Gaia archive copy",
    ra_column="raj2000", dec_column="dej2000", primary="object_id",
)

ARCHIVE_TABLES: dict[str, ArchiveTable] = {
    t.key: t for t in (GAIA_SOURCE, GAIA_DISTANCE, ANDRAE, SDSS_NEIGHBOUR, SKYMAPPER_NEIGHBOUR,
                       SDSS_PHOTO, SKYMAPPER_MASTER)
}
"""Every archive table sos-vo reads, by logical key."""

NEIGHBOUR_TABLE = {"sdss": "sdss_neighbour", "skymapper": "skymapper_neighbour"}
PHOTO_TABLE = {"sdss": "sdss_photo", "skymapper": "skymapper_master"}
PHOTO_ID_COLUMN = {"sdss": "objid", "skymapper": "object_id"}
