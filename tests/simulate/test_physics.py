"""Physical sanity of the synthetic sky, measured from its output tables."""

from __future__ import annotations

import numpy as np
from scipy.stats import spearmanr

from sos_vo.simulate import archive_tables as at
from sos_vo.simulate.photometry import EXTINCTION_COEFFICIENTS


def _by_source(table, sid):
    ids = np.asarray(table["source_id"])
    order = np.argsort(ids)
    rows = order[np.searchsorted(ids[order], sid)]
    assert np.array_equal(ids[rows], sid)
    return table[rows]


def _mad(x):
    x = np.asarray(x, float)
    x = x[np.isfinite(x)]
    return 1.4826 * np.median(np.abs(x - np.median(x)))


def test_giants_are_brighter_than_dwarfs_at_the_same_teff(sky):
    t = sky.truth
    teff = np.asarray(t["teff"])
    band = (teff > 4600) & (teff < 5000)
    pop = np.asarray(t["population"]).astype(str)
    giants = np.asarray(t["abs_G"])[band & (pop == "giant")]
    dwarfs = np.asarray(t["abs_G"])[band & (pop == "thin_disc_dwarf")]
    assert giants.size > 30 and dwarfs.size > 30
    assert np.median(giants) < np.median(dwarfs) - 3.0


def _photometry(sky, survey):
    nb = sky.tables[at.NEIGHBOUR_TABLE[survey]]
    nb = nb[(np.asarray(nb["number_of_mates"]) == 0)]
    phot = sky.tables[at.PHOTOMETRY_TABLE[survey]]
    pid = np.asarray(phot[at.PHOTOMETRY_ID[survey]])
    order = np.argsort(pid)
    rows = order[np.searchsorted(pid[order], np.asarray(nb["original_ext_source_id"]))]
    return phot[rows], _by_source(sky.truth, np.asarray(nb["source_id"]))


def _dered(phot, survey, band):
    if survey == "sdss":
        m = np.asarray(phot[f"psfmag_{band}"], float)
        return np.where(m == at.SDSS_NULL, np.nan, m - np.asarray(phot[f"extinction_{band}"]))
    m = np.ma.filled(phot[f"{band}_psf"].astype(float), np.nan)
    return m - EXTINCTION_COEFFICIENTS["skymapper"][band] * np.asarray(phot["ebmv_sfd"])


def test_blue_colours_track_metallicity_at_fixed_teff(sky):
    for survey, blue in (("sdss", "u"), ("skymapper", "v")):
        phot, truth = _photometry(sky, survey)
        teff = np.asarray(truth["teff"])
        sel = (teff > 5500) & (teff < 5900) & (np.asarray(truth["logg"]) > 4.0)
        blue_g = (_dered(phot, survey, blue) - _dered(phot, survey, "g"))[sel]
        r_i = (_dered(phot, survey, "r") - _dered(phot, survey, "i"))[sel]
        feh = np.asarray(truth["feh"])[sel]
        ok = np.isfinite(blue_g) & np.isfinite(r_i)
        assert ok.sum() > 50
        rho_blue = spearmanr(blue_g[ok], feh[ok]).statistic
        rho_red = spearmanr(r_i[ok], feh[ok]).statistic
        assert rho_blue > 0.6, (survey, rho_blue)
        assert abs(rho_red) < rho_blue / 2, (survey, rho_red)
        slope_blue = np.polyfit(feh[ok], blue_g[ok], 1)[0]
        slope_red = np.polyfit(feh[ok], r_i[ok], 1)[0]
        assert slope_blue > 5 * abs(slope_red)


def _binned_medians(mag, err, edges):
    return [np.median(err[(mag >= lo) & (mag < hi)]) for lo, hi in zip(edges[:-1], edges[1:], strict=True)]


def test_noise_grows_with_magnitude(sky):
    phot, _ = _photometry(sky, "sdss")
    g = np.asarray(phot["psfmag_g"], float)
    e = np.asarray(phot["psfmagerr_g"], float)
    ok = g != at.SDSS_NULL
    med = _binned_medians(g[ok], e[ok], [14, 16, 18, 20, 22])
    assert np.all(np.diff(med) > 0)
    sm, _ = _photometry(sky, "skymapper")
    g = np.ma.filled(sm["g_psf"].astype(float), np.nan)
    e = np.ma.filled(sm["e_g_psf"].astype(float), np.nan)
    ok = np.isfinite(g)
    assert np.all(np.diff(_binned_medians(g[ok], e[ok], [12, 15, 17, 19, 21])) > 0)
    gaia = sky.tables[at.GAIA_SOURCE]
    gm = np.asarray(gaia["phot_g_mean_mag"], float)
    assert np.all(np.diff(_binned_medians(gm, np.asarray(gaia["parallax_error"], float), [10, 14, 16, 18, 20])) > 0)


def test_parallax_and_distance_agree_with_the_truth(sky):
    gaia = sky.tables[at.GAIA_SOURCE]
    truth = _by_source(sky.truth, np.asarray(gaia["source_id"]))
    good = np.asarray(gaia["parallax_over_error"]) > 20
    ratio = np.asarray(gaia["parallax"])[good] * np.asarray(truth["distance_pc"])[good] / 1000.0
    assert abs(np.median(ratio) - 1) < 0.02
    dist = sky.tables[at.GAIA_DISTANCE]
    dtruth = _by_source(sky.truth, np.asarray(dist["source_id"]))
    assert abs(np.median(np.log(np.asarray(dist["r_med_geo"]) / np.asarray(dtruth["distance_pc"])))) < 0.02


def test_priors_are_worse_for_metal_poor_giants(sky):
    gaia = sky.tables[at.GAIA_SOURCE]
    truth = _by_source(sky.truth, np.asarray(gaia["source_id"]))
    logg, feh = np.asarray(truth["logg"]), np.asarray(truth["feh"])
    mp_giant = (logg < 3.5) & (feh < -1.0)
    normal_dwarf = (logg > 4.0) & (feh > -0.5)
    for prior, true in (("teff_gspphot", "teff"), ("logg_gspphot", "logg")):
        resid = np.ma.filled(gaia[prior].astype(float), np.nan) - np.asarray(truth[true])
        assert _mad(resid[mp_giant]) > 1.5 * _mad(resid[normal_dwarf]), prior
    andrae = sky.tables[at.ANDRAE]
    at_truth = _by_source(sky.truth, np.asarray(andrae["source_id"]))
    resid = np.asarray(andrae["mh_xgboost"]) - np.asarray(at_truth["feh"])
    mp = (np.asarray(at_truth["logg"]) < 3.5) & (np.asarray(at_truth["feh"]) < -1.0)
    nd = (np.asarray(at_truth["logg"]) > 4.0) & (np.asarray(at_truth["feh"]) > -0.5)
    assert _mad(resid[mp]) > 1.5 * _mad(resid[nd])
    assert np.median(resid[mp]) > 0.1  # XGBoost [M/H] regresses towards the mean at low [Fe/H]


def test_prior_scatter_against_labels_is_near_the_papers(sky):
    """T25 Sect. 4.2: GSP-Phot vs SoS MAD 165 K / 0.21 dex, Andrae [M/H] 0.17 dex (within ~35 %)."""
    sos = sky.tables[at.SOS_SPECTRO]
    gaia = _by_source(sky.tables[at.GAIA_SOURCE], np.asarray(sos["source_id"]))
    t = _mad(np.ma.filled(gaia["teff_gspphot"].astype(float), np.nan) - np.asarray(sos["teff"]))
    g = _mad(np.ma.filled(gaia["logg_gspphot"].astype(float), np.nan) - np.asarray(sos["logg"]))
    assert 165 / 1.35 < t < 165 * 1.35
    assert 0.21 / 1.35 < g < 0.21 * 1.35
    andrae = sky.tables[at.ANDRAE]
    both = np.intersect1d(np.asarray(andrae["source_id"]), np.asarray(sos["source_id"]))
    m = _mad(np.asarray(_by_source(andrae, both)["mh_xgboost"]) - np.asarray(_by_source(sos, both)["feh"]))
    assert 0.17 / 1.35 < m < 0.17 * 1.35
