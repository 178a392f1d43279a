"""Tests of sos_vo.catalogue.sosid."""

from __future__ import annotations

import numpy as np
import pytest
from astropy.table import Table
from realdata_files import realdata

from sos_vo.catalogue import sosid as S


def _stars(n=500, seed=0):
    rng = np.random.default_rng(seed)
    ra = rng.uniform(10.0, 10.05, n)      # a small patch: several stars per order-12 pixel
    dec = rng.uniform(-30.0, -29.95, n)
    ids = (rng.permutation(n).astype(np.int64) + 1) * 7919 + 12345  # unique, shuffled
    return ra, dec, ids


def test_layout_and_decode():
    ra, dec, ids = _stars()
    sos = S.assign_sosids(ra, dec, ids)
    pix, run = S.decode_sosid(sos)
    assert np.array_equal(pix, S.healpix_index(ra, dec))
    assert np.unique(sos).size == sos.size
    assert run.min() == 1
    # within each pixel the running numbers are 1..n in source_id order
    for p in np.unique(pix):
        sel = pix == p
        assert np.array_equal(run[sel][np.argsort(ids[sel])], np.arange(1, sel.sum() + 1))


def test_reproducible_regardless_of_row_order():
    ra, dec, ids = _stars()
    sos = S.assign_sosids(ra, dec, ids)
    perm = np.random.default_rng(5).permutation(ids.size)
    assert np.array_equal(S.assign_sosids(ra[perm], dec[perm], ids[perm]), sos[perm])


def test_registry_keeps_old_ids_and_never_reuses_numbers():
    ra, dec, ids = _stars()
    first = S.assign_sosids(ra[:300], dec[:300], ids[:300])
    registry = Table({"sosid": first, "gaia_dr3_id": ids[:300]})
    # release 2: drops 50 old stars, adds 200 new ones
    second = S.assign_sosids(ra[50:], dec[50:], ids[50:], registry=registry)
    assert np.array_equal(second[:250], first[50:])
    new = second[250:]
    assert not np.isin(new, first).any()                      # dropped ids are not reused
    pix_new, run_new = S.decode_sosid(new)
    pix_old, run_old = S.decode_sosid(first)
    for p in np.unique(pix_new):
        if (pix_old == p).any():
            assert run_new[pix_new == p].min() == run_old[pix_old == p].max() + 1


def test_healpix_matches_gaia_source_id_pixel():
    """Gaia DR3 source_id // 2**35 is the order-12 nested pixel of the source (Gaia docs)."""
    t = Table.read(realdata("1710099405832VAL-result.vot"))
    ids = np.asarray(t["SOURCE_ID" if "SOURCE_ID" in t.colnames else "source_id"], np.int64)
    assert np.array_equal(S.healpix_index(t["ra"], t["dec"]), ids // 2**35)


def test_errors():
    with pytest.raises(ValueError, match="duplicated"):
        S.assign_sosids([1.0, 2.0], [0.0, 0.0], [5, 5])
    with pytest.raises(ValueError, match="without a Gaia DR3"):
        S.assign_sosids([1.0], [0.0], [0])
    with pytest.raises(ValueError):
        S.decode_sosid(0)


def test_max_value_fits_int64():
    npix = 12 * 4**S.HEALPIX_ORDER
    assert (npix - 1) * S.RUNNING_BASE + S.RUNNING_BASE - 1 < np.iinfo(np.int64).max
