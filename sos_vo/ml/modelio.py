"""Saving and loading trained SoS-ML ensembles as versioned folders (no TensorFlow needed to load).

A model folder holds:

``model.json``
    ``format_version``, ``package_version``, ``survey``, ``labels``, ``n_members``, input and
    feature names (in order), input and label scalers, network options, data ``provenance``
    (given by the caller; ``synthetic: bool`` is required), test ``metrics`` (T25 Table 4,
    absolute and signed), ``e_train`` per label, per-member training summaries, the training
    date and the SHA-256 of every array file.
``weights.npz``
    folded, stacked float32 weights ``W_<j>``, ``b_<j>`` read by :mod:`sos_vo.ml.inference`.
``raw_weights.npz``
    the unfolded Keras weights of each network, ``<label>/<member>/<name>`` (see
    :func:`sos_vo.ml.training.network_arrays`), to rebuild or inspect a network.
``splits.npz``
    ``membership`` (int8, members x rows: 0 train, 1 validation, 2 test, -1 unused) and, when
    given, ``row_ids`` of the training rows (to set ``*_train_set`` in the catalogue).

The folder is written atomically (:func:`sos_vo.io.atomic_path`).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ..exceptions import ModelFormatError
from ..io import atomic_path
from ..version import __version__
from .inference import NumpyEnsemble
from .options import NetworkOptions
from .scaling import PRESENT_SUFFIX, InputScaler, LabelScaler

FORMAT_VERSION = 1
"""Version of the model-folder layout; :func:`load_model` accepts exactly this version."""

MODEL_JSON = "model.json"
WEIGHTS_NPZ = "weights.npz"
RAW_WEIGHTS_NPZ = "raw_weights.npz"
SPLITS_NPZ = "splits.npz"
REQUIRED_FILES = (MODEL_JSON, WEIGHTS_NPZ)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _check_provenance(provenance: Mapping[str, Any] | None) -> dict[str, Any]:
    prov = dict(provenance or {})
    if not isinstance(prov.get("synthetic"), bool):
        raise ValueError(
            "model provenance must say whether the training data are synthetic: pass "
            "provenance={'synthetic': True/False, ...} (archives, queries, seed, ...)"
        )
    return json.loads(json.dumps(prov, default=str))


def save_model(ensemble, folder: str | os.PathLike, provenance: Mapping[str, Any] | None = None,
               overwrite: bool = False, raw_weights: bool = True) -> Path:
    """Write ``ensemble`` (:class:`~sos_vo.ml.ensemble.Ensemble`) as a model folder.

    Parameters
    ----------
    ensemble : Ensemble
        A trained ensemble.
    folder : path
        Folder to create (atomically).
    raw_weights : bool
        Also write the unfolded Keras weights (``raw_weights.npz``, for re-training or
        inspection); prediction needs only the folded ``weights.npz``.  False halves the
        folder (used for the demo ensemble shipped in ``models/``).
    provenance : mapping, optional
        Data provenance (archives, queries, seeds, ...); must contain ``synthetic: bool``.
        Defaults to ``ensemble.provenance``.
    overwrite : bool
        Replace an existing folder.

    Returns
    -------
    pathlib.Path
        The folder.
    """
    from .training import network_arrays  # needs Keras; only saving does

    prov = _check_provenance(provenance if provenance is not None else ensemble.provenance)
    npe = ensemble.to_numpy()
    report = ensemble.test_report()
    metrics = [{k: (v.item() if hasattr(v, "item") else v) for k, v in zip(report.colnames, row,
                                                                          strict=True)}
               for row in report]
    meta: dict[str, Any] = {
        "format_version": FORMAT_VERSION,
        "package": "sos-vo",
        "package_version": __version__,
        "survey": ensemble.survey,
        "labels": list(ensemble.labels),
        "n_members": ensemble.n_members,
        "n_networks": len(ensemble.labels) * ensemble.n_members,
        "network_order": "label-major: network k = label_index * n_members + member",
        "input_names": list(ensemble.input_names),
        "feature_names": [n for n in ensemble.input_names if not n.endswith(PRESENT_SUFFIX)],
        "input_scaler": ensemble.input_scaler.to_dict(),
        "label_scalers": {k: v.to_dict() for k, v in ensemble.label_scalers.items()},
        "options": ensemble.options.to_dict(),
        "seed": ensemble.seed,
        "n_training_rows": ensemble.n_rows,
        "provenance": prov,
        "metrics": metrics,
        "metrics_definition": "test-set errors pooled over the members (T25 Table 4 abs_*; "
                              "SPIE paper signed_*)",
        "e_train": {k: float(v) for k, v in npe.e_train.items()},
        "e_train_definition": "median |pred - true| over the pooled test sets of all members "
                              "(T25 Sect. 5.1)",
        "members": {label: [m.summary() for m in ms] for label, ms in ensemble.members.items()},
        "training_date": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
    }
    with atomic_path(folder, overwrite=overwrite) as tmp:
        tmp.mkdir()
        arrays = {}
        for j, (w, b) in enumerate(npe.layers):
            arrays[f"W_{j}"], arrays[f"b_{j}"] = w, b
        np.savez(tmp / WEIGHTS_NPZ, **arrays)
        raw = {f"{label}/{i}/{name}": arr
               for label, ms in ensemble.members.items()
               for i, m in enumerate(ms) for name, arr in network_arrays(m.model).items()}
        if raw_weights:
            np.savez(tmp / RAW_WEIGHTS_NPZ, **raw)
        split_arrays = {"membership": ensemble.membership}
        if ensemble.row_ids is not None:
            split_arrays["row_ids"] = np.asarray(ensemble.row_ids)
        np.savez(tmp / SPLITS_NPZ, **split_arrays)
        meta["sha256"] = {f: _sha256(tmp / f) for f in (WEIGHTS_NPZ, RAW_WEIGHTS_NPZ, SPLITS_NPZ)
                          if (tmp / f).is_file()}
        (tmp / MODEL_JSON).write_text(json.dumps(meta, indent=1, allow_nan=True))
    return Path(folder)


def read_metadata(folder: str | os.PathLike) -> dict[str, Any]:
    """``model.json`` of a model folder, checked for presence and format version."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ModelFormatError(f"{folder}: model folder does not exist (or is not a folder)")
    path = folder / MODEL_JSON
    if not path.is_file():
        raise ModelFormatError(f"{path}: missing (not a sos-vo model folder?)")
    try:
        meta = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelFormatError(f"{path}: unreadable model description ({exc})") from exc
    version = meta.get("format_version") if isinstance(meta, dict) else None
    if version != FORMAT_VERSION:
        if isinstance(version, int) and version < FORMAT_VERSION:
            age = "older"
        elif isinstance(version, int):
            age = "newer"
        else:
            age = "unknown"
        raise ModelFormatError(
            f"{path}: format_version {version!r} is {age} than this sos-vo ({__version__}) reads "
            f"(format_version {FORMAT_VERSION}); retrain the model or use a matching sos-vo version "
            f"(model written by sos-vo {meta.get('package_version') if isinstance(meta, dict) else '?'})"
        )
    return meta


def load_model(folder: str | os.PathLike, survey: str | None = None,
               verify_checksums: bool = True) -> NumpyEnsemble:
    """Load a model folder as a numpy-only :class:`~sos_vo.ml.inference.NumpyEnsemble`.

    Does not import TensorFlow or Keras.

    Parameters
    ----------
    folder : path
        Folder written by :func:`save_model`.
    survey : str, optional
        Expected survey; a folder for another survey raises :class:`ModelFormatError`.
    verify_checksums : bool
        Compare ``weights.npz`` with the SHA-256 recorded in ``model.json``.

    Raises
    ------
    ModelFormatError
        Missing or unreadable files, another format version, another survey, inconsistent
        weights; the message names the file.
    """
    folder = Path(folder)
    meta = read_metadata(folder)
    if survey is not None and meta.get("survey") != survey:
        raise ModelFormatError(
            f"{folder / MODEL_JSON}: this model is for survey {meta.get('survey')!r}, "
            f"not {survey!r}"
        )
    wpath = folder / WEIGHTS_NPZ
    if not wpath.is_file():
        raise ModelFormatError(f"{wpath}: missing")
    expected = meta.get("sha256", {}).get(WEIGHTS_NPZ)
    if verify_checksums and expected and _sha256(wpath) != expected:
        raise ModelFormatError(f"{wpath}: checksum differs from {MODEL_JSON} (file changed or damaged)")
    try:
        options = NetworkOptions.from_dict(meta["options"])
        with np.load(wpath) as npz:
            n_layers = options.n_blocks + 1
            layers = [(npz[f"W_{j}"].astype(np.float32), npz[f"b_{j}"].astype(np.float32))
                      for j in range(n_layers)]
        labels = tuple(meta["labels"])
        n_members = int(meta["n_members"])
        input_names = tuple(meta["input_names"])
        npe = NumpyEnsemble(
            labels=labels, n_members=n_members, layers=layers,
            leaky_relu_slope=float(options.leaky_relu_slope), input_names=input_names,
            input_scaler=InputScaler.from_dict(meta["input_scaler"]),
            label_scalers={k: LabelScaler.from_dict(v) for k, v in meta["label_scalers"].items()},
            e_train={k: float(v) for k, v in meta["e_train"].items()},
            survey=meta["survey"], metadata=meta,
        )
    except (KeyError, ValueError, TypeError, OSError, EOFError, zipfile.BadZipFile) as exc:
        # a truncated weights file is a BadZipFile or EOFError (np.load reads a zip archive)
        raise ModelFormatError(f"{folder}: inconsistent model files ({type(exc).__name__}: {exc})") from exc
    k = len(labels) * n_members
    width = npe.input_scaler.n_outputs(len(input_names))  # inputs + derived colours and flags
    if layers[0][0].shape[:2] != (k, width) or layers[-1][0].shape[2] != 1:
        raise ModelFormatError(
            f"{wpath}: first layer has shape {layers[0][0].shape}, expected ({k}, {width}, "
            f"...) for {len(labels)} labels x {n_members} members and {len(input_names)} inputs "
            f"({width - len(input_names)} derived colour columns)"
        )
    return npe


def load_splits(folder: str | os.PathLike) -> dict[str, np.ndarray]:
    """``membership`` (and ``row_ids`` when saved) of the training rows of a model folder."""
    path = Path(folder) / SPLITS_NPZ
    if not path.is_file():
        raise ModelFormatError(f"{path}: missing")
    with np.load(path) as npz:
        return {k: npz[k] for k in npz.files}
