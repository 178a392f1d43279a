"""The archive tables sos-vo reads: their real names and the columns it uses.

Each :class:`ArchiveTable` names one table under a *logical key* (``gaia_source``,
``sdss_photo``, ...), its real name in the archive that serves it, and the columns sos-vo
selects.  This module chooses only *which* columns: each is the
:class:`~sos_vo.schema.column.Column` of :mod:`sos_vo.schema.archive` (the real archive schema,
shared with the simulator: dtype, ADQL type, unit, UCD, description), and the selections of the
Gaia source and photometric tables are the joined-table columns of
:mod:`sos_vo.schema.joined` under their archive names.  The ADQL templates in
``sos_vo/tap_queries/`` select these columns (``gaia_source``: all but ``pmra``, ``pmdec``, which only
the PASTEL comparison fetches, :func:`sos_vo.archives.gaia.astrometry_by_ids`); the DaCHS fixture mirror used by the tests
(``tools/make_dachs_fixtures.py``) publishes exactly these columns under the same names,
types, units and UCDs as the real archive.

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

from collections.abc import Iterable
from dataclasses import dataclass

from ..schema import GAIA_COLUMNS, SDSS_COLUMNS, SKYMAPPER_COLUMNS, SURVEY_ID_COLUMN
from ..schema import archive as archive_schema
from ..schema.column import Column


@dataclass(frozen=True)
class ArchiveTable:
    """An archive table: logical key, service, real qualified name and the columns used."""

    key: str
    service: str
    name: str
    columns: tuple[Column, ...]
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


def _columns(table: str, names: Iterable[str]) -> tuple[Column, ...]:
    """The columns ``names`` of archive table ``table``, as :mod:`sos_vo.schema.archive` describes them."""
    return tuple(archive_schema.column_spec(table, name) for name in names)


def _archive_names(joined: tuple[str, ...], survey: str, identifier_and_position: tuple[str, ...]
                   ) -> tuple[str, ...]:
    """Archive names of a photometric table's joined-table columns: the table's identifier and
    position columns, then ``joined`` without its renamed identifier (``sdss_objid``, ...)."""
    return identifier_and_position + tuple(c for c in joined if c != SURVEY_ID_COLUMN[survey])


def _gaia_source_names() -> tuple[str, ...]:
    """:data:`sos_vo.schema.GAIA_COLUMNS` with ``pmra``, ``pmdec`` after ``parallax_error``."""
    at = GAIA_COLUMNS.index("parallax_error") + 1
    return GAIA_COLUMNS[:at] + ("pmra", "pmdec") + GAIA_COLUMNS[at:]


def _table(key: str, name: str, names: Iterable[str], description: str,
           **positions: str) -> ArchiveTable:
    """An :class:`ArchiveTable` of the Gaia archive selecting ``names`` of table ``name``."""
    return ArchiveTable(key, "gaia", name, _columns(name, names), description, **positions)


GAIA_SOURCE = _table(
    "gaia_source", archive_schema.GAIA_SOURCE, _gaia_source_names(),
    "Gaia DR3 main source table (Gaia Collaboration, Vallenari et al. 2023)",
    ra_column="ra", dec_column="dec", primary="source_id",
)

GAIA_DISTANCE = _table(
    "distance", archive_schema.GAIA_DISTANCE,
    ("source_id", "r_med_geo", "r_lo_geo", "r_hi_geo"),
    "Bailer-Jones et al. (2021) distances to Gaia EDR3 sources",
    primary="source_id",
)

ANDRAE = _table(
    "andrae", archive_schema.ANDRAE,
    ("source_id", "mh_xgboost", "teff_xgboost", "logg_xgboost", "in_training_sample"),
    "Andrae, Rix & Chandra (2023, ApJS 267, 8) table 1, as replicated in the Gaia archive",
    primary="source_id",
)

_NEIGHBOUR_COLUMNS = ("source_id", "original_ext_source_id", "angular_distance",
                      "number_of_neighbours", "number_of_mates", "xm_flag")
"""Columns read from both best-neighbour tables (the one-to-one rule of T25 Sect. 2.2-2.3)."""

SDSS_NEIGHBOUR = _table(
    "sdss_neighbour", archive_schema.SDSS_NEIGHBOUR, _NEIGHBOUR_COLUMNS,
    "Gaia DR3 best neighbours in SDSS DR13 (Marrese et al. 2017, 2019)", primary="source_id",
)
SKYMAPPER_NEIGHBOUR = _table(
    "skymapper_neighbour", archive_schema.SKYMAPPER_NEIGHBOUR, _NEIGHBOUR_COLUMNS,
    "Gaia DR3 best neighbours in SkyMapper DR2 (Marrese et al. 2017, 2019)", primary="source_id",
)

SDSS_PHOTO = _table(
    "sdss_photo", archive_schema.SDSS_PHOTO,
    _archive_names(SDSS_COLUMNS, "sdss", ("objid", "ra", "dec")),
    "SDSS DR13 PhotoPrimary (Albareti et al. 2017), Gaia archive copy",
    ra_column="ra", dec_column="dec", primary="objid",
)

SKYMAPPER_MASTER = _table(
    "skymapper_master", archive_schema.SKYMAPPER_MASTER,
    _archive_names(SKYMAPPER_COLUMNS, "skymapper", ("object_id", "raj2000", "dej2000")),
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
PHOTO_ID_COLUMN = archive_schema.PHOTOMETRY_ID
