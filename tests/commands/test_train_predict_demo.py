"""``sos-vo simulate | train | predict | demo`` and ``--help`` of every command."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from astropy.table import Table

from sos_vo.cli import build_parser, main
from sos_vo.commands import COMMAND_MODULES
from sos_vo.schema import CATALOGUE_NAMES

pytestmark = pytest.mark.slow

TINY = ["--blocks", "2", "--epochs", "4"]


@pytest.mark.parametrize("command", COMMAND_MODULES)
def test_every_command_has_help(command, capsys):
    with pytest.raises(SystemExit) as exc:
        main([command.replace("_", "-"), "--help"])  # module build_model: command build-model
    assert exc.value.code == 0
    assert "usage: sos-vo" in capsys.readouterr().out


def test_every_command_module_is_registered():
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    assert {m.replace("_", "-") for m in COMMAND_MODULES} <= set(sub.choices)


@pytest.fixture(scope="module")
def sky_folder(tmp_path_factory):
    out = tmp_path_factory.mktemp("sky") / "sky"
    assert main(["simulate", "--center", "180", "0", "--radius", "1.5", "--n-stars", "4000",
                 "--seed", "5", "--out", str(out), "--format", "ecsv"]) == 0
    return out


def test_train_then_predict(sky_folder, tmp_path, capsys):
    model = tmp_path / "m_sdss"
    assert main(["train", str(sky_folder), "--survey", "sdss", "--out", str(model),
                 "--members", "2", *TINY, "--no-progress", "--input-colours", "none",
                 "--lr-schedule", "cosine", "--batch-size", "64"]) == 0
    meta = json.loads((model / "model.json").read_text())
    assert meta["survey"] == "sdss" and meta["n_members"] == 2
    opts = meta["options"]
    assert (opts["input_colours"], opts["lr_schedule"], opts["batch_size"]) == ("none", "cosine", 64)
    assert meta["input_scaler"]["colours"] == []
    printed = capsys.readouterr().out
    assert "abs_mad" in printed
    assert not re.search(r"\d\.\d{4,}", printed), printed  # K to 0.1, dex to 0.001
    # a second run refuses to overwrite
    assert main(["train", str(sky_folder), "--survey", "sdss", "--out", str(model),
                 "--members", "2", *TINY, "--no-progress"]) == 2
    cat = tmp_path / "cat.fits"
    assert main(["predict", str(sky_folder), "--model", str(model), "--out", str(cat),
                 "--no-progress"]) == 0
    t = Table.read(cat)
    assert tuple(t.colnames) == CATALOGUE_NAMES
    assert len(t) > 0 and len(np.unique(t["sosid"])) == len(t)
    # a model for the wrong survey is refused before anything is written
    bad = tmp_path / "bad.fits"
    assert main(["predict", str(sky_folder), "--model", f"skymapper={model}", "--out",
                 str(bad), "--no-progress"]) == 2
    assert not bad.exists()


def test_demo_runs_whole_chain(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), "--n-stars", "5000", "--radius", "1.5",
                 "--members", "2", *TINY, "--no-progress"]) == 0
    text = capsys.readouterr().out
    assert "quality cuts" in text and "SYNTHETIC demo catalogue" in text
    assert not re.search(r"\d\.\d{4,}", text), text  # test-set errors: K to 0.1, dex to 0.001
    cat = Table.read(out / "catalogue.fits")
    assert tuple(cat.colnames) == CATALOGUE_NAMES
    for survey in ("sdss", "skymapper"):
        assert (out / "models" / survey / "model.json").is_file()
        assert (out / f"cuts_{survey}.ecsv").is_file()
    # refuses a non-empty folder without --overwrite
    assert main(["demo", "--out", str(out), "--n-stars", "5000", "--no-progress"]) == 2
