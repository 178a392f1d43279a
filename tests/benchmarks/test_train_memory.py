"""benchmarks.train_memory: the synthetic training matrix and one tiny run of main()."""

import json
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]

from benchmarks import train_memory  # noqa: E402
from sos_vo.schema.joined import feature_names  # noqa: E402


def test_synthetic_matrix_is_zero_filled_with_interleaved_flags():
    X, Y, names = train_memory.synthetic_problem(4000, "skymapper", seed=2)
    assert names == feature_names("skymapper") and X.shape == (4000, 2 * len(names))
    assert X.dtype == np.float32 and np.isfinite(X).all()
    values, flags = X[:, 0::2], X[:, 1::2]
    assert set(np.unique(flags)) == {0.0, 1.0}
    assert np.all(values[flags == 0] == 0.0)
    missing = 1.0 - flags.mean()
    assert abs(missing - train_memory.MISSING_FRACTION) < 0.02
    assert set(Y) == {"teff", "logg", "feh"} and all(np.isfinite(y).all() for y in Y.values())


def test_main_trains_in_a_child_and_stores_its_peak(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)  # the child runs `python -m benchmarks.train_memory`
    out = tmp_path / "train_memory.json"
    assert train_memory.main(["--rows", "3000", "--members", "1", "--json", str(out)]) == 0
    (r,) = json.loads(out.read_text())["results"]
    assert r["rows"] == 3000 and r["members"] == 1 and r["unit_members"] == 1
    assert r["matrix_mb"] == 3000 * r["inputs"] * 4 / 2 ** 20
    assert r["peak_rss_mb"] >= r["start_rss_mb"] > 0
    # the fused numpy training of build-model loads no TensorFlow, before or during the training
    assert r["import_rss_mb"] > 0 and r["tensorflow_imported"] is False


def test_imports_only_reports_the_resident_set_after_the_build_model_imports(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    out = tmp_path / "imports.json"
    assert train_memory.main(["--imports-only", "--json", str(out)]) == 0
    (r,) = json.loads(out.read_text())["results"]
    assert r["imports"] == list(train_memory.BUILD_MODEL_IMPORTS)
    assert r["import_hwm_mb"] >= r["import_rss_mb"] > 0
    assert r["tensorflow_imported"] is False and r["keras_imported"] is False
