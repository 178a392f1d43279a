"""PASTEL over TAP: the position labels are tried in order (sos_vo.archives.pastel)."""

from __future__ import annotations

import numpy as np
import pytest
from astropy.table import Table
from test_label_sources import _SchemaOnly

from sos_vo.archives.pastel import COLUMNS, fetch_pastel
from sos_vo.archives.tap_schema import SchemaResolutionError

OTHER = ["ID", "Teff", "e_Teff", "logg", "e_logg", "[Fe/H]", "e_[Fe/H]", "bibcode"]


class _Service(_SchemaOnly):
    """TAP_SCHEMA from a dict; any other query answers two rows under the role names."""

    def check_service(self):
        return None

    def run(self, adql, maxrec=None, **kwargs):
        if "TAP_SCHEMA" in adql:
            return super().run(adql, maxrec, **kwargs)
        self.queries.append(adql)
        t = Table({role: np.arange(2.0) for role in COLUMNS})
        t["id"], t["bibcode"] = ["HD 1", "HD 2"], ["2000A&A...1....1X", "2001A&A...2....2Y"]
        return t


@pytest.mark.parametrize("ra, dec", [("RAJ2000", "DEJ2000"), ("RAdeg", "DEdeg")])
def test_position_labels_tried_in_order(ra, dec):
    client = _Service({"B/pastel/pastel": [*OTHER, ra, dec]})
    got = fetch_pastel(None, client=client)
    assert got.colnames[:3] == ["ID", "RAJ2000", "DEJ2000"]  # the layout join_pastel reads
    assert got.meta["provenance"]["columns"]["ra"] == ra
    assert f'p."{ra}" AS ra, p."{dec}" AS dec' in client.queries[-1]


def test_neither_position_label_names_the_first():
    client = _Service({"B/pastel/pastel": [*OTHER, "RA_ICRS", "DE_ICRS"]})
    with pytest.raises(SchemaResolutionError, match=r"'RAJ2000' \(ra; closest"):
        fetch_pastel(None, client=client)
