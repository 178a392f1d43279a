"""The SoS-ML multi-layer perceptron in Keras 3 (TensorFlow backend), T25 Sect. 4.1.

Each of the ``n_blocks`` hidden blocks is Dense -> LeakyReLU -> BatchNormalization -> Dropout,
with diamond widths 80..160..80; the output is Dense(1).  The loss is the mean absolute error
for the first fifth of the epochs and SMAPE (T25 Eq. 3) afterwards, implemented as one loss with
a weight variable that :class:`LossSwitch` sets at the start of every epoch.

Importing this module imports Keras (its classes subclass Keras'); the modules of prediction
(:mod:`sos_vo.ml.inference`, :mod:`sos_vo.ml.modelio`) and of the numpy training engine
(:mod:`sos_vo.ml.training`, :mod:`sos_vo.ml.fused`, :mod:`sos_vo.ml.numpy_training`,
:mod:`sos_vo.ml.checkpoint`) import it only inside the functions that build or train a Keras
network.
"""

from __future__ import annotations

import keras
from keras import layers, ops

from .options import NetworkOptions

__all__ = ["NetworkOptions", "build_mlp", "SwitchedLoss", "LossSwitch", "smape", "block_layers"]

BLOCK_LAYERS = ("dense", "leaky_relu", "batch_normalization", "dropout")
"""Layer order inside a hidden block (T25 Sect. 4.1)."""


def smape(y_true, y_pred, eps: float):
    """Per-sample SMAPE of T25 Eq. (3): ``2|y - yp| / (|y| + |yp| + eps)``."""
    return 2.0 * ops.abs(y_true - y_pred) / (ops.abs(y_true) + ops.abs(y_pred) + eps)


@keras.saving.register_keras_serializable(package="sos_vo")
class SwitchedLoss(keras.losses.Loss):
    """``w * MAE + (1 - w) * SMAPE`` with ``w`` a non-trainable variable (1 = MAE, 0 = SMAPE).

    T25 Sect. 4.1: MAE for the first 1/5 of the training time, SMAPE for the rest; the switch is
    done by :class:`LossSwitch`.
    """

    def __init__(self, smape_eps: float = 1e-3, name: str = "mae_then_smape", **kwargs):
        super().__init__(name=name, **kwargs)
        self.smape_eps = float(smape_eps)
        self.mae_weight = keras.Variable(1.0, trainable=False, name="mae_weight", dtype="float32")

    def call(self, y_true, y_pred):
        # labels may come as (batch,) while the output is (batch, 1): align them, or the
        # difference would broadcast to (batch, batch)
        y_true = ops.reshape(ops.cast(y_true, y_pred.dtype), ops.shape(y_pred))
        w = ops.cast(self.mae_weight, y_pred.dtype)
        err = ops.abs(y_true - y_pred)
        sm = smape(y_true, y_pred, self.smape_eps)
        return ops.mean(w * err + (1.0 - w) * sm, axis=-1)

    def get_config(self):
        return {**super().get_config(), "smape_eps": self.smape_eps}


class LossSwitch(keras.callbacks.Callback):
    """Set ``loss.mae_weight`` to 1 for epochs ``< mae_epochs`` and to 0 afterwards."""

    def __init__(self, loss: SwitchedLoss, mae_epochs: int):
        super().__init__()
        self.loss = loss
        self.mae_epochs = int(mae_epochs)

    def on_epoch_begin(self, epoch, logs=None):
        self.loss.mae_weight.assign(1.0 if epoch < self.mae_epochs else 0.0)


def _optimizer(options: NetworkOptions) -> keras.optimizers.Optimizer:
    classes = {
        "adam": keras.optimizers.Adam, "adamw": keras.optimizers.AdamW,
        "sgd": keras.optimizers.SGD, "rmsprop": keras.optimizers.RMSprop,
        "nadam": keras.optimizers.Nadam,
    }
    return classes[options.optimizer](learning_rate=options.learning_rate)


def build_mlp(n_inputs: int, options: NetworkOptions | None = None, seed: int = 0,
              compile: bool = True, output_bias: float = 0.0) -> keras.Model:
    """Build (and compile) one SoS-ML network.

    Parameters
    ----------
    n_inputs : int
        Width of the input (features plus presence flags).
    options : NetworkOptions, optional
        Architecture and training options (default: the paper's).
    seed : int
        Seed of the weight initialisers and dropout layers (the global Keras seed is set by
        :func:`sos_vo.ml.training.train_member`).
    output_bias : float
        Initial bias of the output neuron.  Training sets it to the mean training label in
        network units (our choice, not in the papers) so that the network does not spend its
        first epochs moving the output to the level of the labels.
    compile : bool
        Compile with :class:`SwitchedLoss` (starting on MAE) and the chosen optimiser; the
        model's ``loss`` attribute is the switchable loss.

    Returns
    -------
    keras.Model
        ``Sequential``-like functional model: Input, then per block ``dense_i``,
        ``leaky_relu_i``, ``batch_normalization_i``, ``dropout_i``, then ``output``.
    """
    options = options or NetworkOptions()
    if n_inputs < 1:
        raise ValueError(f"n_inputs must be >= 1, got {n_inputs}")
    init = keras.initializers.GlorotUniform
    x = inputs = keras.Input(shape=(n_inputs,), name="features", dtype="float32")
    for i, width in enumerate(options.widths):
        x = layers.Dense(width, kernel_initializer=init(seed=seed * 1000 + i), name=f"dense_{i}")(x)
        x = layers.LeakyReLU(negative_slope=options.leaky_relu_slope, name=f"leaky_relu_{i}")(x)
        x = layers.BatchNormalization(momentum=options.batchnorm_momentum,
                                      epsilon=options.batchnorm_epsilon,
                                      name=f"batch_normalization_{i}")(x)
        x = layers.Dropout(options.dropout, seed=seed * 1000 + 500 + i, name=f"dropout_{i}")(x)
    out = layers.Dense(1, kernel_initializer=init(seed=seed * 1000 + 999),
                       bias_initializer=keras.initializers.Constant(float(output_bias)),
                       name="output")(x)
    model = keras.Model(inputs, out, name="sos_mlp")
    if compile:
        loss = SwitchedLoss(options.smape_eps)
        model.compile(optimizer=_optimizer(options), loss=loss, metrics=["mae"])
    return model


def block_layers(model: keras.Model) -> list[tuple[keras.layers.Dense, keras.layers.BatchNormalization]]:
    """(Dense, BatchNormalization) pairs of the hidden blocks, in order (for weight export)."""
    dense = [lay for lay in model.layers if isinstance(lay, layers.Dense) and lay.name != "output"]
    bn = [lay for lay in model.layers if isinstance(lay, layers.BatchNormalization)]
    if len(dense) != len(bn):
        raise ValueError(f"model {model.name}: {len(dense)} hidden Dense but {len(bn)} BatchNormalization")
    return list(zip(dense, bn, strict=True))
