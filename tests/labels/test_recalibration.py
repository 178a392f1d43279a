"""Tests of sos_vo.labels.recalibration (T25 Eq. 2, Table 1)."""

from __future__ import annotations

import numpy as np
import pytest
from astropy.table import Table

from sos_vo.exceptions import EmptyInputError, LabelRangeError, SchemaError
from sos_vo.labels import recalibration as R


def _pastel_like_sample(n=20000, seed=0):
    """A PASTEL-like SoS sample fixed a priori (not tuned to the paper's numbers):
    75% FGK dwarfs, 25% red giants, solar-neighbourhood metallicities."""
    rng = np.random.default_rng(seed)
    dwarf = rng.random(n) < 0.75
    return Table({
        "spec_teff": np.where(dwarf, rng.normal(5700, 400, n), rng.normal(4700, 300, n)),
        "spec_logg": np.where(dwarf, rng.normal(4.35, 0.2, n), rng.normal(2.5, 0.5, n)),
        "spec_feh": np.where(dwarf, rng.normal(-0.15, 0.25, n), rng.normal(-0.35, 0.4, n)),
    }, units={"spec_teff": "K", "spec_logg": "dex", "spec_feh": "dex"})


def test_one_row_by_hand():
    t = Table({"spec_teff": [5000.0], "spec_logg": [2.0], "spec_feh": [-1.0]})
    out = R.recalibrate(t)
    d_teff = 112 - 6.66e-3 * 5000 - 28.1 * 2.0 - 40.7 * -1.0
    d_logg = 0.159 - 2.21e-5 * 5000 - 0.00242 * 2.0 - 0.0689 * -1.0
    d_feh = 0.0769 - 3.84e-7 * 5000 - 0.0186 * 2.0 - 0.0262 * -1.0
    assert out["spec_teff"][0] == pytest.approx(5000 - d_teff)
    assert out["spec_logg"][0] == pytest.approx(2.0 - d_logg)   # uses the ORIGINAL Teff
    assert out["spec_feh"][0] == pytest.approx(-1.0 - d_feh)
    assert t["spec_teff"][0] == 5000.0, "input must not be modified"


def test_sign_convention_against_paper_mean_corrections():
    """T25: mean corrections -36.8 K, +0.05 dex, -0.008 dex are means of Delta f."""
    t = _pastel_like_sample()
    corrected = R.recalibrate(t)
    mean_delta = {k: float(np.mean(t[f"spec_{k}"] - corrected[f"spec_{k}"]))
                  for k in ("teff", "logg", "feh")}
    # direct evaluation of Eq. 2 agrees with the module
    direct = 112 - 6.66e-3 * t["spec_teff"] - 28.1 * t["spec_logg"] - 40.7 * t["spec_feh"]
    assert mean_delta["teff"] == pytest.approx(float(np.mean(direct)))
    paper = R.T25_MEAN_CORRECTIONS
    assert np.sign(mean_delta["teff"]) == np.sign(paper["teff"])
    assert np.sign(mean_delta["logg"]) == np.sign(paper["logg"])
    assert abs(mean_delta["teff"] - paper["teff"]) < 20.0       # K
    assert abs(mean_delta["logg"] - paper["logg"]) < 0.02       # dex
    assert abs(mean_delta["feh"]) < 0.02                        # too small for its sign to count
    # the opposite convention would be far off
    assert abs(-mean_delta["teff"] - paper["teff"]) > 50.0


def test_missing_parameter_gives_nan():
    t = Table({"spec_teff": [5000.0, 6000.0], "spec_logg": [2.0, np.nan],
               "spec_feh": [-1.0, 0.0]})
    out = R.recalibrate(t)
    assert np.isfinite(out["spec_teff"][0])
    assert np.all(np.isnan([out["spec_teff"][1], out["spec_feh"][1]]))


def test_fit_recovers_known_coefficients():
    rng = np.random.default_rng(3)
    sos = _pastel_like_sample(3000, 1)
    truth = {"teff": R.LinearCorrection(80.0, -0.01, -20.0, -30.0),
             "logg": R.LinearCorrection(0.2, -3e-5, -0.01, -0.05),
             "feh": R.LinearCorrection(0.05, 1e-6, -0.02, -0.03)}
    s = {k: np.asarray(sos[f"spec_{k}"]) for k in ("teff", "logg", "feh")}
    noise = {"teff": 50.0, "logg": 0.05, "feh": 0.03}
    pastel = Table({f"pastel_{k}": s[k] - truth[k].delta(s["teff"], s["logg"], s["feh"])
                    + rng.normal(0, noise[k], len(sos)) for k in s})
    fit = R.fit_recalibration(sos, pastel)
    for k in s:
        est = fit.coefficients[k]
        pred = est.delta(s["teff"], s["logg"], s["feh"])
        true = truth[k].delta(s["teff"], s["logg"], s["feh"])
        assert np.sqrt(np.mean((pred - true) ** 2)) < 0.1 * noise[k]
    row = fit.stats[fit.stats["label"] == "teff"][0]
    assert row["n"] == 3000
    assert row["mad_after"] == pytest.approx(noise["teff"], rel=0.1)
    assert abs(row["median_after"]) < 5.0
    # refit coefficients plug into recalibrate
    again = R.recalibrate(sos, fit.coefficients)
    assert np.isfinite(again["spec_teff"]).all()


def test_fit_with_key_keeps_every_measurement():
    sos = _pastel_like_sample(30, 2)
    sos["source_id"] = np.arange(30)
    pastel = Table({"source_id": np.r_[np.arange(30), np.arange(5)],
                    "pastel_teff": np.r_[sos["spec_teff"], sos["spec_teff"][:5]] - 10.0,
                    "pastel_logg": np.r_[sos["spec_logg"], sos["spec_logg"][:5]],
                    "pastel_feh": np.r_[sos["spec_feh"], sos["spec_feh"][:5]]})
    fit = R.fit_recalibration(sos, pastel, key="source_id")
    assert fit.stats["n"][0] == 35
    assert fit.coefficients["teff"].a == pytest.approx(10.0, abs=1e-6)
    assert fit.coefficients["teff"].b == pytest.approx(0.0, abs=1e-9)


def test_fit_errors():
    sos = _pastel_like_sample(5, 2)
    pastel = Table({"pastel_teff": sos["spec_teff"], "pastel_logg": sos["spec_logg"],
                    "pastel_feh": sos["spec_feh"]})
    with pytest.raises(EmptyInputError, match="5 complete"):
        R.fit_recalibration(sos, pastel)
    with pytest.raises(ValueError, match="row-aligned"):
        R.fit_recalibration(sos, pastel[:4])
    pastel.remove_column("pastel_feh")
    with pytest.raises(SchemaError, match="pastel_feh"):
        R.fit_recalibration(sos, pastel)


def test_label_range_error_names_column_value_and_count():
    t = Table({"spec_teff": [5.2, 5.8, 5000.0], "spec_logg": [4.0] * 3, "spec_feh": [0.0] * 3})
    with pytest.raises(LabelRangeError, match=r"spec_teff.*2 row.*5\.2"):
        R.recalibrate(t)


def test_teff_in_kilokelvin_is_converted():
    t = Table({"spec_teff": [5.0], "spec_logg": [4.0], "spec_feh": [0.0]},
              units={"spec_teff": "kK"})
    ref = Table({"spec_teff": [5000.0], "spec_logg": [4.0], "spec_feh": [0.0]})
    assert R.recalibrate(t)["spec_teff"][0] == pytest.approx(R.recalibrate(ref)["spec_teff"][0])


# --- T25 Eq. 2 through the calibration framework (sos_vo.homogenise.linear) -----------------

def _eq2_by_hand(t: Table, coefficients=None) -> dict[str, np.ndarray]:
    """Eq. 2 in its written order, a + b*Teff + c*logg + d*[Fe/H], subtracted from the SoS value
    (the operations of the module before it was expressed in the calibration framework)."""
    coefficients = coefficients or R.T25_TABLE1
    v = {k: np.asarray(t[f"spec_{k}"], dtype=np.float64) for k in ("teff", "logg", "feh")}
    out = {}
    for k, c in coefficients.items():
        out[k] = v[k] - (c.a + c.b * v["teff"] + c.c * v["logg"] + c.d * v["feh"])
    return out


def _spec(t: Table, names: tuple[str, str, str]) -> Table:
    """SoS-like label table from three survey columns, rows within the physical ranges."""
    cols = {f"spec_{k}": np.ma.filled(np.ma.asarray(t[c], dtype=float), np.nan)
            for k, c in zip(("teff", "logg", "feh"), names, strict=True)}
    keep = np.ones(len(t), bool)
    for k, (lo, hi) in R.LABEL_RANGES.items():
        with np.errstate(invalid="ignore"):
            keep &= ~((cols[f"spec_{k}"] < lo) | (cols[f"spec_{k}"] > hi))
    return Table({k: v[keep] for k, v in cols.items()},
                 units={"spec_teff": "K", "spec_logg": "dex", "spec_feh": "dex"})


@pytest.mark.parametrize("name", ["Apogee_data_filtered_1612.fits", "Galah_data_filtered_1061.fits"])
def test_framework_recalibration_is_bit_identical_on_real_rows(name):
    """Real APOGEE DR17 / GALAH DR3 rows: the framework gives Eq. 2 bit for bit (largest
    change 0: the linear calibration keeps Teff in K and the written order of operations)."""
    from realdata_files import realdata

    t = _spec(Table.read(realdata(f"apogee_galah_gaia/{name}")), ("teff", "logg", "fe_h"))
    assert len(t) > 1000
    out = R.recalibrate(t)
    for k, expected in _eq2_by_hand(t).items():
        assert np.array_equal(np.asarray(out[f"spec_{k}"], float), expected, equal_nan=True), k


def test_framework_recalibration_is_bit_identical_on_demo_labels():
    from sos_vo import api

    sky = api.simulate(center=(180.0, 0.0), radius=0.5, seed=3, n_stars=800)
    lab = _spec(sky.tables["sos_spectro.main"], ("teff", "logg", "feh"))
    assert len(lab) > 50
    out = R.recalibrate(lab)
    for k, expected in _eq2_by_hand(lab).items():
        assert np.array_equal(np.asarray(out[f"spec_{k}"], float), expected, equal_nan=True), k


@pytest.mark.parametrize("name, names", [
    ("galah_dr3.main_star.ecsv", ("teff", "logg", "fe_h")),
    ("sdss_dr16.sppparams.ecsv", ("teffadop", "loggadop", "fehadop")),
    ("vizier.iii_286_catalog.ecsv", ("Teff", "logg", "[Fe/H]")),
])
def test_framework_recalibration_is_bit_identical_on_mirror_labels(name, names):
    """The label tables of the local TAP mirror (built by tools/setup_dachs.sh)."""
    import os
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    path = Path(os.environ.get("SOS_VO_DACHS_FIXTURES", root / "build" / "dachs")) / "fixture" \
        / "labels" / name
    if not path.is_file():
        pytest.skip(f"mirror fixture {path} not built")
    lab = _spec(Table.read(path), names)
    assert len(lab) > 100
    out = R.recalibrate(lab)
    for k, expected in _eq2_by_hand(lab).items():
        assert np.array_equal(np.asarray(out[f"spec_{k}"], float), expected, equal_nan=True), k


def test_refit_equals_plain_least_squares_bit_for_bit():
    """The refitted coefficients (printed by build-model next to Table 1 at full precision) are
    those of a plain lstsq on [1, Teff, logg, [Fe/H]] of the complete pairs."""
    sos = _pastel_like_sample(500, 4)
    rng = np.random.default_rng(5)
    pastel = Table({f"pastel_{k}": np.asarray(sos[f"spec_{k}"]) + rng.normal(0, s, 500)
                    for k, s in (("teff", 80.0), ("logg", 0.1), ("feh", 0.05))})
    pastel["pastel_logg"][:7] = np.nan  # incomplete pairs are left out of every label's fit
    fit = R.fit_recalibration(sos, pastel)
    ok = np.isfinite(np.asarray(pastel["pastel_logg"]))
    design = np.column_stack([np.ones(ok.sum())] + [np.asarray(sos[f"spec_{k}"])[ok]
                                                   for k in ("teff", "logg", "feh")])
    for k in ("teff", "logg", "feh"):
        diff = np.asarray(sos[f"spec_{k}"])[ok] - np.asarray(pastel[f"pastel_{k}"])[ok]
        ref, *_ = np.linalg.lstsq(design, diff, rcond=None)
        c = fit.coefficients[k]
        assert [c.a, c.b, c.c, c.d] == [float(v) for v in ref]
        assert fit.calibrations[k].coefficients == c and fit.calibrations[k].method == "linear"
    assert fit.stats["n"][0] == 493
    # the fitted calibrations and their coefficients recalibrate identically
    a, b = R.recalibrate(sos, fit.coefficients), R.recalibrate(sos, fit.calibrations)
    assert all(np.array_equal(a[c], b[c]) for c in ("spec_teff", "spec_logg", "spec_feh"))
