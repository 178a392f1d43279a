"""CDS-ready output read back by astropy (ReadMe + data, MRT) and by STILTS (MRT)."""

from __future__ import annotations

import subprocess
import warnings

import astropy.units as u
import numpy as np
import pytest
from astropy.io.votable import parse
from astropy.table import Table
from helpers import make_catalogue

from sos_vo.exceptions import EmptyInputError, SchemaError
from sos_vo.publish import write_catalogue
from sos_vo.publish.cds import CDSFormatError, write_cds
from sos_vo.schema import CATALOGUE_COLUMNS

OPTIONS = dict(title="Survey of Surveys ML: Teff, log g and [Fe/H] for test stars",
               authors=["Doe J.", "Roe R."], description="Synthetic test catalogue.",
               notes={"source": "SDSS: SDSS photometry; SM: SkyMapper; SDSS+SM: average of both."},
               keywords=["stars: fundamental parameters"])

ASTROPY_UNITS = {None: None, "deg": u.deg, "K": u.K}


def expected_astropy_unit(col):
    if col.unit == "dex":
        return u.dex(u.cm / u.s**2) if col.ucd.endswith("phys.gravity") else u.dex
    return ASTROPY_UNITS[col.unit]


def expected_cds_unit(col):
    if col.unit == "dex":
        return "[cm/s2]" if col.ucd.endswith("phys.gravity") else "[-]"
    return col.unit


def same_values(read, original, name):
    """Values equal at the precision written (float32 columns keep float32 precision)."""
    a, b = read[name], original[name]
    if b.dtype.kind == "f":
        got = np.ma.filled(a.astype(float), np.nan)
        want = np.asarray(b, dtype=float)
        if b.dtype == np.float32:
            got = got.astype(np.float32).astype(float)
        return np.array_equal(got, want, equal_nan=True)
    if b.dtype.kind == "b":
        return np.array_equal(np.asarray(a).astype(bool), np.asarray(b))
    if b.dtype.kind in "US":
        return [("" if v is np.ma.masked else str(v)) for v in a] == [str(v) for v in b]
    return np.array_equal(np.asarray(a), np.asarray(b))


@pytest.fixture
def catalogue():
    t = make_catalogue(12, seed=5)
    t["ml_teff"][3] = np.nan  # a blank: must be flagged '?' and read back as missing
    t["source"][4] = ""
    return t


def test_astropy_reads_readme_and_data_back(tmp_path, catalogue):
    folder = write_cds(catalogue, tmp_path / "cds", **OPTIONS)
    assert sorted(p.name for p in folder.iterdir()) == [".sos-vo-output", "ReadMe", "table1.dat",
                                                        "table1.mrt"]  # marker: sos_vo.io
    readme = (folder / "ReadMe").read_text(encoding="ascii")
    assert max(len(line) for line in readme.splitlines()) <= 80
    assert OPTIONS["title"] in readme and "Doe J., Roe R." in readme
    assert "Note (1): SDSS: SDSS photometry" in readme
    back = Table.read(folder / "table1.dat", readme=folder / "ReadMe", format="ascii.cds")
    assert len(back) == len(catalogue)
    for col in CATALOGUE_COLUMNS:
        assert same_values(back, catalogue, col.name), col.name
        assert back[col.name].unit == expected_astropy_unit(col), col.name
    assert back["ml_teff"].mask[3]
    mrt = Table.read(folder / "table1.mrt", format="ascii.mrt")
    for col in CATALOGUE_COLUMNS:
        assert same_values(mrt, catalogue, col.name), col.name


def test_stilts_reads_the_mrt_back(tmp_path, catalogue, stilts):
    folder = write_cds(catalogue, tmp_path / "cds", **OPTIONS)
    out = tmp_path / "stilts.vot"
    proc = subprocess.run([stilts, "tcopy", "ifmt=mrt", f"in={folder / 'table1.mrt'}",
                           "ofmt=votable", f"out={out}"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "WARNING" not in proc.stderr, proc.stderr
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # STILTS copies the CDS unit strings into a VOTable 1.4
        vot = parse(out)
    table = vot.get_first_table()
    back = table.to_table()
    units = {f.name: (f.unit.to_string() if f.unit is not None else None) for f in table.fields}
    assert len(back) == len(catalogue)
    for col in CATALOGUE_COLUMNS:
        assert same_values(back, catalogue, col.name), col.name
        assert units[col.name] == expected_cds_unit(col), col.name


def test_catalogue_dispatch_and_overwrite(tmp_path, catalogue):
    folder = tmp_path / "cds"
    write_catalogue(catalogue, folder, "cds", **OPTIONS)
    before = (folder / "table1.dat").read_text()
    with pytest.raises(FileExistsError):
        write_catalogue(catalogue[:3], folder, "cds", **OPTIONS)
    assert (folder / "table1.dat").read_text() == before
    write_catalogue(catalogue[:3], folder, "cds", overwrite=True, **OPTIONS)
    assert len((folder / "table1.dat").read_text().splitlines()) == 3


@pytest.mark.parametrize("field,kwargs", [
    ("title", {"title": "Effective temperatures T\u2091\u0066\u0066"}),
    ("description", {"description": "Teff in \u00b0C? no: in K"}),
    ("author", {"authors": ["M\u00fcller A."]}),
    ("note on column 'source'", {"notes": {"source": "\u2264 2 surveys"}}),
])
def test_non_ascii_text_is_refused(tmp_path, catalogue, field, kwargs):
    with pytest.raises(CDSFormatError, match=rf"{field}.*non-ASCII character.*U\+"):
        write_cds(catalogue, tmp_path / "cds", **{**OPTIONS, **kwargs})
    assert list(tmp_path.iterdir()) == []


def test_non_ascii_column_description_is_refused(tmp_path, catalogue):
    catalogue["extra"] = np.ones(len(catalogue))
    catalogue["extra"].description = "T\u2091"
    catalogue["extra"].meta["ucd"] = "meta.code"
    with pytest.raises(CDSFormatError, match="description of column 'extra'"):
        write_cds(catalogue, tmp_path / "cds", **OPTIONS)
    assert list(tmp_path.iterdir()) == []


def test_non_ascii_text_value_is_refused(tmp_path, catalogue):
    """cdspyreadme writes the data file in the locale's encoding: a non-ASCII value is refused
    before anything is written, with the column named."""
    catalogue["source"] = catalogue["source"].astype("U8")
    catalogue["source"][2] = "SDSS\u2013SM"
    with pytest.raises(CDSFormatError, match=r"value of column 'source'.*U\+2013"):
        write_cds(catalogue, tmp_path / "cds", **OPTIONS)
    assert list(tmp_path.iterdir()) == []


def test_bad_tables_are_refused(tmp_path, catalogue):
    with pytest.raises(EmptyInputError):
        write_cds(catalogue[:0], tmp_path / "cds", **OPTIONS)
    with pytest.raises(SchemaError, match="ml_teff"):
        write_catalogue(catalogue[[c for c in catalogue.colnames if c != "ml_teff"]],
                        tmp_path / "cds", "cds", **OPTIONS)
    with pytest.raises(CDSFormatError, match="unknown column.*nope"):
        write_cds(catalogue, tmp_path / "cds", **{**OPTIONS, "notes": {"nope": "x"}})
    assert list(tmp_path.iterdir()) == []
