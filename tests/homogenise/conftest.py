"""Fixtures: synthetic survey-vs-reference samples (see synthetic.py)."""

import pytest

from .synthetic import sample, sharp_trend, smooth_trend


@pytest.fixture(scope="module")
def smooth_sets():
    return sample(1, 12000, smooth_trend), sample(2, 6000, smooth_trend)


@pytest.fixture(scope="module")
def sharp_sets():
    return sample(3, 20000, sharp_trend), sample(4, 8000, sharp_trend)
