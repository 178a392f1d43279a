"""One applicability-domain interface for the train_area density and the calibration coverage."""

from __future__ import annotations

import numpy as np
import pytest

from sos_vo.catalogue.train_area import TrainingAreaModel
from sos_vo.domain import ApplicabilityDomain, fraction_inside
from sos_vo.exceptions import EmptyInputError
from sos_vo.homogenise.coverage import CoverageModel


def _cloud(n=600, seed=2):
    return np.random.default_rng(seed).normal(size=(n, 3))


@pytest.mark.parametrize("make", [
    lambda x: TrainingAreaModel.fit(x, n_components=2, random_state=0),
    lambda x: CoverageModel("knn").fit(x),
    lambda x: CoverageModel("hull").fit(x),
])
def test_both_models_are_domains(make, tmp_path):
    x = _cloud()
    domain = make(x)
    assert isinstance(domain, ApplicabilityDomain)
    far = np.full((5, 3), 50.0)
    assert not domain.contains(far).any()
    inside = fraction_inside(domain, np.vstack([x, far]))
    assert 0.9 * len(x) / (len(x) + 5) <= inside < 1.0
    path = domain.save(tmp_path / "domain", overwrite=False)
    again = type(domain).load(path)
    np.testing.assert_array_equal(again.contains(x), domain.contains(x))


def test_train_area_contains_is_its_flag():
    x = _cloud()
    area = TrainingAreaModel.fit(x, n_components=2, random_state=0)
    np.testing.assert_array_equal(area.contains(x), area.flag(x))


def test_fraction_inside_needs_finite_rows():
    domain = CoverageModel("knn").fit(_cloud())
    with pytest.raises(EmptyInputError, match="finite"):
        fraction_inside(domain, np.full((3, 3), np.nan))
