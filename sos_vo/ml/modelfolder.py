"""One trained SoS-ML model on disk: the folder layout, loading, checksums and sharing.

This module is the only place that knows the names and the meaning of the files of a model
folder.  :mod:`sos_vo.ml.modelio`, :mod:`sos_vo.ml.modelcard`, :mod:`sos_vo.ml.registry`,
:mod:`sos_vo.pipeline` and :mod:`sos_vo.scale.stream` go through :class:`ModelFolder`.

Layout (``format_version`` 1)
-----------------------------
``model.json``
    ``format_version``, ``package_version``, ``survey``, ``labels``, ``n_members``, input and
    feature names (in order), input and label scalers, network options, data ``provenance``
    (``synthetic: bool`` is required), test ``metrics`` (T25 Table 4, absolute and signed),
    ``e_train`` per label, per-member training summaries, the training date and the SHA-256
    of the array files ``weights.npz``, ``raw_weights.npz`` and ``splits.npz``.
``weights.npz``
    folded, stacked float32 weights ``W_<j>``, ``b_<j>`` read by :mod:`sos_vo.ml.inference`.
``raw_weights.npz`` (optional)
    the unfolded Keras weights of each network, ``<label>/<member>/<name>``.
``splits.npz``
    ``membership`` (int8, members x rows: 0 train, 1 validation, 2 test, -1 unused) and, when
    known, ``row_ids`` (Gaia DR3 source_id of each training row: the ``*_train_set`` flag).
``train_area.npz``
    the density of the training inputs (T25 Sect. 5.2; :mod:`sos_vo.catalogue.train_area`).
``cut_report.ecsv``
    per-cut row counts of the training sample (T25 Sect. 2).
``README.md``
    the model card (:mod:`sos_vo.ml.modelcard`), made from ``model.json``.
``SHA256SUMS``
    the SHA-256 of every other file, one ``<hex>  <name>`` line each (the format of GNU
    ``sha256sum``, so ``sha256sum -c SHA256SUMS`` checks a folder without sos-vo).  Written
    last by every save; folders written before it existed have none and load with a note
    (their ``weights.npz`` and ``splits.npz`` are still checked against ``model.json``).

Every file a load reads is checked against ``SHA256SUMS`` the first time it is read, so a
damaged or edited file is a one-line :class:`~sos_vo.exceptions.ModelFormatError` naming it.

Sharing
-------
:meth:`ModelFolder.pack` writes a ``.tar.gz`` (or ``.zip``) with the folder as its single
top-level directory; the archive is reproducible (sorted entries, the training date as the
time stamp of every entry, no owner names), so packing the same folder twice gives the same
SHA-256.  :func:`extract_archive` unpacks only plain files and refuses absolute names, ``..``,
links and special files; :func:`sos_vo.ml.registry.install_model` builds on it.
"""

from __future__ import annotations

import datetime as _dt
import gzip
import hashlib
import io
import json
import logging
import os
import re
import shutil
import stat
import tarfile
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ..exceptions import ModelFormatError
from ..io import OUTPUT_MARKER, atomic_path
from ..version import __version__

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
"""Version of the model-folder layout; a folder of another version is refused with a message."""

MODEL_JSON = "model.json"
WEIGHTS_NPZ = "weights.npz"
RAW_WEIGHTS_NPZ = "raw_weights.npz"
SPLITS_NPZ = "splits.npz"
TRAIN_AREA_FILE = "train_area.npz"
"""File of the train_area density model inside a model folder (T25 Sect. 5.2)."""
CUT_REPORT_FILE = "cut_report.ecsv"
"""Per-cut row counts of the training sample, saved in the model folder."""
CARD_FILE = "README.md"
MANIFEST_FILE = "SHA256SUMS"
"""Per-file SHA-256 manifest, ``sha256sum`` format."""

REQUIRED_FILES = (MODEL_JSON, WEIGHTS_NPZ)
"""Files without which a folder is not a model."""

LAYOUT: dict[str, str] = {
    MODEL_JSON: "description: survey, labels, inputs, scalers, options, provenance, metrics",
    WEIGHTS_NPZ: "folded, stacked float32 weights (numpy prediction)",
    RAW_WEIGHTS_NPZ: "unfolded Keras weights of every network (optional)",
    SPLITS_NPZ: "train/validation/test membership and the training source_ids",
    TRAIN_AREA_FILE: "density of the training inputs (T25 Sect. 5.2 train_area flag)",
    CUT_REPORT_FILE: "per-cut row counts of the training sample (T25 Sect. 2)",
    CARD_FILE: "model card (made from model.json)",
    MANIFEST_FILE: "SHA-256 of every other file (sha256sum -c SHA256SUMS)",
}
"""Every file a model folder may hold, in the order :meth:`ModelFolder.files` lists them."""

LEGACY_CHECKSUMS = (WEIGHTS_NPZ, RAW_WEIGHTS_NPZ, SPLITS_NPZ)
"""Files whose SHA-256 ``model.json`` records (the only checksums of folders without a manifest)."""

ARCHIVE_SUFFIXES = (".tar.gz", ".tgz", ".zip")
"""Archive files :func:`extract_archive` reads and :meth:`ModelFolder.pack` writes."""

_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_MANIFEST_LINE = re.compile(r"^([0-9a-fA-F]{64}) [ *](.+)$")


# ----------------------------------------------------------------------------- checksums
def sha256_file(path: str | os.PathLike) -> str:
    """Hex SHA-256 of a file, read in 1 MiB blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def check_sha256_hex(value: str) -> str:
    """``value`` as 64 lower-case hex digits; :class:`ModelFormatError` otherwise."""
    text = str(value).strip().lower()
    if not _HEX64.match(text):
        raise ModelFormatError(f"SHA-256 {value!r} is not 64 hexadecimal digits")
    return text


def _check_member_name(name: str, where: str) -> str:
    """A plain file name (no folder part, not ``.``/``..``), else :class:`ModelFormatError`."""
    if not name or name in (".", "..") or "/" in name or "\\" in name or "\0" in name:
        raise ModelFormatError(f"{where}: {name!r} is not a plain file name")
    return name


def parse_manifest(text: str, where: str = MANIFEST_FILE) -> dict[str, str]:
    """file name -> hex SHA-256 from ``sha256sum`` output (text or ``*`` binary mode lines)."""
    out: dict[str, str] = {}
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        m = _MANIFEST_LINE.match(line)
        if not m:
            raise ModelFormatError(f"{where}: line {n} is not '<sha256>  <file name>'")
        name = _check_member_name(m.group(2), f"{where}: line {n}")
        if name == MANIFEST_FILE or name in out:
            raise ModelFormatError(f"{where}: line {n} lists {name!r} twice or lists the manifest")
        out[name] = m.group(1).lower()
    for name in REQUIRED_FILES:
        if name not in out:
            raise ModelFormatError(f"{where}: does not list {name}")
    return out


def format_manifest(sums: Mapping[str, str]) -> str:
    """``sha256sum`` text (``<hex>  <name>`` lines, sorted by name)."""
    return "".join(f"{sums[name]}  {name}\n" for name in sorted(sums))


def _folder_files(folder: Path) -> list[str]:
    """Names of the regular files (not links) in ``folder``, except the manifest and the
    package's output-folder marker (:data:`sos_vo.io.OUTPUT_MARKER`, written after the save)."""
    return sorted(p.name for p in folder.iterdir()
                  if p.name not in (MANIFEST_FILE, OUTPUT_MARKER) and p.is_file()
                  and not p.is_symlink())


def _checked_provenance(provenance: Mapping[str, Any] | None) -> dict[str, Any]:
    prov = dict(provenance or {})
    if not isinstance(prov.get("synthetic"), bool):
        raise ValueError(
            "model provenance must say whether the training data are synthetic: pass "
            "provenance={'synthetic': True/False, ...} (archives, queries, seed, ...)"
        )
    return json.loads(json.dumps(prov, default=str))


# ----------------------------------------------------------------------------- the folder
class ModelFolder(os.PathLike):
    """A model folder: its files, its metadata, and the checked loading of its parts.

    A :class:`ModelFolder` is an :class:`os.PathLike`, so it can be passed wherever a folder
    path is expected.  Nothing is read on construction; each file is read (and checked
    against ``SHA256SUMS``) when first needed.

    Parameters
    ----------
    path : path
        The folder.
    verify_checksums : bool
        Check each file read against ``SHA256SUMS`` (or, for folders without one, the array
        files against the checksums in ``model.json``).

    Examples
    --------
    >>> from sos_vo.ml.registry import find_model
    >>> folder = ModelFolder(find_model("demo_sdss"))
    >>> folder.survey, folder.synthetic
    ('sdss', True)
    """

    def __init__(self, path: str | os.PathLike, *, verify_checksums: bool = True) -> None:
        self.path = Path(path)
        self.verify_checksums = bool(verify_checksums)
        self._meta: dict[str, Any] | None = None
        self._manifest: dict[str, str] | None = None
        self._manifest_read = False
        self._verified: set[str] = set()
        self._noted = False

    def __fspath__(self) -> str:
        return str(self.path)

    def __repr__(self) -> str:
        return f"ModelFolder({str(self.path)!r})"

    @property
    def name(self) -> str:
        """The folder's name (the installed name of a model in a models directory)."""
        return self.path.name

    def file(self, name: str) -> Path:
        """Path of one file of the layout (:data:`LAYOUT`) inside the folder."""
        return self.path / name

    def files(self) -> list[str]:
        """Names of the regular files present, layout files first, then any others."""
        present = set(_folder_files(self.path)) | ({MANIFEST_FILE} if self.has_manifest else set())
        return [n for n in LAYOUT if n in present] + sorted(present - set(LAYOUT))

    # ------------------------------------------------------------------ checksums
    @property
    def has_manifest(self) -> bool:
        """Whether the folder has a ``SHA256SUMS`` manifest."""
        return self.file(MANIFEST_FILE).is_file()

    def manifest(self) -> dict[str, str] | None:
        """file name -> SHA-256 from ``SHA256SUMS``; None for folders written without one."""
        if not self._manifest_read:
            path = self.file(MANIFEST_FILE)
            if path.is_file():
                try:
                    text = path.read_text(encoding="utf-8")
                except (OSError, UnicodeDecodeError) as exc:
                    raise ModelFormatError(f"{path}: unreadable ({exc})") from exc
                self._manifest = parse_manifest(text, str(path))
            self._manifest_read = True
        return self._manifest

    def _expected_sha256(self, name: str) -> tuple[str | None, str]:
        """(expected SHA-256 or None, where it comes from) for the file ``name``."""
        manifest = self.manifest()
        if manifest is not None:
            if name not in manifest:
                raise ModelFormatError(f"{self.file(name)}: not listed in {MANIFEST_FILE} "
                                       "(added after the model was saved?)")
            return manifest[name], MANIFEST_FILE
        if not self._noted:
            log.info("%s: no %s (a folder written before checksum manifests); only %s are "
                     "checked, against %s", self.path, MANIFEST_FILE, ", ".join(LEGACY_CHECKSUMS),
                     MODEL_JSON)
            self._noted = True
        if name == MODEL_JSON:
            return None, ""
        return self.metadata.get("sha256", {}).get(name), MODEL_JSON

    def checked_file(self, name: str) -> Path:
        """Path of ``name`` after checking that it exists and matches its recorded SHA-256.

        Raises
        ------
        ModelFormatError
            The file is missing, not listed in the manifest, or its content differs.
        """
        path = self.file(name)
        if not path.is_file():
            raise ModelFormatError(f"{path}: missing")
        if self.verify_checksums and name not in self._verified:
            expected, where = self._expected_sha256(name)
            if expected is not None and sha256_file(path) != expected:
                raise ModelFormatError(f"{path}: checksum differs from {where} "
                                       "(file changed or damaged)")
            self._verified.add(name)
        return path

    def verify(self, *, strict: bool = False) -> list[str]:
        """Check every file against the manifest; return the names checked.

        Parameters
        ----------
        strict : bool
            Also require the manifest and refuse files it does not list, links and sub-folders
            (what an installed model must satisfy).  Without ``strict``, a folder without a
            manifest has its array files checked against ``model.json``.

        Raises
        ------
        ModelFormatError
            Naming the first file that is missing, unlisted or damaged.
        """
        self.metadata  # noqa: B018  (presence and format version first)
        manifest = self.manifest()
        if manifest is None:
            if strict:
                raise ModelFormatError(f"{self.path}: no {MANIFEST_FILE} (checksum manifest)")
            names = [MODEL_JSON] + [n for n in LEGACY_CHECKSUMS if self.file(n).is_file()]
        else:
            names = sorted(manifest)
            if strict:
                for p in sorted(self.path.iterdir()):
                    if p.name == OUTPUT_MARKER:  # the output-folder marker, not model content
                        continue
                    if p.is_symlink() or not p.is_file():
                        raise ModelFormatError(f"{p}: not a plain file (a model folder holds "
                                               "only files)")
                    if p.name != MANIFEST_FILE and p.name not in manifest:
                        raise ModelFormatError(f"{p}: not listed in {MANIFEST_FILE}")
        self._verified.clear()
        for name in names:
            self.checked_file(name)
        return names

    def write_manifest(self) -> Path:
        """Write ``SHA256SUMS`` for every regular file of the folder (atomically)."""
        sums = {name: sha256_file(self.file(name)) for name in _folder_files(self.path)}
        with atomic_path(self.file(MANIFEST_FILE), overwrite=True) as tmp:
            tmp.write_text(format_manifest(sums), encoding="utf-8")
        self._manifest_read, self._manifest = False, None
        self._verified.clear()
        return self.file(MANIFEST_FILE)

    # ------------------------------------------------------------------ metadata
    @property
    def metadata(self) -> dict[str, Any]:
        """``model.json``, checked for presence, format version and checksum."""
        if self._meta is None:
            if not self.path.is_dir():
                raise ModelFormatError(f"{self.path}: model folder does not exist (or is not a "
                                       "folder)")
            path = self.file(MODEL_JSON)
            if not path.is_file():
                raise ModelFormatError(f"{path}: missing (not a sos-vo model folder?)")
            try:
                meta = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise ModelFormatError(f"{path}: unreadable model description ({exc})") from exc
            _check_format_version(meta, path)
            self._meta = meta
            if self.verify_checksums and self.manifest() is not None:
                try:
                    self.checked_file(MODEL_JSON)
                except ModelFormatError:
                    self._meta = None
                    raise
        return self._meta

    @property
    def survey(self) -> str:
        return str(self.metadata["survey"])

    @property
    def provenance(self) -> dict[str, Any]:
        """The data provenance recorded at training time."""
        return dict(self.metadata.get("provenance", {}))

    @property
    def synthetic(self) -> bool:
        """Whether the training labels come from the synthetic sky of :mod:`sos_vo.simulate`."""
        return bool(self.provenance.get("synthetic"))

    @property
    def created(self) -> str:
        """Training date (ISO 8601, UTC) recorded in ``model.json``."""
        return str(self.metadata.get("training_date", ""))

    def summary(self) -> dict[str, Any]:
        """One row of ``sos-vo models list``: name, survey, labels, size, date, versions."""
        meta = self.metadata
        prov = meta.get("provenance", {})
        return {"name": self.name, "survey": meta.get("survey", "?"),
                "labels": "synthetic" if prov.get("synthetic") else "real",
                "n_members": int(meta.get("n_members", 0)),
                "training_rows": int(meta.get("n_training_rows", 0)),
                "created": str(meta.get("training_date", "")),
                "sos_vo_version": str(meta.get("package_version", "?")),
                "format": int(meta.get("format_version", 0)),
                "checksums": MANIFEST_FILE if self.has_manifest else "none"}

    # ------------------------------------------------------------------ parts
    def load_ensemble(self, survey: str | None = None):
        """The numpy-only :class:`~sos_vo.ml.inference.NumpyEnsemble` (no TensorFlow import).

        Parameters
        ----------
        survey : str, optional
            Expected survey; a folder for another survey raises :class:`ModelFormatError`.

        Raises
        ------
        ModelFormatError
            Missing or unreadable files, another format version, another survey, damaged or
            inconsistent weights; the message names the file.
        """
        from .inference import NumpyEnsemble
        from .options import NetworkOptions
        from .scaling import InputScaler, LabelScaler

        meta = self.metadata
        if survey is not None and meta.get("survey") != survey:
            raise ModelFormatError(f"{self.file(MODEL_JSON)}: this model is for survey "
                                   f"{meta.get('survey')!r}, not {survey!r}")
        wpath = self.checked_file(WEIGHTS_NPZ)
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
            raise ModelFormatError(f"{self.path}: inconsistent model files "
                                   f"({type(exc).__name__}: {exc})") from exc
        k = len(labels) * n_members
        width = npe.input_scaler.n_outputs(len(input_names))  # inputs + derived colours and flags
        if layers[0][0].shape[:2] != (k, width) or layers[-1][0].shape[2] != 1:
            raise ModelFormatError(
                f"{wpath}: first layer has shape {layers[0][0].shape}, expected ({k}, {width}, "
                f"...) for {len(labels)} labels x {n_members} members and {len(input_names)} "
                f"inputs ({width - len(input_names)} derived colour columns)"
            )
        return npe

    def splits(self) -> dict[str, np.ndarray]:
        """``membership`` (and ``row_ids`` when saved) of the training rows."""
        path = self.checked_file(SPLITS_NPZ)
        try:
            with np.load(path, allow_pickle=False) as npz:
                return {k: npz[k] for k in npz.files}
        except (OSError, ValueError) as exc:
            raise ModelFormatError(f"{path}: unreadable ({exc})") from exc

    def training_source_ids(self) -> np.ndarray:
        """Gaia DR3 source_ids of the rows in any member's training split (empty if not saved)."""
        splits = self.splits()
        if "row_ids" not in splits:
            return np.zeros(0, dtype=np.int64)
        in_train = (np.asarray(splits["membership"]) == 0).any(axis=0)  # (n_members, n_rows)
        return np.asarray(splits["row_ids"], dtype=np.int64)[in_train]

    def train_area(self):
        """The :class:`~sos_vo.catalogue.train_area.TrainingAreaModel` of the folder."""
        from ..catalogue.train_area import TrainingAreaModel

        return TrainingAreaModel.load(self.checked_file(TRAIN_AREA_FILE))

    def cut_report(self):
        """The cut report of the training sample as an astropy Table (None when not saved)."""
        if not self.file(CUT_REPORT_FILE).is_file():
            return None
        from astropy.table import Table

        return Table.read(self.checked_file(CUT_REPORT_FILE), format="ascii.ecsv")

    def card(self) -> str:
        """Markdown text of the model card, made from ``model.json``."""
        from .modelcard import render_card

        return render_card(self.metadata)

    def stored_card(self) -> str:
        """The ``README.md`` shipped in the folder (the rendered card when there is none)."""
        if self.file(CARD_FILE).is_file():
            return self.checked_file(CARD_FILE).read_text(encoding="utf-8")
        return self.card()

    def write_card(self) -> Path:
        """(Re)write ``README.md`` from ``model.json``; a manifest present is brought up to date."""
        path = self.file(CARD_FILE)
        with atomic_path(path, overwrite=True) as tmp:
            tmp.write_text(self.card(), encoding="utf-8")
        if self.has_manifest:
            sums = dict(self.manifest() or {})
            sums[CARD_FILE] = sha256_file(path)
            with atomic_path(self.file(MANIFEST_FILE), overwrite=True) as tmp:
                tmp.write_text(format_manifest(sums), encoding="utf-8")
            self._manifest_read, self._manifest = False, None
            self._verified.discard(CARD_FILE)
        return path

    # ------------------------------------------------------------------ writing
    @classmethod
    def save(cls, folder: str | os.PathLike, ensemble, *,
             provenance: Mapping[str, Any] | None = None, train_area=None, cut_report=None,
             raw_weights: bool = True, overwrite: bool = False) -> ModelFolder:
        """Write a trained ensemble (and its train_area model and cut report) as a model folder.

        The folder is written into a temporary folder next to ``folder`` and renamed when
        whole (:func:`sos_vo.io.atomic_path`); ``README.md`` and ``SHA256SUMS`` come last.

        Parameters
        ----------
        folder : path
            Folder to create.
        ensemble : Ensemble
            A trained :class:`~sos_vo.ml.ensemble.Ensemble`.
        provenance : mapping, optional
            Data provenance (archives, queries, seeds, ...); must contain ``synthetic: bool``.
            Defaults to ``ensemble.provenance``.
        train_area : TrainingAreaModel, optional
            Density of the training inputs (``train_area.npz``).
        cut_report : astropy.table.Table, optional
            Per-cut row counts (``cut_report.ecsv``).
        raw_weights : bool
            Also write the unfolded Keras weights (``raw_weights.npz``); prediction needs only
            the folded ``weights.npz``.  False halves the folder (the shipped demo ensembles).
        overwrite : bool
            Replace an existing folder.
        """
        from .scaling import PRESENT_SUFFIX
        from .training import network_arrays

        prov = _checked_provenance(provenance if provenance is not None else ensemble.provenance)
        npe = ensemble.to_numpy()
        report = ensemble.test_report()
        metrics = [{k: (v.item() if hasattr(v, "item") else v)
                    for k, v in zip(report.colnames, row, strict=True)} for row in report]
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
            if raw_weights:
                raw = {f"{label}/{i}/{name}": arr
                       for label, ms in ensemble.members.items()
                       for i, m in enumerate(ms) for name, arr in network_arrays(m.model).items()}
                np.savez(tmp / RAW_WEIGHTS_NPZ, **raw)
            split_arrays = {"membership": ensemble.membership}
            if ensemble.row_ids is not None:
                split_arrays["row_ids"] = np.asarray(ensemble.row_ids)
            np.savez(tmp / SPLITS_NPZ, **split_arrays)
            meta["sha256"] = {f: sha256_file(tmp / f) for f in LEGACY_CHECKSUMS
                              if (tmp / f).is_file()}
            (tmp / MODEL_JSON).write_text(json.dumps(meta, indent=1, allow_nan=True))
            if train_area is not None:
                train_area.save(tmp / TRAIN_AREA_FILE)
            if cut_report is not None:
                cut_report.write(tmp / CUT_REPORT_FILE, format="ascii.ecsv")
            staged = cls(tmp)
            staged.write_card()
            staged.write_manifest()
        return cls(folder)

    # ------------------------------------------------------------------ sharing
    def pack(self, out: str | os.PathLike, *, overwrite: bool = False) -> tuple[Path, str]:
        """Write the folder as a reproducible ``.tar.gz``/``.tgz`` or ``.zip`` archive.

        The archive holds one top-level directory named like the folder, with the files of
        the manifest and the manifest itself.  A folder without a manifest (written before
        they existed) gets one computed now, inside the archive only.

        Returns
        -------
        (pathlib.Path, str)
            The archive and its SHA-256 (for ``sos-vo models install --sha256``).

        Raises
        ------
        ModelFormatError
            A file of the folder is damaged, or ``out`` has no archive suffix.
        """
        out = Path(out)
        kind = archive_kind(out)
        if kind is None:
            raise ModelFormatError(f"{out}: archive name must end with one of "
                                   f"{', '.join(ARCHIVE_SUFFIXES)}")
        self.verify()
        manifest = self.manifest()
        if manifest is None:
            log.info("%s: no %s; the archive gets one computed now", self.path, MANIFEST_FILE)
            names = _folder_files(self.path)
            manifest_text = format_manifest({n: sha256_file(self.file(n)) for n in names})
        else:
            names = sorted(manifest)
            manifest_text = self.file(MANIFEST_FILE).read_text(encoding="utf-8")
        stamp = _archive_time(self.created)
        entries = [(n, self.file(n)) for n in names]
        with atomic_path(out, overwrite=overwrite) as tmp:
            if kind == "zip":
                _write_zip(tmp, self.name, entries, manifest_text, stamp)
            else:
                _write_tar_gz(tmp, self.name, entries, manifest_text, stamp)
        return out, sha256_file(out)


def _check_format_version(meta: Any, path: Path) -> None:
    version = meta.get("format_version") if isinstance(meta, dict) else None
    if version == FORMAT_VERSION:
        return
    if isinstance(version, int) and version < FORMAT_VERSION:
        age = "older"
    elif isinstance(version, int):
        age = "newer"
    else:
        age = "unknown"
    writer = meta.get("package_version") if isinstance(meta, dict) else "?"
    raise ModelFormatError(
        f"{path}: format_version {version!r} is {age} than this sos-vo ({__version__}) reads "
        f"(format_version {FORMAT_VERSION}); retrain the model or use a matching sos-vo version "
        f"(model written by sos-vo {writer})"
    )


# ----------------------------------------------------------------------------- archives
def archive_kind(path: str | os.PathLike) -> str | None:
    """``"tar"`` for ``.tar.gz``/``.tgz``, ``"zip"`` for ``.zip``, None otherwise."""
    name = Path(path).name.lower()
    if name.endswith((".tar.gz", ".tgz")):
        return "tar"
    if name.endswith(".zip"):
        return "zip"
    return None


def archive_stem(path: str | os.PathLike) -> str:
    """The archive's file name without its archive suffix."""
    name = Path(path).name
    for suffix in ARCHIVE_SUFFIXES:
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return name


def _archive_time(created: str) -> int:
    """Time stamp of every archive entry: the training date (reproducible archives)."""
    try:
        t = _dt.datetime.fromisoformat(created)
    except (TypeError, ValueError):
        return 315532800  # 1980-01-01, the earliest date a zip entry can hold
    if t.tzinfo is None:
        t = t.replace(tzinfo=_dt.UTC)
    return max(int(t.timestamp()), 315532800)


def _write_tar_gz(path: Path, top: str, entries: list[tuple[str, Path]], manifest_text: str,
                  stamp: int) -> None:
    def info(name: str, size: int, directory: bool = False) -> tarfile.TarInfo:
        ti = tarfile.TarInfo(name)
        ti.size, ti.mtime = size, stamp
        ti.mode = 0o755 if directory else 0o644
        ti.type = tarfile.DIRTYPE if directory else tarfile.REGTYPE
        ti.uid = ti.gid = 0
        ti.uname = ti.gname = ""
        return ti

    with open(path, "wb") as raw, \
            gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=stamp) as gz, \
            tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar:
        tar.addfile(info(top, 0, directory=True))
        for name, src in entries:
            with open(src, "rb") as fh:
                tar.addfile(info(f"{top}/{name}", src.stat().st_size), fh)
        data = manifest_text.encode("utf-8")
        tar.addfile(info(f"{top}/{MANIFEST_FILE}", len(data)), io.BytesIO(data))


def _write_zip(path: Path, top: str, entries: list[tuple[str, Path]], manifest_text: str,
               stamp: int) -> None:
    date_time = _dt.datetime.fromtimestamp(stamp, _dt.UTC).timetuple()[:6]

    def info(name: str) -> zipfile.ZipInfo:
        zi = zipfile.ZipInfo(name, date_time=date_time)
        zi.compress_type = zipfile.ZIP_DEFLATED
        zi.external_attr = (stat.S_IFREG | 0o644) << 16
        return zi

    with zipfile.ZipFile(path, "w") as zf:
        for name, src in entries:
            with open(src, "rb") as fh, zf.open(info(f"{top}/{name}"), "w") as dst:
                shutil.copyfileobj(fh, dst, 1 << 20)
        zf.writestr(info(f"{top}/{MANIFEST_FILE}"), manifest_text.encode("utf-8"))


def _safe_parts(name: str, archive: Path) -> list[str]:
    """Path parts of an archive member name; refuses absolute names, drives and ``..``."""
    if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name) or "\\" in name:
        raise ModelFormatError(f"{archive}: member {name!r} has an absolute or non-portable path")
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if any(p == ".." for p in parts):
        raise ModelFormatError(f"{archive}: member {name!r} points outside the archive ('..')")
    if len(parts) > 2:
        raise ModelFormatError(f"{archive}: member {name!r} is nested deeper than "
                               "<model>/<file> (a model folder holds only files)")
    return parts


def _members(archive: Path) -> Iterator[tuple[list[str], bool, Any]]:
    """(parts, is_dir, opener) per member; links and special files are refused."""
    kind = archive_kind(archive)
    if kind == "tar":
        try:
            tar = tarfile.open(archive, mode="r:gz")
        except (tarfile.TarError, OSError, EOFError) as exc:
            raise ModelFormatError(f"{archive}: not a readable .tar.gz ({exc})") from exc
        with tar:
            for m in tar:
                parts = _safe_parts(m.name, archive)
                if m.issym() or m.islnk():
                    raise ModelFormatError(f"{archive}: member {m.name!r} is a link "
                                           "(a model archive holds only files)")
                if not (m.isfile() or m.isdir()):
                    raise ModelFormatError(f"{archive}: member {m.name!r} is not a plain file")
                yield parts, m.isdir(), (lambda m=m: tar.extractfile(m))
    elif kind == "zip":
        try:
            zf = zipfile.ZipFile(archive)
        except (zipfile.BadZipFile, OSError) as exc:
            raise ModelFormatError(f"{archive}: not a readable .zip ({exc})") from exc
        with zf:
            for zi in zf.infolist():
                parts = _safe_parts(zi.filename, archive)
                mode = zi.external_attr >> 16
                if stat.S_ISLNK(mode):
                    raise ModelFormatError(f"{archive}: member {zi.filename!r} is a link "
                                           "(a model archive holds only files)")
                yield parts, zi.is_dir(), (lambda zi=zi: zf.open(zi))
    else:
        raise ModelFormatError(f"{archive}: not a model archive (expected "
                               f"{', '.join(ARCHIVE_SUFFIXES)})")


def extract_archive(archive: str | os.PathLike, dest: str | os.PathLike) -> tuple[Path, str | None]:
    """Unpack the plain files of a model archive into the new folder ``dest``.

    Accepted layouts: files at the top level, or all files inside one top-level directory
    (as :meth:`ModelFolder.pack` writes); the files land directly in ``dest``.  Absolute
    names, ``..``, links, special files and deeper nesting are refused before anything is
    written outside ``dest`` (nothing ever is: each file is created by name inside ``dest``).

    Returns
    -------
    (pathlib.Path, str or None)
        ``dest`` and the archive's top-level directory name (None when files are at the top).

    Raises
    ------
    ModelFormatError
        Unreadable archive, an unsafe member, or a layout that is not one model folder.
    """
    archive, dest = Path(archive), Path(dest)
    dest.mkdir(parents=True)
    top: set[str] = set()
    flat = False
    for parts, is_dir, opener in _members(archive):
        if not parts:
            continue
        if is_dir:
            if len(parts) != 1:
                raise ModelFormatError(f"{archive}: sub-folder {'/'.join(parts)!r} (a model "
                                       "folder holds only files)")
            top.add(parts[0])
            continue
        if len(parts) == 1:
            flat = True
        else:
            top.add(parts[0])
        _check_layout(archive, top, flat)
        name = _check_member_name(parts[-1], str(archive))
        src = opener()
        if src is None:
            raise ModelFormatError(f"{archive}: member {'/'.join(parts)!r} cannot be read")
        try:
            with src, open(dest / name, "xb") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
        except FileExistsError as exc:
            raise ModelFormatError(f"{archive}: {name!r} appears twice") from exc
        except (OSError, EOFError, tarfile.TarError, zipfile.BadZipFile) as exc:
            raise ModelFormatError(f"{archive}: {'/'.join(parts)!r} unreadable ({exc})") from exc
    _check_layout(archive, top, flat)
    return dest, (next(iter(top)) if top else None)


def _check_layout(archive: Path, top: set[str], flat: bool) -> None:
    """One model folder: files at the top level, or all inside one top-level directory."""
    if (flat and top) or len(top) > 1:
        names = ", ".join(sorted(top) + (["files at the top level"] if flat else []))
        raise ModelFormatError(f"{archive}: holds more than one top-level entry ({names}); "
                               "expected one model folder")


def copy_folder_files(src: str | os.PathLike, dest: str | os.PathLike,
                      names: Iterable[str] | None = None) -> Path:
    """Copy the plain files of a model folder into the new folder ``dest``.

    Links and sub-folders are refused (a model folder holds only files).
    """
    src, dest = Path(src), Path(dest)
    if names is None:
        for p in sorted(src.iterdir()):
            if p.is_symlink() or not p.is_file():
                raise ModelFormatError(f"{p}: not a plain file (a model folder holds only files)")
        names = [p.name for p in sorted(src.iterdir())]
    dest.mkdir(parents=True)
    for name in names:
        shutil.copyfile(src / _check_member_name(name, str(src)), dest / name)
    return dest
