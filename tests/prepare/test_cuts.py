"""Tests of sos_vo.prepare.cuts against direct boolean-mask computations."""

from __future__ import annotations

import numpy as np
import pytest
from astropy.table import vstack
from joined_factory import make_joined
from realdata_files import realdata

from sos_vo.exceptions import EmptyInputError, SchemaError
from sos_vo.prepare import cuts
from sos_vo.prepare.features import SKYMAPPER_R


def _removed_by(report: cuts.CutReport) -> dict[str, int]:
    return {s.name: s.n_removed for s in report.steps}


@pytest.mark.parametrize("survey", ["sdss", "skymapper"])
def test_clean_table_passes_every_cut(survey):
    t = make_joined(survey, 15)
    kept, report = cuts.apply_cuts(t, survey)
    assert len(kept) == 15
    assert report.n_input == report.n_kept == 15
    assert all(s.n_removed == 0 for s in report.steps)


GAIA_BAD = [
    ("phot_bp_mean_mag", np.ma.masked, "bp_rp_present"),
    ("ipd_frac_multi_peak", 11, "ipd_frac_multi_peak<=10"),
    ("ipd_frac_odd_win", 11, "ipd_frac_odd_win<=10"),
    ("ruwe", 1.41, "ruwe<=1.4"),
    ("non_single_star", 1, "not_non_single_star"),
    ("phot_variable_flag", "VARIABLE", "not_variable"),
    ("in_qso_candidates", True, "not_in_qso_candidates"),
    ("in_galaxy_candidates", True, "not_in_galaxy_candidates"),
    ("r_med_geo", np.ma.masked, "has_r_med_geo"),
    ("vbroad", 30.5, "vbroad<=30km/s_where_given"),
    ("teff_gspphot", 9001.0, "teff_gspphot<=9000K_where_given"),
    ("phot_g_mean_mag", 18.01, "G<=18"),
    ("parallax_error", 0.11, "parallax_error<=0.1mas"),
    ("parallax_error", np.ma.masked, "parallax_error<=0.1mas"),
    ("astrometric_sigma5d_max", 0.12, "astrometric_sigma5d_max<=0.1mas"),
    ("number_of_neighbours", 2, "one_to_one_best_neighbour"),
    ("number_of_mates", 1, "one_to_one_best_neighbour"),
]


@pytest.mark.parametrize("survey", ["sdss", "skymapper"])
@pytest.mark.parametrize(("column", "value", "cut_name"), GAIA_BAD)
def test_each_gaia_cut_removes_the_bad_row(survey, column, value, cut_name):
    t = make_joined(survey, 10)
    t[column][3] = value
    kept, report = cuts.apply_cuts(t, survey)
    assert t["source_id"][3] not in kept["source_id"]
    assert len(kept) == 9
    assert _removed_by(report)[cut_name] == 1


@pytest.mark.parametrize(("column", "value"), [("ruwe", 1.4), ("parallax_error", 0.1),
                                               ("phot_g_mean_mag", 18.0),
                                               ("teff_gspphot", 9000.0),
                                               ("vbroad", np.ma.masked),
                                               ("teff_gspphot", np.ma.masked)])
def test_boundaries_and_missing_values_that_pass(column, value):
    t = make_joined("sdss", 5)
    t[column][0] = value
    kept, _ = cuts.apply_cuts(t, "sdss")
    assert len(kept) == 5


def test_spie_teff_option():
    t = make_joined("skymapper", 6)
    t["teff_gspphot"][:] = [5000, 7400, 7600, 8000, 8999, 9100]
    assert len(cuts.apply_cuts(t, "skymapper")[0]) == 5
    kept, report = cuts.apply_cuts(t, "skymapper", max_teff=cuts.MAX_TEFF_GSPPHOT_SPIE)
    assert list(kept["teff_gspphot"]) == [5000, 7400]
    assert "SPIE" in report.steps[10].source


def test_sdss_type_6_is_star_and_kept():
    t = make_joined("sdss", 4)
    t["type"][:] = [6, 3, 6, 0]
    kept, report = cuts.apply_cuts(t, "sdss")
    assert list(kept["type"]) == [6, 6]
    assert _removed_by(report)["sdss_type==6_STAR"] == 2


def test_sdss_out_of_range_magnitudes_are_masked_and_two_needed():
    t = make_joined("sdss", 4)
    t["psfmag_u"][0] = -9999.0          # one bad band: kept, u masked
    t["psfmag_z"][0] = 25.5             # second bad band: still 3 valid
    for b in "ugri":                   # row 1: only z valid -> removed
        t[f"psfmag_{b}"][1] = -9999.0
    for b in "ugr":                    # row 2: i and z valid -> kept
        t[f"psfmag_{b}"][2] = 30.0
    kept, report = cuts.apply_cuts(t, "sdss")
    assert list(kept["source_id"]) == [t["source_id"][i] for i in (0, 2, 3)]
    assert kept["psfmag_u"].mask[0] and kept["psfmagerr_u"].mask[0]
    assert kept["psfmag_z"].mask[0] and not kept["psfmag_g"].mask[0]
    assert report.masked_values["psfmag_u"] == 2  # rows 0 and 2 of the kept rows
    assert not t["psfmag_u"].mask[0], "input table must not be modified"


def test_sdss_clean_and_extinction():
    t = make_joined("sdss", 4)
    t["clean"][0] = 0
    t["extinction_g"][1] = 10.5
    t["extinction_g"][2] = 10.0
    kept, report = cuts.apply_cuts(t, "sdss")
    assert len(kept) == 2
    assert _removed_by(report)["sdss_clean==1"] == 1
    assert _removed_by(report)["A_g<=10mag"] == 1


def test_skymapper_cuts():
    t = make_joined("skymapper", 8)
    t["class_star"][0] = 0.8                      # not > 0.8
    t["flags"][1] = 4
    t["flags_psf"][2] = 8                         # a band biased by a neighbour
    t["u_psf"][3] = np.ma.masked                  # u missing
    t["u_flags"][3] = 2                           # per-band flag: not the default rule
    t["v_psf"][4] = 25.2                          # out of range: masked, row kept
    for b in "ugriz":                             # row 5: one valid magnitude left
        t[f"{b}_psf"][5] = np.ma.masked if b != "g" else 26.0
    t["ebmv_sfd"][6] = 10.0 / SKYMAPPER_R["g"] + 0.01   # A_g just above 10
    t["ebmv_sfd"][7] = 10.0 / SKYMAPPER_R["g"] - 0.01   # just below
    kept, report = cuts.apply_cuts(t, "skymapper")
    assert sorted(kept["source_id"]) == sorted(t["source_id"][[3, 4, 7]])
    removed = _removed_by(report)
    assert removed["class_star>0.8"] == 1 and removed["flags==0"] == 1
    assert removed["flags_psf==0"] == 1 and removed[">=2_valid_mags_in_0-25"] == 1
    assert removed["A_g<=10mag"] == 1
    row4 = list(kept["source_id"]).index(t["source_id"][4])
    assert kept["v_psf"].mask[row4] and kept["e_v_psf"].mask[row4]
    assert report.masked_values["v_psf"] == 1 and report.masked_values["u_psf"] == 0


def test_skymapper_band_flags_option():
    t = make_joined("skymapper", 4)
    t["flags_psf"][0] = 8                         # ignored by this reading
    t["g_flags"][1] = 1                           # band flag where g present: removed
    t["u_psf"][2] = np.ma.masked                  # u missing: its flag is not tested
    t["u_flags"][2] = 2
    kept, report = cuts.apply_cuts(t, "skymapper", sm_psf_flags="band_flags")
    assert sorted(kept["source_id"]) == sorted(t["source_id"][[0, 2, 3]])
    assert _removed_by(report)["band_flags==0"] == 1
    t.remove_column("flags_psf")
    assert len(cuts.apply_cuts(t, "skymapper", sm_psf_flags="band_flags")[0]) == 3
    with pytest.raises(SchemaError, match="flags_psf"):
        cuts.apply_cuts(t, "skymapper")
    with pytest.raises(ValueError, match="sm_psf_flags"):
        cuts.apply_cuts(t, "skymapper", sm_psf_flags="psf")


def _direct_counts_sdss(t):
    """Sequential counts computed directly with numpy, independently of the module."""
    f = lambda c: np.ma.filled(np.ma.asarray(t[c], dtype=float), np.nan)  # noqa: E731
    with np.errstate(invalid="ignore"):
        mags_ok = sum(((f(f"psfmag_{b}") >= 0) & (f(f"psfmag_{b}") <= 25)).astype(int)
                      for b in "ugriz")
        masks = [
            np.isfinite(f("phot_bp_mean_mag")) & np.isfinite(f("phot_rp_mean_mag")),
            f("ipd_frac_multi_peak") <= 10, f("ipd_frac_odd_win") <= 10, f("ruwe") <= 1.4,
            np.asarray(t["non_single_star"]) == 0,
            np.asarray(t["phot_variable_flag"]) != "VARIABLE",
            ~np.asarray(t["in_qso_candidates"]), ~np.asarray(t["in_galaxy_candidates"]),
            np.isfinite(f("r_med_geo")),
            ~(f("vbroad") > 30), ~(f("teff_gspphot") > 9000), f("phot_g_mean_mag") <= 18,
            f("parallax_error") <= 0.1, f("astrometric_sigma5d_max") <= 0.1,
            (f("number_of_neighbours") == 1) & (f("number_of_mates") == 0),
            f("type") == 6, f("clean") == 1, mags_ok >= 2, ~(f("extinction_g") > 10),
        ]
    keep = np.ones(len(t), bool)
    removed = []
    for m in masks:
        before = keep.sum()
        keep &= m
        removed.append(before - keep.sum())
    return removed, keep


def _randomly_damaged_sdss(n=400, seed=7):
    rng = np.random.default_rng(seed)
    t = make_joined("sdss", n, seed)
    t["ruwe"] = rng.uniform(0.8, 1.6, n)
    t["phot_g_mean_mag"] = rng.uniform(12, 19, n)
    t["parallax_error"] = rng.uniform(0.0, 0.15, n)
    t["teff_gspphot"] = rng.uniform(3500, 10000, n)
    t["vbroad"] = np.ma.masked_array(rng.uniform(0, 60, n), mask=rng.random(n) < 0.5)
    t["phot_variable_flag"] = np.where(rng.random(n) < 0.1, "VARIABLE", "NOT_AVAILABLE")
    t["in_qso_candidates"] = rng.random(n) < 0.05
    t["number_of_mates"] = (rng.random(n) < 0.05).astype(np.int16)
    t["type"] = np.where(rng.random(n) < 0.1, 3, 6)
    t["clean"] = (rng.random(n) < 0.9).astype(np.int16)
    t["extinction_g"] = rng.uniform(0, 12, n)
    for b in "ugriz":
        t[f"psfmag_{b}"] = np.where(rng.random(n) < 0.3, -9999.0, rng.uniform(14, 24, n))
    return t


def test_counts_equal_independent_boolean_masks():
    t = _randomly_damaged_sdss()
    kept, report = cuts.apply_cuts(t, "sdss")
    removed, keep = _direct_counts_sdss(t)
    assert [s.n_removed for s in report.steps] == removed
    assert list(kept["source_id"]) == list(t["source_id"][keep])
    assert 0 < len(kept) < len(t)
    tab = report.to_table()
    assert list(tab.colnames) == ["cut", "source", "n_before", "n_removed", "n_after"]
    assert np.all(tab["n_after"][:-1] == tab["n_before"][1:])
    assert tab["n_after"][-1] == len(kept)
    assert "sdss_type==6_STAR" in str(report) and "T25 Sect. 2.1" in str(report)


def test_chunks_give_the_same_report_as_the_whole():
    t = _randomly_damaged_sdss()
    whole_kept, whole = cuts.apply_cuts(t, "sdss")
    parts = [cuts.apply_cuts(t[i:i + 100], "sdss") for i in range(0, len(t), 100)]
    combined = cuts.CutReport.combine([r for _, r in parts])
    assert combined.to_table().as_array().tolist() == whole.to_table().as_array().tolist()
    assert combined.masked_values == whole.masked_values
    assert len(vstack([k for k, _ in parts])) == len(whole_kept)


def test_missing_column_is_named():
    t = make_joined("skymapper", 3)
    t.remove_column("ruwe")
    t.remove_column("class_star")
    with pytest.raises(SchemaError, match="ruwe.*class_star"):
        cuts.apply_cuts(t, "skymapper")


def test_empty_table():
    with pytest.raises(EmptyInputError):
        cuts.apply_cuts(make_joined("sdss", 3)[:0], "sdss")


def test_wrong_units():
    t = make_joined("sdss", 3)
    t["phot_g_mean_mag"].unit = "Jy"
    with pytest.raises(SchemaError, match="phot_g_mean_mag.*Jy"):
        cuts.apply_cuts(t, "sdss")


def test_convertible_units_are_converted():
    t = make_joined("sdss", 3)
    t["parallax_error"] = t["parallax_error"] / 1000.0
    t["parallax_error"].unit = "arcsec"
    t["parallax_error"][0] = 0.00011  # 0.11 mas
    kept, report = cuts.apply_cuts(t, "sdss")
    assert len(kept) == 2 and _removed_by(report)["parallax_error<=0.1mas"] == 1


def test_gaia_cuts_on_a_real_archive_votable():
    """Real Gaia DR3 rows (archive dtypes: object flag strings, bool candidates, masked vbroad)."""
    from astropy.table import Table
    path = realdata("1710099405832VAL-result.vot")
    t = Table.read(path)
    expected = {
        "not_variable": np.asarray(t["phot_variable_flag"]).astype(str) != "VARIABLE",
        "ipd_frac_multi_peak<=10": np.asarray(t["ipd_frac_multi_peak"]) <= 10,
        "ruwe<=1.4": np.asarray(t["ruwe"]) <= 1.4,
        "G<=18": np.asarray(t["phot_g_mean_mag"]) <= 18,
        "vbroad<=30km/s_where_given": np.ma.filled(t["vbroad"], 0.0) <= 30,
    }
    found = {c.name: c.predicate(t) for c in cuts.gaia_cuts() if c.name in expected}
    assert found.keys() == expected.keys()
    for name, mask in expected.items():
        assert np.array_equal(found[name], mask), name


@pytest.mark.parametrize(("survey", "prefix"), [("sdss", "sdss_"), ("skymapper", "sm_")])
def test_kept_rows_equal_the_simulator_truth(survey, prefix):
    """Cross-check with sos_vo.simulate.failures, which evaluates every cut independently."""
    from sos_vo.prepare.crossmatch import join_survey
    from sos_vo.simulate import failures
    from sos_vo.simulate.sky import simulate_sky

    sky = simulate_sky(center=(30.0, -5.0), radius=0.5, n_stars=4000, seed=3)
    fails = {int(i): set(filter(None, str(f).split(",")))
             for i, f in zip(sky.truth["source_id"], sky.truth["fails"], strict=True)}
    relevant = set(failures.GAIA_CUTS) | {c for c in failures.CUT_NAMES if c.startswith(prefix)}
    joined = join_survey(sky.tables, survey)
    kept, report = cuts.apply_cuts(joined, survey)
    expected = {int(i) for i in joined["source_id"] if not fails[int(i)] & relevant}
    assert {int(i) for i in kept["source_id"]} == expected
    assert all(s.n_removed > 0 for s in report.steps), str(report)  # every cut is exercised


def test_server_side_cuts_are_reported_as_such_not_as_zero():
    """Cuts that ran in the ADQL removed rows that never arrived: the report says
    "server-side" for them instead of the 0 the local pass counts."""
    from sos_vo.scale.manifest import report_from_dict, report_to_dict

    t = _randomly_damaged_sdss()
    gaia = [c.name for c in cuts.gaia_cuts()]
    keep = np.ones(len(t), bool)
    for cut in cuts.gaia_cuts():  # what the server sends: rows passing the Gaia cuts
        keep &= np.asarray(cut.predicate(t), bool)
    _, report = cuts.apply_cuts(t[keep], "sdss")
    assert all(s.n_removed == 0 for s in report.steps if s.name in gaia)
    report.mark_server_side(gaia)
    text = str(report).splitlines()
    assert f"({len(gaia)} cuts ran server-side in the ADQL" in text[1]
    for name in gaia:
        row = next(line for line in text if line.startswith(name + " "))
        assert "server-side" in row.split() and " 0 " not in row
    local = next(line for line in text if line.startswith("sdss_clean==1 "))
    assert "server-side" not in local
    tab = report.to_table()
    assert list(tab.colnames) == ["cut", "source", "applied", "n_before", "n_removed", "n_after"]
    server = np.isin(tab["cut"], gaia)
    assert list(tab["applied"][server]) == ["server"] * len(gaia)
    assert tab["n_removed"].mask[server].all() and not tab["n_removed"].mask[~server].any()
    # the flags survive combining chunk reports and the run manifest
    assert cuts.CutReport.combine([report, report]).server_side == gaia
    assert report_from_dict(report_to_dict(report)).server_side == gaia
    with pytest.raises(ValueError, match="no cut named nonsense"):
        report.mark_server_side(["nonsense"])
