"""The SoS-ML chain, stage by stage, on archive-shaped tables.

``tables`` (archive name -> Table, from :mod:`sos_vo.simulate` or :mod:`sos_vo.archives`)
-> :func:`prepare_survey` (join, cuts, PASTEL recalibration and augmentation, features)
-> :func:`train_survey` (ensemble + train_area density, saved as one model folder)
-> :func:`predict_survey` (numpy-only prediction with e_ML, train_set, train_area)
-> :func:`build_final_catalogue` (T25 Table 6).

The CLI (:mod:`sos_vo.commands`) and :mod:`sos_vo.api` are thin layers over these functions.

This module is the top layer, the one place where the chain is composed: whole runs
(:func:`predict_catalogue`, :func:`query_region`, :func:`demo`) and the prediction of rows
that passed the cuts (:func:`predict_rows`, also used by the streaming
:class:`sos_vo.scale.stream.Predictor`) live here.  It imports the stages (archives, prepare,
labels, ml, catalogue, publish); no stage imports it, except :mod:`sos_vo.scale`, which sits
on top of it (see docs/architecture.md).
"""

from __future__ import annotations

import json
import logging
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from astropy.table import Table

from .catalogue.merge import build_catalogue, make_prediction_table
from .catalogue.train_area import TrainingAreaModel
from .exceptions import EmptyInputError, SchemaError
from .io import atomic_path, check_writable
from .labels.pastel import PASTEL_FLAG_COLUMN, augment_with_pastel
from .labels.recalibration import T25_TABLE1, LinearCorrection, recalibrate
from .ml.modelfolder import CUT_REPORT_FILE, TRAIN_AREA_FILE, ModelFolder  # noqa: F401
from .prepare.crossmatch import join_pastel, join_survey
from .prepare.cuts import MAX_TEFF_GSPPHOT, CutReport, apply_cuts, server_side_cuts
from .prepare.features import compute_features, feature_matrix
from .schema import LABELS, PASTEL_TABLE, SPEC_COLUMNS, SURVEY_ID_COLUMN, SURVEYS, check_survey

log = logging.getLogger(__name__)



@dataclass
class PreparedSurvey:
    """One survey's sample after join, cuts, label recalibration and features.

    Attributes
    ----------
    survey : str
    joined : astropy.table.Table
        Rows passing every cut, with recalibrated ``spec_*`` labels where known and the
        PASTEL augmentation flag.
    cut_report : CutReport
    features : astropy.table.Table
        T25 Table 2/3 feature columns, row-aligned with ``joined``.
    X : numpy.ndarray
        Network input (zero-filled features and presence flags), float32.
    input_names : list of str
        Names of the ``X`` columns.
    synthetic : bool
        Whether the input tables were made by :mod:`sos_vo.simulate`.
    """

    survey: str
    joined: Table
    cut_report: CutReport
    features: Table
    X: np.ndarray
    input_names: list[str]
    synthetic: bool = False
    provenance: dict[str, Any] = field(default_factory=dict)

    def labels(self) -> dict[str, np.ndarray]:
        """label -> spectroscopic label per row (NaN where the star has none)."""
        out = {}
        for k in LABELS:
            col = f"spec_{k}"
            if col not in self.joined.colnames:
                out[k] = np.full(len(self.joined), np.nan)
            else:
                out[k] = np.asarray(np.ma.filled(np.ma.asarray(self.joined[col], dtype=float), np.nan))
        return out

    def labelled(self) -> np.ndarray:
        """Boolean mask of rows with all three labels."""
        y = self.labels()
        return np.all([np.isfinite(y[k]) for k in LABELS], axis=0)


def tables_are_synthetic(tables: Mapping[str, Table]) -> bool:
    """True when every table says, in its metadata, that it comes from :mod:`sos_vo.simulate`."""
    return bool(tables) and all(bool(t.meta.get("SYNTHETIC", False)) for t in tables.values())


def _recalibrate_labelled(joined: Table, coefficients: Mapping[str, LinearCorrection]) -> Table:
    """Apply T25 Eq. 2 to the rows that carry all three SoS labels; others stay missing."""
    if not all(c in joined.colnames for c in SPEC_COLUMNS):
        return joined
    values = {k: np.ma.filled(np.ma.asarray(joined[f"spec_{k}"], dtype=float), np.nan) for k in LABELS}
    full = np.all([np.isfinite(values[k]) for k in LABELS], axis=0)
    out = joined.copy()
    for k in LABELS:
        out[f"spec_{k}"] = np.ma.MaskedArray(values[k], mask=~np.isfinite(values[k]))
        out[f"spec_{k}"].unit = joined[f"spec_{k}"].unit
    if full.any():
        fixed = recalibrate(out[full], dict(coefficients))
        for k in LABELS:
            col = np.asarray(out[f"spec_{k}"].filled(np.nan), dtype=float)
            col[full] = np.asarray(fixed[f"spec_{k}"], dtype=float)
            out[f"spec_{k}"] = np.ma.MaskedArray(col, mask=~np.isfinite(col))
            out[f"spec_{k}"].unit = joined[f"spec_{k}"].unit
    out.meta["recalibration"] = {k: vars(coefficients[k]) for k in LABELS}
    return out


def prepare_survey(tables: Mapping[str, Table], survey: str, *,
                   max_teff=MAX_TEFF_GSPPHOT,
                   recalibration: Mapping[str, LinearCorrection] | None = T25_TABLE1,
                   pastel_augmentation: bool = True) -> PreparedSurvey:
    """Join, cut, recalibrate the labels and compute the features of one survey.

    Parameters
    ----------
    tables
        Archive tables keyed by fully qualified name.
    survey
        ``"sdss"`` or ``"skymapper"``.
    max_teff
        teff_gspphot cut (T25: 9000 K; the SPIE paper: 7500 K).
    recalibration
        T25 Eq. 2 coefficients (default Table 1; None keeps the SoS labels as they are).
    pastel_augmentation
        Add PASTEL labels of metal-poor stars ([Fe/H] < -1) in the sample (T25 Sect. 3).
    """
    check_survey(survey)
    joined = join_survey(tables, survey, labels=True)
    if len(joined) == 0:
        raise EmptyInputError(f"{survey}: the join of Gaia DR3 with {survey} photometry has 0 rows")
    kept, report = apply_cuts(joined, survey, max_teff=max_teff)
    if len(kept) == 0:
        raise EmptyInputError(f"{survey}: no row survives the quality cuts ({report.n_input} in)")
    if recalibration is not None:
        kept = _recalibrate_labelled(kept, recalibration)
    if pastel_augmentation and PASTEL_TABLE in tables:
        matched = join_pastel(tables)
        if len(matched):
            kept = augment_with_pastel(kept, matched)
    features = compute_features(kept, survey)
    X, names = feature_matrix(features, survey)
    return PreparedSurvey(survey=survey, joined=kept, cut_report=report, features=features,
                          X=X, input_names=list(names), synthetic=tables_are_synthetic(tables))


def train_survey(prepared: PreparedSurvey, out: str | Path, *, n_members: int = 10,
                 options=None, seed: int = 0, progress: bool = True, overwrite: bool = False,
                 provenance: Mapping[str, Any] | None = None, raw_weights: bool = True,
                 fused: bool = False, checkpoint_dir: str | Path | None = None,
                 client=None, unit_members: int | None = None) -> Path:
    """Train the ensemble and the train_area density on the labelled rows; save one folder.

    ``fused=True`` trains all members x labels in one graph (:mod:`sos_vo.ml.fused`: same
    splits, losses and early stopping per network, several times faster).
    The folder (written atomically, :meth:`sos_vo.ml.modelfolder.ModelFolder.save`) holds the
    ensemble, the train_area density of the training inputs (:data:`TRAIN_AREA_FILE`), the
    cut report of the sample, the model card and the ``SHA256SUMS`` manifest.

    ``checkpoint_dir`` (a work folder, not ``out``) checkpoints every finished member, so a
    killed training started again trains only the missing members; ``client`` (a
    ``distributed.Client``) trains them as dask tasks.  Either one, or ``unit_members`` with
    ``fused``, goes through :func:`sos_vo.ml.checkpoint.train_members`: with ``fused`` in units of ``unit_members``
    members, each unit one fused numpy-engine run (default size
    :func:`~sos_vo.ml.checkpoint.default_unit_members`), else member by member on the
    per-network path.
    """
    # the per-network engine needs TensorFlow; the numpy engines and prediction do not
    from .ml.ensemble import train_ensemble

    mask = prepared.labelled()
    n = int(mask.sum())
    if n < 10 * max(n_members, 1):
        raise EmptyInputError(f"{prepared.survey}: only {n} labelled rows after the cuts; too few "
                              f"to train {n_members} members with an 80/10/10 split")
    X = prepared.X if mask.all() else prepared.X[mask]  # no copy of an all-labelled sample
    y = {k: v[mask] for k, v in prepared.labels().items()}
    ids = np.asarray(prepared.joined["source_id"], dtype=np.int64)[mask]
    prov = {"synthetic": prepared.synthetic, "survey": prepared.survey, "n_labelled": n,
            "pastel_augmented": int(np.sum(np.asarray(prepared.joined[PASTEL_FLAG_COLUMN])[mask]))
            if PASTEL_FLAG_COLUMN in prepared.joined.colnames else 0,
            "cuts": [dict(name=s.name, removed=int(s.n_removed)) for s in prepared.cut_report.steps]}
    prov.update(prepared.provenance)
    prov.update(provenance or {})
    if checkpoint_dir is not None or client is not None or (fused and unit_members is not None):
        from .ml.checkpoint import train_members

        ensemble = train_members(X, y, prepared.input_names, prepared.survey, n_members=n_members,
                                 options=options, seed=seed, progress=progress, row_ids=ids,
                                 provenance=prov, checkpoint_dir=checkpoint_dir, client=client,
                                 engine="fused" if fused else "per-network",
                                 unit_members=unit_members)
        prov["member_checkpoints"] = ensemble.provenance["member_checkpoints"]
    else:
        ensemble = train_ensemble(X, y, prepared.input_names, prepared.survey,
                                  n_members=n_members, options=options, seed=seed,
                                  progress=progress, row_ids=ids, provenance=prov, fused=fused)
    # train_area: density of the inputs that trained at least one member (T25 Sect. 5.2)
    in_train = (ensemble.membership == 0).any(axis=0)
    area = TrainingAreaModel.fit(X if in_train.all() else X[in_train],  # no copy when all
                                 feature_names=list(prepared.input_names),
                                 survey=prepared.survey, random_state=seed)
    out = Path(out)
    ModelFolder.save(out, ensemble, provenance=prov, train_area=area,
                     cut_report=prepared.cut_report.to_table(), raw_weights=raw_weights,
                     overwrite=overwrite)
    log.info("saved %s ensemble to %s", prepared.survey, out)
    return out


def _model_folder(model_folder: str | Path | ModelFolder) -> ModelFolder:
    """A :class:`ModelFolder` from a folder, a ModelFolder or the name of an installed model."""
    if isinstance(model_folder, ModelFolder):
        return model_folder
    from .ml.registry import find_model

    return ModelFolder(find_model(model_folder))


def training_source_ids(model_folder: str | Path | ModelFolder) -> np.ndarray:
    """Gaia DR3 source_ids of the rows used to train (any member's training split) a model.

    ``model_folder``: a model folder, or the name of an installed model.
    """
    return _model_folder(model_folder).training_source_ids()


def predict_survey(prepared: PreparedSurvey, model_folder: str | Path | ModelFolder, *,
                   data_is_real: bool | None = None, progress: bool = False) -> Table:
    """Predict Teff, log g, [Fe/H] and e_ML for every row of a prepared sample.

    ``model_folder`` is a model folder or the name of an installed model
    (:mod:`sos_vo.ml.registry`).  Uses only numpy
    (:meth:`sos_vo.ml.modelfolder.ModelFolder.load_ensemble`).  ``data_is_real`` defaults
    to ``not prepared.synthetic``: a synthetic model applied to real data warns loudly.
    """
    folder = _model_folder(model_folder)
    model = folder.load_ensemble(survey=prepared.survey)
    if data_is_real is None:
        data_is_real = not prepared.synthetic
    return predict_rows(prepared.joined, prepared.survey, prepared.X, prepared.input_names, model,
                        folder.train_area(), folder.training_source_ids(),
                        data_is_real=data_is_real, progress=progress)


def spectro_table(prepared: Mapping[str, PreparedSurvey]) -> Table | None:
    """The recalibrated SoS-Spectro labels of all prepared samples, one row per star."""
    rows = []
    for p in prepared.values():
        mask = p.labelled()
        if not mask.any():
            continue
        t = p.joined[mask]
        sub = Table({"source_id": np.asarray(t["source_id"], dtype=np.int64),
                     "ra": np.asarray(t["ra"], dtype=float), "dec": np.asarray(t["dec"], dtype=float)})
        for c in SPEC_COLUMNS:
            sub[c] = np.asarray(np.ma.filled(np.ma.asarray(t[c], dtype=float), np.nan)) \
                if c in t.colnames else np.full(len(t), np.nan)
        rows.append(sub)
    if not rows:
        return None
    from astropy.table import unique, vstack

    return unique(vstack(rows), keys="source_id")


def build_final_catalogue(predictions: Mapping[str, Table], spectro: Table | None) -> Table:
    """T25 Table 6 from per-survey predictions and the SoS-Spectro labels."""
    for survey, t in predictions.items():
        if SURVEY_ID_COLUMN[check_survey(survey)] not in t.colnames:
            raise SchemaError(f"{survey} predictions lack {SURVEY_ID_COLUMN[survey]!r}")
    return build_catalogue(dict(predictions), spectro)


def write_json(path: str | Path, payload: Mapping[str, Any], overwrite: bool = True) -> Path:
    """Write a JSON summary atomically."""
    with atomic_path(path, overwrite=overwrite) as tmp:
        tmp.write_text(json.dumps(payload, indent=1, default=str))
    return Path(path)


# --------------------------------------------------------------------------------------
# Prediction of rows that passed the cuts, shared by every path that predicts
# --------------------------------------------------------------------------------------
def predict_rows(kept: Table, survey: str, X: np.ndarray, input_names, model, area,
                 train_ids: np.ndarray, *, data_is_real: bool | None = None,
                 progress: bool = False, **predict_kwargs) -> Table:
    """Prediction table of rows that passed the cuts, from loaded model parts.

    The one place where the ensemble output, the train_area flag (T25 Sect. 5.2) and the
    train_set flag become prediction rows (:func:`sos_vo.catalogue.merge.make_prediction_table`);
    :func:`predict_survey` and the streaming :class:`sos_vo.scale.stream.Predictor` call it.

    Parameters
    ----------
    kept
        Joined rows after the cuts (``source_id`` and the survey id column).
    survey
        ``"sdss"`` or ``"skymapper"``.
    X, input_names
        Network input matrix of ``kept`` and its column names.
    model
        :class:`sos_vo.ml.inference.NumpyEnsemble`.
    area
        :class:`sos_vo.catalogue.train_area.TrainingAreaModel`.
    train_ids
        Gaia DR3 source_ids of the training rows.
    data_is_real, progress, predict_kwargs
        Passed to ``model.predict`` (``n_threads``, ``chunk_rows``).
    """
    result = model.predict(X, data_is_real=data_is_real, progress=progress,
                           names=input_names, **predict_kwargs)
    median = {k: result[k][0] for k in LABELS}
    e_ml = {k: result[k][2] for k in LABELS}
    in_area = area.flag(X, feature_names=list(input_names))
    ids = np.asarray(kept["source_id"], dtype=np.int64)
    in_train = np.isin(ids, train_ids)
    return make_prediction_table(kept, survey, median, e_ml, in_train, in_area)


# --------------------------------------------------------------------------------------
# Whole runs: archive tables -> catalogue; a sky region -> catalogue; the demo
# --------------------------------------------------------------------------------------
def predict_catalogue(tables: Mapping[str, Table], models: Mapping[str, str | Path], *,
                      out: str | Path | None = None, fmt: str | None = None,
                      overwrite: bool = False, progress: bool = True,
                      data_is_real: bool | None = None) -> Table:
    """Prepare every survey of ``models``, predict, build T25 Table 6 and write it to ``out``.

    ``models`` maps survey -> model folder.  What ``sos-vo predict`` and :func:`sos_vo.api.predict`
    run.
    """
    if not models:
        raise SchemaError("predict: no model folder given (survey -> folder)")
    if out is not None:
        check_writable(out, overwrite)
    prepared = {check_survey(s): prepare_survey(tables, s) for s in models}
    predictions = {s: predict_survey(prepared[s], models[s], data_is_real=data_is_real,
                                     progress=progress) for s in models}
    catalogue = build_final_catalogue(predictions, spectro_table(prepared))
    from .publish.provenance import PROVENANCE_META_KEY, catalogue_provenance

    catalogue.meta[PROVENANCE_META_KEY] = catalogue_provenance(  # SYNTHETIC marker + versions
        models, any(p.synthetic for p in prepared.values()))
    if out is not None:
        from .publish.writers import write_catalogue

        write_catalogue(catalogue, out, fmt, overwrite=overwrite)
    return catalogue


@dataclass
class QueryResult:
    """What :func:`query_region` produced."""

    region: Any
    """:class:`sos_vo.archives.regions.Region` that was queried."""
    surveys: tuple[str, ...]
    rows: dict[str, Table] = field(default_factory=dict)
    """Server rows per survey (joined and cut on the server)."""
    prepared: dict[str, PreparedSurvey] = field(default_factory=dict)
    """Per survey: joined, cut report, features."""
    catalogue: Table | None = None
    outputs: list[Path] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    """Surveys of ``survey="both"`` left out because no row of theirs was usable, and why
    (e.g. SkyMapper, a southern survey, in a northern field); ``surveys`` lists the others."""


ROW_FORMATS = {".vot": "votable", ".xml": "votable", ".fits": "fits", ".ecsv": "ascii.ecsv",
               ".csv": "ascii.csv"}
"""Formats of the joined, cut rows that :func:`query_region` writes without a model."""


def _row_format(path: Path) -> str:
    from .archives.exceptions import ArchiveError

    fmt = ROW_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ArchiveError(f"cannot tell the format of {path} (use .vot, .fits, .ecsv or .csv)")
    return fmt


def write_rows(table: Table, path: str | Path, overwrite: bool) -> Path:
    """Write joined rows atomically, format from the suffix (:data:`ROW_FORMATS`)."""
    path = Path(path)
    fmt = _row_format(path)
    with atomic_path(path, overwrite=overwrite) as tmp:
        table.write(tmp, format=fmt)
    return path


def _check_query_out(out_path: Path, surveys: tuple[str, ...], with_model: bool,
                     overwrite: bool) -> None:
    """Refuse an ``out`` whose format or location cannot be written, before any TAP request.

    With a model the catalogue is written by :func:`sos_vo.publish.writers.write_catalogue`
    (VOTable, FITS, or a CDS folder for a path without suffix); without one the cut tables are
    written by astropy in any format of :data:`ROW_FORMATS`.
    """
    from .archives.exceptions import ArchiveError

    if with_model:
        from .publish.writers import SUFFIX_FORMATS, guess_format

        try:
            fmt = guess_format(out_path)
        except ValueError:
            raise ArchiveError(
                f"cannot write the catalogue to {out_path}: use {', '.join(sorted(SUFFIX_FORMATS))} "
                "(no suffix: a CDS folder), or --no-model for the cut table(s) in "
                f"{', '.join(ROW_FORMATS)}") from None
        check_writable(out_path, overwrite, kind="folder" if fmt == "cds" else "file")
        return
    several = len(surveys) > 1
    for s in surveys:
        path = _per_survey_path(out_path, s, several)
        _row_format(path)
        check_writable(path, overwrite, kind="file")


def _per_survey_path(out: Path, survey: str, several: bool) -> Path:
    return out.with_name(f"{out.stem}_{survey}{out.suffix}") if several else out


def _model_folders(model, surveys: tuple[str, ...]) -> dict[str, Path]:
    """``model=False`` / ``"none"``: no prediction; otherwise see :func:`resolve_models`."""
    if model is False or model == "none":
        return {}
    from .ml.registry import resolve_models

    return resolve_models(model, surveys)


def query_region(region, survey: str = "sdss", tap_url: str | None = None, model=None,
                 out: str | Path | None = None, *, radius=None, overwrite: bool = False,
                 server_cuts: bool = True, tables: dict[str, str] | None = None,
                 chunk_order: int | None = None, cache_dir=None, use_async: bool = True,
                 progress: bool = True, max_radius_deg: float | None = None,
                 **client_kwargs) -> QueryResult:
    """Fetch a region from the archives, apply the cuts, predict, write the catalogue.

    What ``sos-vo query`` runs:

    1. check everything before any job is sent: the survey, the region (parsable, non-zero
       area, not too large), the model folder, the output path, the TAP service;
    2. fetch, per survey, the joined rows of the region (:func:`sos_vo.archives.query.fetch_rows`);
    3. rebuild the archive tables from those rows and run :func:`prepare_survey` on them
       exactly as on tables from anywhere else (no PASTEL augmentation: no labels here);
    4. with a model, predict and build the catalogue (T25 Table 6); write ``out``.

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
    from .archives import gaia
    from .archives import query as fetch
    from .archives.regions import as_region

    surveys = fetch.surveys_for(survey)
    reg = as_region(region, radius=radius, max_radius_deg=max_radius_deg)
    folders = _model_folders(model, surveys)
    out_path = Path(out) if out is not None else None
    if out_path is not None:
        _check_query_out(out_path, surveys, bool(folders), overwrite)
    client = gaia.client(tap_url, **client_kwargs)
    client.check_service()

    requested = surveys
    result = QueryResult(region=reg, surveys=surveys)
    for s in requested:
        rows = fetch.fetch_rows(reg, s, server_cuts=server_cuts, tables=tables,
                                chunk_order=chunk_order, cache_dir=cache_dir, use_async=use_async,
                                progress=progress, client=client)
        result.rows[s] = rows
        log.info("%s: %d joined rows from %s", s, len(rows), client.url)
        try:
            result.prepared[s] = prepare_survey(fetch.archive_tables_from_rows(rows, s), s,
                                                pastel_augmentation=False)
        except EmptyInputError as exc:
            if len(requested) == 1:
                raise
            # survey="both" where one survey does not cover the region: the other one goes on
            result.skipped[s] = str(exc)
            warnings.warn(f"{exc}: the catalogue has no {s} rows", stacklevel=2)
            continue
        result.prepared[s].cut_report.mark_server_side(server_side_cuts(server_cuts))
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
            from .publish.provenance import catalogue_provenance
            from .publish.writers import write_catalogue

            provenance = {
                **fetch.provenance(surveys, reg, client.url, server_cuts=server_cuts,
                                   tables=tables),
                **catalogue_provenance({s: folders[s] for s in surveys},
                                       any(result.prepared[s].synthetic for s in surveys)),
            }
            result.outputs.append(write_catalogue(result.catalogue, out_path, overwrite=overwrite,
                                                  provenance=provenance))
    elif out_path is not None:
        for s in surveys:
            path = _per_survey_path(out_path, s, len(requested) > 1)
            result.outputs.append(write_rows(result.prepared[s].joined, path, overwrite))
    return result


# --------------------------------------------------------------------------------------
# The demo: the whole chain on the synthetic sky
# --------------------------------------------------------------------------------------
DEMO_CENTER = (180.0, 0.0)
"""A cone on the celestial equator, so that SDSS (north) and SkyMapper (south) overlap there
and the merge of T25 Sect. 5.2 is exercised."""
DEMO_RADIUS_DEG = 4.0
DEMO_N_STARS = 40_000
DEMO_N_MEMBERS = 3
"""The demo trains 3 members instead of T25's 10 to finish in minutes on a laptop;
``sos-vo demo --members 10`` runs the paper's ensemble."""
DEMO_EPOCHS = 40
"""Epoch cap of the demo (early stopping usually ends sooner); the default cap is
:data:`sos_vo.ml.options.EPOCHS`."""


def _progress_printer(enabled: bool, t0: float):
    """``say(message)``: one progress line on stderr with the elapsed time, if ``enabled``."""
    import sys
    import time

    def say(message: str) -> None:
        if enabled:
            print(f"[{time.perf_counter() - t0:5.0f} s] {message}", file=sys.stderr, flush=True)

    return say


@dataclass
class DemoResult:
    """What :func:`demo` produced: file paths and the summaries it printed."""

    out: Path
    catalogue: Path
    models: dict[str, Path]
    cut_reports: dict[str, Table]
    test_reports: dict[str, Table]
    n_rows: int
    seconds: float
    files: list[Path] = field(default_factory=list)


def demo(out: str | Path = "demo_output", *, seed: int = 1, n_stars: int = DEMO_N_STARS,
         radius: float = DEMO_RADIUS_DEG, n_members: int = DEMO_N_MEMBERS, epochs: int = DEMO_EPOCHS,
         n_blocks: int | None = None, surveys: tuple[str, ...] = SURVEYS, overwrite: bool = False,
         progress: bool = True, fmt: str = "fits", fused: bool = True) -> DemoResult:
    """Run the whole chain on a synthetic sky and write the catalogue (``sos-vo demo``).

    Writes into ``out``: ``sky/`` (the synthetic archive tables), ``models/<survey>/`` (the
    trained ensembles), ``cuts_<survey>.ecsv``, ``test_report_<survey>.ecsv`` and
    ``catalogue.<fits|vot>``.  Everything is labelled SYNTHETIC.  The ensembles are trained
    fused (:mod:`sos_vo.ml.fused`) unless ``fused=False``.
    """
    import time

    from .io import mark_output_folder
    from .ml.modelio import read_metadata
    from .ml.options import NetworkOptions
    from .simulate import simulate_sky

    t0 = time.perf_counter()
    out = check_writable(out, overwrite, kind="folder")  # before any work; see sos_vo.io
    say = _progress_printer(progress, t0)
    say(f"simulating a SYNTHETIC sky of {n_stars} stars in a {radius} deg cone")
    out.mkdir(parents=True, exist_ok=True)
    mark_output_folder(out)
    sky = simulate_sky(center=DEMO_CENTER, radius=radius, n_stars=n_stars, seed=seed)
    say(f"writing the synthetic archive tables to {out / 'sky'}")
    sky.write(out / "sky", overwrite=True)
    opt_kwargs: dict[str, Any] = {"epochs": epochs}
    if n_blocks is not None:
        opt_kwargs["n_blocks"] = n_blocks
    options = NetworkOptions(**opt_kwargs)
    say("cross-match, quality cuts (T25 Sect. 2) and label recalibration (T25 Eq. 2)")
    prepared = {s: prepare_survey(sky.tables, s) for s in surveys}
    models, cut_reports, test_reports = {}, {}, {}
    for s, p in prepared.items():
        say(f"training the {s} ensemble: {n_members} members, up to {epochs} epochs")
        cut_reports[s] = p.cut_report.to_table()
        cut_reports[s].write(out / f"cuts_{s}.ecsv", overwrite=True)
        models[s] = train_survey(
            p, out / "models" / s, n_members=n_members, options=options, seed=seed,
            progress=progress, overwrite=True, fused=fused,
            provenance={"origin": "sos-vo demo", "seed": seed, "center": DEMO_CENTER,
                        "radius_deg": radius})
        test_reports[s] = Table(rows=read_metadata(models[s])["metrics"])
        test_reports[s].write(out / f"test_report_{s}.ecsv", overwrite=True)
    say("predicting and writing the catalogue")
    predictions = {s: predict_survey(prepared[s], models[s], progress=progress)
                   for s in prepared}
    catalogue = build_final_catalogue(predictions, spectro_table(prepared))
    from .publish.provenance import catalogue_provenance
    from .publish.writers import write_catalogue

    suffix = {"fits": ".fits", "votable": ".vot"}[fmt]
    cat_path = write_catalogue(catalogue, out / f"catalogue{suffix}", fmt, overwrite=True,
                               provenance={
                                   "archives": (f"SYNTHETIC sky from sos_vo.simulate (seed {seed}); "
                                                "no real archive was queried",),
                                   "releases": ("synthetic Gaia DR3 / SDSS DR13 / SkyMapper DR2 "
                                                "look-alikes",),
                                   **catalogue_provenance(models, True)})
    return DemoResult(out=out, catalogue=Path(cat_path), models=models, cut_reports=cut_reports,
                      test_reports=test_reports, n_rows=len(catalogue),
                      seconds=time.perf_counter() - t0)
