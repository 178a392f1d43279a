"""Science validation (T25 Sect. 6, App. C-D): star clusters and external catalogues.

* :mod:`~sos_vo.validation.clusters`: per-cluster [Fe/H] residual statistics and Fig. 8 box
  plots (Harris 1996 / Vasiliev & Baumgardt 2021 for globular clusters, Netopil et al. 2016 /
  Hunt & Reffert 2024 for open clusters);
* :mod:`~sos_vo.validation.compare`: offsets and scatter against a reference catalogue matched
  on Gaia DR3 source_id, and Fig. 7 density plots;
* :mod:`~sos_vo.validation.references`: the VizieR identifiers and columns of those catalogues;
* :mod:`~sos_vo.validation.vizier`: both validations with the references fetched from VizieR
  over TAP (:func:`validate_clusters_vizier`, :func:`compare_with_vizier`);
* :mod:`~sos_vo.validation.report`: report folders with a table of figures.
"""

from .clusters import (
    MIN_MEMBERS,
    ClusterValidation,
    cluster_key,
    cluster_residuals,
    harris_references,
    members_table,
    plot_cluster_boxplots,
    reference_table,
)
from .compare import Comparison, NoOverlapError, compare_catalogues, plot_comparison_density
from .harris import read_harris
from .report import Report, report_folder
from .vizier import compare_with_vizier, validate_clusters_vizier

__all__ = [
    "MIN_MEMBERS", "ClusterValidation", "Comparison", "NoOverlapError", "Report", "cluster_key",
    "cluster_residuals", "compare_catalogues", "compare_with_vizier", "harris_references",
    "members_table", "validate_clusters_vizier",
    "plot_cluster_boxplots", "plot_comparison_density", "read_harris", "reference_table",
    "report_folder",
]
