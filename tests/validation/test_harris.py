import re

import numpy as np
import pytest
from astropy.coordinates import SkyCoord
from realdata_files import realdata

from sos_vo.exceptions import SchemaError
from sos_vo.validation import harris_references, read_harris


def _section_row(lines, part, cluster_id):
    """The row of ``cluster_id`` in ``Part <part>:`` of the raw file, found by plain text search."""
    start = next(i for i, line in enumerate(lines) if line.strip().startswith(f"Part {part}:"))
    return next(line for line in lines[start:] if line.startswith(f" {cluster_id} "))


@pytest.fixture(scope="module")
def harris():
    return read_harris(realdata("mwgc.dat"))


def test_cluster_count_matches_header(harris):
    text = realdata("mwgc.dat").read_text(encoding="latin-1")
    n = int(re.search(r"for (\d+) objects classified as globular clusters", text).group(1))
    assert len(harris) == n
    assert len(set(harris["cluster"])) == n


@pytest.mark.parametrize("cluster_id", ["NGC 104", "NGC 7078", "Terzan 5", "Eridanus", "NGC 6397"])
def test_feh_equals_metallicity_section(harris, cluster_id):
    lines = realdata("mwgc.dat").read_text(encoding="latin-1").splitlines()
    row = _section_row(lines, "II", cluster_id)
    feh_text = row[len(cluster_id) + 1:].split()[0]
    assert harris["feh"][harris["cluster"] == cluster_id][0] == float(feh_text)


def test_position_of_47_tuc_from_part_one(harris):
    lines = realdata("mwgc.dat").read_text(encoding="latin-1").splitlines()
    row = _section_row(lines, "I", "NGC 104")
    assert "47 Tuc" in row
    tokens = row.split("47 Tuc", 1)[1].split()
    expected = SkyCoord(" ".join(tokens[:3]), " ".join(tokens[3:6]), unit=("hourangle", "deg"))
    got = harris[harris["cluster"] == "NGC 104"]
    assert got["name"][0] == "47 Tuc"
    assert got["ra"][0] == pytest.approx(expected.ra.deg)
    assert got["dec"][0] == pytest.approx(expected.dec.deg)
    assert got["l"][0] == float(tokens[6]) and got["b"][0] == float(tokens[7])


def test_missing_metallicity_is_nan_and_references_skip_it(harris):
    refs = harris_references(harris)
    no_feh = harris["cluster"][~np.isfinite(harris["feh"])]
    assert len(no_feh) > 0  # the 2010 edition has clusters without [Fe/H]
    assert not set(no_feh) & set(refs["cluster"])
    tuc = refs["feh_ref"][refs["cluster"] == "47 Tuc"]
    assert tuc[0] == harris["feh"][harris["cluster"] == "NGC 104"][0]


def test_truncated_file_is_a_clear_error(tmp_path):
    text = realdata("mwgc.dat").read_text(encoding="latin-1")
    cut = tmp_path / "mwgc_part1.dat"
    cut.write_text(text.split("Part II:")[0], encoding="latin-1")
    with pytest.raises(SchemaError, match="part II"):
        read_harris(cut)
