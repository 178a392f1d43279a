"""``sos-vo predict`` on fields a model's survey does not cover, run through :func:`sos_vo.cli.main`."""

from __future__ import annotations

import pytest

from sos_vo.cli import main


@pytest.fixture(scope="module")
def northern_sky(tmp_path_factory):
    """A small synthetic field around the Pleiades: SDSS rows, no SkyMapper rows."""
    out = tmp_path_factory.mktemp("north") / "sky"
    assert main(["simulate", "--center", "56.75", "24.12", "--radius", "0.3", "--n-stars", "400",
                 "--seed", "2", "--out", str(out), "--format", "ecsv"]) == 0
    return out


def test_skymapper_model_on_a_northern_field_is_a_zero_rows_error(northern_sky, tmp_path, capsys):
    capsys.readouterr()
    out = tmp_path / "cat.fits"
    assert main(["predict", str(northern_sky), "--model", "demo_skymapper", "--out", str(out),
                 "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "skymapper" in err and "0 rows" in err
    assert "IndexError" not in err and not out.exists()
