"""Label rows filed on disk by source_id cell (sos_vo.labels.spill)."""

from __future__ import annotations

import numpy as np
import pytest
from astropy.table import MaskedColumn, Table

from sos_vo.gaia_dr3 import healpix_source_id_range
from sos_vo.labels.spill import RECORD, LabelSpill, cell_of, records


def _rows(ids, feh, e_feh):
    n = len(ids)
    return Table({"source_id": np.asarray(ids, dtype=np.int64), "teff": np.full(n, 5000.0),
                  "e_teff": np.full(n, 50.0), "logg": np.full(n, 4.0), "e_logg": np.full(n, 0.1),
                  "feh": np.asarray(feh, float), "e_feh": np.asarray(e_feh, float)})


def _id(order, ipix, k=0):
    return healpix_source_id_range(order, ipix)[0] + k


def test_cells_are_the_healpix_index_of_the_source_id():
    for order in (0, 3, 12):
        for ipix in (0, 5, 12 * 4**order - 1):
            lo, hi = healpix_source_id_range(order, ipix)
            assert cell_of(np.array([lo, hi]), order).tolist() == [ipix, ipix]


def test_records_fill_masked_values_with_nan():
    t = _rows([1, 2], [0.0, -0.2], [0.05, 0.05])
    t["feh"] = MaskedColumn([0.0, -0.2], mask=[False, True])
    r = records(t)
    assert r.dtype == RECORD and RECORD.itemsize == 56
    assert r["feh"][0] == 0.0 and np.isnan(r["feh"][1])


def test_rows_come_back_by_partition_one_per_star(tmp_path):
    a, b, c = _id(3, 10, 1), _id(3, 10, 2), _id(3, 400, 7)
    with LabelSpill(tmp_path) as spill:
        folder = spill.folder
        assert folder.parent == tmp_path and folder.is_dir()
        # the star a listed twice, in two chunks: the smaller [Fe/H] error is kept
        spill.add("s", _rows([c, a], [0.1, 0.2], [0.05, 0.09]))
        spill.add("s", _rows([a, b], [0.3, 0.4], [0.02, np.nan]))
        spill.add("t", _rows([b], [0.5], [0.01]))
        assert spill.rows("s") == 4 and spill.rows("t") == 1
        assert spill.partitions(1) == [(10,), (400,)]
        assert spill.partitions(5) == [(10, 400)]
        assert spill.partitions(4) == [(10,), (400,)]  # cell 10 holds 4 rows, cell 400 one
        got = spill.read("s", (10,))
        assert got["source_id"].tolist() == [a, b] and got["feh"].tolist() == [0.3, 0.4]
        assert spill.read("s", (10, 400))["source_id"].tolist() == [a, b, c]
        assert spill.read("t", (400,)).size == 0
        with pytest.raises(ValueError, match="partition_rows"):
            spill.partitions(0)
    assert not folder.exists() and tmp_path.is_dir()
