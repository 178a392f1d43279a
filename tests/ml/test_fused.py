"""Fused training (all members x labels in one graph) against the per-network path."""

import pickle
from dataclasses import replace

import numpy as np
import pytest

from sos_vo.exceptions import EmptyInputError
from sos_vo.ml.ensemble import member_seeds, train_ensemble
from sos_vo.ml.fused import FusedOptions, train_members_fused
from sos_vo.ml.modelio import load_model, save_model
from sos_vo.ml.scaling import InputScaler, LabelScaler, input_names
from sos_vo.ml.training import DeferredNetwork, network_arrays, split_indices

FEATURES = ("a", "b", "c", "d")


ENGINES = ("numpy", "tensorflow")


@pytest.fixture(scope="module", params=ENGINES)
def fused(problem_factory, small_options, request):
    X, Y = problem_factory(1200, seed=11)
    ens = train_ensemble(X, Y, FEATURES, "sdss", n_members=3, options=small_options, seed=5,
                         progress=False, fused=True, fused_options=FusedOptions(engine=request.param),
                         row_ids=np.arange(1200) + 10**15,
                         provenance={"synthetic": True, "generator": "tests/ml/test_fused.py"})
    return ens, X, Y


def test_fused_uses_the_same_splits_as_per_network(fused, trained):
    ens, _, _ = fused
    ref, _, _ = trained  # same rows, seed and members (conftest)
    np.testing.assert_array_equal(ens.membership, ref.membership)
    assert ens.n_members == 3 and set(ens.members) == {"teff", "feh"}


def test_fused_accuracy_is_comparable_to_per_network(fused, trained):
    ens, _, Y = fused
    ref, _, _ = trained
    for label in ens.labels:
        spread = np.std(Y[label])
        assert ens.e_train(label) < 0.25 * spread  # it learned the smooth function
        assert ens.e_train(label) < 1.5 * ref.e_train(label)


def test_fused_ensemble_saves_loads_and_predicts_like_keras(fused, tmp_path):
    ens, X, _ = fused
    folder = save_model(ens, tmp_path / "m")
    loaded = load_model(folder)
    a, b = ens.predict(X), loaded.predict(X)
    for label in ens.labels:
        for got, want in zip(a[label], b[label], strict=True):
            np.testing.assert_array_equal(got, want)
        keras_members = np.stack([m.predict_keras(X) for m in ens.members[label]])
        members = loaded.predict_members(X)[label]
        scale = np.abs(keras_members).max()
        np.testing.assert_allclose(members, keras_members, rtol=0, atol=1e-4 * scale)


@pytest.mark.parametrize("engine", ENGINES)
def test_fused_members_save_and_load_without_building_keras_networks(problem_factory, small_options,
                                                                     tmp_path, engine):
    X, Y = problem_factory(300, seed=4)
    opts = replace(small_options, epochs=2, patience=2)
    ens = train_ensemble(X, Y, FEATURES, "sdss", n_members=2, options=opts, seed=1, progress=False,
                         fused=True, fused_options=FusedOptions(engine=engine))
    nets = [m.model for label in ens.labels for m in ens.members[label]]
    assert all(isinstance(n, DeferredNetwork) and not n.is_built for n in nets)
    loaded = load_model(save_model(ens, tmp_path / "m", provenance={"synthetic": True}))
    assert not any(n.is_built for n in nets)  # saving read the arrays only
    first = ens.members["teff"][0]
    arrays = network_arrays(first.model)
    copy = pickle.loads(pickle.dumps(first.model))  # e.g. sent to a dask worker
    assert not copy.is_built and not first.model.is_built
    for name, value in network_arrays(copy).items():
        np.testing.assert_array_equal(value, arrays[name], err_msg=name)
    built = network_arrays(first.model.keras_model)  # builds the Keras network
    assert first.model.is_built and set(arrays) == set(built)
    for name, value in arrays.items():
        np.testing.assert_array_equal(built[name], value, err_msg=name)
    keras_pred = first.predict_keras(X)  # attribute access reaches the Keras network
    numpy_pred = loaded.predict_members(X)["teff"][0]
    np.testing.assert_allclose(numpy_pred, keras_pred, rtol=0, atol=1e-4 * np.abs(keras_pred).max())


def test_early_stopping_restored_each_networks_best_validation_weights(fused, small_options):
    ens, X, Y = fused
    opts = small_options
    npe = ens.to_numpy()
    preds = npe.predict_members(X)
    for label in ens.labels:
        scaler = ens.label_scalers[label]
        for m, member in enumerate(ens.members[label]):
            val_loss = np.asarray(member.history["val_loss"])
            assert len(val_loss) == member.epochs_trained
            monitored = val_loss[opts.mae_epochs:]
            if monitored.size == 0:
                continue
            assert member.best_epoch - 1 == opts.mae_epochs + int(np.argmin(monitored))
            # the restored weights give the best monitored validation loss (SMAPE, network units)
            va = member.split["validation"]
            y = scaler.transform(Y[label][va]).astype(np.float64)
            p = scaler.transform(preds[label][m][va]).astype(np.float64)
            smape = np.mean(2 * np.abs(y - p) / (np.abs(y) + np.abs(p) + opts.smape_eps))
            assert smape == pytest.approx(monitored.min(), rel=2e-3)
            if member.epochs_trained < opts.epochs:  # stopped early: patience ran out
                assert member.epochs_trained - member.best_epoch >= opts.patience


def _direct(X, Y, options, seed, scalers, input_scaler, n_members=2, engine="auto"):
    seeds = [member_seeds(seed, m, len(Y)) for m in range(n_members)]
    splits = [split_indices(len(X), s) for s, _ in seeds]
    return splits, train_members_fused(
        X, Y, options, splits, [s for _, s in seeds], [s for s, _ in seeds],
        input_scaler=input_scaler, label_scalers=scalers, seed=seed,
        fused_options=FusedOptions(engine=engine))


@pytest.mark.parametrize("engine", ENGINES)
def test_a_network_never_sees_its_validation_or_test_rows(problem_factory, small_options, engine):
    """Changing the labels AND inputs of member 0's held-out rows leaves its networks unchanged."""
    from dataclasses import replace

    # mae_fraction = 1: no epoch is monitored, so the validation labels cannot legitimately
    # change which weights are kept; only a leak could
    options = replace(small_options, epochs=3, mae_fraction=1.0)
    X, Y = problem_factory(400, seed=3)
    scalers = {k: LabelScaler.fit(v, options.label_scaling) for k, v in Y.items()}
    input_scaler = InputScaler.fit(X, input_names(FEATURES))
    splits, first = _direct(X, Y, options, 2, scalers, input_scaler, engine=engine)
    held = np.concatenate([splits[0]["validation"], splits[0]["test"]])
    Y2 = {k: v.copy() for k, v in Y.items()}
    Y2["teff"][held] += 300.0
    X2 = X.copy()
    X2[held, 0] += 3.0  # would shift member 0's batch-norm moments if they were not masked
    _, second = _direct(X2, Y2, options, 2, scalers, input_scaler, engine=engine)
    w0a = first["teff"][0].model.get_weights()
    w0b = second["teff"][0].model.get_weights()
    # member 0 trained on none of the changed rows (nor normalised with them)
    for a, b in zip(w0a, w0b, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    # member 1 trains on some of those rows: its weights must move
    w1a = first["teff"][1].model.get_weights()
    w1b = second["teff"][1].model.get_weights()
    assert max(np.abs(a - b).max() for a, b in zip(w1a, w1b, strict=True)) > 1e-4


def test_fused_options_validate_and_scale_the_batch(small_options):
    fo = FusedOptions(batch_scale=4.0)
    assert fo.batch_rows(small_options) == round(small_options.batch_size / 0.8 * 4)
    assert fo.learning_rate(small_options) == pytest.approx(2 * small_options.learning_rate)
    with pytest.raises(ValueError, match="lr_scaling"):
        FusedOptions(lr_scaling="cubic")
    with pytest.raises(ValueError, match="batch_scale"):
        FusedOptions(batch_scale=0)


def test_fused_names_the_member_without_validation_rows(problem_factory, small_options):
    X, Y = problem_factory(60, seed=4)
    Y = {"teff": Y["teff"].copy()}
    split = split_indices(60, member_seeds(0, 0, 1)[0])
    Y["teff"][split["validation"]] = np.nan
    with pytest.raises(EmptyInputError, match="member 0.*validation"):
        train_ensemble(X, Y, FEATURES, "sdss", n_members=1, options=small_options, seed=0,
                       progress=False, fused=True, provenance={"synthetic": True})


def test_per_network_plateau_rule_matches_keras_reduce_lr_on_plateau():
    import keras

    from sos_vo.ml.fused import _Plateau

    losses = [1.0, 0.9, 0.95, 0.9, 0.91, 0.92, 0.5, 0.6, 0.7, 0.8, 0.9, 0.9, 0.9, 0.9]
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mae")
    cb = keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=2,
                                           min_lr=1e-2 * 1e-3)
    cb.set_model(model)
    cb.on_train_begin()
    ours = _Plateau(0.5, 2, 1e-2 * 1e-3, 1e-2)
    for epoch, loss in enumerate(losses):
        cb.on_epoch_end(epoch, {"val_loss": loss})
        assert ours.update(loss) == pytest.approx(float(model.optimizer.learning_rate))
    assert ours.lr < 1e-2  # the sequence did trigger reductions


@pytest.mark.parametrize("engine", ENGINES)
def test_cosine_schedule_sets_the_shared_rate_each_epoch(problem_factory, small_options, engine):
    """lr_schedule="cosine": every network trains at the scheduled rate of each epoch, and no
    plateau decay is mixed in."""
    from dataclasses import replace

    from sos_vo.ml.options import scheduled_learning_rate

    X, Y = problem_factory(400, seed=3)
    opts = replace(small_options, epochs=6, patience=6, lr_schedule="cosine")
    scalers = {k: LabelScaler.fit(v, opts.label_scaling) for k, v in Y.items()}
    scaler = InputScaler.fit(X, input_names(FEATURES), opts.input_scaling)
    _, members = _direct(X, Y, opts, 2, scalers, scaler, n_members=1, engine=engine)
    base = FusedOptions().learning_rate(opts)
    expect = [scheduled_learning_rate(base, e, opts.epochs, "cosine") for e in range(opts.epochs)]
    for per_label in members.values():
        for m in per_label:
            lrs = m.history["learning_rate"]
            assert lrs == pytest.approx(expect[:len(lrs)])
            assert len(lrs) == m.epochs_trained
