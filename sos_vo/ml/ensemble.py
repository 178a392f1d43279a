"""The SoS-ML ensemble: ``n_members`` random splits x one network per label (T25 Sect. 5.1).

Definitions used throughout (T25 Sect. 4.3, 5.1, Eq. 4, Table 4):

``prediction``
    median over the members of each star's predictions.
``e_rep``
    MAD (x 1.4826, footnote 6) over the members of each star's predictions.
``e_train``
    median of |pred - true| over the **pooled test sets** of all members: every member's
    network for that label predicts its own test rows (never seen in its training or
    validation), and the absolute errors of all members are pooled (a star is counted once
    per member whose test set holds it).  T25 Table 4 reports one test sample per survey; with
    10 random splits the pooled test sets are the closest equivalent and are less noisy.
``e_ML``
    ``sqrt(e_train**2 + e_rep**2)`` (Eq. 4).

Every member uses one random split for all labels, so the split membership of each row
(:attr:`Ensemble.membership`) is one matrix per ensemble.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from astropy.table import Table

from ..exceptions import EmptyInputError, SchemaError
from ..schema import LABEL_UNITS, check_survey
from ..stats import error_statistics
from .inference import DEFAULT_CHUNK_ROWS, NumpyEnsemble, fold_network, stack_networks
from .options import N_MEMBERS, NetworkOptions
from .scaling import InputScaler, LabelScaler, check_input_matrix, resolve_input_names
from .training import (
    SPLIT_CODES,
    Member,
    network_arrays,
    split_indices,
    train_member,
)

REPORT_STATISTICS = ("abs_mean", "abs_median", "abs_sigma", "abs_mad",
                     "signed_mean", "signed_median", "signed_sigma", "signed_mad", "rmse")


def member_seeds(seed: int, member: int, n_labels: int) -> tuple[int, list[int]]:
    """Split seed and per-label weight seeds of one member, derived from the ensemble seed."""
    split_seed = int(np.random.SeedSequence([seed, member]).generate_state(1)[0])
    label_seeds = [int(np.random.SeedSequence([seed, member, 1 + j]).generate_state(1)[0]) % (2**31)
                   for j in range(n_labels)]
    return split_seed, label_seeds


@dataclass
class Ensemble:
    """A trained ensemble (Keras networks kept in memory).

    Attributes
    ----------
    survey : str
    labels : tuple of str
    input_names : tuple of str
        Input column names (features and presence flags) in order.
    options : NetworkOptions
    seed : int
    members : dict
        label -> list of :class:`~sos_vo.ml.training.Member`, one per member (same order).
    splits : list of dict
        Per member, the ``train`` / ``validation`` / ``test`` row indices (all rows, before
        dropping rows with a missing label).
    input_scaler, label_scalers
        Shared by all members.
    n_rows : int
        Rows of the training matrix.
    row_ids : numpy.ndarray, optional
        Identifiers of the rows (e.g. Gaia ``source_id``) given by the caller.
    provenance : dict
        Where the training data came from (saved with the model; ``synthetic`` must be set).
    """

    survey: str
    labels: tuple[str, ...]
    input_names: tuple[str, ...]
    options: NetworkOptions
    seed: int
    members: dict[str, list[Member]]
    splits: list[dict[str, np.ndarray]]
    input_scaler: InputScaler
    label_scalers: dict[str, LabelScaler]
    n_rows: int
    row_ids: np.ndarray | None = None
    provenance: dict[str, Any] = field(default_factory=dict)
    _numpy: NumpyEnsemble | None = field(default=None, repr=False)

    @property
    def n_members(self) -> int:
        """Number of members (random splits)."""
        return len(self.splits)

    def test_errors(self, label: str) -> tuple[np.ndarray, np.ndarray]:
        """Pooled test-set ``(pred, true)`` of all members for ``label`` (physical units)."""
        ms = self.members[label]
        return (np.concatenate([m.test_pred for m in ms]), np.concatenate([m.test_true for m in ms]))

    def e_train(self, label: str) -> float:
        """Median absolute test error of ``label`` over the pooled test sets (T25 Sect. 5.1)."""
        pred, true = self.test_errors(label)
        return error_statistics(pred, true).abs_median

    def test_report(self) -> Table:
        """T25 Table-4 statistics per label, of |pred - true| (``abs_*``) and pred - true
        (``signed_*``), on the pooled test sets, with RMSE, N and ``e_train``."""
        rows = []
        for label in self.labels:
            st = error_statistics(*self.test_errors(label)).as_dict()
            rows.append({"label": label, "n": st["n"], **{k: st[k] for k in REPORT_STATISTICS},
                         "e_train": st["abs_median"]})
        table = Table(rows=rows, names=["label", "n", *REPORT_STATISTICS, "e_train"])
        table.meta["survey"] = self.survey
        table.meta["n_members"] = self.n_members
        table.meta["description"] = ("Test-set errors, pooled over the members' test sets "
                                     "(T25 Table 4: abs_*; SPIE paper: signed_*)")
        table.meta["units"] = {label: LABEL_UNITS.get(label, "") for label in self.labels}
        return table

    @property
    def membership(self) -> np.ndarray:
        """int8 array ``(n_members, n_rows)``: 0 train, 1 validation, 2 test (see SPLIT_CODES)."""
        out = np.full((self.n_members, self.n_rows), -1, dtype=np.int8)
        for m, split in enumerate(self.splits):
            for name, code in SPLIT_CODES.items():
                out[m, split[name]] = code
        return out

    def to_numpy(self) -> NumpyEnsemble:
        """The numpy-only predictor (BN folded, networks stacked); cached."""
        if self._numpy is None:
            folded = [fold_network(network_arrays(m.model), self.options.n_blocks,
                                   self.options.batchnorm_epsilon)
                      for label in self.labels for m in self.members[label]]
            self._numpy = NumpyEnsemble(
                labels=self.labels, n_members=self.n_members, layers=stack_networks(folded),
                leaky_relu_slope=self.options.leaky_relu_slope, input_names=self.input_names,
                input_scaler=self.input_scaler, label_scalers=dict(self.label_scalers),
                e_train={label: self.e_train(label) for label in self.labels},
                survey=self.survey, metadata={"provenance": dict(self.provenance)},
            )
        return self._numpy

    def predict(self, X: np.ndarray, chunk_rows: int = DEFAULT_CHUNK_ROWS,
                data_is_real: bool | None = None, progress: bool = False,
                names: Sequence[str] | None = None
                ) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """label -> ``(median, e_rep, e_ML)`` per row (see the module docstring and
        :meth:`~sos_vo.ml.inference.NumpyEnsemble.predict`)."""
        return self.to_numpy().predict(X, chunk_rows, data_is_real, progress, names)


def training_input(X: np.ndarray, Y: Mapping[str, np.ndarray], feature_names: Sequence[str],
                   survey: str, options: NetworkOptions, flag_layout: str = "interleaved",
                   *, n_members: int = 1, row_ids: np.ndarray | None = None
                   ) -> tuple[np.ndarray, tuple[str, ...], dict[str, np.ndarray], InputScaler,
                              dict[str, LabelScaler]]:
    """Check a training matrix and its labels and fit the scalers shared by all members.

    Used by every way of training an ensemble (per network, fused, as dask tasks), so that
    they accept and refuse the same input: ``n_members`` (>= 1) and ``row_ids`` (one per
    row of ``X``, when given) are checked here too.

    Returns
    -------
    X, input_names, labels (label -> float64 array), input_scaler, label_scalers
    """
    if n_members < 1:
        raise ValueError(f"n_members must be >= 1, got {n_members}")
    check_survey(survey)
    X = np.asarray(X)
    if X.ndim != 2:
        raise SchemaError(f"X must be 2-d (rows x inputs), got shape {X.shape}")
    names = resolve_input_names(feature_names, X.shape[1], flag_layout)
    X = check_input_matrix(X, names, what=f"{survey} training input")
    n = X.shape[0]
    if row_ids is not None and len(row_ids) != n:
        raise SchemaError(f"row_ids has {len(row_ids)} values but X has {n} rows")
    if not Y:
        raise SchemaError("no labels given (Y is empty)")
    ys = {}
    for label in Y:
        y = np.asarray(Y[label], dtype=np.float64).ravel()
        if y.size != n:
            raise SchemaError(f"label {label!r} has {y.size} values but X has {n} rows")
        if not np.isfinite(y).any():
            raise EmptyInputError(f"label {label!r}: no finite value in {n} rows")
        ys[label] = y
    input_scaler = InputScaler.fit(X, names, options.input_scaling, options.input_colours)
    label_scalers = {label: LabelScaler.fit(ys[label], options.label_scaling) for label in ys}
    return X, names, ys, input_scaler, label_scalers


def train_ensemble(X: np.ndarray, Y: Mapping[str, np.ndarray], feature_names: Sequence[str],
                   survey: str, n_members: int = N_MEMBERS, options: NetworkOptions | None = None,
                   seed: int = 0, progress: bool = True, *, fused: bool = False,
                   row_ids: np.ndarray | None = None, provenance: Mapping[str, Any] | None = None,
                   flag_layout: str = "interleaved", verbose: int = 0,
                   fused_options=None) -> Ensemble:
    """Train ``n_members`` random splits x one network per label (T25 Sect. 4.3, 5.1).

    Parameters
    ----------
    X : numpy.ndarray
        Zero-filled input matrix (rows x inputs): features and their 0/1 presence flags.
    Y : mapping
        label -> labels of the rows (physical units, NaN where unknown), e.g. ``teff``,
        ``logg``, ``feh``.
    feature_names : sequence of str
        Either the names of all ``X`` columns, or the feature names only (then the presence
        flags are placed according to ``flag_layout``, see :mod:`sos_vo.ml.scaling`).
    survey : str
        ``sdss`` or ``skymapper``.
    n_members : int
        Random splits (T25: 10).
    options : NetworkOptions, optional
    seed : int
        Ensemble seed; split and weight seeds of each member derive from it.
    progress : bool
        tqdm progress bar over the ``n_members * n_labels`` trainings.
    fused : bool
        Train all ``n_members * n_labels`` networks together in one graph
        (:mod:`sos_vo.ml.fused`): same splits, per-network loss masks, batch-norm moments and
        early stopping; several times faster.  The result saves, loads and predicts like the
        per-network one.
    row_ids : numpy.ndarray, optional
        Row identifiers (e.g. Gaia ``source_id``), stored with the split membership.
    provenance : mapping, optional
        Data provenance saved with the model (must contain ``synthetic: bool`` by then).
    flag_layout : str
        ``interleaved`` or ``blocked`` (only when ``feature_names`` are the feature names).
    verbose : int
        Keras verbosity.
    fused_options : sos_vo.ml.fused.FusedOptions, optional
        Batch scaling of fused training (only with ``fused=True``).

    Returns
    -------
    Ensemble
    """
    options = options or NetworkOptions()
    X, names, ys, input_scaler, label_scalers = training_input(
        X, Y, feature_names, survey, options, flag_layout, n_members=n_members, row_ids=row_ids)
    n = X.shape[0]
    labels = tuple(ys)
    members: dict[str, list[Member]] = {label: [] for label in labels}
    splits = []
    if fused:
        from .fused import train_members_fused

        seeds = [member_seeds(seed, m, len(labels)) for m in range(n_members)]
        splits = [split_indices(n, split_seed) for split_seed, _ in seeds]
        members = train_members_fused(
            X, ys, options, splits, [s for _, s in seeds], [s for s, _ in seeds],
            input_scaler=input_scaler, label_scalers=label_scalers,
            fused_options=fused_options, seed=seed, progress=progress)
        return Ensemble(survey=survey, labels=labels, input_names=names, options=options,
                        seed=int(seed), members=members, splits=splits,
                        input_scaler=input_scaler, label_scalers=label_scalers, n_rows=n,
                        row_ids=None if row_ids is None else np.asarray(row_ids),
                        provenance=dict(provenance or {}))
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=n_members * len(labels), desc=f"train {survey}", unit="net")
    try:
        for m in range(n_members):
            split_seed, label_seeds = member_seeds(seed, m, len(labels))
            split = split_indices(n, split_seed)
            splits.append(split)
            for label, wseed in zip(labels, label_seeds, strict=True):
                members[label].append(train_member(
                    X, ys[label], options, seed=wseed, split_seed=split_seed,
                    input_scaler=input_scaler, label_scaler=label_scalers[label],
                    split=split, verbose=verbose))
                if bar is not None:
                    bar.update(1)
                    bar.set_postfix(member=m, label=label)
    finally:
        if bar is not None:
            bar.close()
    return Ensemble(survey=survey, labels=labels, input_names=names, options=options, seed=int(seed),
                    members=members, splits=splits, input_scaler=input_scaler,
                    label_scalers=label_scalers, n_rows=n,
                    row_ids=None if row_ids is None else np.asarray(row_ids),
                    provenance=dict(provenance or {}))
