"""Input layout checks and scalers."""

import numpy as np
import pytest

from sos_vo.exceptions import EmptyInputError, SchemaError
from sos_vo.ml.scaling import (
    InputScaler,
    LabelScaler,
    MissingFeatureWarning,
    append_colours,
    check_input_matrix,
    colour_names,
    colour_pairs,
    input_names,
    resolve_input_names,
)


def test_input_names_layouts():
    assert input_names(["a", "b"]) == ("a", "a_present", "b", "b_present")
    assert input_names(["a", "b"], "blocked") == ("a", "b", "a_present", "b_present")
    assert resolve_input_names(["a", "b"], 4) == ("a", "a_present", "b", "b_present")
    assert resolve_input_names(["x", "y", "z"], 3) == ("x", "y", "z")
    with pytest.raises(SchemaError, match="5 columns but 2 names"):
        resolve_input_names(["a", "b"], 5)
    with pytest.raises(SchemaError, match="duplicate"):
        resolve_input_names(["a", "a"], 4)


def test_check_input_matrix_reports_nan_and_all_missing_features():
    names = input_names(["a", "b"])
    X = np.array([[1.0, 1, 0, 0], [2.0, 1, 0, 0]])
    with pytest.warns(MissingFeatureWarning, match="'b' is missing in all 2 rows"):
        check_input_matrix(X, names)
    X[1, 0] = np.nan
    with pytest.raises(SchemaError, match=r"a \(1 rows\)"):
        check_input_matrix(X, names)
    with pytest.raises(SchemaError, match="3 columns"):
        check_input_matrix(np.zeros((2, 3)), names)


@pytest.mark.parametrize("method", ["standard", "robust"])
def test_input_scaler_standardises_present_values_and_keeps_missing_at_zero(method):
    rng = np.random.default_rng(0)
    v = rng.normal(5000, 300, 1000)
    p = rng.random(1000) > 0.3
    w = rng.normal(2.0, 0.5, 1000)
    X = np.column_stack([np.where(p, v, 0), p, w]).astype(np.float32)
    sc = InputScaler.fit(X, ("teff", "teff_present", "w"), method)
    Z = sc.transform(X)
    assert np.all(Z[~p, 0] == 0)                       # missing stays 0
    np.testing.assert_array_equal(Z[:, 1], p)           # flag untouched
    center = np.mean(v[p]) if method == "standard" else np.median(v[p])
    np.testing.assert_allclose(np.median(Z[p, 0]) if method == "robust" else Z[p, 0].mean(),
                               0.0, atol=1e-3)
    np.testing.assert_allclose(sc.center[0], center, rtol=1e-5)
    assert 0.8 < Z[p, 0].std() < 1.2 and 0.8 < Z[:, 2].std() < 1.2
    again = InputScaler.from_dict(sc.to_dict()).transform(X)
    np.testing.assert_array_equal(again, Z)


def test_input_scaler_none_is_identity():
    X = np.random.default_rng(1).normal(size=(20, 3)).astype(np.float32)
    np.testing.assert_array_equal(InputScaler.fit(X, ("a", "b", "c"), "none").transform(X), X)


def test_label_scalers():
    y = np.array([-2.5, -0.3, 0.0, 0.4, np.nan])
    off = LabelScaler.fit(y, "offset")
    t = off.transform(y)
    assert np.nanmin(t) == pytest.approx(1.0) and np.nanmax(t) == pytest.approx(2.0)
    std = LabelScaler.fit(y, "standard")
    assert np.nanmean(std.transform(y)) == pytest.approx(0.0, abs=1e-6)
    phys = LabelScaler.fit(y, "physical")
    np.testing.assert_array_equal(phys.transform(y[:4]), y[:4].astype(np.float32))
    for sc in (off, std, phys):
        np.testing.assert_allclose(sc.inverse(sc.transform(y[:4])), y[:4], atol=1e-6)
        assert LabelScaler.from_dict(sc.to_dict()) == sc
    with pytest.raises(EmptyInputError, match="no finite"):
        LabelScaler.fit([np.nan], "offset")


def test_colour_pairs_follow_wavelength_order_and_skip_absent_bands():
    sdss = input_names(["r_med_geo", "phot_bp_mean_mag", "phot_rp_mean_mag", "uabs", "gabs", "rabs",
                        "iabs", "zabs", "uabs_nored"], "blocked")
    pairs = colour_pairs(sdss)
    got = colour_names(sdss, pairs)
    assert got[:5] == ("uabs-gabs", "gabs-rabs", "rabs-iabs", "iabs-zabs",
                       "phot_bp_mean_mag-phot_rp_mean_mag")
    assert got[5:] == tuple(g + "_present" for g in got[:5])
    sm = input_names(["uabs", "vabs", "gabs"])
    assert colour_names(sm, colour_pairs(sm))[:2] == ("uabs-vabs", "vabs-gabs")
    assert colour_pairs(input_names(["teff", "gabs"])).shape == (0, 4)


def test_append_colours_zero_where_a_band_is_missing():
    names = input_names(["gabs", "rabs"])
    X = np.array([[5.0, 1, 4.5, 1], [5.0, 1, 0.0, 0], [0.0, 0, 4.0, 1]], np.float32)
    out = append_colours(X, colour_pairs(names))
    np.testing.assert_array_equal(out[:, :4], X)
    np.testing.assert_allclose(out[:, 4], [0.5, 0.0, 0.0])
    np.testing.assert_array_equal(out[:, 5], [1, 0, 0])


def test_input_scaler_with_colours_widens_the_input_and_round_trips():
    rng = np.random.default_rng(2)
    g = rng.normal(5, 2, 500)
    gr = rng.normal(0.5, 0.2, 500)
    present = rng.random(500) > 0.2
    X = np.column_stack([g, np.ones(500), np.where(present, g - gr, 0), present]).astype(np.float32)
    names = input_names(["gabs", "rabs"])
    sc = InputScaler.fit(X, names, "standard", colours="adjacent")
    assert sc.n_outputs(4) == 6
    Z = sc.transform(X)
    assert Z.shape == (500, 6)
    # the colour column is standardised over the rows where both bands exist, 0 elsewhere
    np.testing.assert_allclose(Z[present, 4].mean(), 0.0, atol=1e-5)
    assert np.all(Z[~present, 4] == 0)
    np.testing.assert_allclose(sc.center[4], gr[present].mean(), rtol=1e-4)
    np.testing.assert_array_equal(InputScaler.from_dict(sc.to_dict()).transform(X), Z)
    old = {k: v for k, v in InputScaler.fit(X, names).to_dict().items() if k != "colours"}
    assert InputScaler.from_dict(old).n_outputs(4) == 4   # models saved before colours existed
    with pytest.raises(ValueError, match="input colours 'all'"):
        InputScaler.fit(X, names, colours="all")


def test_transform_in_chunks_equals_one_pass_to_the_bit():
    """Scaling the rows a few at a time (bounded intermediates) gives the one-pass bits."""
    from sos_vo.ml.scaling import InputScaler, input_names
    from sos_vo.schema import feature_names

    rng = np.random.default_rng(8)
    feats = feature_names("sdss")
    X = np.empty((1001, 2 * len(feats)), np.float32)
    present = rng.random((1001, len(feats))) > 0.2
    X[:, 0::2] = np.where(present, rng.normal(15.0, 2.0, present.shape), 0.0)
    X[:, 1::2] = present
    sc = InputScaler.fit(X, input_names(feats), "standard", "adjacent")
    assert len(sc.colours)  # the colour columns are part of what is chunked
    whole = sc.transform(X, chunk_rows=len(X))
    assert whole.shape == (1001, sc.n_outputs(X.shape[1])) and whole.dtype == np.float32
    for rows in (1, 7, 1000):
        assert np.array_equal(sc.transform(X, chunk_rows=rows).view(np.uint32),
                              whole.view(np.uint32))
    assert sc.transform(X[:0]).shape == (0, whole.shape[1])
