"""Predict a Parquet catalogue of joined rows in bounded chunks, with a resumable manifest.

The input is one Parquet file or a folder of them (for instance HEALPix partitions, see
:mod:`sos_vo.scale.partitions`), each row a *joined* star (Gaia DR3 + distances + Andrae +
best neighbour + survey photometry: :func:`sos_vo.schema.joined_columns`, as
:func:`sos_vo.prepare.crossmatch.join_survey` makes).  Every stage is row-wise, so each
record batch of ``batch_rows`` rows goes through

quality cuts (:func:`~sos_vo.prepare.cuts.apply_cuts`) -> features
(:func:`~sos_vo.prepare.features.compute_features`, :func:`~sos_vo.prepare.features.feature_matrix`)
-> ensemble (:class:`~sos_vo.ml.inference.NumpyEnsemble`) -> ``train_area`` flag
(:class:`~sos_vo.catalogue.train_area.TrainingAreaModel`) -> ``train_set`` (training source ids)
-> :func:`~sos_vo.catalogue.merge.make_prediction_table` -> appended to the output part,

and memory is bounded by the batch, never by the catalogue.  Each output part is written to a
temporary file and renamed when whole; the run's ``_manifest.json``
(:class:`~sos_vo.scale.manifest.RunManifest`) records finished parts, so an interrupted run
resumes where it stopped and a folder holding another run is refused.  The cut counts of all
batches are summed (:meth:`CutReport.combine`).

No TensorFlow is imported.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from astropy.table import Table

from ..exceptions import EmptyInputError, SchemaError
from ..extras import require
from ..io import atomic_path
from ..prepare.cuts import MAX_TEFF_GSPPHOT, CutReport, apply_cuts
from ..prepare.features import compute_features, feature_matrix
from ..schema import LABELS, check_survey
from .manifest import PartResult, RunManifest
from .parquet_io import (
    DEFAULT_BATCH_ROWS,
    arrow_to_table,
    check_same_schema,
    iter_batches,
    parquet_rows,
    table_to_arrow,
)

pq = require("pyarrow.parquet", "Parquet streaming", "scale")


@dataclass
class Predictor:
    """What predicting a batch needs, loaded once per process.

    Attributes
    ----------
    model_folder : pathlib.Path
    survey : str
    model : NumpyEnsemble
    area : TrainingAreaModel
    train_ids : numpy.ndarray
        Sorted source_ids of the training rows (``train_set`` flag).
    n_threads : int or None
        Threads of the forward pass (1 inside dask workers that are already parallel).
    data_is_real : bool or None
        Passed to the model (a synthetic model applied to real data warns).
    """

    model_folder: Path
    survey: str
    model: Any
    area: Any
    train_ids: np.ndarray
    n_threads: int | None = None
    data_is_real: bool | None = None
    max_teff: Any = MAX_TEFF_GSPPHOT

    @classmethod
    def load(cls, model_folder: str | os.PathLike, survey: str | None = None, *,
             n_threads: int | None = None, data_is_real: bool | None = None) -> Predictor:
        """Load a model folder (:func:`sos_vo.pipeline.train_survey`) by path or installed name."""
        from ..ml.modelfolder import ModelFolder
        from ..ml.registry import find_model

        folder = ModelFolder(find_model(model_folder))
        model = folder.load_ensemble(survey=survey)
        return cls(folder.path, model.survey, model, folder.train_area(),
                   np.unique(folder.training_source_ids()), n_threads, data_is_real)

    def fingerprint(self) -> dict[str, Any]:
        """Identity of the model for run manifests (weights checksum, survey)."""
        from ..ml.modelfolder import WEIGHTS_NPZ

        sha = self.model.metadata.get("sha256", {}).get(WEIGHTS_NPZ)
        if sha is None:
            h = hashlib.sha256()
            for w, b in self.model.layers:
                h.update(w.tobytes())
                h.update(b.tobytes())
            sha = h.hexdigest()
        return {"model_weights_sha256": sha, "survey": self.survey}

    def predict_table(self, joined: Table) -> tuple[Table | None, CutReport | None]:
        """Prediction rows of one batch of joined rows (None when no row passes the cuts)."""
        from ..pipeline import predict_rows

        if len(joined) == 0:
            return None, None
        kept, report = apply_cuts(joined, self.survey, max_teff=self.max_teff)
        if len(kept) == 0:
            return None, report
        features = compute_features(kept, self.survey)
        X, names = feature_matrix(features, self.survey, allow_all_missing=True)
        import warnings

        from ..ml.scaling import MissingFeatureWarning

        with warnings.catch_warnings():  # a batch may lack a band entirely: not an error here
            warnings.simplefilter("ignore", MissingFeatureWarning)
            table = predict_rows(kept, self.survey, X, names, self.model, self.area,
                                 self.train_ids, data_is_real=self.data_is_real,
                                 n_threads=self.n_threads)
        return table, report


def predict_file(predictor: Predictor, source: str | os.PathLike, destination: str | os.PathLike,
                 *, batch_rows: int = DEFAULT_BATCH_ROWS, overwrite: bool = False,
                 key: str | None = None) -> PartResult:
    """Stream one Parquet file of joined rows into one Parquet file of predictions (atomically).

    Parameters
    ----------
    predictor : Predictor
    source, destination : path
        Input and output Parquet files.
    batch_rows : int
        Rows per record batch (bounds memory).
    overwrite : bool
        Replace an existing destination (a re-run of the same part writes the same rows).
    key : str, optional
        Name recorded in the result (default: the source path).

    Returns
    -------
    PartResult
    """
    rows_in = 0
    reports = []
    writer = None
    empty_like = None
    try:
        with atomic_path(destination, overwrite=overwrite) as tmp:
            for batch in iter_batches(source, batch_rows):
                rows_in += batch.num_rows
                joined = arrow_to_table(batch)
                if empty_like is None and len(joined):
                    empty_like = joined[:0]
                try:
                    table, report = predictor.predict_table(joined)
                except SchemaError as exc:
                    raise SchemaError(f"{source}: {exc}") from exc
                if report is not None:
                    reports.append(report)
                if table is None:
                    continue
                data = table_to_arrow(table)
                if writer is None:
                    writer = pq.ParquetWriter(tmp, data.schema, compression="zstd")
                writer.write_table(data.cast(writer.schema))
            if writer is None:
                pq.write_table(_empty_output(predictor, empty_like, source), tmp)
            else:
                writer.close()
                writer = None
    finally:
        if writer is not None:
            writer.close()
    rows_out = parquet_rows(destination)
    return PartResult(key or str(source), rows_in, rows_out,
                      CutReport.combine(reports) if reports else None)


def _empty_output(predictor: Predictor, empty_like: Table | None, source):
    """A zero-row prediction table with the right columns (no row survived the cuts)."""
    from ..catalogue.merge import make_prediction_table

    if empty_like is None:
        empty_like = arrow_to_table(pq.read_schema(source).empty_table())
    nothing = {k: np.zeros(0) for k in LABELS}
    table = make_prediction_table(empty_like, predictor.survey, nothing, nothing,
                                  np.zeros(0, bool), np.zeros(0, bool))
    return table_to_arrow(table)


def list_parquet(source: str | os.PathLike | Sequence[str | os.PathLike]) -> tuple[Path, list[str]]:
    """``(root, relative keys)`` of the Parquet files of a file, a folder (recursive) or a list.

    Hidden files and folders (``.name``, ``_name``) are skipped.  A HATS catalogue folder (a
    ``properties`` file and a ``dataset`` folder, as ``lsdb`` / ``hats`` write) gives its
    ``dataset/Norder=*/Dir=*/Npix=*.parquet`` partitions only.
    """
    if isinstance(source, (str, os.PathLike)):
        src = Path(source)
        if src.is_file():
            return src.parent, [src.name]
        if not src.is_dir():
            raise FileNotFoundError(f"{src}: no such Parquet file or folder")
        pattern = "*.parquet"
        if (src / "properties").is_file() and (src / "dataset").is_dir():  # HATS
            src, pattern = src / "dataset", "Norder=*/Dir=*/Npix=*.parquet"
        keys = sorted(str(p.relative_to(src)) for p in src.glob(f"**/{pattern}")
                      if not any(part.startswith((".", "_")) for part in p.relative_to(src).parts))
        if not keys:
            raise EmptyInputError(f"{src}: no .parquet file in this folder")
        return src, keys
    paths = [Path(p) for p in source]
    if not paths:
        raise EmptyInputError("no Parquet file given")
    root = Path(os.path.commonpath([p.resolve().parent for p in paths]))
    return root, [str(p.resolve().relative_to(root)) for p in paths]


def run_fingerprint(predictor: Predictor, root: Path, keys: Sequence[str]) -> dict[str, Any]:
    """What identifies a run: the model and every input part (path, bytes, rows)."""
    inputs = [[k, (root / k).stat().st_size, parquet_rows(root / k)] for k in keys]
    return {**predictor.fingerprint(), "inputs": inputs}


def predict_parquet(source, out_dir: str | os.PathLike, model_folder: str | os.PathLike, *,
                    survey: str | None = None, batch_rows: int = DEFAULT_BATCH_ROWS,
                    resume: bool = True, overwrite: bool = False, progress: bool = True,
                    n_threads: int | None = None, data_is_real: bool | None = None
                    ) -> dict[str, Any]:
    """Predict every row of a Parquet catalogue in one process, streaming, resumable.

    Parameters
    ----------
    source : path or list of paths
        A Parquet file, a folder of them (searched recursively) or a list.
    out_dir : path
        Output folder: one prediction part per input part (same relative path) and
        ``_manifest.json``.
    model_folder : path or str
        Model written by :func:`sos_vo.pipeline.train_survey`, or the name of an installed
        model (:mod:`sos_vo.ml.registry`).
    survey : str, optional
        Expected survey of the model.
    batch_rows : int
        Rows per record batch.
    resume, overwrite : bool
        See :meth:`RunManifest.open`.
    progress : bool
        tqdm bar over the rows.
    n_threads : int, optional
        Threads of the forward pass.
    data_is_real : bool, optional
        Whether the rows come from a real archive.

    Returns
    -------
    dict
        ``parts``, ``rows_in``, ``rows_out``, ``skipped`` (parts already done), ``out_dir``,
        ``cut_report`` (:class:`CutReport` over all parts).

    Raises
    ------
    SchemaError
        Parts with different columns or types (named), or missing columns.
    RunConflictError
        ``out_dir`` holds another run.
    """
    if survey is not None:
        check_survey(survey)
    root, keys = list_parquet(source)
    check_same_schema([root / k for k in keys])
    predictor = Predictor.load(model_folder, survey, n_threads=n_threads, data_is_real=data_is_real)
    run = RunManifest.open(out_dir, run_fingerprint(predictor, root, keys), resume=resume,
                           overwrite=overwrite)
    todo = run.pending(keys)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=sum(parquet_rows(root / k) for k in todo), desc="predict parts",
                   unit="row", unit_scale=True)
    try:
        for key in todo:
            result = predict_file(predictor, root / key, run.output_path(key),
                                  batch_rows=batch_rows, overwrite=True, key=key)
            run.record(result)
            if bar is not None:
                bar.update(result.rows_in)
    finally:
        if bar is not None:
            bar.close()
    totals = run.finalize(keys)
    return {**totals, "skipped": len(keys) - len(todo), "out_dir": str(out_dir),
            "cut_report": run.cut_report()}


def read_predictions(out_dir: str | os.PathLike, sort: bool = True) -> Table:
    """All prediction parts of a finished run as one table (sorted by source_id)."""
    out_dir = Path(out_dir)
    manifest = json.loads((out_dir / "_manifest.json").read_text())
    if not manifest.get("complete"):
        raise EmptyInputError(f"{out_dir}: the run is not complete; resume it first")
    tables = [pq.read_table(out_dir / k) for k in sorted(manifest["parts"])]
    import pyarrow as pa

    table = arrow_to_table(pa.concat_tables(tables))
    if sort and len(table):
        table = table[np.argsort(np.asarray(table["source_id"]), kind="stable")]
    return table
