"""Tests of sos_vo.catalogue.train_area (the T25 Sect. 5.2 99% training-area flag)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.mixture import GaussianMixture

from sos_vo.catalogue.train_area import TrainingAreaModel, benchmark
from sos_vo.exceptions import EmptyInputError, ModelFormatError, SchemaError

D_VALUES = 6


def _training(n=4000, seed=0):
    """Two clusters of values plus 0/1 present flags; the last flag is always 1."""
    rng = np.random.default_rng(seed)
    vals = np.where(rng.random((n, 1)) < 0.6, rng.normal(0, 1, (n, D_VALUES)),
                    rng.normal(4, 0.5, (n, D_VALUES)))
    flags = (rng.random((n, D_VALUES)) < 0.9).astype(float)
    flags[:, -1] = 1.0
    vals[flags == 0] = 0.0
    return np.hstack([vals, flags])


@pytest.fixture(scope="module")
def model():
    return TrainingAreaModel.fit(_training(), n_components=4,
                                 feature_names=[f"c{i}" for i in range(2 * D_VALUES)])


def test_log_density_equals_sklearn(model):
    x = _training(500, 3)
    z = (x - model.center) / model.scale
    gmm = GaussianMixture(4, covariance_type="full", reg_covar=1e-3, random_state=0,
                          max_iter=200).fit((_training() - model.center) / model.scale)
    assert np.allclose(model.log_density(x, chunk_rows=77), gmm.score_samples(z), atol=1e-8)


def test_coverage_on_training_and_fresh_samples(model):
    train = _training()
    assert model.flag(train).mean() == pytest.approx(0.99, abs=1 / len(train))
    fresh = _training(20000, 11)                 # same distribution, new draws
    assert 0.97 < model.flag(fresh).mean() <= 1.0


def test_outside_points(model):
    x = _training(10, 5)
    far = x.copy()
    far[:, 0] = 25.0                             # value far from both clusters
    never = x.copy()
    never[:, 2 * D_VALUES - 1] = 0.0             # a flag that is always 1 in training
    assert not model.flag(far).any()
    assert not model.flag(never).any()


def test_save_load_roundtrip_without_pickles(model, tmp_path):
    path = model.save(tmp_path / "train_area.npz")
    with np.load(path, allow_pickle=False) as npz:
        assert "meta_json" in npz.files
    loaded = TrainingAreaModel.load(path)
    x = _training(300, 9)
    assert np.array_equal(loaded.log_density(x), model.log_density(x))
    assert loaded.threshold == model.threshold and loaded.feature_names == model.feature_names
    with pytest.raises(FileExistsError):
        model.save(path)
    model.save(path, overwrite=True)
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(ModelFormatError):
        TrainingAreaModel.load(tmp_path / "junk.npz")


def test_input_errors(model):
    x = _training(5, 1)
    with pytest.raises(SchemaError, match="columns"):
        model.flag(x[:, :-1])
    x[2, 0] = np.nan
    with pytest.raises(SchemaError, match="1 row"):
        model.flag(x)
    with pytest.raises(EmptyInputError):
        model.flag(x[:0])
    with pytest.raises(SchemaError, match="c0"):
        model.flag(_training(5, 1), feature_names=["x"] + model.feature_names[1:])
    with pytest.raises(EmptyInputError):
        TrainingAreaModel.fit(_training(5, 1), n_components=4)


@pytest.mark.slow
def test_benchmark_speed(model):
    rate = benchmark(model, 500_000)
    print(f"train_area flag: {rate:,.0f} stars/s ({model.n_features} columns, 4 components)")
    assert rate > 1e4


def test_fit_statistics_are_chunked_and_dtype_independent(model):
    """The standardisation is accumulated chunk by chunk in float64: it equals numpy's one-pass
    mean and std to rounding, and a float32 matrix gives the model of its float64 copy."""
    from sos_vo.catalogue.train_area import _column_mean_std

    x = _training()
    np.testing.assert_allclose(model.center, x.mean(axis=0), rtol=1e-12, atol=1e-15)
    want_scale = x.std(axis=0)
    want_scale[want_scale == 0] = 1.0
    np.testing.assert_allclose(model.scale, want_scale, rtol=1e-12)
    for rows in (1, 7, 4000):
        m, s = _column_mean_std(x, chunk_rows=rows)
        np.testing.assert_allclose(m, x.mean(axis=0), rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(s, x.std(axis=0), rtol=1e-12, atol=1e-15)
    x32 = x.astype(np.float32)
    a = TrainingAreaModel.fit(x32, n_components=4, max_fit_rows=1000)
    b = TrainingAreaModel.fit(x32.astype(np.float64), n_components=4, max_fit_rows=1000)
    for k in ("center", "scale", "means", "precisions_cholesky", "log_weights"):
        np.testing.assert_array_equal(getattr(a, k), getattr(b, k), err_msg=k)
    assert a.threshold == b.threshold and a.info["n_fit"] == 1000
