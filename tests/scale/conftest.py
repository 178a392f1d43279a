"""Shared fixtures of the scaling tests: a small synthetic sky, a tiny model, Parquet parts."""

from __future__ import annotations

import pytest

from sos_vo.ml.training import set_tf_threads

set_tf_threads(1)

from scale_helpers import SURVEY, sorted_rows  # noqa: E402,F401  (re-exported)


@pytest.fixture(scope="session")
def sky():
    from sos_vo.simulate import simulate_sky

    return simulate_sky(center=(180.0, 0.0), radius=2.0, n_stars=4000, seed=7)


@pytest.fixture(scope="session")
def prepared(sky):
    from sos_vo.pipeline import prepare_survey

    return prepare_survey(sky.tables, SURVEY)


@pytest.fixture(scope="session")
def model_folder(prepared, tmp_path_factory):
    from sos_vo.ml.options import NetworkOptions
    from sos_vo.pipeline import train_survey

    opts = NetworkOptions(n_blocks=2, min_width=16, max_width=32, epochs=3, batch_size=128)
    return train_survey(prepared, tmp_path_factory.mktemp("model") / "m", n_members=2,
                        options=opts, progress=False)


@pytest.fixture(scope="session")
def joined(sky):
    """Every joined row (before the cuts), as the streaming input holds them."""
    from sos_vo.prepare.crossmatch import join_survey

    return join_survey(sky.tables, SURVEY, labels=False)


@pytest.fixture(scope="session")
def parts(joined, tmp_path_factory):
    """The joined rows in 3 Parquet files of unequal size under nested folders."""
    from sos_vo.scale.parquet_io import write_parquet

    root = tmp_path_factory.mktemp("parts")
    edges = [0, len(joined) // 5, len(joined) // 2, len(joined)]
    for i, (a, b) in enumerate(zip(edges[:-1], edges[1:], strict=True)):
        write_parquet(joined[a:b], root / f"group={i % 2}" / f"part{i}.parquet")
    return root
