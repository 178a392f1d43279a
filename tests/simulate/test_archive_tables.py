"""The synthetic tables against the real archive schema (names, datatypes, units, UCDs, nulls)."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
from astropy.io import votable
from astropy.io.votable.exceptions import VOWarning
from realdata_files import realdata

from sos_vo import schema
from sos_vo.simulate import archive_tables as at
from sos_vo.simulate import simulate_sky

REAL_GAIA = "1710099405832VAL-result.vot"


def _fields(path: Path) -> dict:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", VOWarning)
        table = votable.parse_single_table(str(path))
    return {f.name: f for f in table.fields}


@pytest.fixture(scope="module")
def written_gaia(tmp_path_factory):
    sky = simulate_sky(center=(0.0, 0.0), radius=1.0, n_stars=300, seed=2)
    folder = tmp_path_factory.mktemp("sky")
    sky.write(folder)
    return _fields(folder / "gaiadr3.gaia_source.vot")


def test_gaia_source_fields_match_the_real_archive(written_gaia):
    real = _fields(realdata(REAL_GAIA))
    assert set(written_gaia) <= set(real), f"columns not in Gaia DR3: {set(written_gaia) - set(real)}"
    for name, field in written_gaia.items():
        ref = real[name]
        assert field.datatype == ref.datatype, name
        assert field.ucd == ref.ucd, name
        assert str(field.unit or "") == str(ref.unit or ""), name
        if ref.datatype == "char":
            assert field.arraysize == ref.arraysize == "*", name


def test_every_contract_column_is_emitted(sky):
    gaia = sky.tables[at.GAIA_SOURCE]
    assert set(schema.GAIA_COLUMNS) <= set(gaia.colnames)
    assert set(schema.DISTANCE_COLUMNS) <= set(sky.tables[at.GAIA_DISTANCE].colnames)
    sdss = sky.tables[at.SDSS_PHOTO].colnames
    for c in schema.SDSS_COLUMNS:
        assert (c if c != "sdss_objid" else "objid") in sdss
    sm = sky.tables[at.SKYMAPPER_MASTER].colnames
    for c in schema.SKYMAPPER_COLUMNS:
        assert (c if c != "sm_object_id" else "object_id") in sm


def test_tables_follow_their_specs_and_say_they_are_synthetic(sky):
    for name, table in sky.tables.items():
        specs = at.TABLE_COLUMNS[name]
        assert table.colnames == [s.name for s in specs], name
        for s in specs:
            kind = table[s.name].dtype.kind
            assert (kind == "U") if s.dtype == "str" else (table[s.name].dtype == np.dtype(s.dtype)), (name, s.name)
        assert table.meta["SYNTHETIC"] is True
        assert "SYNTHETIC" in table.meta["DESCRIPTION"]
    assert sky.meta["SYNTHETIC"] is True and sky.truth.meta["SYNTHETIC"] is True


def test_null_conventions(sky):
    gaia = sky.tables[at.GAIA_SOURCE]
    assert set(np.unique(np.asarray(gaia["phot_variable_flag"]))) == {"VARIABLE", "NOT_AVAILABLE"}
    assert gaia["vbroad"].mask.any() and (~gaia["vbroad"].mask).any()
    assert gaia["teff_gspphot"].mask.any()
    sdss = sky.tables[at.SDSS_PHOTO]
    u = np.asarray(sdss["psfmag_u"])
    assert (u == at.SDSS_NULL).any() and np.isfinite(u).all() and not np.ma.getmaskarray(sdss["psfmag_u"]).any()
    sm = sky.tables[at.SKYMAPPER_MASTER]
    assert sm["u_psf"].mask.any()
    assert not (np.ma.compressed(sm["u_psf"]) == at.SDSS_NULL).any()


def test_source_ids_are_unique_and_encode_healpix(sky):
    from astropy import units as u
    from astropy_healpix import HEALPix

    gaia = sky.tables[at.GAIA_SOURCE]
    sid = np.asarray(gaia["source_id"])
    assert len(np.unique(sid)) == len(sid)
    pix = HEALPix(nside=2**12, order="nested").lonlat_to_healpix(np.asarray(gaia["ra"]) * u.deg,
                                                                 np.asarray(gaia["dec"]) * u.deg)
    assert np.all(sid // 2**35 == pix)
    assert all(d == f"Gaia DR3 {s}" for d, s in zip(gaia["designation"][:50], sid[:50], strict=True))
