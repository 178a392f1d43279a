"""The numpy engine of fused training against the Keras graph and its own invariants."""

from dataclasses import replace

import numpy as np
import pytest

from sos_vo.ml.ensemble import member_seeds
from sos_vo.ml.fused import FusedOptions, GroupedMLP, train_members_fused
from sos_vo.ml.numpy_training import (
    NetworkGroup,
    dropout_positions,
    epoch_batches,
    network_groups,
)
from sos_vo.ml.scaling import InputScaler, LabelScaler, input_names
from sos_vo.ml.training import split_indices

FEATURES = ("a", "b", "c", "d")


@pytest.mark.parametrize("mae_weight", [1.0, 0.0])
def test_gradients_equal_tensorflows_of_the_grouped_graph(small_options, mae_weight):
    """One step's gradients (all parameters, padded rows masked) = TensorFlow's autodiff of
    :class:`GroupedMLP` with the same weights, batch-norm batch moments and loss."""
    import tensorflow as tf

    opts = replace(small_options, dropout=0.0)
    g, rows, n_in = 3, 16, 5
    rng = np.random.default_rng(0)
    xb = rng.standard_normal((g, rows, n_in)).astype(np.float32)
    yb = (1.0 + rng.random((g, rows))).astype(np.float32)
    counts = np.array([16, 10, 16])
    mask = (np.arange(rows)[None, :] < counts[:, None]).astype(np.float32)
    seeds = [1, 2, 3]
    group = NetworkGroup(n_in, opts, seeds, [1.5] * g, 0.0, [np.random.default_rng(i) for i in seeds])
    graph = GroupedMLP(n_in, opts, seeds, [1.5] * g)
    graph(tf.constant(xb[0][:2]))
    for name, value in graph.snapshot().items():  # same initial weights (same draws)
        if name in group.param:
            np.testing.assert_array_equal(value, group.param[name], err_msg=name)
    theta = group.theta.copy()
    group.train_step(xb, yb, counts, mask[:, :, None], mae_weight)
    np.testing.assert_array_equal(group.theta, theta)  # learning rate 0: no change
    for j in range(g):
        rows_mask = np.zeros((g, rows), np.float32)
        rows_mask[j] = mask[j]
        with tf.GradientTape() as tape:
            p = graph(tf.constant(xb[j]), rows_mask=tf.constant(rows_mask), training=True)[j]
            y = tf.constant(yb[j])
            err = tf.abs(y - p)
            loss = mae_weight * err + (1 - mae_weight) * 2 * err / (tf.abs(y) + tf.abs(p) + opts.smape_eps)
            total = tf.reduce_sum(loss * mask[j]) / mask[j].sum()
        grads = tape.gradient(total, graph.trainable_variables)
        for var, grad in zip(graph.trainable_variables, grads, strict=True):
            want = np.asarray(grad)[j]
            got = group.dparam[var.name][j].reshape(want.shape)
            scale = max(np.abs(want).max(), 1e-6)
            np.testing.assert_allclose(got, want, rtol=0, atol=2e-4 * scale, err_msg=var.name)


def test_dropout_positions_are_a_bernoulli_process():
    rng = np.random.default_rng(1)
    size, rate = 200_000, 0.02
    pos = dropout_positions(rng, size, rate)
    assert np.all(np.diff(pos) > 0) and pos.min() >= 0 and pos.max() < size
    # binomial count: mean rate*size, sd sqrt(size rate (1-rate)) = 62.6; 5 sd
    assert abs(pos.size - rate * size) < 5 * np.sqrt(size * rate * (1 - rate))
    halves = np.bincount(pos // (size // 2))  # uniform along the array
    assert abs(int(halves[0]) - int(halves[1])) < 5 * np.sqrt(pos.size)
    assert dropout_positions(rng, size, 0.0).size == 0


def test_epoch_batches_cover_each_networks_rows_once():
    rows = [np.arange(0, 1000, 2), np.arange(1, 900, 3), np.arange(0, 501)]
    rngs = [np.random.default_rng(i) for i in range(3)]
    batch = 32
    steps = -(-max(r.size for r in rows) // batch)
    index, counts = epoch_batches(rows, rngs, batch, steps)
    assert index.shape == (3, steps, batch)
    for j, r in enumerate(rows):
        used = np.concatenate([index[j, s, :counts[j, s]] for s in range(steps)])
        np.testing.assert_array_equal(np.sort(used), r)  # every row once, no other row
        assert counts[j].max() - counts[j].min() <= batch
    assert list(counts[2][:-1]) == [batch] * (steps - 1)  # the largest: full batches, short last


def test_network_groups_split_evenly():
    groups = network_groups(30, 4)
    sizes = [len(g) for g in groups]
    assert len(sizes) == 4 and max(sizes) - min(sizes) <= 1
    assert [x for g in groups for x in g] == list(range(30))
    assert len(network_groups(2, 8)) == 2


def _train(X, Y, options, threads, engine="numpy"):
    seeds = [member_seeds(3, m, len(Y)) for m in range(2)]
    splits = [split_indices(len(X), s) for s, _ in seeds]
    scalers = {k: LabelScaler.fit(v, options.label_scaling) for k, v in Y.items()}
    scaler = InputScaler.fit(X, input_names(FEATURES), options.input_scaling)
    return train_members_fused(X, Y, options, splits, [s for _, s in seeds], [s for s, _ in seeds],
                               input_scaler=scaler, label_scalers=scalers, seed=3,
                               fused_options=FusedOptions(engine=engine, threads=threads))


def test_results_do_not_depend_on_the_number_of_threads(problem_factory, small_options):
    X, Y = problem_factory(300, seed=6)
    opts = replace(small_options, epochs=3, patience=3)
    one = _train(X, Y, opts, threads=1)
    three = _train(X, Y, opts, threads=3)
    for label in one:
        for a, b in zip(one[label], three[label], strict=True):
            for wa, wb in zip(a.model.get_weights(), b.model.get_weights(), strict=True):
                np.testing.assert_array_equal(wa, wb)
            assert a.history == b.history


def test_auto_engine_is_numpy_for_adam_and_the_graph_otherwise(small_options):
    assert small_options.optimizer == "adam"
    assert FusedOptions().resolved_engine(small_options) == "numpy"
    assert FusedOptions().resolved_engine(replace(small_options, optimizer="sgd")) == "tensorflow"
    assert FusedOptions(engine="numpy").resolved_engine(small_options) == "numpy"
    assert FusedOptions(engine="tensorflow").resolved_engine(small_options) == "tensorflow"
    with pytest.raises(ValueError, match="engine"):
        FusedOptions(engine="cuda")
    with pytest.raises(ValueError, match="threads"):
        FusedOptions(threads=0)
