"""VOTable and FITS writers checked with the real validators (stilts votlint, fitsverify) and astropy."""

from __future__ import annotations

import subprocess
import warnings

import astropy.units as u
import numpy as np
import pytest
from astropy.io import fits
from astropy.io.votable import parse
from astropy.table import MaskedColumn, Table
from helpers import make_catalogue

from sos_vo.exceptions import SchemaError
from sos_vo.publish import (
    Column,
    Provenance,
    read_table,
    write_catalogue,
    write_fits,
    write_table,
    write_votable,
)
from sos_vo.schema import CATALOGUE_COLUMNS

PROV = Provenance(model_version="sdss-2025.1", archives=("ESA Gaia archive (TAP)",),
                  releases=("Gaia DR3", "SDSS DR13"),
                  queries=("SELECT source_id, ra, dec FROM gaiadr3.gaia_source WHERE "
                           "1 = CONTAINS(POINT(ra, dec), CIRCLE(150.5, -0.5, 0.5)) "
                           "AND parallax > 0 AND ruwe < 1.4 -- a long query to exercise CONTINUE",))

EXPECTED_UNITS = {None: None, "deg": u.deg, "K": u.K}
"""What astropy should read back for each schema unit string; dex is checked per UCD below."""


def values(col) -> list:
    """Column values as Python objects, bytes decoded (astropy reads VOTable char as bytes)."""
    return [v.decode() if isinstance(v, bytes) else v for v in np.asarray(col).tolist()]


def expected_unit(col):
    if col.unit == "dex":
        return u.dex(u.cm / u.s**2) if col.ucd.endswith("phys.gravity") else u.dex
    return EXPECTED_UNITS[col.unit]


def generic_table(n: int = 8) -> Table:
    """A non-catalogue table (like a joined/feature table) with masked ints, strings and flags."""
    rng = np.random.default_rng(3)
    t = Table()
    t["source_id"] = MaskedColumn(np.arange(n, dtype=np.int64) + 10**18, mask=[False] * (n - 1) + [True],
                                  description="Gaia DR3 source identifier")
    t["source_id"].meta["ucd"] = "meta.id;meta.main"
    t["parallax"] = rng.uniform(0.1, 5, n) * u.mas
    t["parallax"].description = "Parallax"
    t["parallax"].meta["ucd"] = "pos.parallax.trig"
    t["pm"] = rng.uniform(-5, 5, n) * u.mas / u.yr
    t["survey"] = ["SDSS"] * n
    t["clean"] = rng.random(n) < 0.5
    return t


GENERIC_META = [Column("pm", unit="mas/yr", ucd="pos.pm", description="Total proper motion"),
                Column("survey", ucd="meta.id;instr.setup", description="Photometric survey"),
                Column("clean", ucd="meta.code.qual", description="SDSS clean photometry flag")]


@pytest.mark.parametrize("encoding", ["binary2", "tabledata"])
def test_catalogue_votable_passes_votlint_and_astropy(tmp_path, votlint, encoding):
    t = make_catalogue()
    path = write_votable(t, tmp_path / "cat.vot", provenance=PROV, encoding=encoding,
                         required=[c.name for c in CATALOGUE_COLUMNS])
    assert votlint(path) == []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        vot = parse(path, verify="warn")
    assert [str(w.message) for w in caught] == []  # no W06 (UCD) nor any other warning
    back = vot.get_first_table().to_table()
    fields = {f.name: f for f in vot.get_first_table().fields}
    for col in CATALOGUE_COLUMNS:
        assert fields[col.name].ucd == col.ucd
        # astropy wraps DESCRIPTION text (also at hyphens): compare without whitespace
        assert "".join(col.description.split()) in "".join(fields[col.name].description.split())
        assert back[col.name].unit == expected_unit(col), col.name
        assert values(back[col.name]) == values(t[col.name]), col.name
    assert (f'encoding="{"base64"}"' in path.read_text()) == (encoding == "binary2")
    infos = {}
    for info in vot.resources[0].infos:
        infos.setdefault(info.name, []).append(info.value)
    assert infos["sos_vo_version"] == [PROV.package_version]
    assert infos["model_version"] == [PROV.model_version]
    assert infos["release"] == list(PROV.releases)
    assert infos["archive"] == list(PROV.archives)
    assert infos["query"] == list(PROV.queries)
    params = {p.name: p.value for p in vot.get_first_table().params}
    assert params["model_version"] == PROV.model_version and params["date"] == PROV.date


def test_votlint_gate_catches_a_broken_file(tmp_path, votlint):
    """Control: the gate used above does report problems (votlint always exits 0)."""
    path = write_votable(make_catalogue(5), tmp_path / "cat.vot", encoding="tabledata")
    broken = tmp_path / "broken.vot"
    broken.write_text(path.read_text().replace('datatype="double"', 'datatype="dubble"', 1))
    assert votlint(broken) != []


def test_catalogue_fits_passes_fitsverify(tmp_path, fitsverify):
    t = make_catalogue()
    path = write_fits(t, tmp_path / "cat.fits", provenance=PROV)
    rc, report = fitsverify(path)
    assert rc == 0, report
    assert "0 warning(s) and 0 error(s)" in report
    with fits.open(path, checksum=True) as hdul:  # raises/warns on a bad CHECKSUM
        header = hdul[1].header
        assert "CHECKSUM" in header and "DATASUM" in header
        for i, col in enumerate(CATALOGUE_COLUMNS, 1):
            assert header[f"TTYPE{i}"] == col.name
            assert header[f"TUCD{i}"] == col.ucd
            assert col.description in header[f"TCOMM{i}"]
            assert header.get(f"TUNIT{i}") == col.unit
        assert header["MODELVER"] == PROV.model_version
        assert header["SOSVOVER"] == PROV.package_version
        assert header["QUERY1"] == PROV.queries[0]
        assert [header["RELEAS1"], header["RELEAS2"]] == list(PROV.releases)
        assert header["DATE"] == PROV.date
    back = read_table(path)
    for col in CATALOGUE_COLUMNS:
        assert values(back[col.name]) == values(t[col.name]), col.name
        assert back[col.name].meta["ucd"] == col.ucd
        assert back[col.name].unit == (u.dex if col.unit == "dex" else EXPECTED_UNITS[col.unit])


def test_fitsverify_gate_catches_corruption(tmp_path, fitsverify):
    """Control: a flipped byte in the data makes fitsverify fail (DATASUM mismatch)."""
    path = write_fits(make_catalogue(5), tmp_path / "cat.fits")
    data = bytearray(path.read_bytes())
    data[-2000] ^= 0xFF
    path.write_bytes(bytes(data))
    rc, report = fitsverify(path)
    assert rc != 0


@pytest.mark.parametrize("fmt,name", [("votable", "t.vot"), ("votable-tabledata", "t.xml"),
                                      ("fits", "t.fits")])
def test_generic_table_round_trip(tmp_path, votlint, fitsverify, fmt, name):
    t = generic_table()
    path = write_table(t, tmp_path / name, fmt, columns=GENERIC_META, provenance=PROV)
    if fmt == "fits":
        rc, report = fitsverify(path)
        assert rc == 0, report
    else:
        assert votlint(path) == []
    back = read_table(path)
    assert back["source_id"].mask.tolist() == t["source_id"].mask.tolist()
    assert np.array_equal(back["source_id"][:-1], t["source_id"][:-1])
    assert np.allclose(back["parallax"], t["parallax"].value) and back["parallax"].unit == u.mas
    assert back["pm"].unit == u.mas / u.yr
    assert values(back["survey"]) == values(t["survey"])
    assert back["clean"].tolist() == t["clean"].tolist()
    assert back["clean"].meta["ucd"] == "meta.code.qual"


# ------------------------------------------------------------------------------ bad input
def _no_leftovers(folder):
    return sorted(p.name for p in folder.iterdir())


@pytest.mark.parametrize("fmt,name", [("votable", "c.vot"), ("fits", "c.fits")])
def test_existing_file_is_not_overwritten(tmp_path, fmt, name):
    path = tmp_path / name
    path.write_text("keep me")
    with pytest.raises(FileExistsError, match="overwrite"):
        write_catalogue(make_catalogue(5), path, fmt)
    assert path.read_text() == "keep me"
    write_catalogue(make_catalogue(5), path, fmt, overwrite=True)
    assert path.read_text(errors="replace") != "keep me"


@pytest.mark.parametrize("fmt,name", [("votable", "c.vot"), ("fits", "c.fits")])
def test_missing_required_columns(tmp_path, fmt, name):
    t = make_catalogue(5)
    t.remove_columns(["ml_feh", "ml_err_feh"])
    with pytest.raises(SchemaError, match="ml_feh, ml_err_feh"):
        write_catalogue(t, tmp_path / name, fmt)
    assert _no_leftovers(tmp_path) == []


@pytest.mark.parametrize("fmt,name", [("votable", "c.vot"), ("fits", "c.fits")])
def test_nan_in_integer_column(tmp_path, fmt, name):
    t = make_catalogue(6)
    ids = t["gaia_dr3_id"].astype(float)
    ids[[1, 4]] = np.nan
    t["gaia_dr3_id"] = ids
    with pytest.raises(SchemaError, match=r"gaia_dr3_id.*2 NaN.*rows 1, 4"):
        write_catalogue(t, tmp_path / name, fmt)
    assert _no_leftovers(tmp_path) == []


def test_float_ids_without_nan_are_cast_exactly(tmp_path):
    t = make_catalogue(4)
    t["sdss_objid"] = np.array([0, 1, 2, 2**40], dtype=float)
    back = read_table(write_catalogue(t, tmp_path / "c.fits"))
    assert back["sdss_objid"].dtype.kind == "i" and back["sdss_objid"].dtype.itemsize == 8
    assert back["sdss_objid"].tolist() == [0, 1, 2, 2**40]


def test_missing_metadata_is_named(tmp_path):
    t = generic_table()
    with pytest.raises(SchemaError, match=r"no description for pm, survey, clean.*no UCD for pm"):
        write_votable(t, tmp_path / "t.vot")
    assert _no_leftovers(tmp_path) == []
    write_votable(t, tmp_path / "t.vot", strict=False)  # allowed when asked for


def test_provenance_from_table_meta_is_merged(tmp_path):
    t = make_catalogue(3)
    t.meta["provenance"] = {"releases": ["SkyMapper DR2"], "queries": "SELECT 1"}
    path = write_fits(t, tmp_path / "c.fits", provenance=PROV)
    header = fits.getheader(path, 1)
    assert [header["RELEAS1"], header["RELEAS2"], header["RELEAS3"]] == ["Gaia DR3", "SDSS DR13",
                                                                        "SkyMapper DR2"]
    assert header["QUERY2"] == "SELECT 1"


@pytest.mark.parametrize("encoding", ["binary2", "tabledata"])
def test_stilts_reads_votable_flags_and_ids(tmp_path, stilts, encoding):
    """STILTS/TOPCAT read every column, flags included (astropy's scalar BINARY2 ``bit`` made
    STILTS 3.4.7 fail with a ClassCastException, so flags are written as ``boolean``)."""
    t = make_catalogue(6)
    path = write_votable(t, tmp_path / "c.vot", encoding=encoding)
    proc = subprocess.run([stilts, "tcopy", f"in={path}", "ifmt=votable", "ofmt=csv",
                           f"out={tmp_path / 'c.csv'}"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    back = Table.read(tmp_path / "c.csv", format="ascii.csv")
    for name in ("sosid", "sdss_train_set", "sm_train_area", "source"):
        got = [str(v).lower() for v in back[name]]
        assert got == [str(v).lower() for v in values(t[name])], name


def test_provenance_card_whose_comment_does_not_fit_is_written_quietly(tmp_path):
    """A release name that fills its card (the synthetic demo's) keeps its value whole, loses
    only the comment, and astropy prints no "Card is too long" VerifyWarning."""
    release = "synthetic Gaia DR3 / SDSS DR13 / SkyMapper DR2 look-alikes"
    longer = "a release name long enough to need CONTINUE cards in the header, " * 2
    prov = Provenance(model_version="m", releases=(release, "Gaia DR3", longer))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.simplefilter("ignore", u.UnitsWarning)
        path = write_fits(make_catalogue(3), tmp_path / "c.fits", provenance=prov)
    header = fits.getheader(path, 1)
    assert header["RELEAS1"] == release and header.comments["RELEAS1"] == ""
    assert header.comments["RELEAS2"] == "data release used"
    assert header["RELEAS3"] == " ".join(longer.split())
    assert header.comments["RELEAS3"] == "data release used"
