"""The TensorFlow engine of fused training (:func:`sos_vo.ml.fused.train_members_fused` with
``FusedOptions(engine="tensorflow")``): the ``G = n_labels * n_members`` networks as one Keras
layer (:class:`GroupedMLP`) trained in one ``tf.function`` step.

The rules every network follows (its own split, batch statistics, loss schedule, learning-rate
decay and early stopping) are those of :mod:`sos_vo.ml.fused`, shared with the numpy engine.
This module imports Keras and TensorFlow; :mod:`sos_vo.ml.fused` imports it only when the
TensorFlow engine runs (or :class:`GroupedMLP` is asked for), so the numpy engine never loads
TensorFlow.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import keras
import numpy as np
import tensorflow as tf

from .fused import FusedOptions, Member, _EpochBook, _members, group_targets
from .network import _optimizer
from .numpy_training import glorot_uniform
from .options import NetworkOptions, scheduled_learning_rate
from .scaling import InputScaler, LabelScaler

__all__ = ["GroupedMLP", "train_members_tensorflow"]


class GroupedMLP(keras.layers.Layer):
    """``G`` SoS-ML networks of one architecture as a single Keras layer with stacked weights.

    Input ``(batch, n_in)`` shared by all networks; output ``(G, batch)``.  In training mode
    ``call`` takes a ``(G, batch)`` 0/1 mask of the rows each network trains on: batch
    normalisation uses the moments of those rows only and updates its moving statistics like
    ``keras.layers.BatchNormalization`` (``moving = momentum * moving + (1 - momentum) * batch``).

    Parameters
    ----------
    n_inputs : int
    options : NetworkOptions
    seeds : sequence of int
        One seed per network (initial weights).
    output_bias : sequence of float
        Initial output bias per network.
    dropout_seed : int
        Seed of the dropout stream.
    """

    def __init__(self, n_inputs: int, options: NetworkOptions, seeds: Sequence[int],
                 output_bias: Sequence[float], dropout_seed: int = 0, **kwargs) -> None:
        super().__init__(**kwargs)
        self.options = options
        self.n_networks = len(seeds)
        self.slope = float(options.leaky_relu_slope)
        self.epsilon = float(options.batchnorm_epsilon)
        self.momentum = float(options.batchnorm_momentum)
        self.rate = float(options.dropout)
        sizes = [int(n_inputs), *options.widths]
        kernels = [[] for _ in range(len(sizes))]
        for s in seeds:
            rng = np.random.default_rng(int(s))
            for i in range(len(sizes) - 1):
                kernels[i].append(glorot_uniform(rng, sizes[i], sizes[i + 1]))
            kernels[-1].append(glorot_uniform(rng, sizes[-1], 1))
        g = self.n_networks

        def weight(name, value, trainable=True):
            return self.add_weight(name=name, shape=value.shape, trainable=trainable,
                                   initializer=keras.initializers.Constant(value), dtype="float32")

        self.kernels, self.biases, self.gammas, self.betas = [], [], [], []
        self.moving_means, self.moving_vars = [], []
        for i, w in enumerate(options.widths):
            self.kernels.append(weight(f"kernel_{i}", np.stack(kernels[i])))
            self.biases.append(weight(f"bias_{i}", np.zeros((g, 1, w), np.float32)))
            self.gammas.append(weight(f"gamma_{i}", np.ones((g, 1, w), np.float32)))
            self.betas.append(weight(f"beta_{i}", np.zeros((g, 1, w), np.float32)))
            self.moving_means.append(weight(f"mean_{i}", np.zeros((g, 1, w), np.float32), False))
            self.moving_vars.append(weight(f"var_{i}", np.ones((g, 1, w), np.float32), False))
        self.kernel_out = weight("kernel_out", np.stack(kernels[-1]))
        self.bias_out = weight("bias_out", np.asarray(output_bias, np.float32).reshape(g, 1, 1))
        self.dropout_seed = keras.random.SeedGenerator(int(dropout_seed))

    def call(self, x, rows_mask=None, training=False):
        ops = keras.ops
        h = None
        if training:
            m = ops.expand_dims(rows_mask, -1)  # (G, B, 1)
            count = ops.sum(m, axis=1, keepdims=True)  # (G, 1, 1)
            denom = ops.maximum(count, 1.0)
            has_rows = ops.cast(count > 0, "float32")
        for i in range(len(self.kernels)):
            if i == 0:
                h = ops.einsum("bi,gio->gbo", x, self.kernels[0]) + self.biases[0]
            else:
                h = ops.matmul(h, self.kernels[i]) + self.biases[i]
            h = ops.leaky_relu(h, negative_slope=self.slope)
            if training:
                mean = ops.sum(h * m, axis=1, keepdims=True) / denom
                var = ops.sum(ops.square(h - mean) * m, axis=1, keepdims=True) / denom
                for moving, batch in ((self.moving_means[i], mean), (self.moving_vars[i], var)):
                    new = moving * self.momentum + batch * (1.0 - self.momentum)
                    moving.assign(has_rows * new + (1.0 - has_rows) * moving)
            else:
                mean, var = self.moving_means[i], self.moving_vars[i]
            h = (h - mean) * ops.rsqrt(var + self.epsilon) * self.gammas[i] + self.betas[i]
            if training and self.rate > 0:
                h = keras.random.dropout(h, self.rate, seed=self.dropout_seed)
        out = ops.matmul(h, self.kernel_out) + self.bias_out  # (G, B, 1)
        return out[:, :, 0]

    def network_arrays(self, g: int, values: Mapping[str, np.ndarray] | None = None
                       ) -> dict[str, np.ndarray]:
        """Weights of network ``g`` in :func:`sos_vo.ml.training.network_arrays` layout.

        ``values`` (name -> stacked array, from :meth:`snapshot`) replaces the current weights.
        """
        values = values or self.snapshot()
        out = {}
        for i in range(len(self.kernels)):
            out[f"kernel_{i}"] = values[f"kernel_{i}"][g]
            for name in ("bias", "gamma", "beta", "mean", "var"):
                out[f"{name}_{i}"] = values[f"{name}_{i}"][g, 0]
        out["kernel_out"] = values["kernel_out"][g]
        out["bias_out"] = values["bias_out"][g, 0]
        return {k: np.asarray(v, np.float32).copy() for k, v in out.items()}

    def snapshot(self) -> dict[str, np.ndarray]:
        """All stacked weights as numpy arrays (name -> ``(G, ...)``)."""
        out = {}
        for i in range(len(self.kernels)):
            for name, var in (("kernel", self.kernels[i]), ("bias", self.biases[i]),
                              ("gamma", self.gammas[i]), ("beta", self.betas[i]),
                              ("mean", self.moving_means[i]), ("var", self.moving_vars[i])):
                out[f"{name}_{i}"] = keras.ops.convert_to_numpy(var)
        out["kernel_out"] = keras.ops.convert_to_numpy(self.kernel_out)
        out["bias_out"] = keras.ops.convert_to_numpy(self.bias_out)
        return out


def train_members_tensorflow(X: np.ndarray, ys: Mapping[str, np.ndarray], options: NetworkOptions,
                             splits: Sequence[Mapping[str, np.ndarray]],
                             label_seeds: Sequence[Sequence[int]], split_seeds: Sequence[int], *,
                             input_scaler: InputScaler, label_scalers: Mapping[str, LabelScaler],
                             fused_options: FusedOptions, seed: int = 0,
                             progress: bool = False) -> dict[str, list[Member]]:
    """:func:`sos_vo.ml.fused.train_members_fused` with the TensorFlow engine (same parameters
    and result)."""
    fo = fused_options
    labels = tuple(ys)
    n_members = len(splits)
    n_labels = len(labels)
    g_total = n_labels * n_members
    X = np.asarray(X, dtype=np.float32)
    n, n_in = X.shape
    targets = group_targets(n, ys, splits, label_seeds, label_scalers)
    y_phys, finite, y_g = targets.y_phys, targets.finite, targets.y_g
    train_mask, val_mask = targets.train_mask, targets.val_mask
    output_bias, seeds = targets.output_bias, targets.seeds

    xs = tf.constant(input_scaler.transform(X))
    y_t = tf.constant(y_g)
    train_t = tf.constant(train_mask)
    val_t = tf.constant(val_mask)
    model = GroupedMLP(int(xs.shape[1]), options, seeds, output_bias, dropout_seed=seed, name="grouped_mlp")
    model(xs[:2], training=False)  # build
    optimizer = _optimizer(options)
    optimizer.learning_rate = fo.learning_rate(options)
    trainable = model.trainable_variables
    optimizer.build(trainable)
    eps = float(options.smape_eps)

    def per_row_loss(y, p, mae_weight):
        err = tf.abs(y - p)
        sm = 2.0 * err / (tf.abs(y) + tf.abs(p) + eps)
        return mae_weight * err + (1.0 - mae_weight) * sm, err

    # per-network learning rates (ReduceLROnPlateau acts on each network alone): the update of
    # every optimiser here is linear in the rate, so network g's update is scaled by
    # lr_g / lr_base after the shared step (only once some rate has been reduced)
    base_lr = fo.learning_rate(options)
    lr_scale = tf.Variable(tf.ones((g_total, 1, 1)), trainable=False)

    def _step(idx, mae_weight, scaled: bool):
        xb = tf.gather(xs, idx)
        yb = tf.gather(y_t, idx, axis=1)
        mb = tf.gather(train_t, idx, axis=1)
        with tf.GradientTape() as tape:
            pred = model(xb, rows_mask=mb, training=True)
            loss, err = per_row_loss(yb, pred, mae_weight)
            count = tf.reduce_sum(mb, axis=1)
            per_net = tf.reduce_sum(loss * mb, axis=1) / tf.maximum(count, 1.0)
            total = tf.reduce_sum(per_net)
        grads = tape.gradient(total, trainable)
        before = [tf.identity(v) for v in trainable] if scaled else None
        optimizer.apply_gradients(zip(grads, trainable, strict=True))
        if scaled:
            for v, b in zip(trainable, before, strict=True):
                scale = tf.reshape(lr_scale, [g_total] + [1] * (len(v.shape) - 1))
                v.assign(b + scale * (v - b))
        return per_net * count, tf.reduce_sum(err * mb, axis=1), count

    train_plain = tf.function(lambda idx, w: _step(idx, w, False), reduce_retracing=True)
    train_scaled = tf.function(lambda idx, w: _step(idx, w, True), reduce_retracing=True)

    @tf.function(reduce_retracing=True)
    def eval_step(idx, mae_weight):
        xb = tf.gather(xs, idx)
        yb = tf.gather(y_t, idx, axis=1)
        mb = tf.gather(val_t, idx, axis=1)
        pred = model(xb, training=False)
        loss, err = per_row_loss(yb, pred, mae_weight)
        return tf.reduce_sum(loss * mb, axis=1), tf.reduce_sum(err * mb, axis=1), tf.reduce_sum(mb, 1)

    batch = fo.batch_rows(options)
    rows = np.flatnonzero(train_mask.any(axis=0)).astype(np.int32)
    val_rows = np.flatnonzero(val_mask.any(axis=0)).astype(np.int32)
    rng = np.random.default_rng(seed)
    book = _EpochBook(g_total, options, base_lr)
    plateaus = book.plateaus
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=options.epochs, desc=f"fused training ({g_total} networks)", unit="epoch")
    try:
        for epoch in range(options.epochs):
            if options.lr_schedule == "cosine":
                optimizer.learning_rate = scheduled_learning_rate(base_lr, epoch, options.epochs,
                                                                  "cosine")
            w = tf.constant(1.0 if epoch < options.mae_epochs else 0.0)
            perm = rows[rng.permutation(rows.size)]
            loss_sum = np.zeros(g_total)
            err_sum = np.zeros(g_total)
            cnt = np.zeros(g_total)
            step = train_scaled if any(p.lr != base_lr for p in plateaus) else train_plain
            for s in range(0, perm.size, batch):
                ls, es, c = step(tf.constant(perm[s:s + batch]), w)
                loss_sum += ls.numpy()
                err_sum += es.numpy()
                cnt += c.numpy()
            v_loss = np.zeros(g_total)
            v_err = np.zeros(g_total)
            v_cnt = np.zeros(g_total)
            for s in range(0, val_rows.size, fo.validation_rows):
                ls, es, c = eval_step(tf.constant(val_rows[s:s + fo.validation_rows]), w)
                v_loss += ls.numpy()
                v_err += es.numpy()
                v_cnt += c.numpy()
            snap = None

            def weights_of(g):
                nonlocal snap
                if snap is None:
                    snap = model.snapshot()
                return model.network_arrays(g, snap)

            book.record(epoch, np.stack([loss_sum, err_sum, cnt]), np.stack([v_loss, v_err, v_cnt]),
                        weights_of, scheduled_learning_rate(base_lr, epoch, options.epochs, "cosine"))
            if book.use_plateau:
                lr_scale.assign(np.array([p.lr / base_lr for p in plateaus],
                                         np.float32).reshape(g_total, 1, 1))
            if not book.advance(bar):
                break
    finally:
        if bar is not None:
            bar.close()

    final = model.snapshot()
    arrays = book.final_arrays(lambda g: model.network_arrays(g, final))
    return _members(arrays, X, y_phys, labels, splits, finite, options, seeds, split_seeds,
                    book.history, book.epochs_trained, book.stoppers, input_scaler, label_scalers)
