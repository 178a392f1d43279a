"""benchmarks.build_full_memory: the fake upload chunks, and one tiny whole build in a child."""

import json
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]

from benchmarks import build_full_memory as bfm  # noqa: E402
from sos_vo.archives.label_join import UPLOAD_CHUNK_ROWS, UploadStats  # noqa: E402

STAGES = ["imports", "checks", "labels", "pastel_recalibration", "join_prepare_sdss",
          "join_prepare_skymapper", "train_sdss", "train_skymapper"]


def test_fake_join_chunks_follow_the_upload_chunks():
    stages = bfm.Stages()
    fake = bfm.FakeArchive(0, {"sdss": 5000, "skymapper": 0}, stages)
    ids = np.unique(np.random.default_rng(3).integers(1, 10**15, 3 * UPLOAD_CHUNK_ROWS + 17))
    stats = UploadStats()
    chunks = list(fake.training_chunks(ids, "sdss", stats=stats))
    assert stages.records[-1]["stage"] == "imports" and stages.name == "join_prepare_sdss"
    got = np.concatenate([np.asarray(c["source_id"]) for c in chunks])
    assert np.all(np.diff(got) > 0) and np.isin(got, ids).all()
    assert stats.rows == got.size and abs(got.size - 5000) < 300  # 5000 drawn of 24 017
    assert stats.uploaded_ids == ids.size and stats.chunks == 4
    for c in chunks:  # each chunk's ids are those of one upload chunk of ids
        k = np.searchsorted(ids, np.asarray(c["source_id"])) // UPLOAD_CHUNK_ROWS
        assert np.unique(k).size == 1
    assert not list(bfm.FakeArchive(0, {"sdss": 0}, stages).training_chunks(ids, "sdss"))
    stats = UploadStats()  # a whole number of upload chunks: no empty chunk after them
    list(fake.training_chunks(ids[:2 * UPLOAD_CHUNK_ROWS], "sdss", stats=stats))
    assert stats.chunks == 2 and stats.uploaded_ids == 2 * UPLOAD_CHUNK_ROWS


@pytest.mark.slow
def test_main_builds_both_surveys_in_one_child_and_stores_each_stage(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)  # the child runs `python -m benchmarks.build_full_memory`
    out = tmp_path / "full.json"
    assert bfm.main(["--scale", "0.002", "--members", "2", "--work-dir", str(tmp_path),
                     "--json", str(out)]) == 0
    res = json.loads(out.read_text())
    assert res["benchmark"] == "build_full_memory" and res["synthetic"] is True
    r = res["result"]
    assert [s["stage"] for s in r["stages"]] == STAGES
    assert r["members"] == 2 and r["epochs"] == 1 and r["unit_members"] in (1, 2)
    assert r["hwm_reset"] is True  # Linux >= 4.0: each stage's peak is its own
    peaks = [s["peak_rss_mb"] for s in r["stages"]]
    assert all(p > 0 for p in peaks) and r["overall_peak_rss_mb"] == max(peaks)
    for s in r["stages"]:
        assert s["peak_rss_mb"] >= s["rss_end_mb"] > 0 and s["wall_s"] >= 0
        assert len(s["load_average_end"]) == 3
    rows = {s["stage"]: s["rows"] for s in r["stages"]}
    labels = rows["labels"]
    assert labels["label_rows_total"] == 5 * r["label_rows_per_source"] == 5 * 2840
    assert 0 < labels["stars"] <= labels["label_rows_total"]
    assert rows["pastel_recalibration"]["astrometry_rows"] == labels["stars_all_three"]
    for s in ("sdss", "skymapper"):
        j = rows[f"join_prepare_{s}"]
        assert 0 < j["labelled_after_cuts"] <= j["after_cuts"] <= j["joined"] <= labels["stars"]
        assert rows[f"train_{s}"]["rows"] == j["labelled_after_cuts"]
    assert [p.name for p in tmp_path.iterdir()] == ["full.json"]  # the build's folders removed


def test_train_area_part_measures_the_fit_alone_in_a_child(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    out = tmp_path / "area.json"
    assert bfm.main(["--train-area-rows", "3000", "--json", str(out)]) == 0
    res = json.loads(out.read_text())
    r = res["result"]
    assert res["part"] == "train_area" and r["rows"] == 3000 and r["inputs"] == 54
    assert r["matrix_mb"] == 3000 * 54 * 4 / 2 ** 20
    assert r["peak_rss_mb"] >= r["start_rss_mb"] > 0 and r["hwm_reset_at_start"] is True
