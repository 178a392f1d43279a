"""The error boundary of ``sos-vo``: one line and exit code 2 for bad input, nothing lost."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from astropy.table import Table

import sos_vo
from sos_vo import cli
from sos_vo.cli import main

DEMO_MODEL = str(Path(sos_vo.__file__).parent / "models" / "demo_sdss")


def run(argv, capsys):
    try:
        code = main([str(a) for a in argv])
    except SystemExit as exc:  # argparse's usage errors exit from parse_args
        code = exc.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_one_line_error(code, err, *words):
    assert code == 2, err
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    for word in words:
        assert word in lines[0], lines[0]


@pytest.fixture
def sky(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "sky"
    assert main(["simulate", "--center", "180", "0", "--radius", "0.5", "--n-stars", "300",
                 "--seed", "2", "--out", str(out)]) == 0
    return out


@pytest.mark.parametrize("argv, words", [
    (["simulate", "--center", "nan", "0", "--radius", "1", "--out", "s"], ["--center", "finite"]),
    (["simulate", "--center", "1", "0", "--radius", "0", "--out", "s"], ["--radius", "> 0"]),
    (["simulate", "--center", "1", "0", "--radius", "1", "--n-stars", "-5", "--out", "s"],
     ["--n-stars", ">= 1"]),
    (["simulate", "--center", "1", "0", "--radius", "1", "--out", ""], ["--out", "empty"]),
    (["plan", "circle 1e400 2 1deg"], ["RA", "finite"]),
    (["plan", "healpix 5 -1"], ["negative"]),
    (["plan", "moc garbage"], ["MOC"]),
    (["plan", "--workers", "0", "circle 1 2 1"], ["--workers"]),
    (["plan", "--bandwidth", "-1", "circle 1 2 1"], ["--bandwidth"]),
    (["train", "sky", "--survey", "sdss", "--out", "m", "--members", "0"], ["--members"]),
    (["train", "sky", "--survey", "sdss", "--out", "m", "--epochs", "0"], ["--epochs"]),
    (["export", "x.fits", "--format", "bogus", "--out", "y"], ["--format"]),
    (["bogus-command"], ["invalid choice"]),
])
def test_bad_options_one_line(tmp_path, monkeypatch, capsys, argv, words):
    monkeypatch.chdir(tmp_path)
    code, _, err = run(argv, capsys)
    assert_one_line_error(code, err, *words)
    assert list(tmp_path.iterdir()) == []


def test_plan_survey_both(capsys):
    code, out, _ = run(["plan", "circle 56.75 24.12 3deg", "--survey", "both"], capsys)
    assert code == 0
    assert "survey sdss" in out and "survey skymapper" in out


def test_export_never_empties_the_current_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    Table({"a": [1.0]}).write("in.fits")
    before = (tmp_path / "in.fits").read_bytes()
    code, _, err = run(["export", "in.fits", "--format", "cds", "--out", ".", "--overwrite",
                        "--title", "t", "--author", "A B.", "--any-table", "--lenient"], capsys)
    assert_one_line_error(code, err)
    assert (tmp_path / "in.fits").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.fits"]


def test_predict_refuses_its_input_folder_before_predicting(sky, capsys):
    before = sorted(p.name for p in sky.iterdir())
    code, _, err = run(["predict", sky, "--model", DEMO_MODEL, "--out", sky, "--format", "fits",
                        "--overwrite"], capsys)
    assert_one_line_error(code, err, "folder")
    assert sorted(p.name for p in sky.iterdir()) == before


def test_predict_unknown_suffix_fails_before_work(sky, tmp_path, capsys):
    code, _, err = run(["predict", sky, "--model", DEMO_MODEL, "--out", tmp_path / "cat.csv"],
                       capsys)
    assert_one_line_error(code, err, "cat.csv")


def test_train_existing_out_refused_before_training(sky, tmp_path, capsys, monkeypatch):
    out = tmp_path / "m"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    from sos_vo import api

    def no_training(*a, **k):  # pragma: no cover - reached only if the check comes too late
        raise AssertionError("training started before the output check")

    monkeypatch.setattr(api, "train", no_training)
    code, _, err = run(["train", sky, "--survey", "sdss", "--out", out, "--overwrite"], capsys)
    assert_one_line_error(code, err, "did not write")
    assert (out / "notes.txt").read_text() == "mine"


def test_demo_out_is_a_file(tmp_path, capsys):
    f = tmp_path / "demo_output"
    f.write_text("x")
    code, _, err = run(["demo", "--out", f], capsys)
    assert_one_line_error(code, err, "is a file")


@pytest.mark.parametrize("text, words", [
    ("", ["not valid JSON"]),
    ("{}", ["lacks"]),
    ('{"format": "votable", "tables": {"gaiadr3.gaia_source": "../../../etc/passwd"}, '
     '"truth": "truth.vot"}', ["plain file name"]),
])
def test_bad_manifest(sky, tmp_path, capsys, text, words):
    (sky / "manifest.json").write_text(text)
    code, _, err = run(["train", sky, "--survey", "sdss", "--out", tmp_path / "m"], capsys)
    assert_one_line_error(code, err, *words)


def test_truncated_table_in_sky_folder(sky, tmp_path, capsys):
    path = sky / "gaiadr3.gaia_source.vot"
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    code, _, err = run(["train", sky, "--survey", "sdss", "--out", tmp_path / "m"], capsys)
    assert_one_line_error(code, err, "gaiadr3.gaia_source.vot")


@pytest.mark.parametrize("suffix", [".fits", ".ecsv"])
def test_truncated_catalogue(tmp_path, capsys, suffix):
    path = tmp_path / f"cat{suffix}"
    Table({"a": np.arange(5000.0), "b": np.arange(5000)}).write(path)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    code, _, err = run(["export", path, "--format", "votable", "--out", tmp_path / "x.vot",
                        "--any-table", "--lenient"], capsys)
    assert_one_line_error(code, err, path.name)
    assert not (tmp_path / "x.vot").exists()


def test_truncated_weights_named(tmp_path, capsys):
    import json
    import shutil

    model = tmp_path / "model"
    shutil.copytree(DEMO_MODEL, model)
    meta = json.loads((model / "model.json").read_text())
    meta.pop("sha256", None)  # no checksum to catch it: the loader must
    (model / "model.json").write_text(json.dumps(meta))
    (model / "SHA256SUMS").unlink(missing_ok=True)  # an older folder, without the manifest
    w = model / "weights.npz"
    w.write_bytes(w.read_bytes()[:1000])
    from sos_vo.exceptions import ModelFormatError
    from sos_vo.ml.modelio import load_model

    with pytest.raises(ModelFormatError, match="inconsistent model files"):
        load_model(model)


def test_unexpected_error_one_line_and_debug(monkeypatch, capsys):
    from sos_vo.commands import plan

    def boom(args):
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(plan, "run", boom)
    code, _, err = run(["plan", "circle 1 2 1"], capsys)
    assert code == cli.EXIT_BUG and "Traceback" not in err and len(err.splitlines()) == 1
    assert "--debug" in err and "ZeroDivisionError" in err
    with pytest.raises(ZeroDivisionError):
        main(["--debug", "plan", "circle 1 2 1"])


def test_keyboard_interrupt_exit_130(monkeypatch, capsys, tmp_path):
    from sos_vo.commands import plan
    from sos_vo.io import atomic_path

    def interrupted(args):
        with atomic_path(tmp_path / "x.fits") as tmp:
            tmp.write_text("half")
            raise KeyboardInterrupt

    monkeypatch.setattr(plan, "run", interrupted)
    code, _, err = run(["plan", "circle 1 2 1"], capsys)
    assert code == cli.EXIT_SIGINT and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


def test_sigint_in_a_real_process(tmp_path):
    """Ctrl-C during ``sos-vo simulate``: exit 130, no traceback, no folder, no temporaries."""
    proc = subprocess.Popen([sys.executable, "-m", "sos_vo.cli", "simulate", "--center", "180",
                             "0", "--radius", "5", "--n-stars", "200000", "--out",
                             str(tmp_path / "sky")], stderr=subprocess.PIPE, text=True)
    time.sleep(3.0)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    if proc.returncode == 0:  # pragma: no cover - a very fast machine finished first
        pytest.skip("simulate finished before the signal")
    assert proc.returncode == cli.EXIT_SIGINT, err
    assert "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


def test_a_command_module_that_fails_to_import_is_an_error(monkeypatch):
    monkeypatch.setattr(cli, "COMMAND_MODULES", (*cli.COMMAND_MODULES, "no_such_command"))
    with pytest.raises(ModuleNotFoundError):
        cli.build_parser()


def test_help_does_not_import_the_science_stack():
    code = ("import sys; from sos_vo.cli import build_parser, _selected_command; "
            "build_parser(only=_selected_command(['--help'])); "
            "heavy = [m for m in ('matplotlib', 'mocpy', 'astropy.table', 'tensorflow') "
            "if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


TF_LOG_LINE = re.compile(r"tensorflow|oneDNN|absl::|cpu_feature_guard|cuda|cuDNN|cuFFT|cuBLAS|"
                         r"TF-TRT|XLA|retracing|^[IWEF]\d{4} \d\d:\d\d:\d\d", re.IGNORECASE)
"""A line of TensorFlow's C++ start-up log (glog prefix ``I0000 00:00:...``) or of its Python
logger (``WARNING tensorflow: ... retracing``)."""


def _stderr_of(argv: list[str], cwd: Path) -> str:
    env = {k: v for k, v in os.environ.items()
           if k not in ("TF_CPP_MIN_LOG_LEVEL", "SOS_VO_TF_LOG_SET")}
    proc = subprocess.run([sys.executable, "-m", "sos_vo.cli", *argv], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=900, check=False)
    assert proc.returncode == 0, proc.stderr
    return proc.stderr


@pytest.mark.slow
def test_train_and_demo_print_no_tensorflow_log_lines(tmp_path):
    """Real ``sos-vo train`` and ``sos-vo demo`` processes: their stderr has no TensorFlow
    start-up or logger line (the pattern does match what a bare TensorFlow import prints)."""
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    bare = subprocess.run([sys.executable, "-c", "import tensorflow as tf; tf.constant(0.0) + 0.0"],
                          env=env, capture_output=True, text=True, timeout=300, check=True).stderr
    if bare.strip():  # the control: this machine's TensorFlow does talk, and the pattern sees it
        assert any(TF_LOG_LINE.search(line) for line in bare.splitlines()), bare
    assert main(["simulate", "--center", "180", "0", "--radius", "0.5", "--n-stars", "2000",
                 "--seed", "3", "--out", str(tmp_path / "sky"), "--format", "ecsv"]) == 0
    tiny = ["--members", "1", "--epochs", "1", "--blocks", "1", "--no-progress"]
    for argv in (["train", "sky", "--survey", "sdss", "--out", "model", *tiny],
                 ["demo", "--out", "demo", "--n-stars", "2000", "--radius", "0.5", *tiny]):
        err = _stderr_of(argv, tmp_path)
        noise = [line for line in err.splitlines() if TF_LOG_LINE.search(line)]
        assert noise == [], f"sos-vo {argv[0]} stderr:\n{err}"
        assert "VerifyWarning" not in err, err
