"""Find, list, install and remove model folders by name.

Two places hold installed models, each a folder of model folders named after the model:

* the ensembles shipped with the package (:data:`MODEL_PACKAGE`, read-only);
* the user models directory (:func:`user_models_dir`): ``$SOS_VO_MODELS_DIR`` when set,
  otherwise ``~/.sos-vo/models``.  ``sos-vo models install`` puts models there.

A model specification (``--model`` of ``sos-vo query`` and ``sos-vo predict``, the ``model``
argument of :func:`sos_vo.archives.query.query_region`) is one of

* ``None`` / ``"installed"``: the shipped default ensemble of each survey
  (:data:`DEFAULT_MODELS`; the demo ensembles trained on the synthetic sky — they warn when
  applied to data from a real archive);
* a model folder (``model.json`` inside): its survey is read from the folder;
* a folder of model folders (as ``sos-vo demo`` writes ``models/<survey>/``);
* the name of an installed model (``sos-vo models list``); an existing path of the same
  name wins;
* a mapping survey -> folder or name.
"""

from __future__ import annotations

import importlib.resources
import logging
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from ..exceptions import ModelFormatError
from ..io import mark_output_folder
from ..schema import check_survey
from .modelfolder import (
    MANIFEST_FILE,
    MODEL_JSON,
    TRAIN_AREA_FILE,
    ModelFolder,
    archive_kind,
    archive_stem,
    check_sha256_hex,
    copy_folder_files,
    extract_archive,
    sha256_file,
)

log = logging.getLogger(__name__)

MODEL_PACKAGE = "sos_vo.models"
"""Data package holding the shipped ensembles (installed with sos-vo)."""

DEFAULT_MODELS = {"sdss": "demo_sdss", "skymapper": "demo_skymapper"}
"""Shipped folder used for each survey when no model is given."""

MODELS_DIR_ENV = "SOS_VO_MODELS_DIR"
"""Environment variable naming the user models directory."""

DEFAULT_USER_MODELS_DIR = Path("~") / ".sos-vo" / "models"
"""User models directory when :data:`MODELS_DIR_ENV` is not set."""

NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
"""Installed model names: a letter or digit, then letters, digits, ``.``, ``_``, ``-``."""

SHIPPED, USER = "shipped", "user"

_WORK_RE = re.compile(r"^\.(install|replaced|removing)-(\d+)-")
"""Hidden work folders inside the user models directory: ``.<action>-<pid>-<random>``."""


@dataclass(frozen=True)
class InstalledModel:
    """A model found in one of the models directories.

    Attributes
    ----------
    name : str
        The folder name, used as ``--model NAME``.
    path : pathlib.Path
    where : str
        ``"shipped"`` (with the package, read-only) or ``"user"`` (installed by the user).
    """

    name: str
    path: Path
    where: str

    @property
    def folder(self) -> ModelFolder:
        return ModelFolder(self.path)


def installed_models_dir() -> Path:
    """Folder of the ensembles shipped with the package."""
    return Path(str(importlib.resources.files(MODEL_PACKAGE)))


def user_models_dir(models_dir: str | os.PathLike | None = None) -> Path:
    """The user models directory (``models_dir``, ``$SOS_VO_MODELS_DIR`` or ``~/.sos-vo/models``)."""
    if models_dir is not None:
        return Path(models_dir).expanduser()
    env = os.environ.get(MODELS_DIR_ENV, "").strip()
    return Path(env).expanduser() if env else DEFAULT_USER_MODELS_DIR.expanduser()


def _work_dir(root: Path, prefix: str) -> Path:
    """A new hidden work folder in ``root`` tagged with this process id."""
    return Path(tempfile.mkdtemp(prefix=f"{prefix}{os.getpid()}-", dir=root))


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, owned by someone else
        return True
    return True


def remove_stale_work(root: Path) -> list[Path]:
    """Delete the work folders a killed install or removal left in ``root`` (its process gone)."""
    removed = []
    for p in sorted(root.iterdir()) if root.is_dir() else ():
        m = _WORK_RE.match(p.name)
        if m and p.is_dir() and not p.is_symlink() and int(m.group(2)) != os.getpid() \
                and not _pid_alive(int(m.group(2))):
            shutil.rmtree(p, ignore_errors=True)
            removed.append(p)
    return removed


def _model_dirs(root: Path) -> dict[str, Path]:
    if not root.is_dir():
        return {}
    return {p.name: p for p in sorted(root.iterdir())
            if not p.name.startswith(".") and p.is_dir() and (p / MODEL_JSON).is_file()}


def installed_models() -> dict[str, Path]:
    """Shipped model folders by name."""
    return _model_dirs(installed_models_dir())


def list_models(models_dir: str | os.PathLike | None = None) -> list[InstalledModel]:
    """Every installed model: the shipped ones, then the user's, each sorted by name."""
    out = [InstalledModel(n, p, SHIPPED) for n, p in installed_models().items()]
    out += [InstalledModel(n, p, USER) for n, p in _model_dirs(user_models_dir(models_dir)).items()]
    return out


def check_model_name(name: str) -> str:
    """``name`` if it is a valid installed-model name; :class:`ModelFormatError` otherwise."""
    if not NAME_PATTERN.match(name or ""):
        raise ModelFormatError(f"model name {name!r}: use letters, digits, '.', '_' and '-' "
                               "(starting with a letter or digit, at most 100 characters)")
    return name


def get_installed(name: str, models_dir: str | os.PathLike | None = None) -> InstalledModel | None:
    """The installed model called ``name`` (user models first), or None."""
    for m in reversed(list_models(models_dir)):
        if m.name == name:
            return m
    return None


def find_model(spec: str | os.PathLike, models_dir: str | os.PathLike | None = None) -> Path:
    """Folder of a model given by path or installed name (an existing path wins).

    Raises
    ------
    FileNotFoundError
        Neither a path nor an installed name; the message lists the installed names.
    """
    path = Path(spec)
    if path.exists():
        return path
    if not (isinstance(spec, str) and NAME_PATTERN.match(spec)):
        raise FileNotFoundError(f"model folder {path} does not exist")
    found = get_installed(spec, models_dir)
    if found is not None:
        return found.path
    names = ", ".join(m.name for m in list_models(models_dir)) or "none"
    raise FileNotFoundError(f"model {spec!r}: no such model folder, and no installed model has "
                            f"that name (installed: {names}; see 'sos-vo models list')")


def _folders_in(path: Path) -> dict[str, Path]:
    if (path / MODEL_JSON).is_file():
        return {ModelFolder(path).survey: path}
    found: dict[str, Path] = {}
    for sub in sorted(path.iterdir()) if path.is_dir() else ():
        if (sub / MODEL_JSON).is_file():
            survey = ModelFolder(sub).survey
            if survey in found:
                raise ModelFormatError(f"{path}: two model folders for survey {survey!r} "
                                       f"({found[survey].name}, {sub.name}); name one explicitly")
            found[survey] = sub
    return found


def resolve_models(spec, surveys: Iterable[str]) -> dict[str, Path]:
    """Model folder for each of ``surveys`` from a model specification (see the module doc).

    Raises
    ------
    FileNotFoundError
        A given path does not exist and is not an installed name.
    ModelFormatError
        No model for one of the surveys, naming the survey and where it looked.
    """
    surveys = tuple(check_survey(s) for s in surveys)
    if spec is None or spec == "installed":
        installed = installed_models()
        found = {s: installed[DEFAULT_MODELS[s]] for s in surveys if DEFAULT_MODELS[s] in installed}
        where = f"the installed models ({installed_models_dir()})"
    elif isinstance(spec, Mapping):
        found = {check_survey(s): find_model(p) for s, p in spec.items()}
        where = "the survey -> folder mapping"
    else:
        path = find_model(spec)
        found = _folders_in(path)
        where = str(spec) if str(spec) == str(path) else f"{spec} ({path})"
    for s in surveys:
        if s not in found:
            raise ModelFormatError(f"no model for survey {s!r} in {where}")
        if not (Path(found[s]) / MODEL_JSON).is_file():
            raise ModelFormatError(f"{found[s]}: not a model folder (no {MODEL_JSON})")
    return {s: Path(found[s]) for s in surveys}


# ----------------------------------------------------------------------------- install
def install_model(source: str | os.PathLike, *, name: str | None = None,
                  sha256: str | None = None, overwrite: bool = False,
                  models_dir: str | os.PathLike | None = None) -> InstalledModel:
    """Install a model folder or archive into the user models directory.

    The model is unpacked or copied into a temporary folder inside the models directory,
    every file is checked against its ``SHA256SUMS`` (files it does not list, links and
    sub-folders are refused), the ensemble and its train_area model are loaded once, and
    only then is the folder renamed to its name: a failed install leaves nothing behind.
    A folder without a manifest (written before they existed) is installed with one
    computed now, with a note.

    Parameters
    ----------
    source : path
        A model folder, or a ``.tar.gz`` / ``.tgz`` / ``.zip`` archive of one
        (:meth:`ModelFolder.pack`).
    name : str, optional
        Installed name (default: the archive's top-level folder, else the archive or folder
        name).
    sha256 : str, optional
        Expected SHA-256 of the archive file (as ``sos-vo models pack`` prints it).
    overwrite : bool
        Replace a user model of the same name.
    models_dir : path, optional
        User models directory (default :func:`user_models_dir`).

    Raises
    ------
    FileNotFoundError
        ``source`` does not exist.
    FileExistsError
        A user model of that name exists and ``overwrite`` is False.
    ModelFormatError
        Checksum mismatch, unsafe or malformed archive, damaged files, a name that is not
        allowed or taken by a shipped model.
    """
    source = Path(source)
    if not source.exists():
        raise FileNotFoundError(f"{source}: no such model folder or archive")
    if source.is_dir():
        if sha256 is not None:
            raise ModelFormatError(f"{source}: --sha256 checks an archive file; a folder is "
                                   f"checked against its {MANIFEST_FILE}")
        default = source.resolve().name
    elif archive_kind(source) is None:
        raise ModelFormatError(f"{source}: not a model folder or an archive "
                               "(.tar.gz, .tgz, .zip)")
    else:
        if sha256 is not None:
            expected, actual = check_sha256_hex(sha256), sha256_file(source)
            if actual != expected:
                raise ModelFormatError(f"{source}: SHA-256 is {actual}, not the expected "
                                       f"{expected} (damaged or different file)")
        default = archive_stem(source)
    if name is not None:
        check_model_name(name)
    root = user_models_dir(models_dir)
    root.mkdir(parents=True, exist_ok=True)
    remove_stale_work(root)
    stage = _work_dir(root, ".install-")
    try:
        folder = stage / "model"
        if source.is_dir():
            copy_folder_files(source, folder)
        else:
            _, top = extract_archive(source, folder)
            default = top or default
        name = check_model_name(name if name is not None else default)
        if name in installed_models():
            raise ModelFormatError(f"model name {name!r} is taken by a model shipped with "
                                   "sos-vo; choose another with --name")
        model = ModelFolder(folder)
        if model.has_manifest:
            model.verify(strict=True)
        else:
            model.verify()
            log.warning("%s: no %s (written before checksum manifests); checksums recorded "
                        "now, from the files as received", source, MANIFEST_FILE)
            model.write_manifest()
            model = ModelFolder(folder)
            model.verify(strict=True)
        model.load_ensemble()
        if model.file(TRAIN_AREA_FILE).is_file():
            model.train_area()
        mark_output_folder(folder)  # written by sos-vo: --overwrite may replace it later
        target = root / name
        _move_into_place(folder, target, overwrite)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    log.info("installed %s as %s", source, target)
    return InstalledModel(name, target, USER)


def _move_into_place(folder: Path, target: Path, overwrite: bool) -> None:
    """Rename ``folder`` to ``target``; an existing target is moved aside first, then deleted."""
    if target.exists() or target.is_symlink():
        if not overwrite:
            raise FileExistsError(f"{target} is already installed (pass --overwrite to replace "
                                  "it)")
        aside = _work_dir(target.parent, ".replaced-") / target.name
        os.rename(target, aside)
        try:
            os.rename(folder, target)
        except OSError:
            os.rename(aside, target)
            raise
        shutil.rmtree(aside.parent, ignore_errors=True)
    else:
        os.rename(folder, target)


def remove_model(name: str, models_dir: str | os.PathLike | None = None) -> Path:
    """Delete the user-installed model ``name``; shipped models cannot be removed.

    Raises
    ------
    ModelFormatError
        ``name`` is a shipped model, or not an installed model.
    """
    check_model_name(name)
    root = user_models_dir(models_dir)
    target = root / name
    if not (target.is_dir() and not target.is_symlink() and (target / MODEL_JSON).is_file()):
        if name in installed_models():
            raise ModelFormatError(f"model {name!r} is shipped with sos-vo and cannot be removed")
        raise ModelFormatError(f"no user-installed model {name!r} in {root} "
                               "(see 'sos-vo models list')")
    aside = _work_dir(root, ".removing-")
    os.rename(target, aside / name)
    shutil.rmtree(aside, ignore_errors=True)
    return target
