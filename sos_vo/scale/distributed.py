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
random seed), so training tasks need process workers (``LocalCluster(processes=True)``) with
one thread each.
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
                      n_threads: int = 1) -> dict[str, dict[str, Any]]:
    """Worker side: every label of one member, as plain arrays (picklable)."""
    from ..ml.options import NetworkOptions
    from ..ml.scaling import InputScaler, LabelScaler
    from ..ml.training import network_arrays, set_tf_threads, train_member

    set_tf_threads(n_threads)
    options = NetworkOptions.from_dict(options_dict)
    input_scaler = InputScaler.from_dict(input_scaler_dict)
    out = {}
    for label, wseed in zip(ys, label_seeds, strict=True):
        m = train_member(X, ys[label], options, seed=int(wseed), split_seed=int(split_seed),
                         input_scaler=input_scaler,
                         label_scaler=LabelScaler.from_dict(label_scaler_dicts[label]),
                         split={k: np.asarray(v) for k, v in split.items()})
        out[label] = {"arrays": network_arrays(m.model), "seed": m.seed, "split": m.split,
                      "history": m.history, "epochs_trained": m.epochs_trained,
                      "best_epoch": m.best_epoch, "test_pred": m.test_pred, "test_true": m.test_true}
    return out


def train_members(X: np.ndarray, Y: Mapping[str, np.ndarray], feature_names: Sequence[str],
                  survey: str, client, n_members: int = 10, options=None, seed: int = 0, *,
                  row_ids: np.ndarray | None = None, provenance: Mapping[str, Any] | None = None,
                  flag_layout: str = "interleaved"):
    """:func:`sos_vo.ml.ensemble.train_ensemble` with one dask task per member.

    Same seeds, splits, scalers and training per network as ``train_ensemble`` (so the same
    ensemble up to the non-determinism of multi-threaded float sums); returns an
    :class:`~sos_vo.ml.ensemble.Ensemble` that saves, loads and predicts like it.
    """
    from ..ml.ensemble import Ensemble, member_seeds, training_input
    from ..ml.fused import keras_network
    from ..ml.options import NetworkOptions
    from ..ml.training import Member, split_indices

    options = options or NetworkOptions()
    X, names, ys, input_scaler, label_scalers = training_input(X, Y, feature_names, survey,
                                                               options, flag_layout)
    labels = tuple(ys)
    seeds = [member_seeds(seed, m, len(labels)) for m in range(n_members)]
    splits = [split_indices(X.shape[0], s) for s, _ in seeds]
    [x_fut] = client.scatter([X], broadcast=False)
    futures = [client.submit(train_member_task, x_fut, ys, options.to_dict(), splits[m],
                             seeds[m][1], seeds[m][0], input_scaler.to_dict(),
                             {k: v.to_dict() for k, v in label_scalers.items()}, pure=False)
               for m in range(n_members)]
    results = client.gather(futures)
    members = {label: [] for label in labels}
    for m, res in enumerate(results):
        for label in labels:
            r = res[label]
            members[label].append(Member(
                model=keras_network(r["arrays"], input_scaler.n_outputs(X.shape[1]), options, r["seed"]), seed=r["seed"],
                split_seed=seeds[m][0], split=r["split"], history=r["history"],
                epochs_trained=r["epochs_trained"], best_epoch=r["best_epoch"],
                test_pred=r["test_pred"], test_true=r["test_true"], input_scaler=input_scaler,
                label_scaler=label_scalers[label], options=options))
    return Ensemble(survey=survey, labels=labels, input_names=names, options=options,
                    seed=int(seed), members=members, splits=splits, input_scaler=input_scaler,
                    label_scalers=label_scalers, n_rows=X.shape[0],
                    row_ids=None if row_ids is None else np.asarray(row_ids),
                    provenance=dict(provenance or {}))
