"""The numpy forward pass (BN folded into the next Dense, networks stacked) against Keras."""

import numpy as np
import pytest

from sos_vo.ml.inference import combine_members, fold_network, forward_stacked, stack_networks
from sos_vo.ml.network import block_layers, build_mlp
from sos_vo.ml.options import NetworkOptions
from sos_vo.ml.training import network_arrays
from sos_vo.stats import mad


def random_network(n_in, opts, seed):
    """A network with random weights AND random batch-norm statistics (as after training)."""
    model = build_mlp(n_in, opts, seed=seed, compile=False)
    rng = np.random.default_rng(seed)
    for _, bn in block_layers(model):
        gamma, beta, mean, var = bn.get_weights()
        bn.set_weights([rng.uniform(0.5, 2.0, gamma.shape), rng.normal(0, 0.5, beta.shape),
                        rng.normal(0, 1.0, mean.shape), rng.uniform(0.1, 3.0, var.shape)])
    return model


@pytest.fixture(scope="module")
def nets():
    opts = NetworkOptions(n_blocks=4, min_width=12, max_width=24, leaky_relu_slope=0.05)
    return opts, [random_network(9, opts, seed) for seed in range(3)]


def test_folded_stacked_forward_matches_keras(nets):
    opts, models = nets
    x = np.random.default_rng(7).normal(size=(500, 9)).astype(np.float32)
    layers = stack_networks([fold_network(network_arrays(m), opts.n_blocks, opts.batchnorm_epsilon)
                             for m in models])
    out = forward_stacked(x, layers, opts.leaky_relu_slope)
    assert out.shape == (3, 500)
    for k, m in enumerate(models):
        ref = m.predict(x, verbose=0)[:, 0]
        spread = ref.std()
        assert spread > 0
        np.testing.assert_allclose(out[k], ref, atol=1e-4 * spread, rtol=0)


def test_forward_is_chunk_independent(nets):
    opts, models = nets
    layers = stack_networks([fold_network(network_arrays(m), opts.n_blocks, opts.batchnorm_epsilon)
                             for m in models])
    x = np.random.default_rng(8).normal(size=(301, 9)).astype(np.float32)
    whole = forward_stacked(x, layers, opts.leaky_relu_slope)
    parts = np.concatenate([forward_stacked(x[s:s + 64], layers, opts.leaky_relu_slope)
                            for s in range(0, 301, 64)], axis=1)
    np.testing.assert_allclose(parts, whole, rtol=1e-5, atol=1e-5)


def test_stack_rejects_mixed_architectures(nets):
    opts, models = nets
    other = NetworkOptions(n_blocks=4, min_width=12, max_width=30)
    a = fold_network(network_arrays(models[0]), 4, opts.batchnorm_epsilon)
    b = fold_network(network_arrays(random_network(9, other, 0)), 4, opts.batchnorm_epsilon)
    with pytest.raises(ValueError, match="different shapes"):
        stack_networks([a, b])


def test_combine_members_median_mad_and_eq4():
    pred = np.random.default_rng(3).normal(size=(10, 50))
    med, e_rep, e_ml = combine_members(pred, e_train=0.3)
    np.testing.assert_allclose(med, np.median(pred, axis=0), rtol=1e-6)
    np.testing.assert_allclose(e_rep, [mad(c) for c in pred.T], rtol=1e-5)
    np.testing.assert_allclose(e_ml, np.sqrt(0.3**2 + e_rep.astype(float) ** 2), rtol=1e-5)


# -- the fast path: biases folded into augmented matrices, network-major chunks, threads --------

def _stacked(opts, models):
    return stack_networks([fold_network(network_arrays(m), opts.n_blocks, opts.batchnorm_epsilon)
                           for m in models])


@pytest.mark.parametrize("chunk_rows, n_threads", [(1, 1), (64, 1), (77, 2), (4096, 2)])
def test_fast_forward_matches_reference_and_keras(nets, chunk_rows, n_threads):
    from sos_vo.ml.inference import FastForward

    opts, models = nets
    layers = _stacked(opts, models)
    x = np.random.default_rng(9).normal(size=(301, 9)).astype(np.float32)
    fast = FastForward(layers, opts.leaky_relu_slope)(x, chunk_rows=chunk_rows, n_threads=n_threads)
    ref = forward_stacked(x, layers, opts.leaky_relu_slope)
    assert fast.shape == ref.shape == (3, 301)
    np.testing.assert_allclose(fast, ref, rtol=1e-5, atol=1e-5 * np.abs(ref).max())
    for k, m in enumerate(models):
        keras_out = m.predict(x, verbose=0)[:, 0]
        np.testing.assert_allclose(fast[k], keras_out, rtol=0, atol=1e-4 * keras_out.std())


def test_fast_forward_views_follow_the_row_count(nets):
    """The per-thread views of a chunk are rebuilt when the row count changes or buffers grow."""
    from sos_vo.ml.inference import FastForward

    opts, models = nets
    layers = _stacked(opts, models)
    x = np.random.default_rng(10).normal(size=(301, 9)).astype(np.float32)
    ref = forward_stacked(x, layers, opts.leaky_relu_slope)
    fast = FastForward(layers, opts.leaky_relu_slope)
    # 64-row chunks and a 45-row tail, then one 301-row chunk (buffers grow), then 64 again
    outs = [fast(x, chunk_rows=c, n_threads=1) for c in (64, 301, 64, 100)]
    for out in outs:
        np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-5 * np.abs(ref).max())
    np.testing.assert_array_equal(outs[0], outs[2])
    # each network's output differs from the others' (no view shared by mistake)
    assert not np.allclose(outs[1][0], outs[1][1])
    # the Leaky ReLU's scratch of a hidden layer (not the first) is the layer's own input buffer
    _, steps, _ = fast._steps(64)
    h, _, _, _, scratch = steps[1]
    assert np.shares_memory(h, scratch)
    assert steps[-1][2] is None and steps[-1][1].shape == (64, 1)


def test_augment_layers_carries_the_constant_column(nets):
    from sos_vo.ml.inference import augment_layers

    opts, models = nets
    layers = _stacked(opts, models)
    first, rest = augment_layers(layers)
    k, n_in, w0 = layers[0][0].shape
    assert first.shape == (n_in + 1, k * (w0 + 1))
    # the input's constant column maps to 1 in each network's last column, nothing else does
    ones_cols = first[:, w0::w0 + 1]
    np.testing.assert_array_equal(ones_cols[:-1], 0.0)
    np.testing.assert_array_equal(ones_cols[-1], 1.0)
    np.testing.assert_array_equal(first[-1, :w0], layers[0][1][0, 0])
    assert rest[0][-1].shape == (layers[-1][0].shape[1] + 1, 1)


def test_numpy_ensemble_predict_is_thread_and_chunk_independent(trained):
    ens, X, _ = trained
    npe = ens.to_numpy()
    a = npe.predict_members(X, chunk_rows=50, n_threads=2)
    b = npe.predict_members(X, chunk_rows=10_000, n_threads=1)
    for label in ens.labels:
        keras_ref = np.stack([m.predict_keras(X) for m in ens.members[label]])
        scale = np.abs(keras_ref).max()
        np.testing.assert_allclose(a[label], b[label], rtol=0, atol=1e-5 * scale)
        np.testing.assert_allclose(a[label], keras_ref, rtol=0, atol=1e-4 * scale)


# -- the shipped models: the default path equals the previous one and a float64 evaluation ------

def _float64_outputs(layers, slope, xs):
    """Reference: every network in float64, layer by layer (no folding of biases, no chunks)."""
    outs = []
    for k in range(layers[0][0].shape[0]):
        h = xs.astype(np.float64)
        for j, (w, b) in enumerate(layers):
            h = h @ w[k].astype(np.float64) + b[k, 0].astype(np.float64)
            if j < len(layers) - 1:
                h = np.maximum(h, slope * h)
        outs.append(h[:, 0])
    return np.stack(outs)


@pytest.fixture(scope="module")
def synthetic_inputs():
    """Prepared inputs of both surveys from one fixed synthetic sky."""
    from sos_vo.pipeline import prepare_survey
    from sos_vo.simulate import simulate_sky

    sky = simulate_sky(center=(180.0, 0.0), radius=2.0, n_stars=4000, seed=3)
    return {s: prepare_survey(sky.tables, s).X for s in ("sdss", "skymapper")}


@pytest.mark.parametrize("survey", ["sdss", "skymapper"])
def test_shipped_model_fast_path_equals_previous_and_float64(synthetic_inputs, survey):
    from sos_vo.ml.inference import DEFAULT_CHUNK_ROWS, FastForward
    from sos_vo.ml.modelio import load_model
    from sos_vo.ml.registry import installed_models

    model = load_model(installed_models()[f"demo_{survey}"])
    X = synthetic_inputs[survey]
    assert len(X) > 500
    xs = model.input_scaler.transform(X)
    default = model.fast_forward()
    assert default.fill_ones
    previous = FastForward(model.layers, model.leaky_relu_slope, fill_ones=False)
    # the last pass uses the default chunk, as predict_members below does (OpenBLAS may sum a
    # row's products in another order at another position in a chunk: a few float32 ulp)
    for chunk_rows, n_threads in [(64, 2), (1024, 1), (DEFAULT_CHUNK_ROWS, 1)]:
        new = default(xs, chunk_rows=chunk_rows, n_threads=n_threads)
        old = previous(xs, chunk_rows=chunk_rows, n_threads=n_threads)
        # the same dot products over the same terms: equal bits for most products; OpenBLAS
        # sums some small products (chunks of < ~250 rows) in another order, a few float32 ulp
        np.testing.assert_allclose(new, old, rtol=0, atol=2e-6 * np.abs(old).max())
    ref = _float64_outputs(model.layers, model.leaky_relu_slope, xs)
    scale = np.abs(ref).max(axis=1, keepdims=True)
    assert np.all(np.std(ref, axis=1) > 1e-3 * scale[:, 0])  # the outputs vary over the sky
    np.testing.assert_allclose(new, ref, rtol=0, atol=1e-5 * scale.max())
    # and the physical predictions through the public API are those of the same outputs
    pred = model.predict_members(X, data_is_real=False, n_threads=1)
    for i, label in enumerate(model.labels):
        block = new[i * model.n_members:(i + 1) * model.n_members]
        np.testing.assert_array_equal(pred[label], model.label_scalers[label].inverse(block))
