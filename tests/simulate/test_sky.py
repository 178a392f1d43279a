"""simulate_sky: determinism, cone geometry, files, cross-match structure, injected cut failures."""

from __future__ import annotations

import numpy as np
import pytest
from astropy import units as u
from astropy.coordinates import SkyCoord
from sky_region import CENTER, RADIUS_DEG

from sos_vo.simulate import CUT_NAMES, read_synthetic_sky, simulate_sky
from sos_vo.simulate import archive_tables as at
from sos_vo.simulate.failures import GAIA_CUTS
from sos_vo.simulate.photometry import EXTINCTION_COEFFICIENTS


def _tables_equal(a, b) -> bool:
    if a.colnames != b.colnames or len(a) != len(b):
        return False
    for c in a.colnames:
        ma, mb = np.ma.getmaskarray(a[c]), np.ma.getmaskarray(b[c])
        if not np.array_equal(ma, mb):
            return False
        da, db = np.asarray(np.ma.getdata(a[c]))[~ma], np.asarray(np.ma.getdata(b[c]))[~mb]
        if da.dtype.kind == "f":
            if not np.allclose(da, db, rtol=1e-6, atol=0, equal_nan=True):
                return False
        elif not np.array_equal(da.astype(str) if da.dtype.kind in "USO" else da,
                                db.astype(str) if db.dtype.kind in "USO" else db):
            return False
    return True


def test_same_seed_same_sky_other_seed_other_sky():
    a = simulate_sky(center=(10.0, -5.0), radius=1.0, n_stars=800, seed=5)
    b = simulate_sky(center=(10.0, -5.0), radius=1.0, n_stars=800, seed=5)
    c = simulate_sky(center=(10.0, -5.0), radius=1.0, n_stars=800, seed=6)
    assert a.tables.keys() == b.tables.keys()
    for name in a.tables:
        assert _tables_equal(a.tables[name], b.tables[name]), name
    assert _tables_equal(a.truth, b.truth)
    assert not _tables_equal(a.tables[at.GAIA_SOURCE], c.tables[at.GAIA_SOURCE])


def test_stars_are_inside_the_cone_and_uniform(sky):
    gaia = sky.tables[at.GAIA_SOURCE]
    center = SkyCoord(*CENTER, unit="deg")
    sep = SkyCoord(np.asarray(gaia["ra"]) * u.deg, np.asarray(gaia["dec"]) * u.deg).separation(center).deg
    assert sep.max() <= RADIUS_DEG
    # uniform on the sphere: 1 - cos(sep) is uniform on [0, 1 - cos(R)]
    x = (1 - np.cos(np.deg2rad(sep))) / (1 - np.cos(np.deg2rad(RADIUS_DEG)))
    from scipy.stats import kstest
    assert kstest(x, "uniform").pvalue > 1e-3
    # and uniform in position angle
    pa = SkyCoord(np.asarray(gaia["ra"]) * u.deg, np.asarray(gaia["dec"]) * u.deg)
    angle = center.position_angle(pa).rad / (2 * np.pi)
    assert kstest(angle, "uniform").pvalue > 1e-3


def test_star_count_follows_density_or_request():
    sky = simulate_sky(center=(250.0, 40.0), radius=0.5, seed=1, density_per_deg2=400.0)
    area = 2 * np.pi * (1 - np.cos(np.deg2rad(0.5))) * (180 / np.pi) ** 2
    assert len(sky.tables[at.GAIA_SOURCE]) == round(400.0 * area)
    assert len(simulate_sky(center=(250.0, 40.0), radius=0.5, n_stars=123).truth) == 123


@pytest.mark.parametrize("bad", [dict(radius=0.0), dict(radius=-1.0), dict(center=(0.0, 95.0)),
                                 dict(surveys=("panstarrs",)), dict(n_stars=-3)])
def test_bad_arguments_raise(bad):
    kwargs = dict(center=(0.0, 0.0), radius=1.0, n_stars=10)
    kwargs.update(bad)
    with pytest.raises(ValueError):
        simulate_sky(**kwargs)


@pytest.mark.parametrize("fmt", ["votable", "ecsv"])
def test_write_read_round_trip_and_no_silent_overwrite(tmp_path, fmt):
    sky = simulate_sky(center=(30.0, -2.0), radius=1.0, n_stars=500, seed=3)
    sky.write(tmp_path, format=fmt)
    back = read_synthetic_sky(tmp_path)
    assert back.tables.keys() == sky.tables.keys()
    for name in sky.tables:
        assert _tables_equal(sky.tables[name], back.tables[name]), name
        assert back.tables[name].meta["SYNTHETIC"] is True
    assert _tables_equal(sky.truth, back.truth)
    assert back.meta["seed"] == 3
    with pytest.raises(FileExistsError):
        sky.write(tmp_path, format=fmt)
    sky.write(tmp_path, format=fmt, overwrite=True)
    assert not list(tmp_path.glob(".*tmp*")), "temporary files left behind"


def test_footprints_and_one_to_many_matches(sky):
    gaia = sky.tables[at.GAIA_SOURCE]
    dec = dict(zip(np.asarray(gaia["source_id"]), np.asarray(gaia["dec"]), strict=True))
    for survey, inside in (("sdss", lambda d: d > -10), ("skymapper", lambda d: d < 10)):
        nb = sky.tables[at.NEIGHBOUR_TABLE[survey]]
        assert len(nb) > 0
        assert all(inside(dec[s]) for s in np.asarray(nb["source_id"]))
        n_nb = np.asarray(nb["number_of_neighbours"])
        mates = np.asarray(nb["number_of_mates"])
        assert (n_nb > 1).any() and (mates > 0).any() and ((n_nb == 1) & (mates == 0)).any()
        # number_of_mates counts the other Gaia sources sharing the same survey object
        ext = np.asarray(nb["original_ext_source_id"])
        _, inverse, counts = np.unique(ext, return_inverse=True, return_counts=True)
        assert np.array_equal(mates, counts[inverse] - 1)
        # every best neighbour has photometry; extra neighbours exist as survey objects
        phot_ids = np.asarray(sky.tables[at.PHOTOMETRY_TABLE[survey]][at.PHOTOMETRY_ID[survey]])
        assert np.isin(ext, phot_ids).all()
        assert len(phot_ids) > len(np.unique(ext))


def test_survey_extinction_is_consistent_with_the_reddening(sky):
    sdss = sky.tables[at.SDSS_PHOTO]
    r = EXTINCTION_COEFFICIENTS["sdss"]
    for b in "uriz":
        ratio = np.asarray(sdss[f"extinction_{b}"]) / np.asarray(sdss["extinction_g"])
        assert np.allclose(ratio, r[b] / r["g"], rtol=1e-5)
    # SkyMapper ebmv_sfd equals the star's line-of-sight E(B-V) (except injected A_g failures)
    truth = sky.truth
    nb = sky.tables[at.SKYMAPPER_NEIGHBOUR]
    sm = sky.tables[at.SKYMAPPER_MASTER]
    ebv_of_obj = dict(zip(np.asarray(sm["object_id"]), np.asarray(sm["ebmv_sfd"]), strict=True))
    ebv_true = dict(zip(np.asarray(truth["source_id"]), np.asarray(truth["ebv_sfd"]), strict=True))
    companion = set(np.asarray(truth["source_id"])[np.asarray(truth["companion_of"]) != 0])
    injected = set(np.asarray(truth["source_id"])[np.char.find(np.asarray(truth["injected"]).astype(str), "sm_ag") >= 0])
    checked = 0
    for sid, obj in zip(np.asarray(nb["source_id"]), np.asarray(nb["original_ext_source_id"]), strict=True):
        if sid in companion or sid in injected:
            continue
        assert ebv_of_obj[obj] == pytest.approx(ebv_true[sid], rel=1e-5)
        checked += 1
    assert checked > 100


def test_every_cut_has_failing_stars_and_injections_are_seen(sky):
    truth = sky.truth
    fails = [set(f.split(",")) - {""} for f in np.asarray(truth["fails"]).astype(str)]
    injected = [set(f.split(",")) - {""} for f in np.asarray(truth["injected"]).astype(str)]
    seen = set().union(*fails)
    assert set(CUT_NAMES) <= seen, f"no star fails {set(CUT_NAMES) - seen}"
    clean = sum(1 for f in fails if not f)
    assert 0 < clean < len(fails)
    for f, inj in zip(fails, injected, strict=True):
        assert inj & set(GAIA_CUTS) <= f


def test_sdss_objects_with_a_saturated_band_are_not_clean(sky):
    """SDSS ``clean`` is unset for saturated objects (SDSS_SATURATED_IS_UNCLEAN): every object
    with a null band that was not injected to fail the two-magnitudes cut has clean = 0, and the
    clean objects have all bands measured fainter than the saturation limits."""
    from sos_vo.simulate.photometry import SDSS_SATURATED_IS_UNCLEAN, SDSS_SATURATION

    assert SDSS_SATURATED_IS_UNCLEAN
    phot = sky.tables[at.SDSS_PHOTO]
    nb = sky.tables[at.SDSS_NEIGHBOUR]
    truth = sky.truth
    two_mags = set(np.asarray(truth["source_id"])[
        np.char.find(np.asarray(truth["injected"]).astype(str), "sdss_two_mags") >= 0])
    companions = set(np.asarray(truth["source_id"])[np.asarray(truth["companion_of"]) != 0])
    # best-neighbour objects whose null bands may come from the injected two-magnitudes failure
    # (extra, fainter neighbours copy their owner's bands and flags: not checked)
    injected_objects = {int(o) for sid, o in zip(np.asarray(nb["source_id"]),
                                                 np.asarray(nb["original_ext_source_id"]),
                                                 strict=True) if sid in two_mags or sid in companions}
    mags = np.stack([np.asarray(phot[f"psfmag_{b}"], float) for b in "ugriz"], axis=1)
    clean = np.asarray(phot["clean"])
    saturated_seen = 0
    best = {int(o) for o in np.asarray(nb["original_ext_source_id"])}
    for i, obj in enumerate(np.asarray(phot["objid"])):
        if (int(obj) not in best or int(obj) in injected_objects
                or not (mags[i] == at.SDSS_NULL).any()):
            continue
        assert clean[i] == 0, f"object {obj} has a saturated (null) band but clean = 1"
        saturated_seen += 1
    assert saturated_seen > 10
    # clean objects: every measured band fainter than its saturation limit (minus 10 sigma noise)
    limits = np.array([SDSS_SATURATION[b] for b in "ugriz"]) - 0.1
    measured = mags != at.SDSS_NULL
    assert (clean == 1).sum() > 100
    assert not (measured & (mags < limits) & (clean == 1)[:, None]).any()
