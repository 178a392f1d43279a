"""Figures like those of Turchi et al. (2025): Kiel diagram (Fig. 6), error histograms (Fig. 4),
test-set one-to-one density plots.  Written as PNG or PDF with matplotlib's Agg backend."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from astropy.table import Table

from ..exceptions import EmptyInputError, SchemaError, SosVoError
from ..extras import require
from ..io import atomic_path
from ..schema import LABEL_LATEX, LABEL_UNITS, LABELS

PLOT_FORMATS = {".png": "png", ".pdf": "pdf"}
FIGSIZE_IN = {"kiel": (6.0, 5.0), "errors": (12.0, 3.6), "one-to-one": (12.0, 4.0)}
"""Figure sizes in inches (T25 Figs. 4 and 6 are one- or three-panel figures)."""
DPI = 100
"""Pixels per inch of PNG output: a 6 x 5 in figure is 600 x 500 pixels."""
KIEL_GRIDSIZE = 60
"""Hexagons across the Teff axis in the Kiel diagram (T25 Fig. 6 uses hexagonal bins)."""
ERROR_BINS = 50
"""Histogram bins of the error distributions (T25 Fig. 4)."""


class PlotFormatError(SosVoError, ValueError):
    """The output name does not end in .png or .pdf."""


def pyplot() -> Any:
    """``matplotlib.pyplot`` on the Agg backend (files only, no display).

    matplotlib is the ``plot`` extra: imported here on first use, so that the rest of the
    package (and every module that only imports :func:`save_figure`) works without it.
    """
    matplotlib = require("matplotlib", "drawing figures")
    matplotlib.use("Agg")  # must precede the first import of pyplot
    return require("matplotlib.pyplot", "drawing figures")


def _column(table: Table, name: str) -> np.ndarray:
    if name not in table.colnames:
        raise SchemaError(f"plot needs column {name!r}; the table has {', '.join(table.colnames)}")
    return np.ma.filled(np.ma.asarray(table[name], dtype=float), np.nan)


def save_figure(fig, path: str | os.PathLike, overwrite: bool = False) -> Path:
    """Write a matplotlib figure as PNG or PDF (by suffix) atomically, then close it."""
    plt = pyplot()
    suffix = Path(path).suffix.lower()
    if suffix not in PLOT_FORMATS:
        plt.close(fig)
        raise PlotFormatError(f"cannot write a plot as {suffix!r}: use .png or .pdf ({path})")
    try:
        with atomic_path(path, overwrite=overwrite) as tmp:
            fig.savefig(tmp, format=PLOT_FORMATS[suffix], dpi=DPI)
    finally:
        plt.close(fig)
    return Path(path)


def _finite(*arrays: np.ndarray, what: str) -> np.ndarray:
    ok = np.logical_and.reduce([np.isfinite(a) for a in arrays])
    if not ok.any():
        raise EmptyInputError(f"no row has finite values for the {what} plot")
    return ok


def plot_kiel(table: Table, path: str | os.PathLike, *, prefix: str = "ml_",
              colour_by: str = "feh", overwrite: bool = False) -> Path:
    """Write :func:`kiel_figure` to ``path`` (``.png`` or ``.pdf``; ``overwrite`` replaces)."""
    return save_figure(kiel_figure(table, prefix=prefix, colour_by=colour_by), path, overwrite)


def kiel_figure(table: Table, *, prefix: str = "ml_", colour_by: str = "feh"):
    """Kiel diagram (log g vs Teff, both axes reversed) in hexagonal bins coloured by the mean
    e_ML of ``colour_by`` (T25 Fig. 6).

    Parameters
    ----------
    table : astropy.table.Table
        Catalogue with ``{prefix}teff``, ``{prefix}logg`` and ``{prefix}err_{colour_by}``.
    prefix : str
        ``"ml_"`` (predictions) or ``"spec_"`` (spectroscopic labels).
    colour_by : {"teff", "logg", "feh"}
        Parameter whose error colours the bins.

    Returns
    -------
    matplotlib.figure.Figure
    """
    plt = pyplot()
    teff, logg = _column(table, f"{prefix}teff"), _column(table, f"{prefix}logg")
    err = _column(table, f"{prefix}err_{colour_by}")
    ok = _finite(teff, logg, err, what="Kiel")
    fig, ax = plt.subplots(figsize=FIGSIZE_IN["kiel"])
    hb = ax.hexbin(teff[ok], logg[ok], C=err[ok], reduce_C_function=np.mean,
                   gridsize=KIEL_GRIDSIZE, cmap="viridis", mincnt=1)
    ax.invert_xaxis()
    ax.invert_yaxis()
    ax.set_xlabel(f"{LABEL_LATEX['teff']} [{LABEL_UNITS['teff']}]")
    ax.set_ylabel(f"{LABEL_LATEX['logg']} [{LABEL_UNITS['logg']}]")
    fig.colorbar(hb, ax=ax, label=f"mean e_ML on {LABEL_LATEX[colour_by]} [{LABEL_UNITS[colour_by]}]")
    ax.set_title(f"Kiel diagram ({ok.sum()} stars)")
    fig.tight_layout()
    return fig


def plot_error_histograms(table: Table, path: str | os.PathLike, *, prefix: str = "ml_",
                          labels: Sequence[str] = LABELS, overwrite: bool = False) -> Path:
    """Write :func:`error_histograms_figure` to ``path``."""
    return save_figure(error_histograms_figure(table, prefix=prefix, labels=labels), path,
                       overwrite)


def error_histograms_figure(table: Table, *, prefix: str = "ml_",
                            labels: Sequence[str] = LABELS):
    """Histograms of the per-star errors, log-scaled counts, one panel per label (T25 Fig. 4)."""
    plt = pyplot()
    fig, axes = plt.subplots(1, len(labels), figsize=FIGSIZE_IN["errors"], squeeze=False)
    for ax, label in zip(axes[0], labels, strict=True):
        err = _column(table, f"{prefix}err_{label}")
        ok = _finite(err, what=f"{label} error")
        ax.hist(err[ok], bins=ERROR_BINS, histtype="stepfilled", alpha=0.7)
        ax.set_yscale("log")
        ax.set_xlabel(f"e on {LABEL_LATEX[label]} [{LABEL_UNITS[label]}]")
        ax.set_ylabel("N")
        ax.axvline(np.median(err[ok]), color="k", ls="--", lw=1, label="median")
        ax.legend(frameon=False)
    fig.tight_layout()
    return fig


def plot_one_to_one(table: Table, path: str | os.PathLike, *, truth_prefix: str = "spec_",
                    pred_prefix: str = "ml_", labels: Sequence[str] = LABELS,
                    overwrite: bool = False) -> Path:
    """Write :func:`one_to_one_figure` to ``path``."""
    return save_figure(one_to_one_figure(table, truth_prefix=truth_prefix,
                                         pred_prefix=pred_prefix, labels=labels), path, overwrite)


def one_to_one_figure(table: Table, *, truth_prefix: str = "spec_", pred_prefix: str = "ml_",
                      labels: Sequence[str] = LABELS):
    """Predicted vs reference values as 2-D density (log colour scale) with the 1:1 line,
    one panel per label, with the bias and scatter of the differences (test-set figures of T25)."""
    plt = pyplot()
    LogNorm = require("matplotlib.colors", "drawing figures").LogNorm  # noqa: N806
    fig, axes = plt.subplots(1, len(labels), figsize=FIGSIZE_IN["one-to-one"], squeeze=False)
    for ax, label in zip(axes[0], labels, strict=True):
        x, y = _column(table, f"{truth_prefix}{label}"), _column(table, f"{pred_prefix}{label}")
        ok = _finite(x, y, what=f"{label} one-to-one")
        lo, hi = np.percentile(np.concatenate([x[ok], y[ok]]), [0.5, 99.5])
        _, _, _, image = ax.hist2d(x[ok], y[ok], bins=60, range=[[lo, hi], [lo, hi]],
                                   norm=LogNorm(), cmap="viridis", cmin=1)
        ax.plot([lo, hi], [lo, hi], "r-", lw=1)
        d = y[ok] - x[ok]
        ax.text(0.04, 0.96, f"bias {np.mean(d):.3g}\nstd {np.std(d):.3g}\nN {ok.sum()}",
                transform=ax.transAxes, va="top", fontsize=8)
        ax.set_xlabel(f"{truth_prefix.rstrip('_')} {LABEL_LATEX[label]} [{LABEL_UNITS[label]}]")
        ax.set_ylabel(f"{pred_prefix.rstrip('_')} {LABEL_LATEX[label]} [{LABEL_UNITS[label]}]")
        fig.colorbar(image, ax=ax, label="N")
    fig.tight_layout()
    return fig


PLOTS = {"kiel": plot_kiel, "errors": plot_error_histograms, "one-to-one": plot_one_to_one}
"""Plot kinds offered by ``sos-vo plot``."""
