"""The SoS-ML chain, stage by stage, on archive-shaped tables.

``tables`` (archive name -> Table, from :mod:`sos_vo.simulate` or :mod:`sos_vo.archives`)
-> :func:`prepare_survey` (join, cuts, PASTEL recalibration and augmentation, features)
-> :func:`train_survey` (ensemble + train_area density, saved as one model folder)
-> :func:`predict_survey` (numpy-only prediction with e_ML, train_set, train_area)
-> :func:`build_final_catalogue` (T25 Table 6).

The CLI (:mod:`sos_vo.commands`) and :mod:`sos_vo.api` are thin layers over these functions.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from astropy.table import Table

from .catalogue.merge import build_catalogue, make_prediction_table
from .catalogue.train_area import TrainingAreaModel
from .exceptions import EmptyInputError, SchemaError
from .io import atomic_path
from .labels.pastel import PASTEL_FLAG_COLUMN, augment_with_pastel
from .labels.recalibration import T25_TABLE1, LinearCorrection, recalibrate
from .ml.modelfolder import CUT_REPORT_FILE, TRAIN_AREA_FILE, ModelFolder  # noqa: F401
from .prepare.crossmatch import join_pastel, join_survey
from .prepare.cuts import MAX_TEFF_GSPPHOT, CutReport, apply_cuts
from .prepare.features import compute_features, feature_matrix
from .schema import LABELS, PASTEL_TABLE, SPEC_COLUMNS, SURVEY_ID_COLUMN, check_survey

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
                 fused: bool = False) -> Path:
    """Train the ensemble and the train_area density on the labelled rows; save one folder.

    ``fused=True`` trains all members x labels in one graph (:mod:`sos_vo.ml.fused`: same
    splits, losses and early stopping per network, several times faster).
    The folder (written atomically, :meth:`sos_vo.ml.modelfolder.ModelFolder.save`) holds the
    ensemble, the train_area density of the training inputs (:data:`TRAIN_AREA_FILE`), the
    cut report of the sample, the model card and the ``SHA256SUMS`` manifest.
    """
    from .ml.ensemble import train_ensemble  # needs TensorFlow; prediction does not

    mask = prepared.labelled()
    n = int(mask.sum())
    if n < 10 * max(n_members, 1):
        raise EmptyInputError(f"{prepared.survey}: only {n} labelled rows after the cuts; too few "
                              f"to train {n_members} members with an 80/10/10 split")
    X = prepared.X[mask]
    y = {k: v[mask] for k, v in prepared.labels().items()}
    ids = np.asarray(prepared.joined["source_id"], dtype=np.int64)[mask]
    prov = {"synthetic": prepared.synthetic, "survey": prepared.survey, "n_labelled": n,
            "pastel_augmented": int(np.sum(np.asarray(prepared.joined[PASTEL_FLAG_COLUMN])[mask]))
            if PASTEL_FLAG_COLUMN in prepared.joined.colnames else 0,
            "cuts": [dict(name=s.name, removed=int(s.n_removed)) for s in prepared.cut_report.steps]}
    prov.update(prepared.provenance)
    prov.update(provenance or {})
    ensemble = train_ensemble(X, y, prepared.input_names, prepared.survey, n_members=n_members,
                              options=options, seed=seed, progress=progress, row_ids=ids,
                              provenance=prov, fused=fused)
    # train_area: density of the inputs that trained at least one member (T25 Sect. 5.2)
    in_train = (ensemble.membership == 0).any(axis=0)
    area = TrainingAreaModel.fit(X[in_train], feature_names=list(prepared.input_names),
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
    result = model.predict(prepared.X, data_is_real=data_is_real, progress=progress,
                           names=prepared.input_names)
    median = {k: result[k][0] for k in LABELS}
    e_ml = {k: result[k][2] for k in LABELS}
    area = folder.train_area()
    in_area = area.flag(prepared.X, feature_names=list(prepared.input_names))
    ids = np.asarray(prepared.joined["source_id"], dtype=np.int64)
    in_train = np.isin(ids, folder.training_source_ids())
    return make_prediction_table(prepared.joined, prepared.survey, median, e_ml, in_train, in_area)


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
