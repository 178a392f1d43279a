"""Streaming prediction: chunked == unchunked == the in-memory pipeline; resume or refuse."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scale_helpers import SURVEY, sorted_rows

from sos_vo.exceptions import SchemaError
from sos_vo.scale.manifest import RunConflictError
from sos_vo.scale.parquet_io import arrow_to_table, table_to_arrow, write_parquet
from sos_vo.scale.stream import Predictor, predict_parquet, read_predictions

PRED_COLUMNS = ("ml_teff", "ml_logg", "ml_feh", "ml_err_teff", "ml_err_logg", "ml_err_feh")


def test_arrow_round_trip_keeps_units_masks_and_strings(joined):
    back = arrow_to_table(table_to_arrow(joined[:50]))
    assert back.colnames == joined.colnames
    for name in joined.colnames:
        a, b = joined[name][:50], back[name]
        assert str(a.unit) == str(b.unit) if a.unit is not None else b.unit is None
        np.testing.assert_array_equal(np.ma.getmaskarray(a), np.ma.getmaskarray(b))
        ok = ~np.ma.getmaskarray(a)
        np.testing.assert_array_equal(np.asarray(a)[ok], np.asarray(b)[ok])


def test_chunked_stream_equals_unchunked_and_the_pipeline(parts, joined, prepared, model_folder,
                                                           tmp_path):
    from sos_vo.pipeline import predict_survey

    small = predict_parquet(parts, tmp_path / "small", model_folder, batch_rows=97,
                            progress=False, n_threads=2)
    whole = predict_parquet(parts, tmp_path / "whole", model_folder, batch_rows=10**7,
                            progress=False, n_threads=1)
    assert small["rows_in"] == whole["rows_in"] == len(joined)
    a = read_predictions(tmp_path / "small")
    b = read_predictions(tmp_path / "whole")
    assert len(a) == small["rows_out"] == len(b) > 0
    # the in-memory pipeline on the same stars (prepare_survey applies the same cuts)
    ref = sorted_rows(predict_survey(prepared, model_folder))
    np.testing.assert_array_equal(np.asarray(a["source_id"]), np.asarray(ref["source_id"]))
    np.testing.assert_array_equal(np.asarray(a["source_id"]), np.asarray(b["source_id"]))
    for name in PRED_COLUMNS:
        # float32 products of other chunk sizes round differently (~1 ulp of the largest value)
        tol = 1e-5 * np.abs(np.asarray(ref[name])).max()
        np.testing.assert_allclose(np.asarray(a[name]), np.asarray(ref[name]), rtol=0, atol=tol)
        np.testing.assert_allclose(np.asarray(a[name]), np.asarray(b[name]), rtol=0, atol=tol)
    for name in ("train_set", "train_area"):
        np.testing.assert_array_equal(np.asarray(a[name]), np.asarray(ref[name]))
    assert np.asarray(a["train_set"]).any() and not np.asarray(a["train_set"]).all()
    # the summed cut counts equal the cuts on the whole table
    assert small["cut_report"].n_input == len(joined)
    assert small["cut_report"].n_kept == len(a) == prepared.cut_report.n_kept
    assert [s.n_removed for s in small["cut_report"].steps] == \
        [s.n_removed for s in prepared.cut_report.steps]


def test_resume_skips_done_parts_and_refuses_another_run(parts, model_folder, tmp_path):
    out = tmp_path / "run"
    first = predict_parquet(parts, out, model_folder, progress=False)
    manifest = json.loads((out / "_manifest.json").read_text())
    assert manifest["complete"] and len(manifest["parts"]) == 3
    # simulate an interruption: one part lost, a temporary left behind
    lost = sorted(manifest["parts"])[1]
    (out / lost).unlink()
    (out / "group=0" / ".part0.abc.tmp.parquet").write_bytes(b"half")
    again = predict_parquet(parts, out, model_folder, progress=False)
    assert again["skipped"] == 2 and again["rows_out"] == first["rows_out"]
    assert not list(out.rglob(".*.tmp*"))
    with pytest.raises(RunConflictError, match="resume=True"):
        predict_parquet(parts, out, model_folder, progress=False, resume=False)
    # another input set: never mixed into this folder
    other = tmp_path / "other"
    write_parquet(arrow_to_table(__import__("pyarrow.parquet").parquet.read_table(
        next(parts.rglob("part0.parquet")))), other / "x.parquet")
    with pytest.raises(RunConflictError, match="another run"):
        predict_parquet(other, out, model_folder, progress=False)
    (tmp_path / "foreign").mkdir()
    (tmp_path / "foreign" / "notes.txt").write_text("mine")
    with pytest.raises(RunConflictError, match="no _manifest.json"):
        predict_parquet(parts, tmp_path / "foreign", model_folder, progress=False)


def test_a_part_with_another_schema_is_named(parts, joined, model_folder, tmp_path):
    import shutil

    src = tmp_path / "in"
    shutil.copytree(parts, src)
    bad = joined[:20].copy()
    bad.remove_column("ruwe")
    write_parquet(bad, src / "zz_bad.parquet")
    with pytest.raises(SchemaError, match=r"zz_bad.parquet.*missing \['ruwe'\]"):
        predict_parquet(src, tmp_path / "out", model_folder, progress=False)
    assert not (tmp_path / "out").exists()


def test_predictor_fingerprint_names_the_model(model_folder):
    p = Predictor.load(model_folder, SURVEY)
    fp = p.fingerprint()
    assert fp["survey"] == SURVEY and len(fp["model_weights_sha256"]) == 64
