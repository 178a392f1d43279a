"""Training one SoS-ML network (one ensemble member for one label), T25 Sect. 4.1-4.3.

The labelled sample is split at random 80/10/10 into training, validation and test sets
(T25 Sect. 4.3); training minimises MAE, then SMAPE (Sect. 4.1), watching the validation loss
with early stopping that restores the best weights.  The test-set predictions are kept: their
absolute errors give ``e_train`` (Sect. 5.1).

Importing this module does not import Keras or TensorFlow: the splits, :class:`Member`,
:class:`DeferredNetwork` and :func:`network_arrays` of a deferred network are plain numpy, which
is all the numpy engine (:mod:`sos_vo.ml.numpy_training`), saving and loading need.  Keras is
imported where a Keras network is built or trained (:func:`keras_network`, :func:`train_member`,
:func:`network_arrays` of a Keras network, the first use of a :class:`DeferredNetwork`'s Keras
network).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ..exceptions import EmptyInputError, SchemaError
from .options import SPLIT_FRACTIONS, NetworkOptions, scheduled_learning_rate
from .scaling import InputScaler, LabelScaler

if TYPE_CHECKING:  # annotations only: importing Keras costs ~0.5 GB of TensorFlow
    import keras

SPLIT_NAMES = ("train", "validation", "test")
SPLIT_CODES = {"train": 0, "validation": 1, "test": 2}
"""Integer codes of the split membership matrices (:attr:`Ensemble.membership`); -1 = unused
(label missing)."""


def set_tf_threads(n_threads: int) -> None:
    """Limit TensorFlow's intra- and inter-op thread pools (call before any TF work)."""
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(int(n_threads))
        tf.config.threading.set_inter_op_parallelism_threads(int(n_threads))
    except RuntimeError:  # TensorFlow already initialised: the pools are fixed
        pass


def split_indices(n: int, seed: int, fractions: tuple[float, float, float] = SPLIT_FRACTIONS
                  ) -> dict[str, np.ndarray]:
    """Random train / validation / test row indices (T25 Sect. 4.3: 80/10/10).

    Parameters
    ----------
    n : int
        Number of rows (>= 3).
    seed : int
        Seed of the permutation.
    fractions : (float, float, float)
        Train, validation and test fractions (sum 1).  The validation and test sizes are
        ``round(fraction * n)``, at least 1 each; training gets the rest.

    Returns
    -------
    dict
        ``{"train", "validation", "test"}`` -> sorted int64 index arrays, disjoint, covering
        ``range(n)``.
    """
    if len(fractions) != 3 or min(fractions) < 0 or not np.isclose(sum(fractions), 1.0):
        raise ValueError(f"fractions must be three non-negative numbers summing to 1, got {fractions}")
    if n < 3:
        raise EmptyInputError(f"need at least 3 rows to split into train/validation/test, got {n}")
    perm = np.random.default_rng(seed).permutation(n)
    n_val = max(1, int(round(fractions[1] * n)))
    n_test = max(1, int(round(fractions[2] * n)))
    n_train = n - n_val - n_test
    if n_train < 1:
        raise EmptyInputError(f"{n} rows leave no training row with fractions {fractions}")
    return {
        "train": np.sort(perm[:n_train]),
        "validation": np.sort(perm[n_train:n_train + n_val]),
        "test": np.sort(perm[n_train + n_val:]),
    }


def keras_network(arrays: Mapping[str, np.ndarray], n_inputs: int, options: NetworkOptions,
                  seed: int) -> keras.Model:
    """A compiled :func:`~sos_vo.ml.network.build_mlp` network holding ``arrays``
    (:func:`network_arrays` layout)."""
    from .network import block_layers, build_mlp

    model = build_mlp(n_inputs, options, seed=int(seed))
    for i, (dense, bn) in enumerate(block_layers(model)):
        dense.set_weights([arrays[f"kernel_{i}"], arrays[f"bias_{i}"]])
        bn.set_weights([arrays[f"gamma_{i}"], arrays[f"beta_{i}"], arrays[f"mean_{i}"],
                        arrays[f"var_{i}"]])
    model.get_layer("output").set_weights([arrays["kernel_out"], arrays["bias_out"]])
    return model


class DeferredNetwork:
    """The weights of one trained network; the Keras network holding them is built on first use.

    Fused training (:mod:`sos_vo.ml.fused`, :mod:`sos_vo.ml.numpy_training`) ends with plain
    arrays.  Building one Keras network per member and label costs ~0.5-1 CPU-second each
    (30 networks: as much as several epochs of a small training set, ``docs/benchmarks.md``
    Sect. 2c), and saving, loading and numpy prediction need only the arrays
    (:func:`network_arrays` returns them without building anything).  Any other attribute
    (``predict``, ``get_weights``, ``layers``, ...) is that of the Keras network
    (:func:`keras_network`), built once, when first asked for.

    Parameters
    ----------
    arrays : mapping
        :func:`network_arrays` layout.
    n_inputs : int
        Network input width.
    options : NetworkOptions
    seed : int
        Seed given to :func:`~sos_vo.ml.network.build_mlp` (dropout layers).
    """

    def __init__(self, arrays: Mapping[str, np.ndarray], n_inputs: int, options: NetworkOptions,
                 seed: int) -> None:
        self._arrays = {k: np.array(v, dtype=np.float32) for k, v in arrays.items()}
        self._n_inputs = int(n_inputs)
        self._options = options
        self._seed = int(seed)
        self._model: keras.Model | None = None

    @property
    def arrays(self) -> dict[str, np.ndarray]:
        """The weights (:func:`network_arrays` layout; copies)."""
        return {k: v.copy() for k, v in self._arrays.items()}

    @property
    def keras_model(self) -> keras.Model:
        """The Keras network (built on first use)."""
        if self._model is None:
            self._model = keras_network(self._arrays, self._n_inputs, self._options, self._seed)
        return self._model

    @property
    def is_built(self) -> bool:
        """Whether the Keras network has been built."""
        return self._model is not None

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):  # unset private attributes (e.g. while unpickling)
            raise AttributeError(name)
        return getattr(self.keras_model, name)

    def __call__(self, *args, **kwargs):
        return self.keras_model(*args, **kwargs)


def network_arrays(model: keras.Model | DeferredNetwork) -> dict[str, np.ndarray]:
    """Raw weights of a network built by :func:`~sos_vo.ml.network.build_mlp`, as float32 arrays.

    Keys: ``kernel_i``, ``bias_i``, ``gamma_i``, ``beta_i``, ``mean_i``, ``var_i`` per hidden
    block ``i`` and ``kernel_out``, ``bias_out`` (the layout :func:`~sos_vo.ml.inference.fold_network`
    reads).  A :class:`DeferredNetwork` gives its arrays without building its Keras network.
    """
    if isinstance(model, DeferredNetwork):
        return model.arrays
    from .network import block_layers

    out: dict[str, np.ndarray] = {}
    for i, (dense, bn) in enumerate(block_layers(model)):
        out[f"kernel_{i}"], out[f"bias_{i}"] = (np.asarray(w) for w in dense.get_weights())
        gamma, beta, mean, var = (np.asarray(w) for w in bn.get_weights())
        out.update({f"gamma_{i}": gamma, f"beta_{i}": beta, f"mean_{i}": mean, f"var_{i}": var})
    kernel, bias = model.get_layer("output").get_weights()
    out["kernel_out"], out["bias_out"] = np.asarray(kernel), np.asarray(bias)
    return {k: v.astype(np.float32) for k, v in out.items()}


@dataclass
class Member:
    """One trained network: one label, one random split (T25 Sect. 5.1).

    Attributes
    ----------
    model : keras.Model or DeferredNetwork
        The network, with the best validation weights restored (fused training gives a
        :class:`DeferredNetwork`, which builds the Keras network on first use).
    seed, split_seed : int
        Seed of the weights/dropout/shuffling and of the split.
    split : dict
        ``train`` / ``validation`` / ``test`` row indices into the ``X`` given to training
        (rows whose label is not finite are left out of all three).
    history : dict
        Per-epoch ``loss``, ``val_loss``, ``mae``, ``val_mae`` (network units).
    epochs_trained : int
        Epochs run before early stopping (or the maximum).
    best_epoch : int
        1-based epoch whose weights were restored (epochs to convergence).
    test_pred, test_true : numpy.ndarray
        Predictions and labels of the test rows, physical units.
    input_scaler, label_scaler
        The scalings used.
    """

    model: keras.Model | DeferredNetwork
    seed: int
    split_seed: int
    split: dict[str, np.ndarray]
    history: dict[str, list[float]]
    epochs_trained: int
    best_epoch: int
    test_pred: np.ndarray
    test_true: np.ndarray
    input_scaler: InputScaler
    label_scaler: LabelScaler
    options: NetworkOptions = field(default_factory=NetworkOptions)

    def predict_keras(self, X: np.ndarray, batch_size: int = 8192) -> np.ndarray:
        """Physical-unit predictions with Keras (reference for the numpy forward pass)."""
        xs = self.input_scaler.transform(X)
        y = self.model.predict(xs, batch_size=batch_size, verbose=0)[:, 0]
        return self.label_scaler.inverse(y)

    def summary(self) -> dict[str, Any]:
        """JSON-ready description (no weights)."""
        return {"seed": self.seed, "split_seed": self.split_seed,
                "epochs_trained": self.epochs_trained, "best_epoch": self.best_epoch,
                "n_train": int(self.split["train"].size),
                "n_validation": int(self.split["validation"].size),
                "n_test": int(self.split["test"].size),
                "history": self.history}


def train_member(X: np.ndarray, y: np.ndarray, options: NetworkOptions | None = None,
                 seed: int = 0, split_seed: int = 0, *,
                 input_scaler: InputScaler | None = None, label_scaler: LabelScaler | None = None,
                 input_names: tuple[str, ...] | None = None,
                 split: dict[str, np.ndarray] | None = None, verbose: int = 0) -> Member:
    """Train one network on ``X`` -> ``y``.

    Parameters
    ----------
    X : numpy.ndarray
        Zero-filled input matrix (rows x inputs), physical units.
    y : numpy.ndarray
        Labels (physical units); rows where ``y`` is NaN are not used.
    options : NetworkOptions, optional
    seed : int
        Global Keras seed (``keras.utils.set_random_seed``): weights, dropout, shuffling.
    split_seed : int
        Seed of :func:`split_indices` (ignored when ``split`` is given).
    input_scaler, label_scaler : optional
        Scalers to use; fitted on all of ``X`` / the finite ``y`` when not given (an ensemble
        passes shared ones).
    input_names : tuple of str, optional
        Input column names, needed only to fit an input scaler that knows the presence flags.
    split : dict, optional
        Precomputed ``train`` / ``validation`` / ``test`` indices.
    verbose : int
        Keras verbosity.

    Returns
    -------
    Member
    """
    from ..extras import require

    # the ``train`` extra: named in one line before the network module imports Keras
    require("tensorflow", "training networks", "train")
    keras = require("keras", "training networks", "train")
    from .network import LossSwitch, build_mlp

    options = options or NetworkOptions()
    X = np.asarray(X, dtype=np.float32)
    y = np.asarray(y, dtype=np.float64).ravel()
    if X.ndim != 2 or X.shape[0] != y.size:
        raise SchemaError(f"X has shape {X.shape} but y has {y.size} values")
    if input_scaler is None:
        names = input_names or tuple(f"x{i}" for i in range(X.shape[1]))
        input_scaler = InputScaler.fit(X, names, options.input_scaling, options.input_colours)
    if label_scaler is None:
        label_scaler = LabelScaler.fit(y, options.label_scaling)
    if split is None:
        split = split_indices(X.shape[0], split_seed)
    finite = np.isfinite(y)
    split = {k: np.asarray(v, dtype=np.int64)[finite[v]] for k, v in split.items()}
    for name in SPLIT_NAMES:
        if split[name].size == 0:
            raise EmptyInputError(
                f"the {name} set is empty ({int(finite.sum())} of {y.size} rows have a finite label)"
            )

    keras.utils.set_random_seed(int(seed))
    xs = input_scaler.transform(X)
    ys = label_scaler.transform(y)[:, None]
    tr, va, te = split["train"], split["validation"], split["test"]
    model = build_mlp(xs.shape[1], options, seed=int(seed), output_bias=float(np.mean(ys[tr, 0])))

    stopper = keras.callbacks.EarlyStopping(
        monitor="val_loss", patience=options.patience, restore_best_weights=True,
        start_from_epoch=options.mae_epochs,
    )
    if options.lr_schedule == "cosine":
        plateau = [keras.callbacks.LearningRateScheduler(
            lambda epoch, _lr: scheduled_learning_rate(options.learning_rate, epoch, options.epochs,
                                                       "cosine"))]
    elif options.lr_plateau_patience > 0:
        plateau = [keras.callbacks.ReduceLROnPlateau(
            monitor="val_loss", factor=options.lr_plateau_factor,
            patience=options.lr_plateau_patience, min_lr=options.learning_rate * 1e-3)]
    else:
        plateau = []
    fit = model.fit(
        xs[tr], ys[tr], validation_data=(xs[va], ys[va]), epochs=options.epochs,
        batch_size=options.batch_size, shuffle=True, verbose=verbose,
        callbacks=[LossSwitch(model.loss, options.mae_epochs), stopper, *plateau],
    )
    history = {k: [float(v) for v in vals] for k, vals in fit.history.items()}
    epochs_trained = len(history.get("loss", []))
    best = getattr(stopper, "best_epoch", None)
    best_epoch = int(best) + 1 if stopper.best_weights is not None and best is not None else epochs_trained
    test_pred = label_scaler.inverse(model.predict(xs[te], batch_size=8192, verbose=0)[:, 0])
    return Member(model=model, seed=int(seed), split_seed=int(split_seed), split=split,
                  history=history, epochs_trained=epochs_trained, best_epoch=best_epoch,
                  test_pred=test_pred, test_true=y[te].astype(np.float32),
                  input_scaler=input_scaler, label_scaler=label_scaler, options=options)
