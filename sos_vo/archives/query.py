"""Fetch the joined rows of a sky region and give them back as archive tables.

The archive layer only fetches: :func:`fetch_rows` runs, per survey, the joined Gaia DR3 +
distances + Andrae [M/H] + photometry query of the region on the Gaia archive
(``sos_vo/tap_queries/gaia_<survey>_joined.adql``: joins, the one-to-one rule and the Gaia cuts
run on the server), chunked and cached (:mod:`.chunking`); :func:`archive_tables_from_rows`
splits those rows back into the archive tables, so that the pipeline treats them exactly as
tables from anywhere else.  The end-to-end run of ``sos-vo query`` (checks, fetch, cuts,
prediction, writing) is :func:`sos_vo.pipeline.query_region`.

``tap_url`` points every service at another TAP server holding the same tables (a mirror,
the local DaCHS of the tests).
"""

from __future__ import annotations

import logging
import os

import numpy as np
from astropy.table import Table

from ..schema import GAIA_COLUMNS, SURVEY_COLUMNS, SURVEY_ID_COLUMN, check_survey
from ..schema.archive import astropy_unit
from . import gaia
from .chunking import run_chunked
from .exceptions import ArchiveError
from .regions import Region
from .tables import ARCHIVE_TABLES, NEIGHBOUR_TABLE, PHOTO_ID_COLUMN, PHOTO_TABLE

log = logging.getLogger(__name__)

SURVEY_CHOICES = ("sdss", "skymapper", "both")
NEIGHBOUR_EXTRA = ("angular_distance", "xm_flag")
PHOTO_EXTRA = {"sdss": (), "skymapper": ("flags_psf",)}


def surveys_for(survey: str) -> tuple[str, ...]:
    """``"both"`` -> both surveys; else the checked survey name."""
    if survey == "both":
        return ("sdss", "skymapper")
    try:
        return (check_survey(survey),)
    except ValueError:
        raise ArchiveError(f"unknown survey {survey!r}: expected one of "
                           f"{', '.join(SURVEY_CHOICES)}") from None


def _archive_units(survey: str) -> dict[str, str]:
    """Unit of every joined column, from the archive column specifications."""
    units = {}
    for key in ("gaia_source", "distance", NEIGHBOUR_TABLE[survey], PHOTO_TABLE[survey]):
        units.update({c.name: c.unit for c in ARCHIVE_TABLES[key].columns if c.unit})
    units["mh_andrae"] = next(c.unit for c in ARCHIVE_TABLES["andrae"].columns
                              if c.name == "mh_xgboost")
    return units


def restore_units(rows: Table, survey: str) -> Table:
    """Set the archive units on server rows (in place) and return them.

    VOTable units pass through the VOUnit syntax, which has no ``dex``; astropy then reads
    ``'dex'`` or ``log(cm.s**-2)`` as unrecognised units, so the units are re-read from
    :mod:`sos_vo.archives.tables` with :func:`sos_vo.schema.archive.astropy_unit`
    (``'dex'`` -> ``u.dex``, ``log(cm.s**-2)`` -> ``dex(cm / s2)``).
    """
    for name, unit in _archive_units(survey).items():
        if name in rows.colnames:
            rows[name].unit = astropy_unit(unit)
    return rows


def archive_tables_from_rows(rows: Table, survey: str) -> dict[str, Table]:
    """Split joined server rows back into the archive tables (keyed by real name).

    Only the rows and columns the join returned are present; the tables can be passed to
    :func:`sos_vo.prepare.crossmatch.join_survey` or :func:`sos_vo.pipeline.prepare_survey`.
    """
    check_survey(survey)
    rows = restore_units(rows.copy(copy_data=False), survey)
    sid = rows["source_id"]
    out = {ARCHIVE_TABLES["gaia_source"].name: rows[list(GAIA_COLUMNS)],
           ARCHIVE_TABLES["distance"].name: rows[["source_id", "r_med_geo"]]}
    has_mh = ~np.ma.getmaskarray(rows["mh_andrae"])
    andrae = Table({"source_id": sid[has_mh], "mh_xgboost": rows["mh_andrae"][has_mh]})
    out[ARCHIVE_TABLES["andrae"].name] = andrae
    id_joined, id_archive = SURVEY_ID_COLUMN[survey], PHOTO_ID_COLUMN[survey]
    nb = Table({"source_id": sid, "original_ext_source_id": rows[id_joined],
                "number_of_neighbours": rows["number_of_neighbours"],
                "number_of_mates": rows["number_of_mates"]})
    for c in NEIGHBOUR_EXTRA:
        if c in rows.colnames:
            nb[c] = rows[c]
    out[ARCHIVE_TABLES[NEIGHBOUR_TABLE[survey]].name] = nb
    cols = list(dict.fromkeys([*SURVEY_COLUMNS[survey],
                               *(c for c in PHOTO_EXTRA[survey] if c in rows.colnames)]))
    photo = rows[cols]
    photo.rename_column(id_joined, id_archive)
    out[ARCHIVE_TABLES[PHOTO_TABLE[survey]].name] = photo
    for t in out.values():
        t.meta.clear()
    return out


def fetch_rows(region: Region, survey: str, *, tap_url: str | None = None,
               server_cuts: bool = True, tables: dict[str, str] | None = None,
               chunk_order: int | None = None, cache_dir: str | os.PathLike | None | bool = None,
               use_async: bool = True, progress: bool = True, client=None,
               **client_kwargs) -> Table:
    """Joined rows of ``region`` for one survey, straight from the Gaia archive (or mirror)."""
    check_survey(survey)
    client = client or gaia.client(tap_url, **client_kwargs)
    client.check_service()
    return run_chunked(
        client, lambda chunk: gaia.joined_query(survey, region, chunk, server_cuts=server_cuts,
                                                tables=tables),
        region, order=chunk_order, cache_dir=cache_dir, use_async=use_async, progress=progress,
        description=f"Gaia x {survey}")


RELEASES = {"sdss": "SDSS DR13 (PhotoPrimary, Gaia DR3 best neighbours)",
            "skymapper": "SkyMapper DR2 (master, Gaia DR3 best neighbours)"}
"""Data releases written into the catalogue's provenance."""


def provenance(surveys: tuple[str, ...], region: Region, client_url: str, *,
               server_cuts: bool = True, tables: dict[str, str] | None = None) -> dict:
    """Archives, releases and ADQL of a region query, for the catalogue's provenance (the
    model versions and the SYNTHETIC marker come from
    :func:`sos_vo.publish.provenance.catalogue_provenance`)."""
    return {
        "archives": (f"TAP {client_url}",),
        "releases": ("Gaia DR3", "Bailer-Jones et al. 2021 (EDR3 distances)", "Andrae et al. 2023",
                     *(RELEASES[s] for s in surveys)),
        # the ADQL of the whole region; chunked runs add a source_id range per chunk
        "queries": tuple(gaia.joined_query(s, region, server_cuts=server_cuts, tables=tables)
                         for s in surveys),
    }
