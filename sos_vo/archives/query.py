"""Query any sky region end to end: archives -> joined table -> cuts -> model -> catalogue.

:func:`query_region` is what ``sos-vo query`` runs:

1. check everything before any job is sent: the survey, the region (parsable, non-zero area,
   not too large), the model folder, the output path, the TAP service (``/capabilities``);
2. fetch, per survey, the joined Gaia DR3 + distances + Andrae [M/H] + photometry rows of
   the region from the Gaia archive (``sos_vo/tap_queries/gaia_<survey>_joined.adql``: joins, the
   one-to-one rule and the Gaia cuts run on the server), chunked and cached
   (:mod:`.chunking`);
3. rebuild the archive tables from those rows and run the pipeline on them exactly as on
   tables from anywhere else: :func:`sos_vo.prepare.crossmatch.join_survey` (so the joined
   table has the same columns and null handling), the cuts with their report, the features;
4. with a model, predict with it and build the catalogue (T25 Table 6); write ``out``.

``tap_url`` points every service at another TAP server holding the same tables (a mirror,
the local DaCHS of the tests).
"""

from __future__ import annotations

import logging
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from astropy.table import Table

from ..archive_schema import astropy_unit
from ..exceptions import EmptyInputError
from ..io import atomic_path, check_writable
from ..schema import GAIA_COLUMNS, SURVEY_COLUMNS, SURVEY_ID_COLUMN, check_survey
from . import gaia
from .chunking import run_chunked
from .exceptions import ArchiveError
from .regions import Region, as_region
from .tables import ARCHIVE_TABLES, NEIGHBOUR_TABLE, PHOTO_ID_COLUMN, PHOTO_TABLE

log = logging.getLogger(__name__)

SURVEY_CHOICES = ("sdss", "skymapper", "both")
NEIGHBOUR_EXTRA = ("angular_distance", "xm_flag")
PHOTO_EXTRA = {"sdss": (), "skymapper": ("flags_psf",)}


@dataclass
class QueryResult:
    """What :func:`query_region` produced."""

    region: Region
    surveys: tuple[str, ...]
    rows: dict[str, Table] = field(default_factory=dict)
    """Server rows per survey (joined and cut on the server)."""
    prepared: dict[str, Any] = field(default_factory=dict)
    """Per survey, :class:`sos_vo.pipeline.PreparedSurvey` (joined, cut report, features)."""
    catalogue: Table | None = None
    outputs: list[Path] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    """Surveys of ``survey="both"`` left out because no row of theirs was usable, and why
    (e.g. SkyMapper, a southern survey, in a northern field); ``surveys`` lists the others."""


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
    :mod:`sos_vo.archives.tables` with :func:`sos_vo.archive_schema.astropy_unit`
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


def _model_folders(model, surveys: tuple[str, ...]) -> dict[str, Path]:
    """``model=False`` / ``"none"``: no prediction; otherwise see :func:`resolve_models`."""
    if model is False or model == "none":
        return {}
    from ..ml.registry import resolve_models

    return resolve_models(model, surveys)


CUT_TABLE_FORMATS = {".vot": "votable", ".xml": "votable", ".fits": "fits", ".ecsv": "ascii.ecsv",
                     ".csv": "ascii.csv"}
"""astropy formats of the joined, cut tables written without a model, by suffix of ``out``."""


def _cut_table_format(path: Path) -> str:
    fmt = CUT_TABLE_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ArchiveError(f"cannot tell the format of {path} (use .vot, .fits, .ecsv or .csv)")
    return fmt


def _check_out(out_path: Path, surveys: tuple[str, ...], with_model: bool,
               overwrite: bool) -> None:
    """Refuse an ``out`` whose format or location cannot be written, before any TAP request.

    With a model the catalogue is written by :func:`sos_vo.publish.writers.write_catalogue`
    (VOTable, FITS, or a CDS folder for a path without suffix); without one the cut tables are
    written by astropy in any format of :data:`CUT_TABLE_FORMATS`.
    """
    if with_model:
        from ..publish.writers import SUFFIX_FORMATS, guess_format

        try:
            fmt = guess_format(out_path)
        except ValueError:
            raise ArchiveError(
                f"cannot write the catalogue to {out_path}: use {', '.join(sorted(SUFFIX_FORMATS))} "
                "(no suffix: a CDS folder), or --no-model for the cut table(s) in "
                f"{', '.join(CUT_TABLE_FORMATS)}") from None
        check_writable(out_path, overwrite, kind="folder" if fmt == "cds" else "file")
        return
    several = len(surveys) > 1
    for s in surveys:
        path = _per_survey_path(out_path, s, several)
        _cut_table_format(path)
        check_writable(path, overwrite, kind="file")


def _write(table: Table, path: Path, overwrite: bool) -> Path:
    fmt = _cut_table_format(path)
    with atomic_path(path, overwrite=overwrite) as tmp:
        table.write(tmp, format=fmt)
    return path


def _per_survey_path(out: Path, survey: str, several: bool) -> Path:
    return out.with_name(f"{out.stem}_{survey}{out.suffix}") if several else out


def query_region(region, survey: str = "sdss", tap_url: str | None = None, model=None,
                 out: str | os.PathLike | None = None, *, radius=None, overwrite: bool = False,
                 server_cuts: bool = True, tables: dict[str, str] | None = None,
                 chunk_order: int | None = None, cache_dir: str | os.PathLike | None | bool = None,
                 use_async: bool = True, progress: bool = True, max_radius_deg: float | None = None,
                 **client_kwargs) -> QueryResult:
    """Fetch a region from the archives, apply the cuts, predict, write the catalogue.

    Parameters
    ----------
    region
        Anything :func:`sos_vo.archives.regions.as_region` accepts (string, file, regions
        object, SkyCoord with ``radius``, MOC).
    survey : {"sdss", "skymapper", "both"}
    tap_url : str, optional
        TAP server holding the Gaia archive tables (default ``conf.gaia_tap_url``).
    model : path, dict, "installed", None or False
        Model specification (:func:`sos_vo.ml.registry.resolve_models`; None = the installed
        ensembles).  ``False`` stops the run after the cuts and ``out`` receives the joined,
        cut table(s).
    out : path, optional
        Output file (.vot, .fits, .ecsv, .csv); with ``survey="both"`` and no model, one
        file per survey (``<stem>_<survey><suffix>``).
    overwrite : bool
        Replace existing outputs.
    server_cuts : bool
        Apply the Gaia cuts in the ADQL (default) or only locally.
    tables : dict, optional
        Table-name overrides by logical key (:mod:`sos_vo.archives.conf`).
    chunk_order, cache_dir, use_async, progress
        See :func:`sos_vo.archives.chunking.run_chunked`.
    client_kwargs
        ``timeout``, ``row_limit``, ``retries``, ``backoff`` for :class:`TapClient`.
    """
    from ..pipeline import build_final_catalogue, predict_survey, prepare_survey

    surveys = surveys_for(survey)
    reg = as_region(region, radius=radius, max_radius_deg=max_radius_deg)
    folders = _model_folders(model, surveys)
    out_path = Path(out) if out is not None else None
    if out_path is not None:
        _check_out(out_path, surveys, bool(folders), overwrite)
    client = gaia.client(tap_url, **client_kwargs)
    client.check_service()

    requested = surveys
    result = QueryResult(region=reg, surveys=surveys)
    for s in requested:
        rows = fetch_rows(reg, s, server_cuts=server_cuts, tables=tables, chunk_order=chunk_order,
                          cache_dir=cache_dir, use_async=use_async, progress=progress,
                          client=client)
        result.rows[s] = rows
        log.info("%s: %d joined rows from %s", s, len(rows), client.url)
        try:
            result.prepared[s] = prepare_survey(archive_tables_from_rows(rows, s), s,
                                                pastel_augmentation=False)
        except EmptyInputError as exc:
            if len(requested) == 1:
                raise
            # survey="both" where one survey does not cover the region: the other one goes on
            result.skipped[s] = str(exc)
            warnings.warn(f"{exc}: the catalogue has no {s} rows", stacklevel=2)
            continue
        result.prepared[s].cut_report.mark_server_side(gaia.server_side_cuts(server_cuts))
        log.info("%s cuts:\n%s", s, result.prepared[s].cut_report)
    surveys = result.surveys = tuple(s for s in requested if s in result.prepared)
    if not surveys:
        raise EmptyInputError(f"no survey has usable rows in this region: "
                              f"{'; '.join(result.skipped.values())}")
    if folders:
        predictions = {s: predict_survey(result.prepared[s], folders[s], progress=progress)
                       for s in surveys}
        result.catalogue = build_final_catalogue(predictions, spectro=None)
        if out_path is not None:
            from ..publish.provenance import catalogue_provenance
            from ..publish.writers import write_catalogue

            provenance = {
                "archives": (f"TAP {client.url}",),
                "releases": ("Gaia DR3", "Bailer-Jones et al. 2021 (EDR3 distances)",
                             "Andrae et al. 2023",
                             *(RELEASES[s] for s in surveys)),
                **catalogue_provenance({s: folders[s] for s in surveys},
                                       any(result.prepared[s].synthetic for s in surveys)),
                # the ADQL of the whole region; chunked runs add a source_id range per chunk
                "queries": tuple(gaia.joined_query(s, reg, server_cuts=server_cuts, tables=tables)
                                 for s in surveys),
            }
            result.outputs.append(write_catalogue(result.catalogue, out_path, overwrite=overwrite,
                                                  provenance=provenance))
    elif out_path is not None:
        for s in surveys:
            path = _per_survey_path(out_path, s, len(requested) > 1)
            result.outputs.append(_write(result.prepared[s].joined, path, overwrite))
    return result
