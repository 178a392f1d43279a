"""The ensemble: learnability, e_train / e_rep / e_ML definitions (T25 Sect. 5.1), membership."""

import numpy as np
import pytest

from sos_vo.exceptions import SchemaError
from sos_vo.ml.ensemble import train_ensemble
from sos_vo.stats import error_statistics, mad

pytestmark = pytest.mark.slow  # the shared ensemble fixture trains 6 small networks (~20 s)


def test_ensemble_learns_a_smooth_function(trained, problem_factory):
    ens, _, _ = trained
    X, Y = problem_factory(2000, seed=99)  # fresh stars from the same relation
    out = ens.predict(X)
    for label in ("teff", "feh"):
        pred = out[label][0]
        model_mae = np.mean(np.abs(pred - Y[label]))
        median_mae = np.mean(np.abs(np.median(Y[label]) - Y[label]))
        assert model_mae < 0.6 * median_mae, (label, model_mae, median_mae)


def test_predict_is_median_and_mad_of_keras_members(trained):
    ens, X, _ = trained
    out = ens.predict(X[:300])
    for label in ens.labels:
        members = np.stack([m.predict_keras(X[:300]) for m in ens.members[label]])
        spread = members.std()
        med, e_rep, e_ml = out[label]
        np.testing.assert_allclose(med, np.median(members, axis=0), atol=1e-4 * spread)
        np.testing.assert_allclose(e_rep, [mad(c) for c in members.T], atol=2e-4 * spread)
        np.testing.assert_allclose(e_ml, np.hypot(ens.e_train(label), e_rep), rtol=1e-5)


def test_e_train_is_median_abs_error_over_pooled_test_sets(trained):
    ens, X, Y = trained
    for label in ens.labels:
        errs = []
        for member, split in zip(ens.members[label], ens.splits, strict=True):
            test = split["test"]
            errs.append(np.abs(member.predict_keras(X[test]) - Y[label][test]))
        expected = np.median(np.concatenate(errs))
        assert ens.e_train(label) == pytest.approx(expected, rel=1e-3)


def test_test_report_has_table4_statistics(trained):
    ens, _, _ = trained
    rep = ens.test_report()
    assert list(rep["label"]) == ["teff", "feh"]
    for col in ("n", "abs_mean", "abs_median", "abs_sigma", "abs_mad", "signed_mean",
                "signed_median", "signed_sigma", "signed_mad", "rmse", "e_train"):
        assert col in rep.colnames
    pred, true = ens.test_errors("feh")
    st = error_statistics(pred, true)
    row = rep[rep["label"] == "feh"][0]
    assert row["signed_sigma"] == pytest.approx(st.signed_sigma)
    assert row["n"] == 3 * 120  # three members x 10 % test rows
    assert rep.meta["units"]["teff"] == "K"


def test_membership_is_a_partition_per_member(trained):
    ens, X, _ = trained
    mem = ens.membership
    assert mem.shape == (3, X.shape[0])
    for m in range(3):
        counts = np.bincount(mem[m], minlength=3)
        assert tuple(counts) == (960, 120, 120)
    assert not all(np.array_equal(mem[0], mem[k]) for k in (1, 2))  # different random splits


def test_train_ensemble_input_errors(small_options, problem_factory):
    X, Y = problem_factory(50, seed=0)
    with pytest.raises(SchemaError, match="7 columns but 4 names"):
        train_ensemble(X[:, :-1], Y, ["a", "b", "c", "d"], "sdss", options=small_options)
    bad = X.copy()
    bad[3, 2] = np.nan
    with pytest.raises(SchemaError, match="NaN"):
        train_ensemble(bad, Y, ["a", "b", "c", "d"], "sdss", options=small_options)
    with pytest.raises(SchemaError, match="49 values"):
        train_ensemble(X, {"teff": Y["teff"][:-1]}, ["a", "b", "c", "d"], "sdss",
                       options=small_options)
    with pytest.raises(ValueError, match="unknown survey"):
        train_ensemble(X, Y, ["a", "b", "c", "d"], "gaia", options=small_options)
