"""``sos-vo build-model`` end to end on the local DaCHS mirror, then ``sos-vo query`` with it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from astropy.table import Table
from dachs_mirror.labels import LABEL_SKY_OVERRIDES

from sos_vo.cli import main

pytestmark = pytest.mark.dachs

QUERY_REGION = "circle 240 40 15deg"
"""A cone holding about 230 of the label stars (the densest 15-degree cone of the label sky)."""
TINY = ["--members", "2", "--epochs", "40", "--blocks", "2", "--unit-members", "1"]
"""Small and quick, yet trained enough for some predictions to pass the catalogue filters of
T25 Sect. 5.2 (2 epochs leave none); fused units of one member (two units)."""


def _tables(overrides=LABEL_SKY_OVERRIDES) -> list[str]:
    out = []
    for k, v in overrides.items():
        out += ["--table", f"{k}={v}"]
    return out


def fixture_dir() -> Path:
    """Where setup_dachs.sh wrote the mirror's files (as tests/archives/conftest.py finds it)."""
    import os

    root = Path(__file__).resolve().parents[2]
    return Path(os.environ.get("SOS_VO_DACHS_FIXTURES", root / "build" / "dachs"))


@pytest.fixture(scope="module")
def dachs_url() -> str:
    """The local DaCHS mirror (skip, or fail under SOS_VO_REQUIRE_SERVICES=1, when absent)."""
    import os

    import requests

    url = os.environ.get("SOS_VO_DACHS_URL", "http://127.0.0.1:8080/tap")
    try:
        ok = requests.get(url + "/capabilities", timeout=10).status_code == 200
    except requests.RequestException:
        ok = False
    ok = ok and (fixture_dir() / "fixture" / "labels" / "galah_dr3.main_star.ecsv").exists()
    if not ok:
        reason = f"no DaCHS mirror with the label tables at {url} (run tools/setup_dachs.sh)"
        if os.environ.get("SOS_VO_REQUIRE_SERVICES") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    return url


@pytest.fixture
def mirror_env(monkeypatch, dachs_url):
    """VizieR tables under their SQL names, as the mirror serves them."""
    monkeypatch.setenv("SOS_VO_VIZIER_NAMES", "sql")
    return dachs_url


@pytest.fixture(scope="module")
def built(tmp_path_factory, dachs_url):
    """One all-sky build (tiny network), shared by the tests of this module."""
    mp = pytest.MonkeyPatch()
    mp.setenv("SOS_VO_VIZIER_NAMES", "sql")
    root = tmp_path_factory.mktemp("build")
    out = root / "real_sdss"
    argv = ["build-model", "--all-sky", "--survey", "sdss", "--out", str(out),
            "--tap-url", dachs_url, "--label-tap-url", dachs_url, "--cache-dir", str(root / "cache"),
            *TINY, *_tables()]
    rc = main(argv)
    mp.undo()
    return rc, out, root


@pytest.mark.slow
def test_build_model_writes_a_real_label_model(built, capsys):
    rc, out, _ = built
    assert rc == 0
    card = json.loads((out / "model.json").read_text())
    prov = card.get("provenance", card)
    text = json.dumps(prov)
    assert '"real_labels": true' in text and '"synthetic": false' in text
    assert "vizier.iii_286_catalog" in text and "galah_dr3.main_star" in text
    assert "TAP_UPLOAD.sosvo_label_ids" in text
    from sos_vo.archives.label_source import label_sources

    assert set(label_sources()) >= {"apogee-dr17", "galah-dr3", "lamost-lrs", "gaia-eso", "segue-sspp"}
    # the labelled-star count equals the union of the label tables the mirror serves
    ids = set()
    labels_dir = fixture_dir() / "fixture" / "labels"
    for name in ("vizier.iii_286_catalog", "galah_dr3.main_star", "vizier.v_162_dr11sl",
                 "vizier.j_a_a_676_a129_catalog", "sdss_dr16.sppparams"):
        t = Table.read(labels_dir / f"{name}.ecsv")
        if name == "sdss_dr16.sppparams":  # Gaia DR3 ids from the Data Lab cross-match
            x = Table.read(labels_dir / "gaia_dr3.x1p5__gaia_source__sdss_dr16__specobj.ecsv")
            gaia = dict(zip(np.asarray(x["id2"]).tolist(), np.asarray(x["id1"]).tolist(), strict=True))
            t["id1"] = [gaia[s] for s in np.asarray(t["specobjid"]).tolist()]
        if name == "vizier.j_a_a_676_a129_catalog" and "GaiaDR3" not in t.colnames:
            # no Gaia id (matched by position): the ids its entries were built from
            truth = Table.read(labels_dir / f"{name}.truth.ecsv")
            t = truth[(truth["source_id"] > 0) & truth["findable"]]
            t["GaiaDR3"] = t["source_id"]
        col = next(c for c in ("GaiaEDR3", "dr3_source_id", "GaiaDR3", "id1") if c in t.colnames)
        keep = np.ones(len(t), bool)
        if "flag" in t.colnames:  # SEGUE SSPP rule: flag nnnnn
            keep = np.asarray(t["flag"]) == "nnnnn"
        ids |= set(np.asarray(t[col])[keep].tolist())
    assert prov["rows"]["labelled_stars"] == len(ids)
    assert (out / "README.md").exists() and (out / "train_area.npz").exists()


@pytest.mark.slow
def test_query_uses_the_built_model(built, dachs_url, tmp_path, monkeypatch):
    rc, out, _ = built
    assert rc == 0
    cat = tmp_path / "cat.vot"
    rc = main(["query", QUERY_REGION, "--survey", "sdss", "--tap-url", dachs_url, "--model", str(out),
               "--out", str(cat), "--sync", "--no-cache", "--chunk-order", "2", *_tables()])
    assert rc == 0
    t = Table.read(cat, format="votable")
    assert len(t) > 0
    # the catalogue's provenance names the real-label model (folder name, version, weights hash)
    assert f"sdss: {out.name} (sos-vo" in cat.read_text()


@pytest.mark.slow
def test_killed_build_resumes_from_the_cache(built, dachs_url, tmp_path, monkeypatch):
    """A build killed during training leaves no folder; the rerun refetches nothing."""
    from sos_vo.labels import real_model
    from sos_vo.ml.options import NetworkOptions

    _, _, root = built
    monkeypatch.setenv("SOS_VO_VIZIER_NAMES", "sql")

    def killed(*args, **kwargs):
        raise KeyboardInterrupt("killed")

    out = tmp_path / "m"
    import sos_vo.pipeline as pipeline

    monkeypatch.setattr(pipeline, "train_survey", killed)
    with pytest.raises(KeyboardInterrupt):
        real_model.build_model(None, all_sky=True, out=out, tap_url=dachs_url,
                               label_tap_url=dachs_url, tables=LABEL_SKY_OVERRIDES,
                               cache_dir=root / "cache", n_members=2, progress=False,
                               options=NetworkOptions(epochs=1, n_blocks=1))
    assert not out.exists() and not list(tmp_path.glob(".m.*"))
    monkeypatch.undo()
    monkeypatch.setenv("SOS_VO_VIZIER_NAMES", "sql")
    captured = {}

    def fake_train(prepared, folder, **kwargs):
        captured["n"] = int(prepared.labelled().sum())
        captured["provenance"] = kwargs["provenance"]
        return Path(folder)

    monkeypatch.setattr(pipeline, "train_survey", fake_train)
    result = real_model.build_model(None, all_sky=True, out=out, tap_url=dachs_url,
                                    label_tap_url=dachs_url, tables=LABEL_SKY_OVERRIDES,
                                    cache_dir=root / "cache", n_members=2, progress=False)
    join = result.provenance["join"]["sdss"]
    assert join["chunks_from_cache"] >= 1 and join["jobs"] == 0
    assert result.provenance["astrometry"]["jobs"] == 0
    assert captured["n"] > 0


def _run(argv, capsys):
    rc = main(argv)
    return rc, capsys.readouterr().err


def test_bad_label_table_is_a_clear_error(mirror_env, tmp_path, capsys):
    out = tmp_path / "m"
    base = ["build-model", "--all-sky", "--labels", "apogee-dr17", "--out", str(out),
            "--tap-url", mirror_env, "--label-tap-url", mirror_env, "--no-cache", *TINY]
    rc, err = _run([*base, *_tables(), "--table", "apogee_dr17=vizier.iii_286_catalogue"], capsys)
    assert rc == 2 and "vizier.iii_286_catalogue" in err and "vizier.iii_286_catalog" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    # a table with other columns: the missing ones and the closest names are listed
    rc, err = _run([*base, *_tables(), "--table", "apogee_dr17=vizier.v_162_dr11sl"], capsys)
    assert rc == 2 and "lacks column(s)" in err and "'aflag'" in err
    assert not out.exists()


def test_missing_gaia_table_of_the_positional_match(mirror_env, tmp_path, capsys):
    """Gaia-ESO has no Gaia id: a wrong name of the Gaia table it is matched to by position is
    one line naming the closest tables, exit 2."""
    ges = fixture_dir() / "fixture" / "labels" / "vizier.j_a_a_676_a129_catalog.ecsv"
    if "GaiaDR3" in Table.read(ges).colnames:
        pytest.skip("the mirror's Gaia-ESO table predates the positional match (has GaiaDR3)")
    out = tmp_path / "m"
    rc, err = _run(["build-model", "--all-sky", "--labels", "gaia-eso", "--out", str(out),
                    "--tap-url", mirror_env, "--label-tap-url", mirror_env, "--no-cache", *TINY,
                    *_tables(), "--table", "gaia_eso_gaia=vizier.i_355_gaiadr2"], capsys)
    assert rc == 2 and "vizier.i_355_gaiadr2" in err and "vizier.i_355_gaiadr3" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not out.exists()


def test_empty_region_and_no_gaia_overlap(mirror_env, tmp_path, capsys):
    out = tmp_path / "m"
    base = ["build-model", "--labels", "apogee-dr17", "--out", str(out), "--tap-url", mirror_env,
            "--label-tap-url", mirror_env, "--no-cache", *TINY]
    rc, err = _run([*base, "circle 200 80 0.1deg", *_tables()], capsys)
    assert rc == 2 and "no star with a Gaia DR3 id" in err
    # the label stars are not in the fixture's gaiadr3 tables: no overlap with Gaia
    rc, err = _run([*base, QUERY_REGION, "--recalibration", "t25"], capsys)
    assert rc == 2 and "no overlap with Gaia" in err
    rc, err = _run([*base[:-6], "--all-sky", QUERY_REGION, *TINY], capsys)
    assert rc == 2 and "REGION or --all-sky" in err
    assert not out.exists()


@pytest.mark.slow
def test_query_compare_sos_dr2_statistics_equal_a_direct_computation(built, dachs_url, tmp_path,
                                                                     monkeypatch, capsys):
    rc, out, _ = built
    assert rc == 0
    monkeypatch.setenv("SOS_VO_VIZIER_NAMES", "sql")
    cat = tmp_path / "cat.vot"
    capsys.readouterr()
    rc = main(["query", QUERY_REGION, "--survey", "sdss", "--tap-url", dachs_url, "--model", str(out),
               "--out", str(cat), "--sync", "--no-cache", "--chunk-order", "2", "--compare", "sos-dr2",
               "--label-tap-url", dachs_url, *_tables()])
    printed = capsys.readouterr().out
    assert rc == 0
    pairs = Table.read(tmp_path / "cat_vs_sos_dr2.ecsv")
    published = Table.read(fixture_dir() / "fixture" / "labels" / "vizier.j_a_a_700_a195_catalog.ecsv")
    assert set(pairs["gaia_dr3_id"].tolist()) <= set(published["GaiaDR3"].tolist())
    catalogue = Table.read(cat, format="votable")
    assert set(pairs["gaia_dr3_id"].tolist()) == \
        set(catalogue["gaia_dr3_id"].tolist()) & set(published["GaiaDR3"].tolist())
    row = {int(s): i for i, s in enumerate(published["GaiaDR3"])}
    idx = np.asarray([row[int(s)] for s in pairs["gaia_dr3_id"]])
    stats = {(s["parameter"], s["published"]): s for s in pairs.meta["statistics"]}
    for lab, label in (("teff", "Teff"), ("logg", "log_g"), ("feh", "[Fe/H]")):
        d = np.asarray(pairs[f"ml_{lab}"], float) - np.asarray(published[f"ml_{label}"], float)[idx]
        d = d[np.isfinite(d)]
        s = stats[(lab, f"sos_dr2_ml_{lab}")]
        assert s["n"] == d.size
        assert s["abs_mean"] == pytest.approx(np.mean(np.abs(d)))
        assert s["abs_median"] == pytest.approx(np.median(np.abs(d)))
        assert s["mad"] == pytest.approx(1.4826 * np.median(np.abs(d - np.median(d))))
        assert s["sigma"] == pytest.approx(np.std(d, ddof=1))
        assert f"{s['abs_median']:.4g}"[:4] in printed or f"{s['abs_median']}"[:6] in printed


def test_sos_dr2_labels_are_taken_as_published(mirror_env, tmp_path, monkeypatch):
    """--labels sos-dr2: the published spec_* values, no homogenisation, no recalibration."""
    import sos_vo.pipeline as pipeline
    from sos_vo.labels import real_model

    captured = {}

    def fake_train(prepared, folder, **kwargs):
        captured["prepared"] = prepared
        captured["provenance"] = kwargs["provenance"]
        return Path(folder)

    monkeypatch.setattr(pipeline, "train_survey", fake_train)
    result = real_model.build_model(QUERY_REGION, labels="sos-dr2", out=tmp_path / "m",
                                    tap_url=mirror_env, label_tap_url=mirror_env,
                                    tables=LABEL_SKY_OVERRIDES, cache_dir=False, progress=False)
    prov = captured["provenance"]
    assert prov["recalibration_mode"] == "none" and prov["recalibration"] == "none"
    assert prov["label_sources"]["sos-dr2"]["table"] == "vizier.j_a_a_700_a195_catalog"
    assert result.homogenisation is None
    published = Table.read(fixture_dir() / "fixture" / "labels" / "vizier.j_a_a_700_a195_catalog.ecsv")
    p = captured["prepared"]
    from sos_vo.labels.pastel import PASTEL_FLAG_COLUMN

    lab = p.labelled() & ~np.asarray(p.joined[PASTEL_FLAG_COLUMN], bool)
    row = {int(s): i for i, s in enumerate(published["GaiaDR3"])}
    idx = np.asarray([row[int(s)] for s in p.joined["source_id"][lab]])
    np.testing.assert_allclose(np.asarray(p.joined["spec_teff"][lab], float),
                               np.asarray(published["spec_Teff"], float)[idx], rtol=1e-6)


# ------------------------------------------------------------------ member checkpoints, dask
def _raw_weights(folder: Path) -> dict[str, np.ndarray]:
    with np.load(folder / "raw_weights.npz") as z:
        return {k: z[k] for k in z.files}


def assert_same_weights(a: Path, b: Path) -> None:
    wa, wb = _raw_weights(a), _raw_weights(b)
    assert wa.keys() == wb.keys() and wa
    for k in wa:
        np.testing.assert_array_equal(wa[k], wb[k], err_msg=k)


@pytest.mark.slow
def test_rebuild_loads_every_member_from_its_checkpoint(built, mirror_env, tmp_path, capsys):
    dachs_url = mirror_env
    rc, out, root = built
    assert rc == 0 and list((root / "cache" / "members").glob("*/member-*.npz"))
    again = tmp_path / "again"
    capsys.readouterr()
    rc = main(["build-model", "--all-sky", "--survey", "sdss", "--out", str(again),
               "--tap-url", dachs_url, "--label-tap-url", dachs_url,
               "--cache-dir", str(root / "cache"), *TINY, *_tables()])
    assert rc == 0
    assert "sdss members: 0 trained (numpy-fused (units of 1)), 2 loaded from checkpoints" in \
        capsys.readouterr().out
    assert_same_weights(again, out)


@pytest.mark.slow
def test_build_killed_after_a_member_trains_only_the_other_on_rerun(built, mirror_env, tmp_path,
                                                                    monkeypatch):
    """The build dies while training unit 1 (member 1); the rerun loads member 0 and trains
    member 1; the model equals the uninterrupted build's bit for bit."""
    from sos_vo.labels import real_model
    from sos_vo.ml import checkpoint
    from sos_vo.ml.options import NetworkOptions

    _, ref, root = built
    real_train = checkpoint.train_unit
    calls = []

    def dies_on_second(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt("killed while training unit 1")
        return real_train(*args, **kwargs)

    monkeypatch.setattr(checkpoint, "train_unit", dies_on_second)
    kw = dict(all_sky=True, out=tmp_path / "m", tap_url=mirror_env, label_tap_url=mirror_env,
              tables=LABEL_SKY_OVERRIDES, cache_dir=root / "cache",
              checkpoint_dir=tmp_path / "ck", n_members=2, progress=False,
              options=NetworkOptions(epochs=40, n_blocks=2), unit_members=1)
    with pytest.raises(KeyboardInterrupt):
        real_model.build_model(None, **kw)
    assert not (tmp_path / "m").exists()
    assert [p.name for p in (tmp_path / "ck").glob("*/member-*.npz")] == ["member-000.npz"]
    monkeypatch.setattr(checkpoint, "train_unit", real_train)
    result = real_model.build_model(None, **kw)
    assert result.members["sdss"]["loaded"] == 1 and result.members["sdss"]["trained"] == 1
    assert_same_weights(tmp_path / "m", ref)


@pytest.mark.slow
def test_build_on_a_dask_cluster_equals_the_local_build(built, mirror_env, tmp_path):
    distributed = pytest.importorskip("distributed")
    from sos_vo.labels import real_model
    from sos_vo.ml.options import NetworkOptions

    _, ref, root = built
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        result = real_model.build_model(
            None, all_sky=True, out=tmp_path / "m", tap_url=mirror_env, label_tap_url=mirror_env,
            tables=LABEL_SKY_OVERRIDES, cache_dir=root / "cache", checkpoint_dir=tmp_path / "ck",
            n_members=2, progress=False, options=NetworkOptions(epochs=40, n_blocks=2),
            client=client, unit_members=1)
    # each unit one dask task; the numpy engine gives the local build's bits
    assert result.members["sdss"] == {"loaded": 0, "trained": 2, "unit_members": 1,
                                      "engine": "numpy-fused (units of 1) (dask)"}
    assert len(list((tmp_path / "ck").glob("*/member-*.npz"))) == 2
    assert_same_weights(tmp_path / "m", ref)


@pytest.mark.parametrize("extra, message", [
    (["--unit-members", "0"], "--unit-members"),
    (["--engine", "graph"], "--engine"),
    (["--engine", "per-network", "--unit-members", "2"], "--unit-members applies to --engine fused"),
])
def test_bad_engine_options_are_one_line_and_exit_2(extra, message, tmp_path, capsys):
    try:
        rc = main(["build-model", "--all-sky", "--out", str(tmp_path / "m"), "--no-cache",
                   "--tap-url", "http://127.0.0.1:9/tap", *extra])
    except SystemExit as exc:  # argparse's refusal
        rc = exc.code
    err = capsys.readouterr().err
    assert rc == 2 and message in err and "Traceback" not in err
    assert not (tmp_path / "m").exists()


@pytest.mark.parametrize("address, message", [
    ("nohost", "is not a scheduler address"),
    ("tcp://127.0.0.1:1", "cannot reach the dask scheduler"),
])
def test_bad_scheduler_is_one_line_and_exit_2(address, message, tmp_path, capsys):
    pytest.importorskip("distributed")
    try:
        rc = main(["build-model", "--all-sky", "--out", str(tmp_path / "m"), "--scheduler",
                   address, "--timeout", "2", "--no-cache", "--tap-url", "http://127.0.0.1:9/tap"])
    except SystemExit as exc:  # argparse's refusal
        rc = exc.code
    err = capsys.readouterr().err
    assert rc == 2 and message in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "m").exists()


@pytest.mark.slow
def test_preparing_the_joined_rows_in_chunks_equals_one_pass(built, mirror_env, monkeypatch):
    """Cuts, recalibration, PASTEL augmentation and features chunk by chunk (bounded memory),
    with the joined rows streamed upload chunk by upload chunk, give the rows, inputs, cut
    counts and provenance row counts of one pass over all joined rows."""
    import sos_vo.pipeline as pipeline
    from sos_vo.archives import label_join
    from sos_vo.labels import real_model

    _, _, root = built
    got = {}

    def fake_train(prepared, folder, **kwargs):
        got[len(got)] = prepared
        return Path(folder)

    monkeypatch.setattr(pipeline, "train_survey", fake_train)
    kw = dict(all_sky=True, out=root / "unused", tap_url=mirror_env, label_tap_url=mirror_env,
              tables=LABEL_SKY_OVERRIDES, cache_dir=root / "cache", n_members=2, progress=False)
    first = real_model.build_model(None, **kw)  # one chunk (the mirror has ~1 700 joined rows)
    monkeypatch.setattr(real_model, "PREPARE_CHUNK_ROWS", 250)
    monkeypatch.setattr(label_join, "UPLOAD_CHUNK_ROWS", 300)
    second = real_model.build_model(None, **kw)
    one, chunked = got[0], got[1]
    assert len(one.joined) > 250  # several chunks really ran
    assert second.provenance["join"]["sdss"]["jobs"] + \
        second.provenance["join"]["sdss"]["chunks_from_cache"] > 5  # several upload chunks
    assert second.provenance["rows"] == first.provenance["rows"]
    assert second.provenance["recalibration"] == first.provenance["recalibration"]
    for key in ("rows", "uploaded_ids", "adql"):
        assert second.provenance["join"]["sdss"][key] == first.provenance["join"]["sdss"][key]
    assert second.provenance["astrometry"]["rows"] == first.provenance["astrometry"]["rows"]
    np.testing.assert_array_equal(np.asarray(chunked.joined["source_id"]),
                                  np.asarray(one.joined["source_id"]))
    np.testing.assert_array_equal(chunked.X, one.X)
    for k, v in one.labels().items():
        np.testing.assert_array_equal(chunked.labels()[k], v)
    assert [(s.name, s.n_before, s.n_removed) for s in chunked.cut_report.steps] == \
        [(s.name, s.n_before, s.n_removed) for s in one.cut_report.steps]
    assert chunked.cut_report.masked_values == one.cut_report.masked_values
    assert chunked.input_names == one.input_names


@pytest.mark.slow
def test_two_surveys_train_one_at_a_time_with_both_counts(built, mirror_env, monkeypatch, tmp_path):
    """--survey both: each survey's training arrays wait on disk while the other is prepared,
    come back equal to a one-survey build's, and every model gets both surveys' row counts."""
    import sos_vo.pipeline as pipeline
    from sos_vo.labels import real_model

    _, _, root = built
    seen = []

    def fake_train(prepared, folder, **kwargs):
        spill = Path(folder).parent / real_model.SPILL_FOLDER
        waiting = sorted(p.name for p in spill.glob("*.npz")) if spill.is_dir() else None
        seen.append((prepared, kwargs["provenance"], waiting))
        Path(folder).mkdir()
        (Path(folder) / "model.json").write_text("{}")
        return Path(folder)

    monkeypatch.setattr(pipeline, "train_survey", fake_train)
    kw = dict(all_sky=True, tap_url=mirror_env, label_tap_url=mirror_env,
              tables=LABEL_SKY_OVERRIDES, cache_dir=root / "cache", n_members=2, progress=False)
    result = real_model.build_model(None, survey="both", out=tmp_path / "both", **kw)
    assert [s[0].survey for s in seen] == ["sdss", "skymapper"]
    # while sdss trains, skymapper's arrays wait on disk; then only skymapper's were left
    assert seen[0][2] == ["sdss.npz", "skymapper.npz"] and seen[1][2] == ["skymapper.npz"]
    assert sorted(p.name for p in (tmp_path / "both").iterdir()) == \
        [".sos-vo-output", "sdss", "skymapper"]
    for _, prov, _ in seen:
        assert set(prov["rows"]) >= {"sdss", "skymapper"} and set(prov["join"]) == {"sdss", "skymapper"}
    assert result.provenance["rows"]["skymapper"]["labelled_after_cuts"] == len(seen[1][0].X)
    for i, survey in enumerate(("sdss", "skymapper")):
        alone = real_model.build_model(None, survey=survey, out=tmp_path / survey, **kw)
        one = seen[-1][0]
        np.testing.assert_array_equal(one.X, seen[i][0].X)
        assert one.joined.colnames == seen[i][0].joined.colnames
        for c in one.joined.colnames:
            np.testing.assert_array_equal(np.asarray(one.joined[c]), np.asarray(seen[i][0].joined[c]))
            assert one.joined[c].unit == seen[i][0].joined[c].unit
        assert alone.provenance["rows"][survey] == result.provenance["rows"][survey]


@pytest.mark.slow
def test_metal_poor_pastel_stars_are_added(built, mirror_env, monkeypatch, tmp_path):
    """T25 Sect. 4.3 on the mirror: the planted stars of no label table with metal-poor PASTEL
    entries are matched to Gaia on the server, uploaded, and added after the cuts, exactly those
    whose joined rows pass the cuts (computed from the fixture tables), with the median of their
    PASTEL entries; the labelled stars keep their SoS labels, and the Eq. 2 refit and every
    labelled row equal a build without the step."""
    import sos_vo.pipeline as pipeline
    from sos_vo.archives.tables import ARCHIVE_TABLES
    from sos_vo.labels import real_model
    from sos_vo.labels.pastel import PASTEL_FLAG_COLUMN
    from sos_vo.prepare.crossmatch import join_survey
    from sos_vo.prepare.cuts import apply_cuts

    labels_dir = fixture_dir() / "fixture" / "labels"
    if not (labels_dir / "labelsky.metal_poor_truth.ecsv").exists():
        pytest.skip("a mirror without the planted metal-poor PASTEL stars")
    truth = Table.read(labels_dir / "labelsky.metal_poor_truth.ecsv")
    planted = np.asarray(truth["source_id"], dtype=np.int64)
    poor = planted[np.asarray(truth["metal_poor"], bool)]
    tabs = {s.name: Table.read(labels_dir / f"labelsky.{s.table_name}.ecsv")
            for s in ARCHIVE_TABLES.values()}
    g = tabs["gaiadr3.gaia_source"]
    tabs["gaiadr3.gaia_source"] = g[np.isin(np.asarray(g["source_id"]), planted)]
    expected = {}
    for s in ("sdss", "skymapper"):
        kept, _ = apply_cuts(join_survey(tabs, s, labels=False), s)
        expected[s] = sorted(set(np.asarray(kept["source_id"]).tolist()) & set(poor.tolist()))
    assert expected["sdss"] and expected["skymapper"]  # the mirror has some to add
    pastel = Table.read(labels_dir / "labelsky.b_pastel_pastel.vizier_labels.ecsv")
    star_of = {f"SOSVO-METALPOOR {i}": int(sid) for i, sid in enumerate(planted)}

    _, _, root = built
    seen, found = [], []
    original = real_model.metal_poor_stars

    def spy(*args, **kwargs):
        found.append(original(*args, **kwargs))
        return found[-1]

    def fake_train(prepared, folder, **kwargs):
        seen.append(prepared)
        Path(folder).mkdir()
        return Path(folder)

    monkeypatch.setattr(pipeline, "train_survey", fake_train)
    monkeypatch.setattr(real_model, "metal_poor_stars", spy)
    kw = dict(all_sky=True, survey="both", tap_url=mirror_env, label_tap_url=mirror_env,
              tables=LABEL_SKY_OVERRIDES, cache_dir=root / "cache", n_members=2, progress=False)
    result = real_model.build_model(None, out=tmp_path / "with", **kw)
    aug = result.provenance["pastel_augmentation"]
    assert aug["added_to_upload"] == poor.size and set(poor) <= set(found[0].ids.tolist())
    labelled_poor = np.setdiff1d(found[0].ids, planted)  # labelled stars with metal-poor entries
    for p in seen:
        s = p.survey
        ids = np.asarray(p.joined["source_id"], dtype=np.int64)
        flag = np.asarray(p.joined[PASTEL_FLAG_COLUMN], bool)
        assert sorted(ids[flag].tolist()) == expected[s]
        assert result.provenance["rows"][s]["pastel_augmented"] == len(expected[s])
        assert not flag[np.isin(ids, labelled_poor)].any() and np.isin(ids, labelled_poor).any()
        for i in np.flatnonzero(flag):  # the median of the star's PASTEL entries
            entries = pastel[[star_of.get(e) == ids[i] for e in pastel["ID"]]]
            for k, c in (("teff", "Teff"), ("logg", "logg"), ("feh", "[Fe/H]")):
                assert p.joined[f"spec_{k}"][i] == pytest.approx(np.median(entries[c]))

    # the same build without the metal-poor step: the refit and every labelled row unchanged
    def without(*args, **kwargs):
        r = original(*args, **kwargs)
        return real_model.MetalPoorStars(r.ids[:0], r.astrometry[:0], r.provenance)

    with_step = list(seen)
    seen.clear()
    monkeypatch.setattr(real_model, "metal_poor_stars", without)
    before = real_model.build_model(None, out=tmp_path / "without", **kw)
    assert before.provenance["recalibration"] == result.provenance["recalibration"]
    for new, old in zip(with_step, seen, strict=True):
        assert not np.asarray(old.joined[PASTEL_FLAG_COLUMN], bool).any()
        keep = ~np.asarray(new.joined[PASTEL_FLAG_COLUMN], bool)
        np.testing.assert_array_equal(np.asarray(new.joined["source_id"])[keep],
                                      np.asarray(old.joined["source_id"]))
        np.testing.assert_array_equal(new.X[keep], old.X)
        for k in ("teff", "logg", "feh"):
            np.testing.assert_array_equal(np.asarray(new.joined[f"spec_{k}"])[keep],
                                          np.asarray(old.joined[f"spec_{k}"]))
