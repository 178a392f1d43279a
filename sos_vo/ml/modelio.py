"""Saving and loading trained SoS-ML ensembles as versioned folders (no TensorFlow needed to load).

The folder layout (``model.json``, ``weights.npz``, ``raw_weights.npz``, ``splits.npz``,
``train_area.npz``, ``cut_report.ecsv``, ``README.md``, ``SHA256SUMS``) is described and
handled by :class:`sos_vo.ml.modelfolder.ModelFolder`; the functions here are the short
forms used across the package.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from .inference import NumpyEnsemble
from .modelfolder import (  # noqa: F401  (re-exported: the historical names of the layout)
    FORMAT_VERSION,
    MANIFEST_FILE,
    MODEL_JSON,
    RAW_WEIGHTS_NPZ,
    REQUIRED_FILES,
    SPLITS_NPZ,
    WEIGHTS_NPZ,
    ModelFolder,
    sha256_file,
)


def save_model(ensemble, folder: str | os.PathLike, provenance: Mapping[str, Any] | None = None,
               overwrite: bool = False, raw_weights: bool = True) -> Path:
    """Write ``ensemble`` (:class:`~sos_vo.ml.ensemble.Ensemble`) as a model folder.

    The folder gets ``model.json``, the weights, the splits, the model card and the
    ``SHA256SUMS`` manifest (:meth:`ModelFolder.save`; no train_area model, which
    :func:`sos_vo.pipeline.train_survey` adds).

    Parameters
    ----------
    ensemble : Ensemble
        A trained ensemble.
    folder : path
        Folder to create (atomically).
    provenance : mapping, optional
        Data provenance (archives, queries, seeds, ...); must contain ``synthetic: bool``.
        Defaults to ``ensemble.provenance``.
    overwrite : bool
        Replace an existing folder.
    raw_weights : bool
        Also write the unfolded Keras weights (``raw_weights.npz``, for re-training or
        inspection); prediction needs only the folded ``weights.npz``.

    Returns
    -------
    pathlib.Path
        The folder.
    """
    ModelFolder.save(folder, ensemble, provenance=provenance, raw_weights=raw_weights,
                     overwrite=overwrite)
    return Path(folder)


def read_metadata(folder: str | os.PathLike) -> dict[str, Any]:
    """``model.json`` of a model folder, checked for presence, format version and checksum."""
    return ModelFolder(folder).metadata


def load_model(folder: str | os.PathLike, survey: str | None = None,
               verify_checksums: bool = True) -> NumpyEnsemble:
    """Load a model folder as a numpy-only :class:`~sos_vo.ml.inference.NumpyEnsemble`.

    Does not import TensorFlow or Keras.  See :meth:`ModelFolder.load_ensemble`.

    Parameters
    ----------
    folder : path
        Folder written by :func:`save_model` or :func:`sos_vo.pipeline.train_survey`.
    survey : str, optional
        Expected survey; a folder for another survey raises :class:`ModelFormatError`.
    verify_checksums : bool
        Compare the files read with ``SHA256SUMS`` (older folders: ``weights.npz`` with the
        SHA-256 recorded in ``model.json``).

    Raises
    ------
    ModelFormatError
        Missing or unreadable files, another format version, another survey, inconsistent
        or damaged weights; the message names the file.
    """
    return ModelFolder(folder, verify_checksums=verify_checksums).load_ensemble(survey)


def load_splits(folder: str | os.PathLike) -> dict[str, np.ndarray]:
    """``membership`` (and ``row_ids`` when saved) of the training rows of a model folder."""
    return ModelFolder(folder).splits()
