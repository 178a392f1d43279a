"""Optional dependencies: the one-line hint of :func:`sos_vo.extras.require`, and the core
import graph (querying and numpy prediction import none of the extras)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from sos_vo.exceptions import MissingExtraError, SosVoError
from sos_vo.extras import PROVIDED_BY, install_hint, require

HEAVY = ("tensorflow", "keras", "matplotlib", "xgboost", "dask", "distributed", "sklearn",
         "pyarrow", "lsdb", "astroquery")
"""Top-level modules that only extras install."""


def test_require_returns_the_module():
    assert require("json", "a test") is json


def test_require_names_the_extra_in_one_line(monkeypatch):
    # None in sys.modules makes the import fail, also where an earlier test imported it
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(MissingExtraError) as exc:
        require("matplotlib.pyplot", "drawing figures")
    message = str(exc.value)
    assert "\n" not in message
    assert message == ('drawing figures needs matplotlib, which is not installed: '
                       'pip install "sos-vo[plot]"')
    assert isinstance(exc.value, SosVoError) and isinstance(exc.value, ImportError)


def test_require_explicit_extra_wins(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn", None)
    monkeypatch.setitem(sys.modules, "sklearn.mixture", None)
    with pytest.raises(MissingExtraError, match=r'sos-vo\[train\]'):
        require("sklearn.mixture", "fitting the train_area density", "train")


def test_require_does_not_hide_a_broken_dependency(tmp_path, monkeypatch):
    # a module that exists but whose own import fails is a real error, not a missing extra
    (tmp_path / "sosvo_broken_mod.py").write_text("import sosvo_missing_dependency_xyz\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ModuleNotFoundError) as exc:
        require("sosvo_broken_mod", "a test", "plot")
    assert not isinstance(exc.value, MissingExtraError)


def test_every_extra_named_is_declared():
    from configparser import ConfigParser
    from pathlib import Path

    cfg = ConfigParser()
    cfg.read(Path(__file__).resolve().parents[1] / "setup.cfg")
    declared = set(cfg["options.extras_require"])
    assert set(PROVIDED_BY.values()) <= declared
    assert install_hint("plot") == 'pip install "sos-vo[plot]"'


CORE_SCRIPT = r"""
import json, sys, warnings
import numpy as np
import sos_vo, sos_vo.api, sos_vo.pipeline, sos_vo.cli, sos_vo.commands.predict
import sos_vo.ml.modelio, sos_vo.ml.inference, sos_vo.ml.registry
import sos_vo.publish.writers
from sos_vo import api
from sos_vo.ml.registry import installed_models, DEFAULT_MODELS
sky = api.simulate(center=(180.0, 0.0), radius=0.7, seed=3, n_stars=1500)
models = installed_models()
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    cat = api.predict(sky.tables, {s: models[DEFAULT_MODELS[s]] for s in ("sdss", "skymapper")},
                      progress=False)
heavy = json.loads(sys.argv[1])
print(json.dumps({"rows": len(cat), "finite": int(np.isfinite(np.asarray(cat["ml_teff"], float)).sum()),
                  "imported": sorted(h for h in heavy if h in sys.modules)}))
"""


def test_core_import_graph_predicts_without_extras():
    """Importing sos_vo, the API, the CLI, the query and write modules and predicting with the
    shipped ensembles imports no extra (run in a fresh interpreter: sys.modules is shared here)."""
    proc = subprocess.run([sys.executable, "-c", CORE_SCRIPT, json.dumps(HEAVY)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["rows"] > 0 and result["finite"] > 0
    assert result["imported"] == [], f"the core path imported {result['imported']}"


def test_query_path_imports_no_extra_of_ours():
    """The query path: mocpy and regions import matplotlib themselves when it happens to be
    installed (they do not require it), so only the extras sos-vo itself would pull are checked
    here; the core-only environment of tools/run_tests.sh runs it without matplotlib."""
    script = ("import sys, json; import sos_vo.archives.query, sos_vo.commands.query; "
              "print(json.dumps(sorted(h for h in json.loads(sys.argv[1]) if h in sys.modules)))")
    proc = subprocess.run([sys.executable, "-c", script, json.dumps(HEAVY)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    imported = set(json.loads(proc.stdout.strip().splitlines()[-1])) - {"matplotlib"}
    assert not imported, f"the query path imported {sorted(imported)}"
