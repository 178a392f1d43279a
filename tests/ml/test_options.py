"""NetworkOptions and the diamond widths (T25 Sect. 4.1)."""

import pytest

from sos_vo.ml.options import NetworkOptions, diamond_widths


def test_default_widths_are_an_18_layer_diamond_80_160_80():
    w = NetworkOptions().widths
    assert len(w) == 18
    assert w[0] == w[-1] == 80 and max(w) == 160
    assert w == w[::-1]  # symmetric
    half = w[:9]
    assert all(b > a for a, b in zip(half, half[1:], strict=False))  # strictly rising to the middle


@pytest.mark.parametrize("n", [1, 2, 3, 5, 7, 18])
def test_diamond_widths_shape(n):
    w = diamond_widths(n, 10, 50)
    assert len(w) == n and w == w[::-1] and max(w) == 50
    if n > 2:
        assert min(w) == 10


def test_options_validation_and_round_trip():
    o = NetworkOptions(n_blocks=4, epochs=10, label_scaling="physical")
    assert NetworkOptions.from_dict(o.to_dict()) == o
    assert o.mae_epochs == 2  # first fifth of the epochs on MAE
    with pytest.raises(ValueError, match="label_scaling"):
        NetworkOptions(label_scaling="log")
    with pytest.raises(ValueError, match="dropout"):
        NetworkOptions(dropout=1.5)
    with pytest.raises(ValueError, match="unknown NetworkOptions field"):
        NetworkOptions.from_dict({"n_layers": 3})
    with pytest.raises(ValueError):
        diamond_widths(0)


def test_cosine_schedule_runs_from_the_rate_to_its_final_fraction():
    import math

    from sos_vo.ml.options import COSINE_FINAL_FRACTION, scheduled_learning_rate

    base, epochs = 3e-3, 21
    lrs = [scheduled_learning_rate(base, e, epochs, "cosine") for e in range(epochs)]
    assert lrs[0] == pytest.approx(base)
    assert lrs[-1] == pytest.approx(COSINE_FINAL_FRACTION * base)
    # half-way: the mean of the two ends (cos(pi / 2) = 0)
    assert lrs[10] == pytest.approx(base * (COSINE_FINAL_FRACTION + 1) / 2)
    assert all(a > b for a, b in zip(lrs, lrs[1:], strict=False))
    # an independent evaluation at one epoch
    e = 7
    expect = base * (COSINE_FINAL_FRACTION
                     + (1 - COSINE_FINAL_FRACTION) * (1 + math.cos(math.pi * e / 20)) / 2)
    assert lrs[e] == pytest.approx(expect)
    assert scheduled_learning_rate(base, 5, epochs, "plateau") == base
    with pytest.raises(ValueError, match="lr_schedule"):
        scheduled_learning_rate(base, 0, epochs, "step")


def test_lr_schedule_option_is_validated_and_round_trips():
    opts = NetworkOptions(lr_schedule="cosine")
    assert NetworkOptions.from_dict(opts.to_dict()) == opts
    assert NetworkOptions().lr_schedule == "plateau"
    with pytest.raises(ValueError, match="lr_schedule"):
        NetworkOptions(lr_schedule="step")
