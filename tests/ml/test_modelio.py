"""Versioned model folders: round trip, format/survey errors, synthetic warning, no TensorFlow."""

import json
import subprocess
import sys
import warnings

import numpy as np
import pytest

from sos_vo.exceptions import ModelFormatError, SchemaError, SyntheticModelWarning
from sos_vo.ml.modelio import FORMAT_VERSION, load_model, load_splits, read_metadata, save_model
from sos_vo.ml.scaling import MissingFeatureWarning

pytestmark = pytest.mark.slow  # uses the shared trained-ensemble fixture (~20 s once)


@pytest.fixture(scope="module")
def folder(trained, tmp_path_factory):
    ens, _, _ = trained
    path = tmp_path_factory.mktemp("models") / "sdss_model"
    save_model(ens, path, provenance={"synthetic": True, "seed": 5, "archives": ["simulated"]})
    return path


def test_round_trip_predicts_like_the_trained_ensemble(trained, folder):
    ens, X, _ = trained
    model = load_model(folder, survey="sdss")
    a, b = ens.predict(X), model.predict(X, names=ens.input_names)
    for label in ens.labels:
        for x, y in zip(a[label], b[label], strict=True):
            np.testing.assert_array_equal(x, y)
    meta = read_metadata(folder)
    assert meta["format_version"] == FORMAT_VERSION
    assert meta["survey"] == "sdss" and meta["labels"] == ["teff", "feh"]
    assert meta["feature_names"] == ["a", "b", "c", "d"]
    assert meta["provenance"]["synthetic"] is True
    assert {m["label"] for m in meta["metrics"]} == {"teff", "feh"}
    assert meta["e_train"]["feh"] == pytest.approx(ens.e_train("feh"))
    assert len(meta["members"]["teff"]) == 3 and "training_date" in meta
    splits = load_splits(folder)
    np.testing.assert_array_equal(splits["membership"], ens.membership)
    np.testing.assert_array_equal(splits["row_ids"], ens.row_ids)


def test_no_overwrite_and_provenance_required(trained, folder):
    ens, _, _ = trained
    with pytest.raises(FileExistsError):
        save_model(ens, folder)
    with pytest.raises(ValueError, match="synthetic"):
        save_model(ens, folder.parent / "other", provenance={"seed": 1})
    assert not (folder.parent / "other").exists()


def test_synthetic_model_on_real_data_warns(trained, folder):
    _, X, _ = trained
    model = load_model(folder)
    with pytest.warns(SyntheticModelWarning, match="SYNTHETIC"):
        model.predict(X[:5], data_is_real=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.predict(X[:5], data_is_real=False)


def test_input_checks(trained, folder):
    _, X, _ = trained
    model = load_model(folder)
    with pytest.raises(SchemaError, match="7 columns"):
        model.predict(X[:5, :7])
    with pytest.raises(SchemaError, match="differ"):
        model.predict(X[:5], names=["a", "b", "d", "c"])
    Xm = X[:5].copy()
    Xm[:, 6:8] = 0  # feature d missing everywhere
    with pytest.warns(MissingFeatureWarning, match="'d'"):
        model.predict(Xm)


def copy_folder(src, dst):
    import shutil

    shutil.copytree(src, dst)
    return dst


def test_format_errors_name_the_file(folder, tmp_path):
    with pytest.raises(ModelFormatError, match="does not exist"):
        load_model(tmp_path / "nothing")
    with pytest.raises(ModelFormatError, match="skymapper"):
        load_model(folder, survey="skymapper")
    for version, word in ((FORMAT_VERSION - 1, "older"), (FORMAT_VERSION + 1, "newer")):
        bad = copy_folder(folder, tmp_path / f"v{version}")
        meta = json.loads((bad / "model.json").read_text())
        meta["format_version"] = version
        (bad / "model.json").write_text(json.dumps(meta))
        with pytest.raises(ModelFormatError, match=f"model.json.*{word}"):
            load_model(bad)
    gone = copy_folder(folder, tmp_path / "noweights")
    (gone / "weights.npz").unlink()
    with pytest.raises(ModelFormatError, match="weights.npz: missing"):
        load_model(gone)
    nojson = copy_folder(folder, tmp_path / "nojson")
    (nojson / "model.json").unlink()
    with pytest.raises(ModelFormatError, match="model.json: missing"):
        load_model(nojson)
    damaged = copy_folder(folder, tmp_path / "damaged")
    with open(damaged / "weights.npz", "r+b") as fh:
        fh.seek(200)
        fh.write(b"\x00\x01\x02\x03")
    with pytest.raises(ModelFormatError, match="checksum"):
        load_model(damaged)


def test_load_and_predict_without_tensorflow(trained, folder):
    _, X, _ = trained
    np.save(folder.parent / "x.npy", X[:50])
    code = (
        "import sys, numpy as np\n"
        "import sos_vo.ml.modelio as mio\n"
        f"m = mio.load_model({str(folder)!r}, survey='sdss')\n"
        f"out = m.predict(np.load({str(folder.parent / 'x.npy')!r}))\n"
        "assert out['teff'][0].shape == (50,)\n"
        "bad = [k for k in sys.modules if k.split('.')[0] in ('tensorflow', 'keras')]\n"
        "print('LOADED', bad)\n"
        "sys.exit(1 if bad else 0)\n"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "LOADED []" in res.stdout
