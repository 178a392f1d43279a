"""Find model folders: the ensembles installed with the package (``models/``) or given by path.

A model specification is one of

* ``None`` / ``"installed"``: the installed default ensemble of each survey
  (:data:`DEFAULT_MODELS`; the demo ensembles trained on the synthetic sky — they warn when
  applied to data from a real archive);
* a model folder (``model.json`` inside): its survey is read from the folder;
* a folder of model folders (as ``sos-vo demo`` writes ``models/<survey>/``);
* a mapping survey -> folder.
"""

from __future__ import annotations

import importlib.resources
from collections.abc import Iterable, Mapping
from pathlib import Path

from ..exceptions import ModelFormatError
from ..schema import check_survey
from .modelio import MODEL_JSON, read_metadata

MODEL_PACKAGE = "sos_vo.models"
"""Data package holding the shipped ensembles (installed with sos-vo)."""

DEFAULT_MODELS = {"sdss": "demo_sdss", "skymapper": "demo_skymapper"}
"""Installed folder used for each survey when no model is given."""


def installed_models_dir() -> Path:
    """Folder of the installed ensembles (``models/`` of the source tree or the installation)."""
    return Path(str(importlib.resources.files(MODEL_PACKAGE)))


def installed_models() -> dict[str, Path]:
    """Installed model folders by name."""
    root = installed_models_dir()
    return {p.name: p for p in sorted(root.iterdir()) if (p / MODEL_JSON).is_file()}


def _folders_in(path: Path) -> dict[str, Path]:
    if (path / MODEL_JSON).is_file():
        return {read_metadata(path)["survey"]: path}
    found: dict[str, Path] = {}
    for sub in sorted(path.iterdir()) if path.is_dir() else ():
        if (sub / MODEL_JSON).is_file():
            survey = read_metadata(sub)["survey"]
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
        A given path does not exist.
    ModelFormatError
        No model for one of the surveys, naming the survey and where it looked.
    """
    surveys = tuple(check_survey(s) for s in surveys)
    if spec is None or spec == "installed":
        installed = installed_models()
        found = {s: installed[DEFAULT_MODELS[s]] for s in surveys if DEFAULT_MODELS[s] in installed}
        where = f"the installed models ({installed_models_dir()})"
    elif isinstance(spec, Mapping):
        found = {check_survey(s): Path(p) for s, p in spec.items()}
        where = "the survey -> folder mapping"
    else:
        path = Path(spec)
        if not path.exists():
            raise FileNotFoundError(f"model folder {path} does not exist")
        found = _folders_in(path)
        where = str(path)
    for s in surveys:
        if s not in found:
            raise ModelFormatError(f"no model for survey {s!r} in {where}")
        if not (Path(found[s]) / MODEL_JSON).is_file():
            raise ModelFormatError(f"{found[s]}: not a model folder (no {MODEL_JSON})")
    return {s: Path(found[s]) for s in surveys}
