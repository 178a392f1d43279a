"""The package's predictions beside the published Survey of Surveys DR2 values for the same stars.

``sos-vo query REGION --compare sos-dr2`` fetches the SoS DR2 catalogue (Turchi et al. 2025,
A&A 700, A195, Table 6; :mod:`sos_vo.archives.sos_dr2`) in the region, matches it to the
catalogue on the Gaia DR3 source_id and reports, per parameter and per published column
(``ml_*``: SoS-ML; ``spec_*``: SoS-Spectro, recalibrated), the statistics of T25 Table 4 of the
differences *package minus published*: mean, median, sigma and MAD of the absolute difference
and of the signed one, RMSE and N (:func:`sos_vo.stats.error_statistics`).
"""

from __future__ import annotations

import numpy as np
from astropy.table import Table

from ..archives.label_source import fetch_labels
from ..archives.regions import Region
from ..archives.sos_dr2 import has_ml
from ..schema import LABELS
from ..stats import error_statistics
from .compare import NoOverlapError

CATALOGUE_KEY = "gaia_dr3_id"
PUBLISHED = {"ml": ("ml_teff", "ml_logg", "ml_feh"), "spec": ("teff", "logg", "feh")}
"""Published values compared with, by kind: the SoS DR2 ML values and its spectroscopic labels
(roles of :data:`sos_vo.archives.sos_dr2.SOURCE`)."""


def _with_ml_or_spec(rows: Table) -> np.ndarray:
    """Rows with the published ML values or all three spectroscopic labels."""
    spec = np.all([np.isfinite(np.ma.filled(np.ma.asarray(rows[c], dtype=float), np.nan))
                   for c in ("teff", "logg", "feh")], axis=0)
    return has_ml(rows) | spec


def side_by_side(catalogue: Table, published: Table) -> Table:
    """Catalogue rows with a SoS DR2 entry: ``gaia_dr3_id``, ours and the published values."""
    ids = np.asarray(catalogue[CATALOGUE_KEY], dtype=np.int64)
    pub_ids = np.asarray(published["source_id"], dtype=np.int64)
    common, i_c, i_p = np.intersect1d(ids, pub_ids, return_indices=True)
    if common.size == 0:
        raise NoOverlapError(f"none of the {ids.size} catalogue stars is in SoS DR2 "
                             f"({pub_ids.size} stars fetched in the region)")
    out = Table({CATALOGUE_KEY: common})
    for lab in LABELS:
        out[f"ml_{lab}"] = np.ma.filled(np.ma.asarray(catalogue[f"ml_{lab}"], dtype=float), np.nan)[i_c]
        out[f"sos_dr2_ml_{lab}"] = np.ma.filled(np.ma.asarray(published[f"ml_{lab}"], dtype=float),
                                                np.nan)[i_p]
        out[f"sos_dr2_spec_{lab}"] = np.ma.filled(np.ma.asarray(published[lab], dtype=float),
                                                  np.nan)[i_p]
    return out


def difference_statistics(pairs: Table) -> Table:
    """T25 Table 4 statistics of package minus published, per parameter and published kind."""
    rows = []
    for kind in ("ml", "spec"):
        for lab in LABELS:
            ours = np.asarray(pairs[f"ml_{lab}"], float)
            theirs = np.asarray(pairs[f"sos_dr2_{kind}_{lab}"], float)
            if not np.any(np.isfinite(ours) & np.isfinite(theirs)):
                continue
            s = error_statistics(ours, theirs)
            rows.append((lab, f"sos_dr2_{kind}_{lab}", s.n, s.abs_mean, s.abs_median, s.abs_sigma,
                         s.abs_mad, s.signed_mean, s.signed_median, s.signed_sigma, s.signed_mad,
                         s.rmse))
    return Table(rows=rows, names=("parameter", "published", "n", "abs_mean", "abs_median",
                                   "abs_sigma", "abs_mad", "mean", "median", "sigma", "mad",
                                   "rmse"))


def compare_with_sos_dr2(catalogue: Table, region: Region, *, tap_url: str | None = None,
                         tables: dict[str, str] | None = None, **kwargs) -> tuple[Table, Table]:
    """Fetch SoS DR2 in ``region``, match it to ``catalogue``; return (pairs, statistics).

    ``pairs.meta['provenance']`` holds the fetch's provenance (service, resolved names, ADQL).
    """
    published = fetch_labels("sos-dr2", region, tap_url=tap_url, tables=tables,
                             quality=_with_ml_or_spec, **kwargs)
    pairs = side_by_side(catalogue, published)
    pairs.meta["provenance"] = published.meta["provenance"]
    return pairs, difference_statistics(pairs)
