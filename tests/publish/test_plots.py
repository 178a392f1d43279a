"""The figures are written, open as images of the size asked for, and refuse bad input."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import make_catalogue
from PIL import Image

from sos_vo.exceptions import EmptyInputError, SchemaError
from sos_vo.publish import plots


@pytest.mark.parametrize("kind", sorted(plots.PLOTS))
def test_png_has_the_expected_size(tmp_path, kind):
    path = plots.PLOTS[kind](make_catalogue(300), tmp_path / f"{kind}.png")
    width, height = plots.FIGSIZE_IN[kind]
    with Image.open(path) as im:
        im.verify()
    with Image.open(path) as im:
        assert im.format == "PNG"
        assert im.size == (round(width * plots.DPI), round(height * plots.DPI))
        assert np.asarray(im.convert("L")).std() > 0  # not a blank canvas


def test_pdf_is_written(tmp_path):
    path = plots.plot_kiel(make_catalogue(100), tmp_path / "kiel.pdf")
    assert path.read_bytes()[:5] == b"%PDF-"


def test_bad_input(tmp_path):
    t = make_catalogue(20)
    with pytest.raises(SchemaError, match="ml_err_feh"):
        plots.plot_kiel(t[[c for c in t.colnames if c != "ml_err_feh"]], tmp_path / "k.png")
    t["ml_teff"][:] = np.nan
    with pytest.raises(EmptyInputError, match="Kiel"):
        plots.plot_kiel(t, tmp_path / "k.png")
    with pytest.raises(ValueError, match=".jpg"):
        plots.plot_error_histograms(make_catalogue(20), tmp_path / "e.jpg")
    (tmp_path / "e.png").write_text("keep")
    with pytest.raises(FileExistsError):
        plots.plot_error_histograms(make_catalogue(20), tmp_path / "e.png")
    assert (tmp_path / "e.png").read_text() == "keep"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["e.png"]
