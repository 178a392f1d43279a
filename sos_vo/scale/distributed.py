"""Batch prediction over partitioned Parquet / HATS and ensemble training on dask.distributed.

Prediction (:func:`predict_partitions`): every input part (a HEALPix partition written by
:mod:`sos_vo.scale.partitions`, the ``Npix=*.parquet`` files of a HATS catalogue such as
``lsdb`` writes, or any folder of Parquet files) is one task: a worker streams it through
:func:`sos_vo.scale.stream.predict_file` (bounded batches, the model loaded once per worker
process) and writes the output part atomically under the same relative path.  The client
records each finished part in the run manifest (:class:`~sos_vo.scale.manifest.RunManifest`)
as it completes, so:

* a worker that dies mid-task: the scheduler runs the task again on another worker (up to
  ``distributed.scheduler.allowed-failures`` deaths, then ``KilledWorker``); the part file
  name is fixed and written atomically, so a re-run replaces nothing half-written and never
  adds rows;
* a task that keeps failing (or a lost cluster): the run raises
  :class:`~sos_vo.scale.manifest.IncompleteRunError` naming the failed parts and their causes
  after the others finished; the manifest keeps the finished parts and ``resume=True``
  (default) completes the run later;
* an output folder with another run: refused (:class:`~sos_vo.scale.manifest.RunConflictError`);
* parts with different schemas: :class:`~sos_vo.exceptions.SchemaError` naming the file before
  anything runs.

Training (:func:`train_members`): one task per ensemble member (all labels of that member, its
own random split), each running :func:`sos_vo.ml.training.train_member` exactly as
:func:`sos_vo.ml.ensemble.train_ensemble` does; the weights come back as arrays and are
assembled into the same :class:`~sos_vo.ml.ensemble.Ensemble`.  Keras keeps global state (the
random seed), so training tasks need workers with one thread each (process workers, or a
single in-process worker).  With ``checkpoint_dir`` each member is checkpointed as its task
returns and a rerun submits only the missing ones (:mod:`sos_vo.ml.checkpoint`).  With
``engine="fused"`` each task is a unit of ``unit_members`` members trained together by the
numpy engine on the worker's threads (:func:`sos_vo.ml.checkpoint.train_unit_task`).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..extras import require
from .manifest import IncompleteRunError, PartResult, RunManifest
from .parquet_io import DEFAULT_BATCH_ROWS, check_same_schema
from .stream import Predictor, list_parquet, predict_file, run_fingerprint

PART_TASK_PREFIX = "sos-vo-part"


@functools.lru_cache(maxsize=4)
def _worker_predictor(model_folder: str, survey: str | None, data_is_real: bool | None) -> Predictor:
    """One :class:`Predictor` per worker process and model (single-threaded forward pass:
    the cluster is the parallelism)."""
    return Predictor.load(model_folder, survey, n_threads=1, data_is_real=data_is_real)


def predict_part_task(model_folder: str, survey: str | None, source: str, destination: str,
                      key: str, batch_rows: int, data_is_real: bool | None) -> PartResult:
    """Worker side of one partition (see the module docstring)."""
    predictor = _worker_predictor(str(model_folder), survey, data_is_real)
    return predict_file(predictor, source, destination, batch_rows=batch_rows, overwrite=True,
                        key=key)


def predict_partitions(source, out_dir: str | os.PathLike, model_folder: str | os.PathLike,
                       client, *, survey: str | None = None, batch_rows: int = DEFAULT_BATCH_ROWS,
                       resume: bool = True, overwrite: bool = False, retries: int = 1,
                       progress: bool = True, data_is_real: bool | None = None) -> dict[str, Any]:
    """Predict every partition of a Parquet / HATS catalogue on a dask cluster.

    Parameters
    ----------
    source : path or list of paths
        Folder of partitions (searched recursively; HATS ``dataset`` folders work), a file or
        a list of files.
    out_dir : path
        Output folder: one prediction part per input part (same relative path) and
        ``_manifest.json``.
    model_folder : path or str
        Model written by :func:`sos_vo.pipeline.train_survey`, or the name of an installed
        model (:mod:`sos_vo.ml.registry`); must be readable by the workers at the same path
        (shared file system).
    client : distributed.Client
    survey : str, optional
    batch_rows : int
        Rows per streamed batch inside a task.
    resume, overwrite : bool
        See :meth:`RunManifest.open`.
    retries : int
        Extra attempts of a task that raised (worker deaths are retried by the scheduler).
    progress : bool
        tqdm bar over partitions.
    data_is_real : bool, optional

    Returns
    -------
    dict
        As :func:`sos_vo.scale.stream.predict_parquet`.

    Raises
    ------
    IncompleteRunError
        Some partitions failed (named, with their errors); the others are recorded.
    """
    as_completed = require("distributed", "dask runs", "scale").as_completed

    root, keys = list_parquet(source)
    check_same_schema([root / k for k in keys])
    from ..ml.registry import find_model

    model_folder = find_model(model_folder)  # a path, or the name of an installed model
    predictor = Predictor.load(model_folder, survey)
    run = RunManifest.open(out_dir, run_fingerprint(predictor, root, keys), resume=resume,
                           overwrite=overwrite)
    todo = run.pending(keys)
    futures = {}
    for key in todo:
        fut = client.submit(predict_part_task, str(Path(model_folder).resolve()), survey,
                            str((root / key).resolve()), str(run.output_path(key).resolve()),
                            key, int(batch_rows), data_is_real, retries=retries, pure=False,
                            key=f"{PART_TASK_PREFIX}-{key}-{os.getpid()}-{id(run)}")
        futures[fut] = key
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(todo), desc="partitions", unit="part")
    failed: dict[str, str] = {}
    try:
        for fut in as_completed(list(futures)):
            key = futures[fut]
            if fut.status == "finished":
                run.record(fut.result())
            else:
                exc = fut.exception()
                failed[key] = f"{type(exc).__name__}: {exc}"
            if bar is not None:
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    if failed:
        first = next(iter(failed.items()))
        raise IncompleteRunError(
            f"{out_dir}: {len(failed)} of {len(keys)} partitions failed (first: {first[0]}: "
            f"{first[1]}); {len(run.parts)} are done and recorded, resume the run to finish")
    totals = run.finalize(keys)
    return {**totals, "skipped": len(keys) - len(todo), "out_dir": str(out_dir),
            "cut_report": run.cut_report()}


# ------------------------------------------------------------------------------ training
def train_member_task(X: np.ndarray, ys: Mapping[str, np.ndarray], options_dict: dict,
                      split: Mapping[str, np.ndarray], label_seeds: Sequence[int], split_seed: int,
                      input_scaler_dict: dict, label_scaler_dicts: Mapping[str, dict],
                      n_threads: int = 1) -> dict[str, Any]:
    """Worker side: every label of one member, as plain arrays (picklable).

    :func:`sos_vo.ml.checkpoint.train_member_task` (kept here under its former name)."""
    from ..ml.checkpoint import train_member_task as task

    return task(X, ys, options_dict, split, label_seeds, split_seed, input_scaler_dict,
                label_scaler_dicts, n_threads)


def train_members(X: np.ndarray, Y: Mapping[str, np.ndarray], feature_names: Sequence[str],
                  survey: str, client, n_members: int = 10, options=None, seed: int = 0, *,
                  row_ids: np.ndarray | None = None, provenance: Mapping[str, Any] | None = None,
                  flag_layout: str = "interleaved", checkpoint_dir: str | os.PathLike | None = None,
                  progress: bool = False, engine: str = "per-network",
                  unit_members: int | None = None):
    """:func:`sos_vo.ml.ensemble.train_ensemble` with one dask task per member.

    Same seeds, splits, scalers and training per network as ``train_ensemble`` (so the same
    ensemble up to the non-determinism of multi-threaded float sums); returns an
    :class:`~sos_vo.ml.ensemble.Ensemble` that saves, loads and predicts like it.  With
    ``checkpoint_dir`` every finished member is checkpointed as its task returns and a rerun
    submits only the missing members (:func:`sos_vo.ml.checkpoint.train_members`, which this
    calls).  ``engine="fused"``: one task per unit of ``unit_members`` members instead.
    """
    from ..ml.checkpoint import train_members as train

    return train(X, Y, feature_names, survey, n_members=n_members, options=options, seed=seed,
                 progress=progress, checkpoint_dir=checkpoint_dir, client=client,
                 row_ids=row_ids, provenance=provenance, flag_layout=flag_layout,
                 engine=engine, unit_members=unit_members)
