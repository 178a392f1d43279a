"""The join and preparation stages of build-model in bounded memory: the joined rows streamed
through the cuts, T25 Eq. 2 and the features chunk by chunk equal one preparation of all rows."""

from __future__ import annotations

import numpy as np
import pytest
from astropy.table import Table, join

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


# --------------------------------------------------------------------------------------------
# PASTEL entries across prepared chunks; stars with an incomplete homogenised label
# --------------------------------------------------------------------------------------------
ARCSEC = 1.0 / 3600.0


def _pastel_rows(entries) -> Table:
    """PASTEL entries (ID, position, labels) in the layout of ``fetch_pastel``."""
    names = ("ID", "RAJ2000", "DEJ2000", "Teff", "e_Teff", "logg", "e_logg", "[Fe/H]", "e_[Fe/H]",
             "bibcode")
    return Table(rows=entries, names=names)


def _border_problem():
    """Seven joined stars (every row passes the cuts) and a PASTEL table made up so that:

    * entry ``E`` (metal-poor) lies 0.4 arcsec from star 2 and 0.8 arcsec from star 3, both
      without a full homogenised label (log g missing): one call pairs it with star 2 only;
    * star 5 has no homogenised label and two metal-poor entries ``F`` (two references), listed
      first and last in the PASTEL table: its PASTEL label is their median;
    * star 0 has a full label and a metal-poor entry ``G``: it keeps its own label;
    * star 6 lacks log g and its only entry ``H`` has [Fe/H] = -0.5: it stays unlabelled.
    """
    from prepare.joined_factory import make_joined

    rows = make_joined("sdss", n=7, seed=5)
    ra0, dec0 = 150.0, 20.0
    cosd = np.cos(np.deg2rad(dec0))
    rows["ra"][:] = ra0 + np.arange(7) * 0.01
    rows["dec"][:] = dec0
    rows["ra"][3] = rows["ra"][2] + 1.2 * ARCSEC / cosd
    sid = np.asarray(rows["source_id"], dtype=np.int64)
    astrometry = Table({"source_id": sid, "ra": np.asarray(rows["ra"], float),
                        "dec": np.asarray(rows["dec"], float), "pmra": np.zeros(7),
                        "pmdec": np.zeros(7)})
    ra = np.asarray(rows["ra"], float)
    pastel = _pastel_rows([
        ("F", ra[5], dec0, 5000.0, 80.0, 2.5, 0.2, -1.8, 0.1, "ref1"),
        ("E", ra[2] + 0.4 * ARCSEC / cosd, dec0, 4800.0, 70.0, 1.9, 0.15, -2.1, 0.08, "ref2"),
        ("G", ra[0], dec0 + 0.2 * ARCSEC, 6000.0, 90.0, 4.0, 0.2, -1.5, 0.1, "ref3"),
        ("H", ra[6], dec0, 5500.0, 90.0, 4.1, 0.2, -0.5, 0.1, "ref4"),
        ("F", ra[5], dec0 - 0.1 * ARCSEC, 5100.0, 60.0, 2.7, 0.1, -1.6, 0.1, "ref5")])
    spectro = Table({"source_id": sid[[0, 1, 2, 3, 4, 6]]})
    for k, v, e in (("teff", 5200.0, 50.0), ("logg", 4.2, 0.1), ("feh", -0.3, 0.05)):
        spectro[k] = np.full(6, v)
        spectro[f"e_{k}"] = np.full(6, e)
    for i in (2, 3, 5):  # stars 2, 3, 6 (rows 2, 3, 5 of spectro): no log g
        spectro["logg"][i] = np.nan
        spectro["e_logg"][i] = np.nan
    return rows, astrometry, spectro, pastel


@pytest.mark.parametrize("recalibration", [None, T25_TABLE1], ids=["none", "t25"])
def test_pastel_pairs_do_not_depend_on_the_chunks(recalibration):
    """Prepared chunks of 1 to 7 rows give the PASTEL pairs, labels and counts of one chunk;
    a star without a full homogenised label gets PASTEL's three labels (not recalibrated)."""
    rows, astrometry, spectro, pastel = _border_problem()
    sid = np.asarray(rows["source_id"], dtype=np.int64)
    results = {}
    for chunk_rows in (*range(1, 8), 50_000):
        got = prepare_joined(rows, "sdss", astrometry=astrometry, spectro=spectro, pastel=pastel,
                             recalibration=recalibration, chunk_rows=chunk_rows)
        results[chunk_rows] = got
    want = results[50_000]
    p = want.prepared
    kept = np.asarray(p.joined["source_id"], dtype=np.int64)
    # star 2 (nearest to E), star 5 (two entries) and the full labels; star 3 and 6 not
    assert kept.tolist() == sid[[0, 1, 2, 4, 5]].tolist()
    flag = dict(zip(kept.tolist(), np.asarray(p.joined[PASTEL_FLAG_COLUMN]).tolist(),
                    strict=True))
    assert flag == {sid[0]: False, sid[1]: False, sid[2]: True, sid[4]: False, sid[5]: True}
    assert want.rows["pastel_augmented"] == 2
    lab = {k: dict(zip(kept.tolist(), np.asarray(p.joined[f"spec_{k}"]).tolist(), strict=True))
           for k in ("teff", "logg", "feh")}
    # PASTEL fills all three of a star without a full label (prefer "sos", T25 Sect. 4.3)
    assert (lab["teff"][sid[2]], lab["logg"][sid[2]], lab["feh"][sid[2]]) == (4800.0, 1.9, -2.1)
    np.testing.assert_allclose([lab["teff"][sid[5]], lab["logg"][sid[5]], lab["feh"][sid[5]]],
                               [5050.0, 2.6, -1.7])
    # a full homogenised label is kept (recalibrated by Eq. 2), even for a metal-poor PASTEL star
    own = (5200.0, 4.2, -0.3)
    if recalibration is not None:
        own = tuple(v - float(recalibration[k].delta(*own))  # SoS - Delta f (T25 Eq. 2)
                    for k, v in zip(("teff", "logg", "feh"), own, strict=True))
    np.testing.assert_allclose([lab["teff"][sid[0]], lab["logg"][sid[0]], lab["feh"][sid[0]]],
                               own, rtol=1e-6)
    for chunk_rows, got in results.items():
        assert got.rows == want.rows, chunk_rows
        for c in (*TRAINING_COLUMNS, PASTEL_FLAG_COLUMN):
            np.testing.assert_array_equal(np.asarray(got.prepared.joined[c]),
                                          np.asarray(p.joined[c]), err_msg=f"{chunk_rows} {c}")
        np.testing.assert_array_equal(got.prepared.X, p.X)


class _AstrometryService:
    """A Gaia service answering the id-upload astrometry query from a table."""

    url = "http://astrometry-only/tap"

    def __init__(self, astrometry):
        self.astrometry, self.jobs_sent = astrometry, 0

    def run(self, query, use_async=False, uploads=None, **kwargs):
        from sos_vo.archives.label_join import UPLOAD_TABLE

        self.jobs_sent += 1
        ids = np.asarray(uploads[UPLOAD_TABLE]["source_id"])
        return self.astrometry[np.isin(np.asarray(self.astrometry["source_id"]), ids)]


@pytest.mark.parametrize("case", ["sdss"], indirect=True)  # the upload does not depend on the survey
def test_refit_pairs_and_coefficients_do_not_depend_on_the_upload_chunks(case):
    """The refit's SoS-PASTEL pairs (T25 Eq. 2, Sect. 3) come from the astrometry of the
    labelled stars, uploaded in chunks and reduced to the stars near PASTEL chunk by chunk:
    chunks of 1 to 7 ids give the pairs, counts and coefficients of one 50 000-id chunk."""
    from sos_vo.archives.label_join import astrometry_rows
    from sos_vo.labels.build import refit_recalibration
    from sos_vo.prepare.crossmatch import join_pastel

    _, rows, astrometry, spectro, pastel = case
    ids = np.intersect1d(np.asarray(spectro["source_id"], dtype=np.int64),
                         np.asarray(astrometry["source_id"], dtype=np.int64))
    service = _AstrometryService(astrometry)
    sky = pastel_sky(pastel)
    got = {}
    for chunk_rows in (*range(1, 8), 50_000):
        a = astrometry_rows(ids, client=service, cache_dir=False, progress=False,
                            chunk_rows=chunk_rows, keep=lambda c: near_pastel(c, sky))
        matched = join_pastel({GAIA_SOURCE_TABLE: a, PASTEL_TABLE: pastel})
        got[chunk_rows] = (a, matched, refit_recalibration(spectro, matched))
    a0, m0, f0 = got[50_000]
    assert a0.meta["jobs"] == 1 and a0.meta["rows"] == ids.size and 20 < len(m0)
    for chunk_rows, (a, m, f) in got.items():
        assert a.meta["jobs"] == -(-ids.size // chunk_rows)
        assert (a.meta["rows"], a.meta["kept"]) == (a0.meta["rows"], a0.meta["kept"])
        for c in m0.colnames:
            np.testing.assert_array_equal(np.asarray(m[c]), np.asarray(m0[c]), err_msg=c)
        for lab, coef in f0.coefficients.items():
            assert f.coefficients[lab] == coef, (chunk_rows, lab)
        assert f.stats.pformat() == f0.stats.pformat()
