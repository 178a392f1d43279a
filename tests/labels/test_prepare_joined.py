"""The join and preparation stages of build-model in bounded memory: the joined rows streamed
through the cuts, T25 Eq. 2 and the features chunk by chunk equal one preparation of all rows."""

from __future__ import annotations

import numpy as np
import pytest
from astropy.table import join

from sos_vo.archives.query import archive_tables_from_rows
from sos_vo.exceptions import EmptyInputError
from sos_vo.labels.pastel import PASTEL_FLAG_COLUMN
from sos_vo.labels.real_model import (
    TRAINING_COLUMNS,
    load_prepared,
    prepare_joined,
    spill_prepared,
)
from sos_vo.labels.recalibration import T25_TABLE1
from sos_vo.pipeline import prepare_survey
from sos_vo.prepare.crossmatch import join_survey, near_pastel, pastel_sky
from sos_vo.schema import GAIA_SOURCE_TABLE, PASTEL_TABLE, SOS_SPECTRO_TABLE, SURVEY_ID_COLUMN
from sos_vo.simulate import simulate_sky


@pytest.fixture(scope="module", params=["sdss", "skymapper"])
def case(request):
    survey = request.param
    sky = simulate_sky(center=(200.0, 5.0 if survey == "sdss" else -25.0), radius=2.0,
                       n_stars=4000, seed=11)
    t = sky.tables
    rows = join_survey(t, survey, labels=False)  # the server rows' layout
    ext = np.asarray(rows[SURVEY_ID_COLUMN[survey]])
    _, first, count = np.unique(ext, return_index=True, return_counts=True)
    rows = rows[np.sort(first[count == 1])]  # one-to-one, as the server query keeps them
    gaia = t[GAIA_SOURCE_TABLE]
    astrometry = gaia[["source_id", "ra", "dec", "pmra", "pmdec"]]
    return survey, rows, astrometry, t[SOS_SPECTRO_TABLE], t[PASTEL_TABLE]


def _one_call(survey, rows, astrometry, spectro, pastel):
    """prepare_survey of all rows at once, every star with its proper motion."""
    tabs = archive_tables_from_rows(rows, survey)
    g = join(tabs[GAIA_SOURCE_TABLE], astrometry[["source_id", "pmra", "pmdec"]],
             keys="source_id", join_type="left")
    g.sort("source_id")
    tabs[GAIA_SOURCE_TABLE] = g
    tabs[SOS_SPECTRO_TABLE] = spectro
    tabs[PASTEL_TABLE] = pastel
    return prepare_survey(tabs, survey, recalibration=T25_TABLE1, pastel_augmentation=True)


def _upload_chunks(rows, sizes, rng):
    """Rows in increasing, disjoint source_id ranges, each chunk's rows in server order."""
    rows = rows[np.argsort(np.asarray(rows["source_id"]))]
    edges = np.cumsum([0, *sizes])
    out = []
    for a, b in zip(edges[:-1], edges[1:], strict=True):
        piece = rows[a:b]
        out.append(piece[rng.permutation(len(piece))])
    return out


def test_streamed_chunks_equal_one_preparation(case):
    survey, rows, astrometry, spectro, pastel = case
    want = _one_call(survey, rows, astrometry, spectro, pastel)
    lab = want.labelled()
    order = np.argsort(np.asarray(want.joined["source_id"]), kind="stable")
    order = order[lab[order]]
    assert 100 < lab.sum() < len(want.joined)  # unlabelled rows exist and are dropped
    assert np.asarray(want.joined[PASTEL_FLAG_COLUMN])[lab].any()  # PASTEL labels some stars
    near = astrometry[near_pastel(astrometry, pastel_sky(pastel))]
    assert 0 < len(near) < len(astrometry) // 4  # only the stars a PASTEL match can use
    rng = np.random.default_rng(3)
    sizes = rng.integers(1, 400, 200)
    sizes = sizes[np.cumsum(sizes) < len(rows)]
    sizes = [*sizes.tolist(), len(rows) - int(sizes.sum())]
    for chunk_rows in (97, 1000, 10**6):
        got = prepare_joined(iter(_upload_chunks(rows, sizes, rng)), survey, astrometry=near,
                             spectro=spectro, pastel=pastel, recalibration=T25_TABLE1,
                             chunk_rows=chunk_rows)
        p = got.prepared
        assert got.rows == {"joined": len(rows), "after_cuts": len(want.joined),
                            "labelled_after_cuts": int(lab.sum()),
                            "pastel_augmented": int(np.asarray(want.joined[PASTEL_FLAG_COLUMN])[lab].sum())}
        np.testing.assert_array_equal(p.X, want.X[order])
        for c in TRAINING_COLUMNS:
            np.testing.assert_array_equal(np.asarray(p.joined[c]),
                                          np.asarray(want.joined[c])[order])
        np.testing.assert_array_equal(np.asarray(p.joined[PASTEL_FLAG_COLUMN]),
                                      np.asarray(want.joined[PASTEL_FLAG_COLUMN])[order])
        for k, v in p.labels().items():
            np.testing.assert_array_equal(v, want.labels()[k][order])
        assert p.labelled().all() and p.input_names == want.input_names
        assert [(s.name, s.n_before, s.n_removed, s.server_side) for s in p.cut_report.steps] == \
            [(s.name, s.n_before, s.n_removed, s.server_side) for s in want.cut_report.steps]
        assert p.cut_report.masked_values == want.cut_report.masked_values
        # one table in, the same out
        if chunk_rows == 1000:
            whole = prepare_joined(rows, survey, astrometry=near, spectro=spectro, pastel=pastel,
                                   recalibration=T25_TABLE1, chunk_rows=chunk_rows)
            np.testing.assert_array_equal(whole.prepared.X, p.X)


def test_chunks_out_of_order_and_empty_input_are_errors(case):
    survey, rows, astrometry, spectro, pastel = case
    rows = rows[np.argsort(np.asarray(rows["source_id"]))]
    kw = dict(astrometry=astrometry, spectro=spectro, pastel=pastel, recalibration=None)
    with pytest.raises(ValueError, match="increasing"):
        prepare_joined(iter([rows[100:200], rows[:100]]), survey, **kw)
    with pytest.raises(ValueError, match="chunk_rows"):
        prepare_joined(rows, survey, chunk_rows=0, **kw)
    with pytest.raises(EmptyInputError, match="no joined row"):
        prepare_joined(iter([rows[:0], rows[:0]]), survey, **kw)
    bad = rows[:50].copy()
    bad["ruwe"] = 99.0  # every row fails the RUWE cut (T25 Sect. 2.3)
    with pytest.raises(EmptyInputError, match="no row"):
        prepare_joined(iter([bad[:20], bad[20:]]), survey, chunk_rows=10, **kw)


def test_spilled_training_arrays_come_back_unchanged(case, tmp_path):
    survey, rows, astrometry, spectro, pastel = case
    got = prepare_joined(rows, survey, astrometry=astrometry, spectro=spectro, pastel=pastel,
                         recalibration=T25_TABLE1).prepared
    light = spill_prepared(got, tmp_path / "s.npz")
    assert light.X.shape[0] == 0 and len(light.joined) == 0
    back = load_prepared(light, tmp_path / "s.npz")
    np.testing.assert_array_equal(back.X, got.X)
    assert back.joined.colnames == got.joined.colnames
    for c in got.joined.colnames:
        np.testing.assert_array_equal(np.asarray(back.joined[c]), np.asarray(got.joined[c]))
        assert back.joined[c].unit == got.joined[c].unit
    assert back.cut_report is got.cut_report and back.input_names == got.input_names
