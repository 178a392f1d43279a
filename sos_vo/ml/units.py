"""Units of fused training (light: no TensorFlow), shared by :mod:`sos_vo.ml.checkpoint`,
``sos-vo build-model`` and the build plan (:mod:`sos_vo.scale.build_plan`)."""

from __future__ import annotations

import numpy as np

ENGINES = ("fused", "per-network")
"""Ways :func:`sos_vo.ml.checkpoint.train_members` trains: ``fused`` (units of k members, numpy engine) or
``per-network`` (member by member, Keras)."""
UNIT_SEED_TAG = 0x5EED_0F_F5
"""Constant mixed into :func:`unit_seed` (our choice) so that a unit's shuffling / dropout seed
differs from every member's split and weight seeds, which derive from ``[seed, member, ...]``."""


def unit_seed(seed: int, unit: int) -> int:
    """Shuffling / dropout seed of fused unit ``unit``: a function of the ensemble seed and
    the unit index only (so a unit trains the same whether or not the others ran)."""
    return int(np.random.SeedSequence([int(seed), UNIT_SEED_TAG, int(unit)]).generate_state(1)[0])


def default_unit_members(n_members: int, cores: int, workers: int = 1) -> int:
    """Members per fused unit when not given: ``min(n_members, cores, ceil(n_members / workers))``.

    Our choice: the numpy engine trains a unit's ``3 k`` networks (one per label) in one
    thread per core, each thread a group of networks; with ``k = cores`` every thread holds
    three networks (one member's worth), so each of its steps shares the Python overhead over
    three products and a thread whose networks stop early (early stopping) is rarer, while a
    killed unit loses at most ``k`` members' work.  On 2 cores: k = 2, 6 networks per unit.
    With ``workers`` dask workers (``cores`` threads each), k is also at most
    ``ceil(n_members / workers)`` so that every worker gets a unit.
    """
    return max(1, min(int(n_members), int(cores), -(-int(n_members) // max(1, int(workers)))))


def units_of(n_members: int, unit_members: int) -> list[list[int]]:
    """Member indices of each fused unit: consecutive blocks of ``unit_members``."""
    k = int(unit_members)
    return [list(range(u, min(u + k, n_members))) for u in range(0, n_members, k)]
