"""Resumable training with on-disk checkpoints (member by member, or fused units of k members).

An ensemble (T25 Sect. 5.1: ``n_members`` random 80/10/10 splits x one network per label) is
trained member by member, exactly as the per-network path of
:func:`sos_vo.ml.ensemble.train_ensemble` does (same seeds from
:func:`~sos_vo.ml.ensemble.member_seeds`, same splits, same shared scalers, same
:func:`~sos_vo.ml.training.train_member`).  After each member, everything that member is made
of (the raw weights of its label networks, their seeds, its split, the histories, epochs,
test-set predictions) is written atomically to one ``member-NNN.npz`` file in a folder named by
the **training key**: a SHA-256 of everything that determines the member (the training matrix,
the labels, the row ids, the input names, the survey, the network options, the ensemble seed,
the fitted scalers, the engine and the TensorFlow / Keras versions).  A rerun with the same
inputs finds the folder, loads the finished members and trains only the missing ones; any
change of input gives another key, so a stale checkpoint is never used.  A file that cannot be
read (e.g. a disk filled while writing, which :func:`sos_vo.io.atomic_path` already makes
unlikely) is trained again.

The checkpoints live in a work folder (the build's cache), never in the model folder, which is
still written all-or-nothing by :meth:`sos_vo.ml.modelfolder.ModelFolder.save`.

Members can also be trained as dask tasks (``client``: a ``distributed.Client``): the tasks run
:func:`train_member_task`, the client process writes each member's checkpoint as its task
finishes, so a killed distributed training resumes the same way.

Fused units (``engine="fused"``, the default of ``sos-vo build-model``): a fused member's
weights depend on the other members trained with it (in the numpy engine of
:mod:`sos_vo.ml.numpy_training` the number of steps per epoch is that of the largest training
split of the run, and each network's random stream is indexed by its place in the run), so a
fused member trained alone would not equal the member of one fused run of the whole ensemble.
The checkpoint unit is therefore a **unit of k members** (``unit_members``): unit ``u`` holds
members ``u k .. min((u + 1) k, n_members) - 1`` and is one call of
:func:`sos_vo.ml.fused.train_members_fused` (numpy engine) with exactly those members' seeds
and splits (:func:`~sos_vo.ml.ensemble.member_seeds`, :func:`~sos_vo.ml.training.split_indices`,
as on the per-network path) and a shuffling / dropout seed derived from the ensemble seed and
``u`` alone (:func:`unit_seed`).  A unit's result thus depends only on its own inputs: a
resumed training equals an uninterrupted one bit for bit (the numpy engine's results do not
depend on its thread count).  A finished unit is written as its members' ``member-NNN.npz``
files; it counts as finished when all of them load.  The training key names the engine and
``k`` (a fused training with another ``k`` is another ensemble).  With a dask ``client`` each
unit is one task (:func:`train_unit_task`) running the numpy engine on the worker's threads;
the client process writes the checkpoints.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..io import atomic_path
from .ensemble import Ensemble, member_seeds, training_input
from .options import N_MEMBERS, NetworkOptions
from .scaling import InputScaler, LabelScaler
from .training import (
    SPLIT_CODES,
    SPLIT_NAMES,
    DeferredNetwork,
    Member,
    network_arrays,
    split_indices,
    train_member,
)
from .units import ENGINES, default_unit_members, unit_seed, units_of  # noqa: F401 (re-exported)

log = logging.getLogger(__name__)

ENGINE = "keras-per-network"
"""Engine named in the training key: :func:`sos_vo.ml.training.train_member`, one network at a time."""
CHECKPOINT_FORMAT = 1
"""Version of the ``member-NNN.npz`` layout (part of the key)."""
FUSED_ENGINE = "numpy-fused"
"""Engine named in the training key of fused units (followed by ``-k<unit_members>``):
:func:`sos_vo.ml.fused.train_members_fused` with ``FusedOptions(engine="numpy")``."""


def _installed_version(module: str) -> str:
    """Version of the installed distribution that provides the top-level ``module`` (e.g.
    ``tensorflow`` from ``tensorflow-cpu``), read from its metadata without importing it, so that
    the key of a numpy-engine training does not load TensorFlow; ``"absent"`` if none does."""
    from importlib import metadata

    names = metadata.packages_distributions().get(module) or [module]
    for name in names:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return "absent"


def _engine_versions(engine: str = ENGINE) -> dict[str, str]:
    return {"engine": engine, "tensorflow": _installed_version("tensorflow"),
            "keras": _installed_version("keras"), "numpy": np.__version__,
            "format": str(CHECKPOINT_FORMAT)}


def training_key(X: np.ndarray, ys: Mapping[str, np.ndarray], input_names: Sequence[str],
                 survey: str, options: NetworkOptions, seed: int, row_ids: np.ndarray | None,
                 input_scaler: InputScaler, label_scalers: Mapping[str, LabelScaler],
                 engine: str = ENGINE, engine_options: Mapping[str, Any] | None = None) -> str:
    """SHA-256 (hex) of everything that determines the members of an ensemble.

    The member index is not in the key: each member has its own file in the key's folder.
    ``engine`` (:data:`ENGINE`, or :data:`FUSED_ENGINE` ``-k<k>``) and ``engine_options`` (the
    fused options that change results) are part of it.
    """
    h = hashlib.sha256()

    def add(name: str, value: bytes) -> None:
        h.update(name.encode() + b"\0" + len(value).to_bytes(8, "little") + value)

    X = np.ascontiguousarray(X)
    add("X", f"{X.dtype.str}{X.shape}".encode())
    add("X.data", X.tobytes())
    for label, y in ys.items():
        add(f"y:{label}", np.ascontiguousarray(y, dtype=np.float64).tobytes())
    if row_ids is not None:
        add("row_ids", np.ascontiguousarray(row_ids, dtype=np.int64).tobytes())
    meta = {"input_names": list(input_names), "survey": survey, "options": options.to_dict(),
            "seed": int(seed), "input_scaler": input_scaler.to_dict(),
            "label_scalers": {k: v.to_dict() for k, v in label_scalers.items()},
            "versions": _engine_versions(engine)}
    if engine_options:
        meta["engine_options"] = dict(engine_options)
    add("meta", json.dumps(meta, sort_keys=True, default=str).encode())
    return h.hexdigest()


# ------------------------------------------------------------------------------ one member
def train_one_member(X: np.ndarray, ys: Mapping[str, np.ndarray], options: NetworkOptions,
                     split: Mapping[str, np.ndarray], label_seeds: Sequence[int], split_seed: int,
                     input_scaler: InputScaler, label_scalers: Mapping[str, LabelScaler],
                     verbose: int = 0) -> dict[str, Any]:
    """Every label network of one member, as plain arrays (picklable, checkpointable).

    Returns
    -------
    dict
        ``split_seed``, ``codes`` (int8 split membership of every row, :data:`SPLIT_CODES`) and
        per label: ``arrays`` (:func:`~sos_vo.ml.training.network_arrays`), ``seed``,
        ``history``, ``epochs_trained``, ``best_epoch``, ``test_pred``, ``test_true``.
    """
    n = np.asarray(X).shape[0]
    codes = np.full(n, -1, dtype=np.int8)
    for name, code in SPLIT_CODES.items():
        codes[np.asarray(split[name], dtype=np.int64)] = code
    out: dict[str, Any] = {"split_seed": int(split_seed), "codes": codes, "labels": {}}
    for label, wseed in zip(ys, label_seeds, strict=True):
        m = train_member(X, ys[label], options, seed=int(wseed), split_seed=int(split_seed),
                         input_scaler=input_scaler, label_scaler=label_scalers[label],
                         split={k: np.asarray(v) for k, v in split.items()}, verbose=verbose)
        out["labels"][label] = {"arrays": network_arrays(m.model), "seed": m.seed,
                                "history": m.history, "epochs_trained": m.epochs_trained,
                                "best_epoch": m.best_epoch,
                                "test_pred": np.asarray(m.test_pred, dtype=np.float32),
                                "test_true": np.asarray(m.test_true, dtype=np.float32)}
    return out


def train_member_task(X: np.ndarray, ys: Mapping[str, np.ndarray], options_dict: dict,
                      split: Mapping[str, np.ndarray], label_seeds: Sequence[int], split_seed: int,
                      input_scaler_dict: dict, label_scaler_dicts: Mapping[str, dict],
                      n_threads: int = 1) -> dict[str, Any]:
    """Worker side of a dask task: :func:`train_one_member` from plain, picklable arguments."""
    from .training import set_tf_threads

    set_tf_threads(n_threads)
    return train_one_member(
        X, ys, NetworkOptions.from_dict(options_dict), split, label_seeds, split_seed,
        InputScaler.from_dict(input_scaler_dict),
        {k: LabelScaler.from_dict(v) for k, v in label_scaler_dicts.items()})


# ------------------------------------------------------------------------------ fused units
def unit_cores(client=None, threads: int | None = None) -> tuple[int, int]:
    """(threads of the smallest dask worker, workers) with ``client``, else (this process's
    CPUs or ``threads``, 1)."""
    if client is not None:
        nthreads = list(client.nthreads().values())
        return (min(nthreads) if nthreads else 1), max(1, len(nthreads))
    from .inference import available_cpus

    return int(threads or available_cpus()), 1


def _fused_results(members: Mapping[str, Sequence[Member]], splits: Sequence[Mapping[str, np.ndarray]],
                   n: int) -> list[dict[str, Any]]:
    """Per member of a fused unit, the checkpoint layout of :func:`train_one_member`."""
    out = []
    for j, split in enumerate(splits):
        codes = np.full(n, -1, dtype=np.int8)
        for name, code in SPLIT_CODES.items():
            codes[np.asarray(split[name], dtype=np.int64)] = code
        res: dict[str, Any] = {"split_seed": None, "codes": codes, "labels": {}}
        for label, ms in members.items():
            m = ms[j]
            res["split_seed"] = int(m.split_seed)
            res["labels"][label] = {"arrays": network_arrays(m.model), "seed": int(m.seed),
                                    "history": m.history, "epochs_trained": int(m.epochs_trained),
                                    "best_epoch": int(m.best_epoch),
                                    "test_pred": np.asarray(m.test_pred, dtype=np.float32),
                                    "test_true": np.asarray(m.test_true, dtype=np.float32)}
        out.append(res)
    return out


def train_unit(X: np.ndarray, ys: Mapping[str, np.ndarray], options: NetworkOptions,
               member_ids: Sequence[int], seed: int, unit: int, input_scaler: InputScaler,
               label_scalers: Mapping[str, LabelScaler], batch_scale: float = 1.0,
               lr_scaling: str = "sqrt", threads: int | None = None) -> list[dict[str, Any]]:
    """One fused unit: :func:`~sos_vo.ml.fused.train_members_fused` (numpy engine) on exactly
    the members ``member_ids`` (their own seeds and splits) with :func:`unit_seed`.

    Returns one result per member, in the layout of :func:`train_one_member`.
    """
    from .fused import FusedOptions, train_members_fused

    n = np.asarray(X).shape[0]
    seeds = [member_seeds(seed, m, len(ys)) for m in member_ids]
    splits = [split_indices(n, s) for s, _ in seeds]
    fo = FusedOptions(batch_scale=batch_scale, lr_scaling=lr_scaling, engine="numpy",
                      threads=threads)
    members = train_members_fused(X, ys, options, splits, [ls for _, ls in seeds],
                                  [s for s, _ in seeds], input_scaler=input_scaler,
                                  label_scalers=label_scalers, fused_options=fo,
                                  seed=unit_seed(seed, unit), progress=False)
    return _fused_results(members, splits, n)


def train_unit_task(X: np.ndarray, ys: Mapping[str, np.ndarray], options_dict: dict,
                    member_ids: Sequence[int], seed: int, unit: int, input_scaler_dict: dict,
                    label_scaler_dicts: Mapping[str, dict], batch_scale: float = 1.0,
                    lr_scaling: str = "sqrt") -> list[dict[str, Any]]:
    """Worker side of a dask task: :func:`train_unit` on the worker's threads (its
    ``nthreads``; results do not depend on the thread count)."""
    threads = None
    try:
        from distributed import get_worker

        threads = int(get_worker().state.nthreads)
    except (ImportError, ValueError, AttributeError):
        pass
    return train_unit(X, ys, NetworkOptions.from_dict(options_dict), member_ids, seed, unit,
                      InputScaler.from_dict(input_scaler_dict),
                      {k: LabelScaler.from_dict(v) for k, v in label_scaler_dicts.items()},
                      batch_scale=batch_scale, lr_scaling=lr_scaling, threads=threads)


# ------------------------------------------------------------------------------ files
class MemberCheckpoints:
    """The checkpoint folder of one training key: ``<root>/<key[:32]>/member-NNN.npz``."""

    def __init__(self, root: str | os.PathLike, key: str) -> None:
        self.key = key
        self.folder = Path(root).expanduser() / key[:32]

    def path(self, member: int) -> Path:
        """File of member ``member``."""
        return self.folder / f"member-{member:03d}.npz"

    def save(self, member: int, result: Mapping[str, Any]) -> Path:
        """Write one member's result atomically."""
        arrays: dict[str, np.ndarray] = {"codes": np.asarray(result["codes"], dtype=np.int8)}
        meta: dict[str, Any] = {"key": self.key, "member": int(member),
                                "split_seed": int(result["split_seed"]), "labels": {}}
        for label, r in result["labels"].items():
            for name, arr in r["arrays"].items():
                arrays[f"{label}/w/{name}"] = np.asarray(arr)
            arrays[f"{label}/test_pred"] = np.asarray(r["test_pred"])
            arrays[f"{label}/test_true"] = np.asarray(r["test_true"])
            meta["labels"][label] = {"seed": int(r["seed"]), "history": r["history"],
                                     "epochs_trained": int(r["epochs_trained"]),
                                     "best_epoch": int(r["best_epoch"]),
                                     "weights": sorted(r["arrays"])}
        arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.path(member)
        with atomic_path(path, overwrite=True) as tmp:
            with open(tmp, "wb") as fh:
                np.savez(fh, **arrays)
        return path

    def load(self, member: int) -> dict[str, Any] | None:
        """One member's result, or None when absent or unreadable (then it is trained again)."""
        path = self.path(member)
        if not path.is_file():
            return None
        try:
            with np.load(path, allow_pickle=False) as z:
                meta = json.loads(bytes(z["meta"]).decode())
                if meta.get("key") != self.key or meta.get("member") != member:
                    raise ValueError("key or member number differs")
                out: dict[str, Any] = {"split_seed": meta["split_seed"],
                                       "codes": np.asarray(z["codes"]), "labels": {}}
                for label, lm in meta["labels"].items():
                    out["labels"][label] = {
                        "arrays": {name: np.asarray(z[f"{label}/w/{name}"]) for name in lm["weights"]},
                        "seed": lm["seed"], "history": lm["history"],
                        "epochs_trained": lm["epochs_trained"], "best_epoch": lm["best_epoch"],
                        "test_pred": np.asarray(z[f"{label}/test_pred"]),
                        "test_true": np.asarray(z[f"{label}/test_true"])}
            return out
        except (OSError, ValueError, KeyError, json.JSONDecodeError) as exc:
            log.warning("member checkpoint %s is unreadable (%s): training that member again",
                        path, exc)
            return None


# ------------------------------------------------------------------------------ ensemble
def _members(results: Sequence[Mapping[str, Any]], labels: Sequence[str],
             ys: Mapping[str, np.ndarray], n_inputs: int, options: NetworkOptions,
             input_scaler: InputScaler, label_scalers: Mapping[str, LabelScaler]
             ) -> tuple[dict[str, list[Member]], list[dict[str, np.ndarray]]]:
    """Members and splits from member results.  Each member's network is a
    :class:`~sos_vo.ml.training.DeferredNetwork` holding the stored weights: saving and numpy
    prediction read its arrays; its Keras network is built (importing Keras) only if used."""
    members: dict[str, list[Member]] = {label: [] for label in labels}
    splits = []
    for res in results:
        codes = np.asarray(res["codes"])
        splits.append({name: np.flatnonzero(codes == SPLIT_CODES[name]).astype(np.int64)
                       for name in SPLIT_NAMES})
        for label in labels:
            r = res["labels"][label]
            finite = np.isfinite(ys[label])
            split = {name: np.flatnonzero((codes == SPLIT_CODES[name]) & finite).astype(np.int64)
                     for name in SPLIT_NAMES}
            members[label].append(Member(
                model=DeferredNetwork(r["arrays"], n_inputs, options, r["seed"]), seed=int(r["seed"]),
                split_seed=int(res["split_seed"]), split=split, history=r["history"],
                epochs_trained=int(r["epochs_trained"]), best_epoch=int(r["best_epoch"]),
                test_pred=np.asarray(r["test_pred"]), test_true=np.asarray(r["test_true"]),
                input_scaler=input_scaler, label_scaler=label_scalers[label], options=options))
    return members, splits


def train_members(X: np.ndarray, Y: Mapping[str, np.ndarray], feature_names: Sequence[str],
                  survey: str, n_members: int = N_MEMBERS, options: NetworkOptions | None = None,
                  seed: int = 0, progress: bool = True, *,
                  checkpoint_dir: str | os.PathLike | None = None, client=None,
                  row_ids: np.ndarray | None = None, provenance: Mapping[str, Any] | None = None,
                  flag_layout: str = "interleaved",
                  after_member: Callable[[int], None] | None = None,
                  engine: str = "per-network", unit_members: int | None = None,
                  threads: int | None = None) -> Ensemble:
    """Train an ensemble resumably from ``checkpoint_dir``, optionally on a dask cluster:
    member by member on the per-network path, or in fused units of k members.

    Parameters
    ----------
    X, Y, feature_names, survey, n_members, options, seed, progress, row_ids, provenance,
    flag_layout
        As :func:`~sos_vo.ml.ensemble.train_ensemble`.
    checkpoint_dir : path, optional
        Root of the member checkpoints (:class:`MemberCheckpoints`); None: no checkpoint.
    client : distributed.Client, optional
        Train the missing members (per-network) or units (fused) as dask tasks
        (:func:`train_member_task`, :func:`train_unit_task`); each finished task's members are
        checkpointed by this process as they arrive.
    after_member : callable, optional
        Called with the member index after each newly trained member is checkpointed (fused:
        after all members of its unit are).
    engine : {"per-network", "fused"}
        :data:`ENGINES`: Keras network by network, or fused units (module docstring).
    unit_members : int, optional
        Members per fused unit (k >= 1); default :func:`default_unit_members` of this
        process's CPUs, or of the smallest worker's threads with ``client``.
    threads : int, optional
        Threads of the numpy engine in this process (default: its CPUs); results do not
        depend on it.

    Returns
    -------
    Ensemble
        Per-network: equal to ``train_ensemble(..., fused=False)`` for the same inputs (same
        seeds, splits and weights, as far as TensorFlow is deterministic on the machine).
        Fused: equal bit for bit to the same units trained without interruption.  Its
        provenance gains ``member_checkpoints``: how many members were loaded and how many
        trained, the engine and (fused) ``unit_members``.
    """
    options = options or NetworkOptions()
    if engine not in ENGINES:
        raise ValueError(f"engine {engine!r}: expected one of {', '.join(ENGINES)}")
    if unit_members is not None and unit_members < 1:
        raise ValueError(f"unit_members must be >= 1, got {unit_members}")
    fused = engine == "fused"
    if fused and options.optimizer != "adam":
        raise ValueError(f"fused training (numpy engine) implements Adam only, not "
                         f"{options.optimizer!r}: use the per-network engine")
    X, names, ys, input_scaler, label_scalers = training_input(
        X, Y, feature_names, survey, options, flag_layout, n_members=n_members, row_ids=row_ids)
    n = X.shape[0]
    labels = tuple(ys)
    k = 1
    key_engine, engine_options = ENGINE, None
    if fused:
        if unit_members is None:
            unit_members = default_unit_members(n_members, *unit_cores(client, threads))
        k = int(unit_members)
        key_engine = f"{FUSED_ENGINE}-k{k}"
        engine_options = {"batch_scale": 1.0, "lr_scaling": "sqrt"}
    store = None
    if checkpoint_dir is not None:
        store = MemberCheckpoints(checkpoint_dir, training_key(
            X, ys, names, survey, options, seed, row_ids, input_scaler, label_scalers,
            engine=key_engine, engine_options=engine_options))
    seeds = [member_seeds(seed, m, len(labels)) for m in range(n_members)]
    results: list[dict[str, Any] | None] = [store.load(m) if store else None
                                            for m in range(n_members)]
    # a fused unit is finished only when every one of its members loads
    units = units_of(n_members, k) if fused else [[m] for m in range(n_members)]
    todo_units = [u for u, ms in enumerate(units) if any(results[m] is None for m in ms)]
    for u in todo_units:
        for m in units[u]:
            results[m] = None
    todo = [m for u in todo_units for m in units[u]]
    n_loaded = n_members - len(todo)
    if n_loaded:
        log.info("%s: %d of %d members loaded from %s", survey, n_loaded, n_members, store.folder)

    def finished(ms: Sequence[int], res: Sequence[dict[str, Any]]) -> None:
        for m, r in zip(ms, res, strict=True):
            results[m] = r
            if store is not None:
                store.save(m, r)
        if after_member is not None:
            for m in ms:
                after_member(m)

    bar = None
    if progress and todo:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(todo), desc=f"train {survey} members"
                   + (f" (fused units of {k})" if fused else ""), unit="member")
    scaler_dicts = {lab: v.to_dict() for lab, v in label_scalers.items()}
    try:
        if client is None:
            for u in todo_units:
                ms = units[u]
                if fused:
                    res = train_unit(X, ys, options, ms, seed, u, input_scaler, label_scalers,
                                     threads=threads)
                else:
                    m = ms[0]
                    res = [train_one_member(X, ys, options, split_indices(n, seeds[m][0]),
                                            seeds[m][1], seeds[m][0], input_scaler,
                                            label_scalers)]
                finished(ms, res)
                if bar is not None:
                    bar.update(len(ms))
        elif todo:
            from distributed import as_completed

            # hash=False: a content-hashed key is shared with an earlier call on the same X,
            # whose release may still be under way on the scheduler; the new tasks would then be
            # cancelled for "lost dependencies" (a race seen with two builds in one client).
            [x_fut] = client.scatter([X], broadcast=False, hash=False)
            if fused:
                futures = {client.submit(train_unit_task, x_fut, ys, options.to_dict(), units[u],
                                         seed, u, input_scaler.to_dict(), scaler_dicts,
                                         pure=False): u for u in todo_units}
            else:
                futures = {client.submit(train_member_task, x_fut, ys, options.to_dict(),
                                         split_indices(n, seeds[m][0]), seeds[m][1], seeds[m][0],
                                         input_scaler.to_dict(), scaler_dicts,
                                         pure=False): u for u in todo_units for m in units[u]}
            for fut in as_completed(futures):
                ms = units[futures[fut]]
                res = fut.result()
                finished(ms, res if fused else [res])
                if bar is not None:
                    bar.update(len(ms))
    finally:
        if bar is not None:
            bar.close()
    members, splits = _members(results, labels, ys, input_scaler.n_outputs(X.shape[1]), options,
                               input_scaler, label_scalers)
    prov = dict(provenance or {})
    name = f"{FUSED_ENGINE} (units of {k})" if fused else ENGINE
    prov["member_checkpoints"] = {"loaded": n_loaded, "trained": len(todo),
                                  "engine": name + (" (dask)" if client is not None and todo else "")}
    if fused:
        prov["member_checkpoints"]["unit_members"] = k
    return Ensemble(survey=survey, labels=labels, input_names=names, options=options,
                    seed=int(seed), members=members, splits=splits, input_scaler=input_scaler,
                    label_scalers=label_scalers, n_rows=n,
                    row_ids=None if row_ids is None else np.asarray(row_ids), provenance=prov)
