"""External comparisons: the catalogue against a reference catalogue matched on Gaia DR3 id.

T25 Sect. 6.1-6.3 (Fig. 7) compares Teff, log g and [Fe/H] with Zhang et al. (2023), Gu et
al. (2025) and Andrae et al. (2023) as density plots with the 1:1 line; App. C.3 compares log g
with APOKASC-3 (median offset) and App. C.1 the very metal-poor stars with PASTEL.  Here a
difference is always *catalogue minus reference* (the sign of the cluster residuals).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from astropy.table import Table

from ..exceptions import EmptyInputError, SchemaError, SosVoError
from ..publish.plots import pyplot, save_figure
from ..stats import error_statistics

STAT_COLUMNS = ("parameter", "reference_column", "n", "median_offset", "mean_offset", "sigma", "mad", "rmse")


class NoOverlapError(SosVoError, ValueError):
    """The catalogue and the reference catalogue share no star."""


@dataclass
class Comparison:
    """Result of :func:`compare_catalogues`.

    Attributes
    ----------
    name : str
        The reference's name (e.g. ``Andrae et al. 2023``).
    matched : Table
        ``source_id`` and, per parameter, ``<param>`` (catalogue) and ``<param>_ref``.
    stats : Table
        Per parameter: ``n`` pairs with both values finite, ``median_offset``, ``mean_offset``,
        ``sigma`` (ddof=1), ``mad`` (T25 footnote 6) and ``rmse`` of catalogue - reference.
    """

    name: str
    matched: Table
    stats: Table


def compare_catalogues(catalogue: Table, reference: Table, columns: Mapping[str, str], name: str,
                       catalogue_key: str = "gaia_dr3_id", reference_key: str = "source_id",
                       reference_mask: np.ndarray | None = None) -> Comparison:
    """Match on Gaia DR3 source_id and compute offsets and scatter per parameter.

    Parameters
    ----------
    catalogue, reference : Table
        The two catalogues.
    columns : mapping
        Catalogue column -> reference column (e.g. ``{"ml_feh": "mh_xgboost"}``).
    name : str
        Name of the reference, used in messages and plots.
    catalogue_key, reference_key : str
        The Gaia DR3 source_id columns.
    reference_mask : array of bool, optional
        Rows of ``reference`` to use (e.g. ``[Fe/H] < -2`` for T25 App. C.1, or giants).

    Raises
    ------
    NoOverlapError
        If no star is in both catalogues.
    """
    if not columns:
        raise ValueError("compare_catalogues: no column pair given")
    for table, key, cols, what in ((catalogue, catalogue_key, columns.keys(), "catalogue"),
                                   (reference, reference_key, columns.values(), name)):
        missing = [c for c in (key, *cols) if c not in table.colnames]
        if missing:
            raise SchemaError(f"{what} lacks column(s) {', '.join(missing)} "
                              f"(has: {', '.join(table.colnames)})")
    if len(catalogue) == 0 or len(reference) == 0:
        raise EmptyInputError(f"comparison with {name}: catalogue has {len(catalogue)} rows, "
                              f"reference {len(reference)}")
    ref = reference if reference_mask is None else reference[np.asarray(reference_mask, dtype=bool)]
    cat_ids = np.asarray(catalogue[catalogue_key], dtype=np.int64)
    ref_ids = np.asarray(ref[reference_key], dtype=np.int64)
    for ids, what in ((cat_ids, "catalogue"), (ref_ids, name)):
        if np.unique(ids).size != ids.size:
            raise ValueError(f"{what}: {ids.size - np.unique(ids).size} repeated Gaia DR3 ids")
    common, i_c, i_r = np.intersect1d(cat_ids, ref_ids, assume_unique=True, return_indices=True)
    if common.size == 0:
        raise NoOverlapError(
            f"the catalogue ({len(catalogue)} stars) and {name} ({len(ref)} stars"
            f"{' after the mask' if reference_mask is not None else ''}) share no Gaia DR3 "
            f"source_id ({catalogue_key} vs {reference_key}): check the sky region and the id columns")
    matched = Table({"source_id": common})
    rows = []
    for cat_col, ref_col in columns.items():
        a = np.ma.filled(np.ma.asarray(catalogue[cat_col][i_c], dtype=float), np.nan)
        b = np.ma.filled(np.ma.asarray(ref[ref_col][i_r], dtype=float), np.nan)
        matched[cat_col] = a
        matched[f"{cat_col}_ref"] = b
        try:
            s = error_statistics(a, b)
        except EmptyInputError:
            rows.append((cat_col, ref_col, 0, np.nan, np.nan, np.nan, np.nan, np.nan))
            continue
        rows.append((cat_col, ref_col, s.n, s.signed_median, s.signed_mean, s.signed_sigma,
                     s.signed_mad, s.rmse))
    stats = Table(rows=rows, names=STAT_COLUMNS)
    stats.meta["reference"] = name
    return Comparison(name=name, matched=matched, stats=stats)


def plot_comparison_density(comparison: Comparison, path: str | os.PathLike, overwrite: bool = False,
                            bins: int = 80) -> Path:
    """Density plots like T25 Fig. 7: catalogue (x) against reference (y), 1:1 dashed line.

    One panel per parameter, logarithmic colour scale, median offset and MAD annotated.
    """
    plt = pyplot()
    from matplotlib.colors import LogNorm  # matplotlib is there once pyplot() returned

    params = list(comparison.stats["parameter"])
    fig, axes = plt.subplots(1, len(params), figsize=(4.2 * len(params), 4.0), squeeze=False)
    for ax, row in zip(axes[0], comparison.stats, strict=True):
        p = row["parameter"]
        x, y = comparison.matched[p], comparison.matched[f"{p}_ref"]
        ok = np.isfinite(x) & np.isfinite(y)
        if ok.sum() > 0:
            lo = float(min(np.min(x[ok]), np.min(y[ok])))
            hi = float(max(np.max(x[ok]), np.max(y[ok])))
            if hi == lo:
                hi = lo + 1.0
            ax.hist2d(x[ok], y[ok], bins=bins, range=[[lo, hi], [lo, hi]], norm=LogNorm(), cmap="viridis")
            ax.plot([lo, hi], [lo, hi], "k--", lw=0.8)
        ax.set_xlabel(f"{p} (this catalogue)")
        ax.set_ylabel(f"{row['reference_column']} ({comparison.name})")
        ax.text(0.03, 0.97, f"N = {row['n']}\nmedian Δ = {row['median_offset']:+.3g}\nMAD = {row['mad']:.3g}",
                transform=ax.transAxes, va="top", fontsize=8, color="k",
                bbox={"facecolor": "white", "alpha": 0.7, "lw": 0})
    fig.tight_layout()
    return save_figure(fig, path, overwrite=overwrite)
