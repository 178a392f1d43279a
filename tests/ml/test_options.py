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
