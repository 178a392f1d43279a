"""Fused training: every member x label network of an ensemble trained together in one graph.

A per-network Keras ``fit`` loop (:func:`sos_vo.ml.training.train_member`) spends most of its
time in per-step overhead: one 18-block network on a 512-row batch is a chain of small
products.  Here the ``G = n_labels * n_members`` networks are trained as one: their weights
are stacked ``(G, n_in, n_out)`` and a training step is one batched product per layer over all
networks, so the step does 30x the work for about the overhead of one.  Two engines run it:
``numpy`` (:mod:`sos_vo.ml.numpy_training`, the default for Adam) and ``tensorflow`` (one Keras
layer, :class:`~sos_vo.ml.fused_tensorflow.GroupedMLP`, in :mod:`sos_vo.ml.fused_tensorflow`).
This module holds what both share (the options, the per-network rules below, the targets and
the resulting members) and imports neither Keras nor TensorFlow: the TensorFlow engine's module
is imported only when that engine runs, so a numpy-engine training never loads TensorFlow
(``GroupedMLP`` is still importable from here: it is loaded on first access).

Each network keeps the semantics of training it alone:

* **its own split.**  Every row of a mini-batch goes through every network, but the loss of
  network ``g`` only counts the rows of its member's *training* split (with a finite label):
  a per-network mask.  Batch normalisation takes its batch moments over the same masked rows
  only, so validation and test rows never influence a network's weights nor its statistics.
  Validation losses are computed in inference mode on each member's validation rows.
* **the same batch statistics.**  The fused batch holds ``batch_size / train_fraction`` rows
  (:attr:`FusedOptions.batch_scale` = 1), so each network sees on average ``batch_size``
  training rows per step and the same number of steps per epoch as alone.  Larger batches are
  an option (``batch_scale > 1``) with the learning rate scaled by ``sqrt(batch_scale)``
  (``lr_scaling``), the usual rule for Adam.
* **the same loss schedule.**  MAE for the first ``mae_epochs``, then SMAPE (T25 Sect. 4.1).
* **its own learning-rate decay.**  ``ReduceLROnPlateau`` (``lr_plateau_*`` options) is applied
  to each network's validation loss; a reduced rate scales that network's updates only
  (``lr_schedule="plateau"``, the default).
* **the same learning-rate schedule.**  ``lr_schedule="cosine"`` is a fixed function of the
  epoch, applied to the shared optimiser's rate (identical for every network, as alone).
* **its own early stopping.**  The rule of ``keras.callbacks.EarlyStopping(monitor="val_loss",
  patience, restore_best_weights=True, start_from_epoch=mae_epochs)`` is applied to each
  network separately; a network whose patience has run out is frozen (its best weights are
  kept aside and restored at the end; it keeps being computed but nothing of it is used).
  Training ends when every network has stopped or after ``epochs``.

At the end, each member and label gets its restored weights as a
:class:`~sos_vo.ml.training.DeferredNetwork`: an ordinary Keras network
(:func:`sos_vo.ml.network.build_mlp`) holding them is built only when first used (saving,
loading and the numpy prediction read the arrays), so the result is an
:class:`~sos_vo.ml.ensemble.Ensemble` that saves, loads and predicts exactly like one trained
network by network.

Initialisation (Glorot-uniform kernels, zero biases, identity batch norms, output bias at the
mean training label) and dropout follow Keras' defaults, drawn from each network's own seed;
the random streams differ from the per-network path, so results are statistically, not
bitwise, the same.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ..exceptions import EmptyInputError
from .inference import FastForward, fold_network, stack_networks
from .options import SPLIT_FRACTIONS, NetworkOptions
from .scaling import InputScaler, LabelScaler
from .training import (
    SPLIT_CODES,
    SPLIT_NAMES,
    DeferredNetwork,
    Member,
    keras_network,  # noqa: F401  (re-exported: its former home; imports Keras only when called)
)


def __getattr__(name: str):
    """:class:`~sos_vo.ml.fused_tensorflow.GroupedMLP`, importable from here as before, but
    imported (with Keras and TensorFlow) only when asked for: the numpy engine never needs it."""
    if name == "GroupedMLP":
        from .fused_tensorflow import GroupedMLP

        return GroupedMLP
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


LR_SCALINGS = ("sqrt", "linear", "none")
ENGINES = ("auto", "numpy", "tensorflow")
"""Engines of fused training: ``numpy`` (:mod:`sos_vo.ml.numpy_training`, hand-written passes,
one thread per core; Adam only), ``tensorflow`` (the Keras graph of
:mod:`sos_vo.ml.fused_tensorflow`, every optimiser), ``auto`` (numpy for Adam, the default optimiser, else tensorflow)."""


@dataclass(frozen=True)
class FusedOptions:
    """Options of fused training that the per-network path does not have.

    Attributes
    ----------
    batch_scale : float
        Fused batch = ``round(batch_size / train_fraction * batch_scale)`` rows (1 = each
        network sees ``batch_size`` training rows per step, as when trained alone).
    lr_scaling : str
        How the learning rate follows ``batch_scale``: ``sqrt`` (x sqrt(batch_scale), the
        usual rule for Adam), ``linear`` or ``none``.
    validation_rows : int
        Rows per inference step of the validation and test passes (tensorflow engine).
    engine : str
        One of :data:`ENGINES`.  ``auto`` picks the numpy engine for Adam (the default
        optimiser; the only one it implements) and the TensorFlow graph otherwise.  The numpy
        engine takes less than half the CPU time, and over eight seeds (15 epochs, 2 449 rows
        of a synthetic sky, ``benchmarks/engine_accuracy.py``) the two engines' held-out MADs
        differ by less than their seed-to-seed spread (docs/benchmarks.md Sect. 2c).
    threads : int or None
        Threads of the numpy engine (None: the CPUs this process may use); results do not
        depend on it.
    """

    batch_scale: float = 1.0
    lr_scaling: str = "sqrt"
    validation_rows: int = 8192
    engine: str = "auto"
    threads: int | None = None

    def __post_init__(self) -> None:
        if not self.batch_scale > 0:
            raise ValueError(f"batch_scale must be > 0, got {self.batch_scale}")
        if self.lr_scaling not in LR_SCALINGS:
            raise ValueError(f"lr_scaling {self.lr_scaling!r}: expected one of {LR_SCALINGS}")
        if self.validation_rows < 1:
            raise ValueError(f"validation_rows must be >= 1, got {self.validation_rows}")
        if self.engine not in ENGINES:
            raise ValueError(f"engine {self.engine!r}: expected one of {ENGINES}")
        if self.threads is not None and self.threads < 1:
            raise ValueError(f"threads must be >= 1, got {self.threads}")

    def resolved_engine(self, options: NetworkOptions) -> str:
        """``numpy`` or ``tensorflow`` for these network options."""
        if self.engine == "auto":
            return "numpy" if options.optimizer == "adam" else "tensorflow"
        return self.engine

    def batch_rows(self, options: NetworkOptions) -> int:
        """Rows of one fused mini-batch."""
        return max(1, int(round(options.batch_size / SPLIT_FRACTIONS[0] * self.batch_scale)))

    def learning_rate(self, options: NetworkOptions) -> float:
        """Learning rate for the fused batch."""
        factor = {"sqrt": math.sqrt(self.batch_scale), "linear": self.batch_scale,
                  "none": 1.0}[self.lr_scaling]
        return float(options.learning_rate * factor)


@dataclass
class _EarlyStop:
    """Keras ``EarlyStopping(restore_best_weights=True, start_from_epoch=...)`` for one network."""

    patience: int
    start_from_epoch: int
    best: float = math.inf
    best_epoch: int | None = None
    wait: int = 0
    stopped_epoch: int | None = None
    best_weights: dict[str, np.ndarray] | None = None

    def update(self, epoch: int, current: float, weights) -> bool:
        """Apply the rule after ``epoch`` (0-based); ``weights()`` gives this network's weights.
        Returns True when the network must stop."""
        if epoch < self.start_from_epoch:  # warm-up (MAE epochs): not monitored
            return False
        if self.best_weights is None:
            self.best_weights, self.best_epoch = weights(), epoch
        self.wait += 1
        if current < self.best:
            self.best, self.best_epoch, self.best_weights = current, epoch, weights()
            self.wait = 0
            return False
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            return True
        return False


@dataclass
class _Plateau:
    """Keras ``ReduceLROnPlateau(monitor="val_loss", factor, patience, min_lr)`` for one network
    (mode min, ``min_delta`` 1e-4, no cooldown: the Keras defaults train_member uses)."""

    factor: float
    patience: int
    min_lr: float
    lr: float
    best: float | None = None
    wait: int = 0

    def update(self, current: float) -> float:
        """Apply the rule after an epoch; returns the (possibly reduced) learning rate."""
        if self.best is None or current + 1e-4 < self.best:
            self.best, self.wait = current, 0
            return self.lr
        self.wait += 1
        if self.wait >= self.patience and self.lr > np.float32(self.min_lr):
            self.lr = max(self.lr * self.factor, self.min_lr)
            self.wait = 0
        return self.lr


class _EpochBook:
    """Per-network bookkeeping after each epoch, shared by the TensorFlow and numpy engines:
    the history, early stopping (:class:`_EarlyStop`), the plateau rule (:class:`_Plateau`) and
    the networks still training.

    Parameters
    ----------
    n_networks : int
    options : NetworkOptions
    base_lr : float
        Learning rate of the fused batch (:meth:`FusedOptions.learning_rate`).
    """

    def __init__(self, n_networks: int, options: NetworkOptions, base_lr: float) -> None:
        self.options = options
        self.stoppers = [_EarlyStop(options.patience, options.mae_epochs) for _ in range(n_networks)]
        self.plateaus = [_Plateau(options.lr_plateau_factor, options.lr_plateau_patience,
                                  options.learning_rate * 1e-3, base_lr) for _ in range(n_networks)]
        self.use_plateau = options.lr_schedule == "plateau" and options.lr_plateau_patience > 0
        self.active = np.ones(n_networks, dtype=bool)
        self.epochs_trained = np.zeros(n_networks, dtype=np.int64)
        self.history = [{"loss": [], "mae": [], "val_loss": [], "val_mae": []}
                        for _ in range(n_networks)]

    def record(self, epoch: int, train: np.ndarray, val: np.ndarray, weights_of,
               lr_now: float) -> None:
        """Apply the rules after ``epoch`` (0-based).

        ``train`` and ``val`` are ``(3, G)``: sums of the per-row losses and absolute errors,
        and the row counts; ``weights_of(g)`` gives network ``g``'s current weights;
        ``lr_now`` is the shared rate of a cosine schedule."""
        val_loss = val[0] / np.maximum(val[2], 1)
        for g in np.flatnonzero(self.active):
            h = self.history[g]
            h["loss"].append(float(train[0, g] / max(train[2, g], 1)))
            h["mae"].append(float(train[1, g] / max(train[2, g], 1)))
            h["val_loss"].append(float(val_loss[g]))
            h["val_mae"].append(float(val[1, g] / max(val[2, g], 1)))
            self.epochs_trained[g] = epoch + 1
            if self.stoppers[g].update(epoch, float(val_loss[g]), lambda g=g: weights_of(g)):
                self.active[g] = False
            if self.use_plateau:
                h.setdefault("learning_rate", []).append(self.plateaus[g].lr)
                self.plateaus[g].update(float(val_loss[g]))
            elif self.options.lr_schedule == "cosine":
                h.setdefault("learning_rate", []).append(lr_now)

    def advance(self, bar) -> bool:
        """Advance the epoch progress bar (``None``: none); True while a network still trains."""
        if bar is not None:
            bar.update(1)
            bar.set_postfix(active=int(self.active.sum()))
        return bool(self.active.any())

    def final_arrays(self, weights_of) -> list[dict[str, np.ndarray]]:
        """Each network's restored best weights (its current ones if it has none yet)."""
        return [stop.best_weights if stop.best_weights is not None else weights_of(g)
                for g, stop in enumerate(self.stoppers)]


def _masks(membership: np.ndarray, finite: np.ndarray, code: int) -> np.ndarray:
    """``(G, n)`` float32 masks: network ``g = label * n_members + member``."""
    n_members = membership.shape[0]
    sel = membership == code  # (M, n)
    out = sel[None, :, :] & finite[:, None, :]  # (L, M, n)
    return out.reshape(finite.shape[0] * n_members, -1).astype(np.float32)


@dataclass
class GroupTargets:
    """Targets of the ``G = labels x members`` networks trained together (network
    ``g = label * n_members + member``), shared by the TensorFlow and numpy engines."""

    y_phys: np.ndarray
    """``(L, n)`` labels in physical units (NaN where unknown)."""
    finite: np.ndarray
    """``(L, n)`` whether the label is known."""
    y_net: np.ndarray
    """``(L, n)`` scaled labels, 0 where unknown."""
    y_g: np.ndarray
    """``(G, n)`` float32 scaled labels of each network."""
    train_mask: np.ndarray
    """``(G, n)`` float32 mask of each network's training rows with a known label."""
    val_mask: np.ndarray
    """``(G, n)`` float32 mask of its validation rows."""
    output_bias: np.ndarray
    """``(G,)`` mean scaled training label: the initial output bias."""
    seeds: list[int]
    """Initialisation seed of each network."""


def group_targets(n: int, ys: Mapping[str, np.ndarray], splits: Sequence[Mapping[str, np.ndarray]],
                  label_seeds: Sequence[Sequence[int]],
                  label_scalers: Mapping[str, LabelScaler]) -> GroupTargets:
    """Masks, scaled targets, output biases and seeds of every network; refuses a network
    whose training or validation set is empty (:class:`~sos_vo.exceptions.EmptyInputError`)."""
    labels = tuple(ys)
    n_members = len(splits)
    g_total = len(labels) * n_members
    membership = np.full((n_members, n), -1, dtype=np.int8)
    for m, split in enumerate(splits):
        for name, code in SPLIT_CODES.items():
            membership[m, np.asarray(split[name], dtype=np.int64)] = code
    y_phys = np.stack([np.asarray(ys[k], np.float64) for k in labels])  # (L, n)
    finite = np.isfinite(y_phys)
    y_net = np.stack([np.nan_to_num(label_scalers[k].transform(ys[k]), nan=0.0) for k in labels])
    train_mask = _masks(membership, finite, SPLIT_CODES["train"])
    val_mask = _masks(membership, finite, SPLIT_CODES["validation"])
    for g in range(g_total):
        label, member = labels[g // n_members], g % n_members
        for name, mask in (("train", train_mask), ("validation", val_mask)):
            if not mask[g].any():
                raise EmptyInputError(f"member {member}, label {label!r}: the {name} set is empty "
                                      f"({int(finite[g // n_members].sum())} of {n} rows have a "
                                      f"finite label)")
    y_g = np.repeat(y_net, n_members, axis=0).astype(np.float32)  # (G, n)
    output_bias = (train_mask * y_g).sum(axis=1) / train_mask.sum(axis=1)
    seeds = [int(label_seeds[g % n_members][g // n_members]) for g in range(g_total)]
    return GroupTargets(y_phys, finite, y_net, y_g, train_mask, val_mask, output_bias, seeds)


def train_members_fused(X: np.ndarray, ys: Mapping[str, np.ndarray], options: NetworkOptions,
                        splits: Sequence[Mapping[str, np.ndarray]],
                        label_seeds: Sequence[Sequence[int]], split_seeds: Sequence[int], *,
                        input_scaler: InputScaler, label_scalers: Mapping[str, LabelScaler],
                        fused_options: FusedOptions | None = None, seed: int = 0,
                        progress: bool = False) -> dict[str, list[Member]]:
    """Train all member x label networks together (see the module docstring).

    Parameters
    ----------
    X : numpy.ndarray
        Zero-filled input matrix (rows x inputs), physical units.
    ys : mapping
        label -> labels (physical units, NaN where unknown).
    options : NetworkOptions
    splits : sequence of dict
        Per member, ``train`` / ``validation`` / ``test`` row indices (all rows).
    label_seeds : sequence of sequence of int
        Per member, one weight seed per label (as :func:`~sos_vo.ml.ensemble.member_seeds`).
    split_seeds : sequence of int
        Per member, the seed of its split (recorded in :class:`Member`).
    input_scaler, label_scalers
        Shared scalings.
    fused_options : FusedOptions, optional
    seed : int
        Seed of the shuffling and dropout streams.
    progress : bool
        tqdm bar over epochs.

    Returns
    -------
    dict
        label -> list of :class:`~sos_vo.ml.training.Member` (one per member).
    """
    fo = fused_options or FusedOptions()
    if fo.resolved_engine(options) == "numpy":
        from .numpy_training import train_members_numpy

        return train_members_numpy(X, ys, options, splits, label_seeds, split_seeds,
                                   input_scaler=input_scaler, label_scalers=label_scalers,
                                   fused_options=fo, seed=seed, progress=progress)
    from ..extras import require

    # the ``train`` extra: named in one line before the TensorFlow engine's module imports it
    require("tensorflow", "fused training with the TensorFlow engine", "train")
    require("keras", "fused training with the TensorFlow engine", "train")
    from .fused_tensorflow import train_members_tensorflow

    return train_members_tensorflow(X, ys, options, splits, label_seeds, split_seeds,
                                    input_scaler=input_scaler, label_scalers=label_scalers,
                                    fused_options=fo, seed=seed, progress=progress)


def _members(arrays, X, y_phys, labels, splits, finite, options, seeds, split_seeds, history,
             epochs_trained, stoppers, input_scaler, label_scalers) -> dict[str, list[Member]]:
    """Keras networks with the restored weights, test predictions, :class:`Member` objects."""
    n_members = len(splits)
    g_total = len(arrays)
    folded = [fold_network(a, options.n_blocks, options.batchnorm_epsilon) for a in arrays]
    fast = FastForward(stack_networks(folded), options.leaky_relu_slope)
    test_union = np.unique(np.concatenate([np.asarray(s["test"], np.int64) for s in splits]))
    raw = fast(input_scaler.transform(X[test_union]))  # (G, n_union)
    position = np.full(X.shape[0], -1, dtype=np.int64)
    position[test_union] = np.arange(test_union.size)
    members: dict[str, list[Member]] = {label: [] for label in labels}
    for g in range(g_total):
        li, m = g // n_members, g % n_members
        label = labels[li]
        split = {k: np.asarray(splits[m][k], np.int64)[finite[li][np.asarray(splits[m][k], np.int64)]]
                 for k in SPLIT_NAMES}
        te = split["test"]
        if te.size == 0:
            raise EmptyInputError(f"member {m}, label {label!r}: the test set is empty")
        model = DeferredNetwork(arrays[g], input_scaler.n_outputs(X.shape[1]), options, seeds[g])
        stop = stoppers[g]
        best_epoch = (int(stop.best_epoch) + 1 if stop.best_weights is not None
                      else int(epochs_trained[g]))
        members[label].append(Member(
            model=model, seed=int(seeds[g]), split_seed=int(split_seeds[m]), split=split,
            history=history[g], epochs_trained=int(epochs_trained[g]), best_epoch=best_epoch,
            test_pred=label_scalers[label].inverse(raw[g, position[te]]),
            test_true=y_phys[li, te].astype(np.float32), input_scaler=input_scaler,
            label_scaler=label_scalers[label], options=options))
    return members
