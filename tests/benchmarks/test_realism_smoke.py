"""Smoke tests of benchmarks.realism and benchmarks.segue_real at minimal sizes: they run end to end
on the real tables, print their sections and write JSON; a missing real-data folder is a one-line
error with exit code 2."""

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))

from realdata_files import realdata  # noqa: E402

from benchmarks import realism, segue_real  # noqa: E402


@pytest.fixture(scope="module")
def folder():
    return str(realdata("segue_sspp_colours/data_valid_data.csv").parents[1])


def test_realism_main_prints_before_and_after(folder, tmp_path, capsys):
    out = tmp_path / "realism.json"
    rc = realism.main(["--n-stars", "20000", "--radius", "3", "--no-xgboost", "--realdata", folder,
                       "--json", str(out)])
    text = capsys.readouterr().out
    assert rc == 0
    assert "=== u-g relation: previous ===" in text and "=== u-g relation: calibrated ===" in text
    assert "synthetic - real" in text and "MaStar" in text and "targets:" in text
    payload = json.loads(out.read_text())
    assert [r["relation"] for r in payload["results"]] == ["previous", "calibrated"]


def test_realism_missing_folder_is_exit_2(tmp_path, capsys):
    assert realism.main(["--realdata", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and len(err.strip().splitlines()) == 1


@pytest.mark.slow
def test_segue_real_main_prints_every_method(folder, tmp_path, capsys):
    out = tmp_path / "segue.json"
    rc = segue_real.main(["--rows", "1500", "--members", "1", "--epochs", "1", "--n-blocks", "1",
                          "--n-jobs", "1", "--realdata", folder, "--json", str(out)])
    text = capsys.readouterr().out
    assert rc == 0
    for method in segue_real.METHODS:
        assert method in text
    assert set(json.loads(out.read_text())["results"]) == set(segue_real.METHODS)
