"""Small catalogue-like tables built straight from sos_vo.schema.CATALOGUE_COLUMNS."""

from __future__ import annotations

import numpy as np
from astropy.table import Table

from sos_vo.schema import CATALOGUE_COLUMNS

PHYSICAL_RANGES = {"teff": (3500.0, 7500.0), "logg": (0.5, 5.0), "feh": (-2.5, 0.5)}
"""Ranges the synthetic values are drawn from (typical FGK stars)."""


def make_catalogue(n: int = 50, seed: int = 0) -> Table:
    """A catalogue table with every column of CATALOGUE_COLUMNS, plausible random values."""
    rng = np.random.default_rng(seed)
    t = Table()
    for c in CATALOGUE_COLUMNS:
        if c.dtype == "int64":
            values = rng.integers(1, 2**62, n, dtype=np.int64)
        elif c.dtype == "bool":
            values = rng.random(n) < 0.5
        elif c.dtype == "str":
            values = rng.choice(["SDSS", "SM", "SDSS+SM"], n)
        elif c.name == "ra":
            values = rng.uniform(150.0, 151.0, n)
        elif c.name == "dec":
            values = rng.uniform(-1.0, 0.0, n)
        else:
            label = c.name.rsplit("_", 1)[-1]
            lo, hi = PHYSICAL_RANGES[label]
            if "_err_" in c.name:
                lo, hi = 0.01 * (hi - lo), 0.05 * (hi - lo)
            values = rng.uniform(lo, hi, n)
        t[c.name] = np.asarray(values).astype(c.dtype if c.dtype != "str" else "U7")
    return t
