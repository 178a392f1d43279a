"""One homogenisation run: calibrate a survey against a reference and write a report folder.

What ``sos-vo validate homogenise`` runs.  The survey and the reference(s) are matched on a key
(:func:`~sos_vo.homogenise.pairs.match_pairs`; several references are first averaged into
their union, :func:`~sos_vo.homogenise.pairs.union_references`), the pairs are split at random
into train and test sets, and each method is fitted on the train pairs and judged on both sets
(:func:`~sos_vo.homogenise.diagnostics.calibration_diagnostics`).  The report folder (written
atomically) holds per method the binned diagnostics table and figure, optionally the fitted
calibration, and one summary table.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

import numpy as np
from astropy.table import Table

from .base import table_inputs
from .coverage import CoverageModel, coverage_fraction
from .diagnostics import calibration_diagnostics, plot_residual_diagnostics
from .pairs import match_pairs, union_references


def homogenise_survey(survey: Table, references: Mapping[str, Table], out: str | os.PathLike, *,
                      methods: Sequence[str] = ("polynomial", "xgboost"), key: str = "gaia_dr3_id",
                      target: str = "feh", test_fraction: float = 0.2, seed: int = 0,
                      coverage: str = "knn", outside: str = "nan",
                      save_calibrations: bool = False, overwrite: bool = False,
                      label: str = "survey") -> Table:
    """Fit each calibration method of ``survey`` against ``references``; write a report.

    Parameters
    ----------
    survey
        Table to calibrate (``key``, ``teff``, ``logg``, ``feh``).
    references
        name -> reference table; more than one are averaged into their union.
    out
        Report folder (refused if it exists, unless ``overwrite``).
    methods
        Names in :data:`sos_vo.homogenise.METHODS`.
    key, target
        Matching column; label to calibrate.
    test_fraction, seed
        Share of the pairs held out for the test diagnostics, drawn with this seed.
    coverage, outside
        :class:`CoverageModel` method and the policy outside the coverage.
    save_calibrations
        Also save each fitted calibration in the report folder.
    label
        Name of the survey in the report and figure titles (e.g. its file name).

    Returns
    -------
    astropy.table.Table
        Per method, set and stage: N, median and MAD of the residuals, coverage fractions.
    """
    from ..validation.report import report_folder
    from . import METHODS

    reference = (next(iter(references.values())) if len(references) == 1
                 else union_references(dict(references), key=key))
    pairs = match_pairs(survey, reference, key=key)
    rng = np.random.default_rng(seed)
    is_test = rng.random(len(pairs)) < test_fraction
    sets = {"train": pairs[~is_test], "test": pairs[is_test]}
    summaries = []
    with report_folder(out, overwrite=overwrite,
                       title=f"homogenisation of {label} {target}") as rep:
        for method in methods:
            cal = METHODS[method](target=target, coverage=CoverageModel(coverage), outside=outside)
            cal.fit_pairs(sets["train"])
            diag = calibration_diagnostics(cal, sets)
            rep.table(f"diagnostics_{method}.ecsv", diag,
                      f"{method}: binned median and 16th-84th percentiles of survey - reference")
            plot_residual_diagnostics(diag, rep.figure(
                f"diagnostics_{method}.png",
                f"{method}: residuals before/after vs each input, train and test"),
                title=f"{label} {target}: {method}")
            covered = coverage_fraction(cal.coverage, table_inputs(
                survey, teff_scale=cal.teff_normalisation_k))
            for s in diag.meta["summary"]:
                summaries.append({"method": method, **s, "survey_in_coverage_fraction": covered})
            if save_calibrations:
                cal.save(rep.folder / f"calibration_{method}")
        summary = Table(rows=[tuple(s.values()) for s in summaries], names=tuple(summaries[0]))
        rep.table("homogenise_summary.ecsv", summary,
                  "Per method, set and stage: N, median and MAD of the residuals; coverage fractions")
    return summary
