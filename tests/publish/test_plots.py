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


def _finite_count(t, *names):
    return int(np.logical_and.reduce([np.isfinite(np.asarray(t[n], float)) for n in names]).sum())


def test_kiel_figure_content():
    t = make_catalogue(300)
    t["ml_teff"][:7] = np.nan  # rows without a value are left out and not counted
    fig = plots.kiel_figure(t)
    try:
        ax = fig.axes[0]
        assert len(fig.axes) == 2  # the panel and its colour bar
        assert "T_{\\rm eff}" in ax.get_xlabel() and "[K]" in ax.get_xlabel()
        assert "\\log g" in ax.get_ylabel()
        assert ax.get_xlim()[0] > ax.get_xlim()[1] and ax.get_ylim()[0] > ax.get_ylim()[1]
        assert ax.get_title() == f"Kiel diagram ({_finite_count(t, 'ml_teff', 'ml_logg')} stars)"
        (hexes,) = ax.collections
        colours = np.asarray(hexes.get_array())  # mean e_ML of [Fe/H] per occupied hexagon
        err = np.asarray(t["ml_err_feh"], float)[np.isfinite(np.asarray(t["ml_teff"], float))]
        assert 0 < colours.size <= 293
        assert err.min() <= colours.min() and colours.max() <= err.max()
        assert "e_ML" in fig.axes[1].get_ylabel()
    finally:
        plots.pyplot().close(fig)


def test_error_histograms_count_every_star():
    t = make_catalogue(200)
    fig = plots.error_histograms_figure(t)
    try:
        assert len(fig.axes) == 3
        for ax, label in zip(fig.axes, ("teff", "logg", "feh"), strict=True):
            assert ax.get_yscale() == "log" and ax.get_ylabel() == "N"
            (patch,) = ax.patches  # one stepfilled histogram
            err = np.asarray(t[f"ml_err_{label}"], float)
            # the outline encloses every star: its area (shoelace) / bin width = N
            edges = np.histogram_bin_edges(err, bins=plots.ERROR_BINS)
            xy = patch.get_path().vertices
            area = 0.5 * abs(np.sum(xy[:-1, 0] * xy[1:, 1] - xy[1:, 0] * xy[:-1, 1]))
            assert area / (edges[1] - edges[0]) == pytest.approx(200)
            (median_line,) = ax.lines
            assert median_line.get_xdata()[0] == pytest.approx(np.median(err))
            assert patch.get_path().vertices[:, 0].min() == pytest.approx(edges[0])
            assert patch.get_path().vertices[:, 0].max() == pytest.approx(edges[-1])
    finally:
        plots.pyplot().close(fig)


def test_one_to_one_shows_the_line_and_the_statistics():
    t = make_catalogue(250)
    t["ml_feh"] = t["spec_feh"] + 0.1  # a known bias of +0.1 dex and no scatter
    fig = plots.one_to_one_figure(t)
    try:
        panels = [ax for ax in fig.axes if ax.get_xlabel().startswith("spec")]
        assert len(panels) == 3
        ax = panels[2]
        assert "[Fe/H]" in ax.get_xlabel() and ax.get_ylabel().startswith("ml")
        (line,) = ax.lines
        x, y = line.get_data()
        np.testing.assert_allclose(x, y)  # the 1:1 line
        (text,) = ax.texts
        bias, std, n = (line.split()[1] for line in text.get_text().splitlines())
        assert float(bias) == pytest.approx(0.1) and abs(float(std)) < 1e-6 and n == "250"
    finally:
        plots.pyplot().close(fig)
