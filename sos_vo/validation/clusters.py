"""Validation of the predicted [Fe/H] on star clusters (T25 Sect. 6.4, Fig. 8, App. D).

For each cluster, the residuals ``ml_feh - [Fe/H]_ref`` of its member stars that have a
prediction in the catalogue are summarised by mean, sigma, median and MAD; only clusters with
more than :data:`MIN_MEMBERS` such members are kept.  Clusters with too few members, or without
a reference [Fe/H], are reported in ``skipped`` and never averaged in.

References and members (see :mod:`sos_vo.validation.references` for the VizieR identifiers):

* globular clusters: Harris (1996, 2010 edition) [Fe/H] (:func:`read_harris`), members from
  Vasiliev & Baumgardt (2021) with probability > 0.8;
* open clusters: Netopil et al. (2016) high-quality [Fe/H], members from Hunt & Reffert (2024).
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from astropy.table import Table

from ..exceptions import EmptyInputError, SchemaError
from ..publish.plots import pyplot, save_figure
from ..stats import mad
from .harris import read_harris

log = logging.getLogger(__name__)

MIN_MEMBERS = 20
"""T25 Sect. 6.4: clusters "with more than 20 members having ML predictions in our catalog";
a cluster is kept when its number of predicted members is strictly greater than this."""

SUMMARY_COLUMNS = ("cluster", "feh_ref", "n_members", "n_predicted", "mean", "sigma", "median", "mad")

__all__ = ["MIN_MEMBERS", "ClusterValidation", "cluster_key", "cluster_residuals", "harris_references",
           "members_table", "plot_cluster_boxplots", "read_harris", "reference_table"]


def cluster_key(name: str) -> str:
    """Name normalised for matching across catalogues.

    Upper case, spaces and underscores removed, leading zeros of numbers dropped:
    ``NGC 104``, ``NGC_104`` and ``NGC_0104`` all give ``NGC104``.
    """
    key = re.sub(r"[\s_]+", "", str(name).strip().upper())
    return re.sub(r"(?<![0-9.])0+(?=[0-9])", "", key)


def members_table(table: Table, cluster: str = "cluster", source_id: str = "source_id",
                  prob: str | None = "prob", min_prob: float | None = None) -> Table:
    """Member list normalised to ``cluster``, ``source_id``, ``prob`` (NaN when not given).

    ``min_prob`` keeps members with probability strictly above it (T25 Sect. 6.4 uses
    p > 0.8 for VB21, :data:`~sos_vo.validation.references.VB21_MIN_PROBABILITY`).
    """
    need = [c for c in (cluster, source_id, prob) if c is not None and c not in table.colnames]
    if need:
        raise SchemaError(f"members table lacks column(s) {', '.join(need)} "
                          f"(has: {', '.join(table.colnames)})")
    out = Table()
    out["cluster"] = [str(c).strip() for c in table[cluster]]
    out["source_id"] = np.asarray(table[source_id], dtype=np.int64)
    out["prob"] = (np.ma.filled(np.ma.asarray(table[prob], dtype=float), np.nan) if prob
                   else np.full(len(table), np.nan))
    if min_prob is not None:
        if prob is None:
            raise ValueError("min_prob given but the members table has no probability column")
        out = out[out["prob"] > min_prob]
    return out


def reference_table(table: Table, cluster: str = "cluster", feh: str = "feh") -> Table:
    """Reference [Fe/H] per cluster normalised to ``cluster``, ``feh_ref`` (rows without [Fe/H] dropped)."""
    need = [c for c in (cluster, feh) if c not in table.colnames]
    if need:
        raise SchemaError(f"reference table lacks column(s) {', '.join(need)} "
                          f"(has: {', '.join(table.colnames)})")
    values = np.ma.filled(np.ma.asarray(table[feh], dtype=float), np.nan)
    out = Table({"cluster": [str(c).strip() for c in table[cluster]], "feh_ref": values})
    return out[np.isfinite(out["feh_ref"])]


def harris_references(path_or_table: str | os.PathLike | Table) -> Table:
    """Reference table from the Harris catalogue (file path or :func:`read_harris` output).

    Each cluster appears under its ID and, where given, under its other name (``47 Tuc``).
    """
    harris = path_or_table if isinstance(path_or_table, Table) else read_harris(path_or_table)
    ref = reference_table(harris)
    alias = harris[(harris["name"] != "") & np.isfinite(np.asarray(harris["feh"], dtype=float))]
    extra = Table({"cluster": list(alias["name"]), "feh_ref": np.asarray(alias["feh"], dtype=float)})
    return ref if len(extra) == 0 else Table(
        {"cluster": list(ref["cluster"]) + list(extra["cluster"]),
         "feh_ref": np.concatenate([ref["feh_ref"], extra["feh_ref"]])})


@dataclass
class ClusterValidation:
    """Result of :func:`cluster_residuals`.

    Attributes
    ----------
    stats : Table
        Kept clusters sorted by ascending ``feh_ref``: ``cluster``, ``feh_ref``, ``n_members``
        (members after the probability cut), ``n_predicted`` (with a finite prediction),
        ``mean``, ``sigma`` (ddof=1), ``median``, ``mad`` (T25 footnote 6) of the residuals.
    skipped : Table
        ``cluster``, ``feh_ref``, ``n_predicted``, ``reason`` for every cluster left out.
    residuals : dict
        Cluster -> residual array of the kept clusters (for box plots).
    """

    stats: Table
    skipped: Table
    residuals: dict[str, np.ndarray] = field(default_factory=dict)

    def pooled(self) -> tuple[float, float]:
        """Mean (M) and standard deviation (Sigma) of all residuals of the kept clusters pooled,
        the numbers annotated in T25 Fig. 8 (our reading of "the mean metallicity difference
        (M) and standard deviation")."""
        if not self.residuals:
            return np.nan, np.nan
        allres = np.concatenate(list(self.residuals.values()))
        return float(allres.mean()), float(allres.std(ddof=1))


def cluster_residuals(catalogue: Table, members: Table, references: Table,
                      value_column: str = "ml_feh", catalogue_key: str = "gaia_dr3_id",
                      min_members: int = MIN_MEMBERS) -> ClusterValidation:
    """Per-cluster statistics of ``catalogue[value_column] - [Fe/H]_ref`` over members.

    Parameters
    ----------
    catalogue : Table
        With ``catalogue_key`` (Gaia DR3 source_id) and ``value_column``.
    members : Table
        From :func:`members_table` (``cluster``, ``source_id``; probability cut already done).
    references : Table
        From :func:`reference_table` or :func:`harris_references` (``cluster``, ``feh_ref``).
        Cluster names are matched with :func:`cluster_key`.
    min_members : int
        Keep clusters with more than this many predicted members.
    """
    for col in (catalogue_key, value_column):
        if col not in catalogue.colnames:
            raise SchemaError(f"catalogue lacks column {col!r} (has: {', '.join(catalogue.colnames)})")
    if len(members) == 0:
        raise EmptyInputError("cluster_residuals: the members table is empty")
    ids = np.asarray(catalogue[catalogue_key], dtype=np.int64)
    values = np.ma.filled(np.ma.asarray(catalogue[value_column], dtype=float), np.nan)
    order = np.argsort(ids)
    ids, values = ids[order], values[order]
    ref = {}
    for row in references:
        ref.setdefault(cluster_key(row["cluster"]), float(row["feh_ref"]))
    keys = np.array([cluster_key(c) for c in members["cluster"]])
    kept, skipped, residuals = [], [], {}
    for key in dict.fromkeys(keys):
        sel = keys == key
        name = str(members["cluster"][np.flatnonzero(sel)[0]])
        sid = np.asarray(members["source_id"][sel], dtype=np.int64)
        pos = np.clip(np.searchsorted(ids, sid), 0, max(ids.size - 1, 0))
        found = ids.size > 0
        matched = (ids[pos] == sid) if found else np.zeros(sid.size, dtype=bool)
        pred = values[pos[matched]]
        pred = pred[np.isfinite(pred)]
        feh_ref = ref.get(key, np.nan)
        if not np.isfinite(feh_ref):
            skipped.append((name, np.nan, pred.size, "no reference [Fe/H]"))
            continue
        if pred.size <= min_members:
            skipped.append((name, feh_ref, pred.size,
                            f"only {pred.size} members with predictions (need > {min_members})"))
            continue
        r = pred - feh_ref
        residuals[name] = r
        kept.append((name, feh_ref, int(sel.sum()), r.size, r.mean(), r.std(ddof=1), np.median(r), mad(r)))
    stats = Table(rows=kept, names=SUMMARY_COLUMNS) if kept else Table(
        names=SUMMARY_COLUMNS, dtype=(str, float, int, int, float, float, float, float))
    stats.sort("feh_ref")
    skipped_t = Table(rows=skipped, names=("cluster", "feh_ref", "n_predicted", "reason")) if skipped \
        else Table(names=("cluster", "feh_ref", "n_predicted", "reason"), dtype=(str, float, int, str))
    for row in skipped_t:
        log.info("cluster %s skipped: %s", row["cluster"], row["reason"])
    return ClusterValidation(stats=stats, skipped=skipped_t,
                             residuals={c: residuals[c] for c in stats["cluster"]})


def plot_cluster_boxplots(results: Mapping[str, ClusterValidation], path: str | os.PathLike,
                          overwrite: bool = False, title: str | None = None) -> Path:
    """Box plots of the residuals per cluster, sorted by ascending reference [Fe/H] (T25 Fig. 8).

    One panel per entry of ``results`` (e.g. this catalogue and literature catalogues).  Boxes
    span the interquartile range with the median line; whiskers reach 1.5 IQR; outliers are
    drawn as points; M and Sigma (:meth:`ClusterValidation.pooled`) are annotated; the dashed
    line is zero.
    """
    plt = pyplot()

    if not results:
        raise EmptyInputError("plot_cluster_boxplots: no result to draw")
    n = len(results)
    fig, axes = plt.subplots(1, n, figsize=(max(5.0, 0.45 * _max_clusters(results) + 2) * n, 4.2),
                             squeeze=False, sharey=True)
    for ax, (label, res) in zip(axes[0], results.items(), strict=True):
        names = list(res.stats["cluster"])
        if names:
            ax.boxplot([res.residuals[c] for c in names], whis=1.5, widths=0.6,
                       flierprops={"marker": ".", "markersize": 3})
            ax.set_xticks(range(1, len(names) + 1),
                          [f"{c} ({f:+.2f})" for c, f in zip(names, res.stats["feh_ref"], strict=True)],
                          rotation=90, fontsize=7)
            m, s = res.pooled()
            ax.text(0.02, 0.97, f"M = {m:+.3f}\nΣ = {s:.3f}", transform=ax.transAxes, va="top", fontsize=8)
        else:
            ax.text(0.5, 0.5, "no cluster with enough members", transform=ax.transAxes, ha="center")
        ax.axhline(0.0, color="k", ls="--", lw=0.8)
        ax.set_title(label)
    axes[0, 0].set_ylabel("[Fe/H] − [Fe/H]$_{ref}$ [dex]")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return save_figure(fig, path, overwrite=overwrite)


def _max_clusters(results: Mapping[str, ClusterValidation]) -> int:
    return max((len(r.stats) for r in results.values()), default=1)
