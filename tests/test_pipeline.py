"""The chained stages on a small synthetic sky: prepare -> train -> predict -> catalogue."""

from __future__ import annotations

import json
import subprocess
import sys
import warnings

import numpy as np
import pytest

from sos_vo import pipeline
from sos_vo.exceptions import ModelFormatError, SyntheticModelWarning
from sos_vo.schema import CATALOGUE_NAMES, LABELS
from sos_vo.simulate import simulate_sky

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def sky():
    return simulate_sky(center=(180.0, 0.0), radius=2.0, n_stars=6000, seed=3)


@pytest.fixture(scope="module")
def prepared(sky):
    return {s: pipeline.prepare_survey(sky.tables, s) for s in ("sdss", "skymapper")}


@pytest.fixture(scope="module")
def models(prepared, tmp_path_factory):
    from sos_vo.ml.options import NetworkOptions

    # small but trained enough that some predictions pass the T25 Sect. 5.2 error filters
    opts = NetworkOptions(n_blocks=2, epochs=15, batch_size=64, label_scaling="standard")
    root = tmp_path_factory.mktemp("models")
    return {s: pipeline.train_survey(p, root / s, n_members=2, options=opts, progress=False)
            for s, p in prepared.items()}


def test_prepare_counts_are_consistent(prepared):
    for survey, p in prepared.items():
        assert p.cut_report.n_kept == len(p.joined) == len(p.features) == p.X.shape[0]
        assert p.X.shape[1] == len(p.input_names)
        assert p.synthetic
        # labels are the recalibrated SoS labels: rows with labels exist, rows without too
        assert 0 < p.labelled().sum() < len(p.joined), survey


def test_recalibration_applied_to_labelled_rows(sky):
    raw = pipeline.prepare_survey(sky.tables, "sdss", recalibration=None, pastel_augmentation=False)
    fixed = pipeline.prepare_survey(sky.tables, "sdss", pastel_augmentation=False)
    from sos_vo.labels.recalibration import T25_TABLE1

    y0, y1 = raw.labels(), fixed.labels()
    ok = raw.labelled()
    delta = T25_TABLE1["teff"].delta(y0["teff"][ok], y0["logg"][ok], y0["feh"][ok])
    np.testing.assert_allclose(y1["teff"][ok], y0["teff"][ok] - delta, rtol=1e-10)
    assert np.isnan(y1["teff"][~ok]).all()


def test_model_folder_contents(models):
    for survey, folder in models.items():
        names = {p.name for p in folder.iterdir()}
        assert {pipeline.TRAIN_AREA_FILE, pipeline.CUT_REPORT_FILE, "model.json", "README.md"} <= names
        assert "SYNTHETIC" in (folder / "README.md").read_text()
        meta = json.loads((folder / "model.json").read_text())
        assert meta["survey"] == survey
        assert meta["provenance"]["synthetic"] is True
        # default colour inputs: SDSS u-g..i-z + BP-RP = 5, SkyMapper u-v..i-z + BP-RP = 6
        n_colours = {"sdss": 5, "skymapper": 6}[survey]
        assert len(meta["input_scaler"]["colours"]) == n_colours
        assert f"| derived colour inputs | {n_colours} " in (folder / "README.md").read_text()


def test_predict_and_catalogue(prepared, models):
    preds = {s: pipeline.predict_survey(prepared[s], models[s]) for s in prepared}
    for s, t in preds.items():
        assert len(t) == len(prepared[s].joined)
        ids = np.asarray(prepared[s].joined["source_id"])
        in_train = np.isin(ids, pipeline.training_source_ids(models[s]))
        np.testing.assert_array_equal(np.asarray(t["train_set"]), in_train)
        assert in_train.any() and not in_train.all()
        for k in LABELS:
            assert np.isfinite(np.asarray(t[f"ml_{k}"])).all()
            assert (np.asarray(t[f"ml_err_{k}"]) > 0).all()
    cat = pipeline.build_final_catalogue(preds, pipeline.spectro_table(prepared))
    assert tuple(cat.colnames) == CATALOGUE_NAMES
    assert len(np.unique(cat["sosid"])) == len(cat)
    in_sdss = np.isin(cat["gaia_dr3_id"], preds["sdss"]["source_id"])
    in_sm = np.isin(cat["gaia_dr3_id"], preds["skymapper"]["source_id"])
    source = np.asarray(cat["source"])
    from sos_vo.catalogue.merge import SPECTRO_ONLY_SOURCE

    has_ml = source != SPECTRO_ONLY_SOURCE
    assert has_ml.any()
    expected = np.where(in_sdss & in_sm, "SDSS+SM", np.where(in_sdss, "SDSS", "SM"))
    np.testing.assert_array_equal(source[has_ml], expected[has_ml])
    # rows without ML values (filtered out or never predicted) are SoS-Spectro rows
    assert np.isfinite(np.asarray(cat["spec_teff"][~has_ml], dtype=float)).all()


def test_model_for_other_survey_is_refused(prepared, models):
    with pytest.raises(ModelFormatError, match="skymapper"):
        pipeline.predict_survey(prepared["sdss"], models["skymapper"])


def test_synthetic_model_on_real_data_warns(prepared, models):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pipeline.predict_survey(prepared["sdss"], models["sdss"], data_is_real=True)
    assert any(issubclass(w.category, SyntheticModelWarning) for w in caught)


def test_failed_training_leaves_no_folder(prepared, tmp_path, monkeypatch):
    from sos_vo.catalogue.train_area import TrainingAreaModel
    from sos_vo.ml.options import NetworkOptions

    def broken_save(self, path, **kw):
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(TrainingAreaModel, "save", broken_save)
    out = tmp_path / "model"
    with pytest.raises(OSError, match="disk full"):
        pipeline.train_survey(prepared["sdss"], out, n_members=1,
                              options=NetworkOptions(n_blocks=1, epochs=1), progress=False)
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


def test_prediction_does_not_import_tensorflow(prepared, models, tmp_path):
    sky_dir = tmp_path / "sky"
    code = f"""
import sys
from sos_vo.simulate import simulate_sky
from sos_vo import pipeline
sky = simulate_sky(center=(180.0, 0.0), radius=2.0, n_stars=6000, seed=3)
p = pipeline.prepare_survey(sky.tables, "sdss")
t = pipeline.predict_survey(p, {str(models['sdss'])!r})
assert len(t) == len(p.joined)
print("tensorflow" in sys.modules, "keras" in sys.modules)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=tmp_path)
    assert out.stdout.split()[-2:] == ["False", "False"], out.stdout + out.stderr
    assert not sky_dir.exists()
