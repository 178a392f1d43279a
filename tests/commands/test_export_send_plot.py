"""The ``export``, ``send`` and ``plot`` sub-commands, run through :func:`sos_vo.cli.main`."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits
from PIL import Image

sys.path.insert(0, str(Path(__file__).parents[1] / "publish"))
from helpers import make_catalogue  # noqa: E402

from sos_vo.cli import main  # noqa: E402
from sos_vo.publish import Provenance, read_table, write_catalogue  # noqa: E402


@pytest.fixture
def catalogue_fits(tmp_path):
    prov = Provenance(model_version="m-test", releases=("Gaia DR3",), queries=("SELECT 1",))
    return write_catalogue(make_catalogue(20), tmp_path / "cat.fits", provenance=prov)


def test_export_votable_keeps_values_and_provenance(tmp_path, catalogue_fits, capsys):
    out = tmp_path / "cat.vot"
    assert main(["export", str(catalogue_fits), "--format", "votable", "--out", str(out)]) == 0
    assert "20 rows" in capsys.readouterr().out
    back, original = read_table(out), read_table(catalogue_fits)
    assert back["sosid"].tolist() == original["sosid"].tolist()
    assert back.meta["provenance"]["model_version"] == "m-test"
    assert back.meta["provenance"]["queries"] == ["SELECT 1"]
    if shutil.which("stilts"):
        lint = subprocess.run(["stilts", "votlint", str(out)], capture_output=True, text=True)
        assert (lint.stdout + lint.stderr).strip() == ""


def test_export_fits_and_overwrite(tmp_path, catalogue_fits, capsys):
    out = tmp_path / "again.fits"
    args = ["export", str(catalogue_fits), "--format", "fits", "--out", str(out)]
    assert main(args) == 0
    assert fits.getheader(out, 1)["RELEAS1"] == "Gaia DR3"
    assert main(args) == 2
    assert "already exists" in capsys.readouterr().err
    assert main(args + ["--overwrite"]) == 0


def test_export_cds(tmp_path, catalogue_fits, capsys):
    out = tmp_path / "cds"
    base = ["export", str(catalogue_fits), "--format", "cds", "--out", str(out)]
    assert main(base) == 2
    assert "--title" in capsys.readouterr().err
    assert main(base + ["--title", "T\u00e9st", "--author", "Doe J."]) == 2
    assert "non-ASCII" in capsys.readouterr().err and not out.exists()
    assert main(base + ["--title", "Test catalogue", "--author", "Doe J.", "--author", "Roe R.",
                        "--note", "source=SDSS, SM or SDSS+SM"]) == 0
    readme = (out / "ReadMe").read_text()
    assert "Test catalogue" in readme and "Note (1): SDSS, SM or SDSS+SM" in readme


def test_export_refuses_a_table_without_catalogue_columns(tmp_path, capsys):
    t = make_catalogue(5)
    t.remove_column("ml_teff")
    src = tmp_path / "partial.ecsv"
    t.write(src)
    assert main(["export", str(src), "--format", "fits", "--out", str(tmp_path / "o.fits")]) == 2
    assert "ml_teff" in capsys.readouterr().err
    assert main(["export", str(src), "--format", "fits", "--out", str(tmp_path / "o.fits"),
                 "--any-table"]) == 0


def test_send_without_hub(tmp_path, catalogue_fits, monkeypatch, capsys):
    monkeypatch.setenv("SAMP_HUB", f"std-lockurl:{(tmp_path / 'none').as_uri()}")
    assert main(["send", str(catalogue_fits)]) == 2
    assert "no SAMP hub is running" in capsys.readouterr().err


def test_send_with_started_hub_reports_missing_client(tmp_path, catalogue_fits, monkeypatch, capsys):
    monkeypatch.setenv("SAMP_HUB", f"std-lockurl:{(tmp_path / 'lock').as_uri()}")
    assert main(["send", str(catalogue_fits), "--start-hub", "--hub-linger", "0",
                 "--to", "topcat"]) == 2
    captured = capsys.readouterr()
    assert "started a SAMP hub" in captured.out and "no SAMP client called 'topcat'" in captured.err
    assert not (tmp_path / "lock").exists()  # the hub we started is stopped again


@pytest.mark.parametrize("kind", ["kiel", "errors", "one-to-one"])
def test_plot(tmp_path, catalogue_fits, kind):
    out = tmp_path / f"{kind}.png"
    assert main(["plot", kind, str(catalogue_fits), "--out", str(out)]) == 0
    from sos_vo.publish.plots import DPI, FIGSIZE_IN

    with Image.open(out) as im:
        assert im.format == "PNG"
        width, height = FIGSIZE_IN[kind]
        assert im.size == (round(width * DPI), round(height * DPI))
        rgb = np.asarray(im.convert("RGB"), dtype=int)
    # data drawn in colour (viridis bins, filled histograms), not only black axes on white
    coloured = (np.ptp(rgb, axis=2) > 40).mean()
    assert coloured > 0.01, f"{kind}: only {coloured:.2%} of the pixels are coloured"


def test_plot_bad_suffix(tmp_path, catalogue_fits, capsys):
    assert main(["plot", "kiel", str(catalogue_fits), "--out", str(tmp_path / "k.gif")]) == 2
    assert ".png or .pdf" in capsys.readouterr().err


@pytest.mark.parametrize("value", ["", "  ", "not-a-lockurl"])
@pytest.mark.parametrize("start_hub", [False, True])
def test_send_with_unusable_samp_hub_variable(value, start_hub, catalogue_fits, monkeypatch, capsys):
    """$SAMP_HUB set but empty (or not a std-lockurl) is one line naming the variable, exit 2."""
    monkeypatch.setenv("SAMP_HUB", value)
    argv = ["send", str(catalogue_fits)] + (["--start-hub", "--hub-linger", "0"] if start_hub else [])
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "$SAMP_HUB" in err and "Traceback" not in err
