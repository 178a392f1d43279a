"""Diagnostics of a calibration: binned median residuals with 16th-84th percentile bands.

The homogenisation talk (Avdeeva et al. 2025, AI in Astronomy Workshop, Catania) judges each method by the residual (survey - reference) binned against
each input, Teff, log g and [Fe/H], "for train and test separately", with "the 16th-84th
percentile range as shaded areas".  :func:`calibration_diagnostics` computes these bins before
and after the calibration as one long table; :func:`plot_residual_diagnostics` draws them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np
from astropy.table import Table, vstack

from ..exceptions import EmptyInputError, SchemaError
from ..publish.plots import pyplot, save_figure
from ..schema import LABEL_LATEX, LABEL_UNITS
from ..stats import mad
from .base import INPUT_LABELS, Calibration, _filled

N_BINS = 15
"""Equal-width bins per input between the smallest and largest value of all sets (our choice)."""

MIN_BIN_COUNT = 10
"""Bins with fewer stars report their count but NaN statistics (our choice)."""

PERCENTILES = (16.0, 50.0, 84.0)
"""The band and the median of the talk's binned plots."""

STAGES = ("before", "after")


def bin_edges(values: np.ndarray, n_bins: int = N_BINS) -> np.ndarray:
    """``n_bins + 1`` equal-width edges spanning the finite ``values``."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    if v.size == 0:
        raise EmptyInputError("bin_edges: no finite value to bin")
    lo, hi = float(v.min()), float(v.max())
    if hi == lo:
        hi = lo + 1.0
    return np.linspace(lo, hi, n_bins + 1)


def binned_residuals(x: np.ndarray, residual: np.ndarray, edges: np.ndarray,
                     min_count: int = MIN_BIN_COUNT) -> Table:
    """Median and 16th/84th percentiles of ``residual`` in bins of ``x``.

    The last bin includes its upper edge.  Pairs with a non-finite ``x`` or ``residual`` are
    ignored.

    Returns
    -------
    astropy.table.Table
        ``bin_lo``, ``bin_hi``, ``bin_centre``, ``n``, ``median``, ``p16``, ``p84``.
    """
    x = np.asarray(x, dtype=np.float64).ravel()
    r = np.asarray(residual, dtype=np.float64).ravel()
    if x.size != r.size:
        raise ValueError(f"binned_residuals: {x.size} x values but {r.size} residuals")
    ok = np.isfinite(x) & np.isfinite(r)
    x, r = x[ok], r[ok]
    idx = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, len(edges) - 2)
    inside = (x >= edges[0]) & (x <= edges[-1])
    nb = len(edges) - 1
    stats = np.full((nb, 3), np.nan)
    counts = np.zeros(nb, dtype=np.int64)
    for b in range(nb):
        sel = r[inside & (idx == b)]
        counts[b] = sel.size
        if sel.size >= min_count:
            stats[b] = np.percentile(sel, PERCENTILES)
    return Table({"bin_lo": edges[:-1], "bin_hi": edges[1:], "bin_centre": 0.5 * (edges[:-1] + edges[1:]),
                  "n": counts, "median": stats[:, 1], "p16": stats[:, 0], "p84": stats[:, 2]})


def _residuals(calibration: Calibration, pairs: Table, outside: str | None) -> dict[str, np.ndarray]:
    target = calibration.target
    ref = f"ref_{target}"
    missing = [c for c in (*INPUT_LABELS, ref) if c not in pairs.colnames]
    if missing:
        raise SchemaError(f"pairs table lacks column(s) {', '.join(missing)}")
    teff, logg, feh = (_filled(pairs[c]) for c in INPUT_LABELS)
    before = _filled(pairs[target]) - _filled(pairs[ref])
    pred = calibration.predict_offset(teff, logg, feh, outside=outside)
    return {"teff": teff, "logg": logg, "feh": feh, "before": before, "after": before - pred.offset,
            "in_coverage": pred.in_coverage}


def calibration_diagnostics(calibration: Calibration, sets: Mapping[str, Table],
                            n_bins: int = N_BINS, min_count: int = MIN_BIN_COUNT,
                            outside: str | None = None) -> Table:
    """Binned residuals before and after ``calibration`` for each set of matched pairs.

    Parameters
    ----------
    calibration : Calibration
        A fitted calibration.
    sets : mapping of str to Table
        E.g. ``{"train": pairs_train, "test": pairs_test}``; tables from
        :func:`~sos_vo.homogenise.pairs.match_pairs`.
    n_bins, min_count : int
        Binning (bins shared by all sets, per input).
    outside : str, optional
        Outside-coverage policy for the "after" residuals (default: the calibration's own; with
        ``nan`` uncovered stars are left out of "after" and counted in ``n``'s difference).

    Returns
    -------
    astropy.table.Table
        Long table: ``set``, ``stage`` (before/after), ``input`` (teff/logg/feh), then the
        columns of :func:`binned_residuals`.  Meta ``summary`` holds, per set and stage, N,
        median and MAD (T25 footnote 6) of all residuals.
    """
    if not sets:
        raise EmptyInputError("calibration_diagnostics: no set of pairs given")
    res = {name: _residuals(calibration, pairs, outside) for name, pairs in sets.items()}
    edges = {lab: bin_edges(np.concatenate([r[lab] for r in res.values()]), n_bins)
             for lab in INPUT_LABELS}
    parts, summary = [], []
    for name, r in res.items():
        for stage in STAGES:
            for lab in INPUT_LABELS:
                t = binned_residuals(r[lab], r[stage], edges[lab], min_count)
                t.add_column(lab, name="input", index=0)
                t.add_column(stage, name="stage", index=0)
                t.add_column(name, name="set", index=0)
                parts.append(t)
            finite = r[stage][np.isfinite(r[stage])]
            summary.append({"set": name, "stage": stage, "n": int(finite.size),
                            "median": float(np.median(finite)) if finite.size else np.nan,
                            "mad": mad(finite) if finite.size else np.nan,
                            "in_coverage_fraction": float(np.mean(r["in_coverage"]))})
    out = vstack(parts)
    out.meta["target"] = calibration.target
    out.meta["method"] = calibration.method
    out.meta["summary"] = summary
    return out


def plot_residual_diagnostics(diagnostics: Table, path: str | os.PathLike,
                              overwrite: bool = False, title: str | None = None) -> Path:
    """Draw :func:`calibration_diagnostics` output: one row per set, one column per input.

    Each panel shows the binned median residual before (grey) and after (colour) the
    calibration with the 16th-84th percentile band shaded; written atomically (matplotlib Agg).
    """
    plt = pyplot()

    sets = list(dict.fromkeys(diagnostics["set"]))
    target = diagnostics.meta.get("target", "")
    fig, axes = plt.subplots(len(sets), len(INPUT_LABELS), figsize=(4.2 * len(INPUT_LABELS), 3.2 * len(sets)),
                             squeeze=False, sharey=True)
    colours = {"before": "0.55", "after": "C0"}
    for i, name in enumerate(sets):
        for j, lab in enumerate(INPUT_LABELS):
            ax = axes[i, j]
            for stage in STAGES:
                t = diagnostics[(diagnostics["set"] == name) & (diagnostics["stage"] == stage)
                                & (diagnostics["input"] == lab)]
                ax.fill_between(t["bin_centre"], t["p16"], t["p84"], color=colours[stage], alpha=0.25,
                                step=None)
                ax.plot(t["bin_centre"], t["median"], "o-", ms=3, color=colours[stage], label=stage)
            ax.axhline(0.0, color="k", ls="--", lw=0.8)
            ax.set_xlabel(f"{LABEL_LATEX[lab]} [{LABEL_UNITS[lab]}]")
            if j == 0:
                ax.set_ylabel(f"{name}: Δ{LABEL_LATEX.get(target, target)} (survey − reference)")
            if i == 0 and j == 0:
                ax.legend(fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return save_figure(fig, path, overwrite=overwrite)
