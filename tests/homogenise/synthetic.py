"""Helpers: synthetic survey-vs-reference samples with injected offset trends (Avdeeva et al. 2025, homogenisation talk)."""

from __future__ import annotations

import numpy as np

NOISE = 0.05
"""Gaussian noise (dex) added to the injected [Fe/H] offsets."""


def draw_stars(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Teff, log g, [Fe/H] of n stars: dense in the middle, sparse at the edges."""
    teff = np.clip(rng.normal(5500.0, 900.0, n), 3500.0, 8000.0)
    logg = rng.uniform(0.2, 5.0, n)
    feh = np.clip(rng.normal(-0.3, 0.5, n), -2.8, 0.6)
    return teff, logg, feh


def smooth_trend(teff, logg, feh):
    """A smooth [Fe/H] offset, survey - reference, of the size the talk shows (~0.1 dex)."""
    theta = teff / 5040.0
    return 0.15 * feh + 0.08 * feh**2 - 0.3 * (theta - 1.0) + 0.04 * (logg - 3.0)


def sharp_trend(teff, logg, feh):
    """The smooth trend plus steps at log g < 1 and Teff > 7000 K (the talk's problem edges)."""
    def step(z):
        return 1.0 / (1.0 + np.exp(-z))
    return smooth_trend(teff, logg, feh) + 0.4 * step((1.0 - logg) / 0.03) + 0.3 * step((teff - 7000.0) / 30.0)


def sample(seed: int, n: int, trend, noise: float = NOISE):
    """(teff, logg, feh, delta) with delta = trend + Gaussian noise."""
    rng = np.random.default_rng(seed)
    teff, logg, feh = draw_stars(rng, n)
    return teff, logg, feh, trend(teff, logg, feh) + rng.normal(0.0, noise, n)
