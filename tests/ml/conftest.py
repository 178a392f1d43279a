"""Shared fixtures of the ML tests: a tiny synthetic problem and one small trained ensemble.

TensorFlow is limited to one thread (CI runs the whole suite on two shared cores).
"""

import numpy as np
import pytest

from sos_vo.ml.training import set_tf_threads

set_tf_threads(1)

FEATURES = ("a", "b", "c", "d")


def make_problem(n: int, seed: int, missing: float = 0.1):
    """Zero-filled inputs with interleaved presence flags and two smooth labels.

    ``teff`` depends on features a and b, ``feh`` (centred near 0, where SMAPE on physical
    labels misbehaves) on c and d; a fraction ``missing`` of the values of d is missing.
    """
    rng = np.random.default_rng(seed)
    f = rng.normal(size=(n, len(FEATURES)))
    present = np.ones_like(f, dtype=bool)
    present[:, 3] = rng.random(n) > missing
    X = np.empty((n, 2 * len(FEATURES)), np.float32)
    X[:, 0::2] = np.where(present, f, 0.0)
    X[:, 1::2] = present
    d = np.where(present[:, 3], f[:, 3], 0.0)
    Y = {
        "teff": 5000.0 + 600.0 * np.tanh(f[:, 0]) + 200.0 * f[:, 1],
        "feh": -0.2 + 0.3 * f[:, 2] - 0.15 * d,
    }
    return X, Y


@pytest.fixture(scope="session")
def problem_factory():
    """The :func:`make_problem` function (test modules are not a package)."""
    return make_problem


@pytest.fixture(scope="session")
def small_options():
    from sos_vo.ml.options import NetworkOptions

    return NetworkOptions(n_blocks=3, min_width=16, max_width=32, epochs=20, patience=4,
                          batch_size=32, learning_rate=3e-3)


@pytest.fixture(scope="session")
def trained(small_options):
    """(ensemble, X, Y): 3 members x 2 labels trained on 1200 rows."""
    from sos_vo.ml.ensemble import train_ensemble

    X, Y = make_problem(1200, seed=11)
    ens = train_ensemble(X, Y, FEATURES, "sdss", n_members=3, options=small_options, seed=5,
                         progress=False, row_ids=np.arange(1200) + 10**15,
                         provenance={"synthetic": True, "generator": "tests/ml/conftest.py"})
    return ens, X, Y
