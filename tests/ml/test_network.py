"""The Keras network of T25 Sect. 4.1: architecture, SMAPE loss and the MAE -> SMAPE switch."""

import keras
import numpy as np
import pytest

from sos_vo.ml.network import LossSwitch, SwitchedLoss, build_mlp
from sos_vo.ml.options import NetworkOptions


def test_default_network_architecture():
    opts = NetworkOptions()
    model = build_mlp(48, opts, seed=0)
    hidden = model.layers[1:-1]  # skip InputLayer and output
    assert len(hidden) == 4 * 18
    kinds = [type(lay).__name__ for lay in hidden]
    assert kinds == ["Dense", "LeakyReLU", "BatchNormalization", "Dropout"] * 18
    widths = [lay.units for lay in hidden if isinstance(lay, keras.layers.Dense)]
    assert tuple(widths) == opts.widths
    assert widths[0] == widths[-1] == 80 and max(widths) == 160
    assert all(lay.rate == pytest.approx(0.02) for lay in hidden
               if isinstance(lay, keras.layers.Dropout))
    assert all(lay.negative_slope == pytest.approx(opts.leaky_relu_slope) for lay in hidden
               if isinstance(lay, keras.layers.LeakyReLU))
    out = model.layers[-1]
    assert isinstance(out, keras.layers.Dense) and out.units == 1
    assert model.input_shape == (None, 48)
    assert isinstance(model.loss, SwitchedLoss)


def test_switched_loss_is_mae_then_smape():
    rng = np.random.default_rng(0)
    y = rng.normal(1.5, 0.3, (64, 1)).astype(np.float32)
    p = rng.normal(1.5, 0.3, (64, 1)).astype(np.float32)
    loss = SwitchedLoss(smape_eps=1e-3)
    mae = np.mean(np.abs(y - p))
    smape = np.mean(2 * np.abs(y - p) / (np.abs(y) + np.abs(p) + 1e-3))  # T25 Eq. (3)
    assert float(loss(y, p)) == pytest.approx(mae, rel=1e-5)
    loss.mae_weight.assign(0.0)
    assert float(loss(y, p)) == pytest.approx(smape, rel=1e-5)
    # labels given as (batch,) must not broadcast against the (batch, 1) output
    assert float(loss(y[:, 0], p)) == pytest.approx(smape, rel=1e-5)


def test_loss_switch_happens_after_the_first_fifth_of_the_epochs():
    opts = NetworkOptions(n_blocks=2, min_width=4, max_width=8, epochs=10, batch_size=32)
    model = build_mlp(3, opts, seed=1)
    weights = []

    class Record(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            weights.append(float(model.loss.mae_weight.numpy()))

    x = np.random.default_rng(2).normal(size=(64, 3)).astype(np.float32)
    model.fit(x, x[:, :1] + 2, epochs=opts.epochs, batch_size=32, verbose=0,
              callbacks=[LossSwitch(model.loss, opts.mae_epochs), Record()])
    assert weights == [1.0, 1.0] + [0.0] * 8
