"""Random splits and the training of one member."""

import numpy as np
import pytest

from sos_vo.exceptions import EmptyInputError, SchemaError
from sos_vo.ml.options import NetworkOptions
from sos_vo.ml.training import split_indices, train_member


def test_split_indices_partition():
    s = split_indices(1000, seed=3)
    assert [s[k].size for k in ("train", "validation", "test")] == [800, 100, 100]
    allidx = np.concatenate(list(s.values()))
    np.testing.assert_array_equal(np.sort(allidx), np.arange(1000))
    again = split_indices(1000, seed=3)
    assert all(np.array_equal(s[k], again[k]) for k in s)
    other = split_indices(1000, seed=4)
    assert not np.array_equal(s["test"], other["test"])
    small = split_indices(3, seed=0)
    assert all(v.size == 1 for v in small.values())
    with pytest.raises(EmptyInputError):
        split_indices(2, seed=0)
    with pytest.raises(ValueError, match="summing to 1"):
        split_indices(100, 0, (0.5, 0.2, 0.2))


@pytest.fixture(scope="module")
def problem(problem_factory):
    X, Y = problem_factory(600, seed=2)
    y = Y["feh"].copy()
    y[:30] = np.nan  # rows without a label are not used
    return X, y


def tiny(**kw):
    base = dict(n_blocks=2, min_width=8, max_width=16, epochs=8, patience=2, batch_size=64)
    return NetworkOptions(**{**base, **kw})


def test_train_member_records_history_split_and_test_predictions(problem):
    X, y = problem
    m = train_member(X, y, tiny(), seed=1, split_seed=2)
    used = np.concatenate([m.split[k] for k in ("train", "validation", "test")])
    assert np.isfinite(y[used]).all() and used.size == np.isfinite(y).sum()
    assert len(m.history["loss"]) == len(m.history["val_loss"]) == m.epochs_trained
    assert 1 <= m.best_epoch <= m.epochs_trained <= 8
    np.testing.assert_allclose(m.test_true, y[m.split["test"]], rtol=1e-6)
    # test predictions are those of the restored (best) weights
    np.testing.assert_allclose(m.test_pred, m.predict_keras(X[m.split["test"]]),
                               rtol=1e-5, atol=1e-5)
    # the restored weights are those of the epoch with the lowest validation loss after the
    # switch to SMAPE (early stopping starts there)
    after = m.history["val_loss"][m.options.mae_epochs:]
    assert m.best_epoch == m.options.mae_epochs + int(np.argmin(after)) + 1
    va = m.split["validation"]
    loss, _ = m.model.evaluate(m.input_scaler.transform(X[va]),
                               m.label_scaler.transform(y[va])[:, None], verbose=0)
    assert loss == pytest.approx(m.history["val_loss"][m.best_epoch - 1], rel=1e-4)


def test_train_member_is_reproducible(problem):
    X, y = problem
    a = train_member(X, y, tiny(epochs=3), seed=7, split_seed=1)
    b = train_member(X, y, tiny(epochs=3), seed=7, split_seed=1)
    np.testing.assert_allclose(a.test_pred, b.test_pred, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("scaling", ["offset", "physical", "standard"])
def test_label_scaling_choice_is_honoured(problem, scaling):
    """The network works in the chosen label units: its raw outputs sit in that range."""
    X, y = problem
    m = train_member(X, y, tiny(epochs=4, label_scaling=scaling), seed=1, split_seed=2)
    assert m.label_scaler.method == scaling
    raw = m.model.predict(m.input_scaler.transform(X), verbose=0)[:, 0]
    target = m.label_scaler.transform(y[np.isfinite(y)])
    assert abs(np.median(raw) - np.median(target)) < 0.5 * np.ptp(target)
    if scaling == "offset":
        np.testing.assert_allclose([target.min(), target.max()], [1.0, 2.0], atol=1e-6)
    elif scaling == "physical":
        np.testing.assert_allclose(target, y[np.isfinite(y)], atol=1e-6)


def test_train_member_bad_input(problem):
    X, y = problem
    with pytest.raises(SchemaError, match="599 values"):
        train_member(X, y[:-1], tiny())
    with pytest.raises(EmptyInputError, match="no finite label"):
        train_member(X[:10], np.full(10, np.nan), tiny())
    y10 = np.arange(10.0)
    split = {"train": np.arange(8), "validation": np.array([8]), "test": np.array([9])}
    y10[9] = np.nan
    with pytest.raises(EmptyInputError, match="test set is empty"):
        train_member(X[:10], y10, tiny(), split=split)


def test_cosine_schedule_is_applied_per_epoch(problem):
    from sos_vo.ml.options import scheduled_learning_rate

    X, y = problem
    opts = tiny(epochs=5, patience=5, lr_schedule="cosine")
    m = train_member(X, y, opts, seed=1, split_seed=2)
    lrs = m.history["learning_rate"]
    expect = [scheduled_learning_rate(opts.learning_rate, e, opts.epochs, "cosine")
              for e in range(len(lrs))]
    assert len(lrs) == m.epochs_trained
    assert lrs == pytest.approx(expect, rel=1e-5)
