"""``sos-vo validate``: cluster validation, external comparisons and survey homogenisation.

Each sub-command writes a report folder of plots and tables plus ``figures.ecsv``, the table
of figures (:mod:`sos_vo.validation.report`).
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import numpy as np
from astropy.table import Table

NAME = "validate"
HELP = ("Validate a catalogue on star clusters (T25 Fig. 8) or against a reference catalogue "
        "(Fig. 7), or calibrate a spectroscopic survey against a reference (talk 003)")

log = logging.getLogger(__name__)

MEMBER_FORMATS = {
    "generic": {"cluster": "cluster", "source_id": "source_id", "prob": "prob", "min_prob": None},
    "vb21": {"cluster": "cluster", "source_id": "source_id", "prob": "memberprob", "min_prob": 0.8},
    "hr24": {"cluster": "Name", "source_id": "GaiaDR3", "prob": "Prob", "min_prob": None},
}
"""Column presets of member lists: VB21 Zenodo files (with a ``cluster`` column added by the
user) with T25's p > 0.8, HR24 as served by VizieR (J/A+A/686/A42/members), or generic."""

REFERENCE_FORMATS = {"harris": None, "netopil": ("Cluster", "[Fe/H]HQS"), "generic": ("cluster", "feh")}
"""Reference [Fe/H] presets: the raw Harris file, Netopil et al. 2016 as in VizieR, or generic."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Define the ``clusters``, ``compare`` and ``homogenise`` sub-commands."""
    sub = parser.add_subparsers(dest="validation", metavar="WHAT", required=True)

    c = sub.add_parser("clusters", help="per-cluster [Fe/H] residuals and box plots (T25 Sect. 6.4)")
    c.add_argument("--catalogue", required=True, type=Path, help="catalogue table (FITS/VOTable/ECSV)")
    c.add_argument("--value-column", default="ml_feh", help="predicted [Fe/H] column (default ml_feh)")
    c.add_argument("--key", default="gaia_dr3_id", help="catalogue Gaia DR3 id column")
    c.add_argument("--members", required=True, type=Path, help="member list table")
    c.add_argument("--members-format", choices=sorted(MEMBER_FORMATS), default="generic")
    c.add_argument("--members-cluster-column", help="override the preset's cluster column")
    c.add_argument("--min-prob", type=float, help="keep members with probability > this "
                   "(default: the preset's; 0.8 for vb21, T25 Sect. 6.4)")
    c.add_argument("--reference", required=True, type=Path, help="reference [Fe/H] file")
    c.add_argument("--reference-format", choices=sorted(REFERENCE_FORMATS), default="harris")
    c.add_argument("--min-members", type=int, default=None,
                   help="keep clusters with more than this many predicted members (default 20, T25)")
    c.add_argument("--label", default="this catalogue", help="panel title")
    _common(c)

    m = sub.add_parser("compare", help="offsets and scatter against a reference catalogue (T25 Fig. 7)")
    m.add_argument("--catalogue", required=True, type=Path)
    m.add_argument("--reference", required=True, type=Path)
    m.add_argument("--name", required=True, help="name of the reference, e.g. 'Andrae et al. 2023'")
    m.add_argument("--columns", required=True, nargs="+", metavar="OURS=THEIRS",
                   help="column pairs, e.g. ml_teff=teff_xgboost ml_feh=mh_xgboost")
    m.add_argument("--catalogue-key", default="gaia_dr3_id")
    m.add_argument("--reference-key", default="source_id")
    m.add_argument("--reference-below", metavar="COLUMN=VALUE",
                   help="use reference rows with COLUMN < VALUE only (e.g. feh=-2, T25 App. C.1)")
    _common(m)

    h = sub.add_parser("homogenise", help="calibrate a survey against a reference (talk 003)")
    h.add_argument("--survey", required=True, type=Path,
                   help="survey table with gaia_dr3_id, teff, logg, feh (the one to calibrate)")
    h.add_argument("--reference", required=True, type=Path, nargs="+",
                   help="reference table(s); several are averaged into their union")
    h.add_argument("--key", default="gaia_dr3_id")
    h.add_argument("--target", default="feh", choices=("teff", "logg", "feh"))
    h.add_argument("--methods", default="polynomial,xgboost",
                   help="comma-separated: polynomial, xgboost, pysr (optional extra)")
    h.add_argument("--test-fraction", type=float, default=0.2, help="pairs held out for the test diagnostics")
    h.add_argument("--seed", type=int, default=0)
    h.add_argument("--coverage", default="knn", choices=("knn", "hull"))
    h.add_argument("--outside", default="nan", choices=("raise", "nan", "flag"),
                   help="what calibrating a star outside coverage does (default nan)")
    h.add_argument("--save-calibrations", action="store_true", help="save each fitted calibration in the report")
    _common(h)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", required=True, type=Path, help="report folder to write")
    p.add_argument("--overwrite", action="store_true", help="replace an existing report folder")


def run(args: argparse.Namespace) -> int:
    """Dispatch to the chosen validation."""
    return {"clusters": _clusters, "compare": _compare, "homogenise": _homogenise}[args.validation](args)


def _read(path: Path) -> Table:
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist")
    return Table.read(path)


def _clusters(args: argparse.Namespace) -> int:
    from ..validation import clusters as cl
    from ..validation.report import report_folder

    preset = MEMBER_FORMATS[args.members_format]
    members = cl.members_table(_read(args.members), cluster=args.members_cluster_column or preset["cluster"],
                               source_id=preset["source_id"], prob=preset["prob"],
                               min_prob=args.min_prob if args.min_prob is not None else preset["min_prob"])
    if args.reference_format == "harris":
        refs = cl.harris_references(args.reference)
    else:
        ccol, fcol = REFERENCE_FORMATS[args.reference_format]
        refs = cl.reference_table(_read(args.reference), cluster=ccol, feh=fcol)
    min_members = cl.MIN_MEMBERS if args.min_members is None else args.min_members
    result = cl.cluster_residuals(_read(args.catalogue), members, refs, value_column=args.value_column,
                                  catalogue_key=args.key, min_members=min_members)
    with report_folder(args.out, overwrite=args.overwrite, title="cluster validation") as rep:
        rep.table("cluster_stats.ecsv", result.stats,
                  f"Residuals {args.value_column} - [Fe/H]_ref per cluster with > {min_members} members")
        rep.table("clusters_skipped.ecsv", result.skipped, "Clusters left out and why")
        cl.plot_cluster_boxplots({args.label: result},
                                 rep.figure("clusters_boxplot.png", "Box plots sorted by [Fe/H]_ref (T25 Fig. 8)"))
    m, s = result.pooled()
    print(f"{len(result.stats)} clusters kept, {len(result.skipped)} skipped; pooled M = {m:+.3f}, "
          f"Sigma = {s:.3f}; report in {args.out}")
    return 0


def _compare(args: argparse.Namespace) -> int:
    from ..validation.compare import compare_catalogues, plot_comparison_density
    from ..validation.report import report_folder

    columns = dict(_pair(item, "--columns") for item in args.columns)
    reference = _read(args.reference)
    mask = None
    if args.reference_below:
        col, value = _pair(args.reference_below, "--reference-below")
        if col not in reference.colnames:
            raise SystemExit(f"sos-vo validate: error: --reference-below: {args.reference} has no column {col!r}")
        mask = np.ma.filled(np.ma.asarray(reference[col], dtype=float), np.nan) < float(value)
    comp = compare_catalogues(_read(args.catalogue), reference, columns, args.name,
                              catalogue_key=args.catalogue_key, reference_key=args.reference_key,
                              reference_mask=mask)
    with report_folder(args.out, overwrite=args.overwrite, title=f"comparison with {args.name}") as rep:
        rep.table("comparison_stats.ecsv", comp.stats, f"Catalogue - {args.name}: offsets and scatter")
        plot_comparison_density(comp, rep.figure("comparison_density.png",
                                                 f"Catalogue vs {args.name} (T25 Fig. 7 style)"))
    for row in comp.stats:
        print(f"{row['parameter']}: N = {row['n']}, median offset = {row['median_offset']:+.4g}, "
              f"MAD = {row['mad']:.4g}")
    return 0


def _pair(item: str, option: str) -> tuple[str, str]:
    if "=" not in item:
        raise SystemExit(f"sos-vo validate: error: {option}: expected NAME=VALUE, got {item!r}")
    a, b = item.split("=", 1)
    return a.strip(), b.strip()


def _homogenise(args: argparse.Namespace) -> int:
    from .. import homogenise as hm
    from ..homogenise.base import table_inputs
    from ..validation.report import report_folder

    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    unknown = [m for m in methods if m not in hm.METHODS]
    if unknown:
        raise SystemExit(f"sos-vo validate: error: --methods: unknown {', '.join(unknown)} (known: {', '.join(hm.METHODS)})")
    if not 0.0 < args.test_fraction < 1.0:
        raise SystemExit(f"sos-vo validate: error: --test-fraction must be in (0, 1), got {args.test_fraction}")
    survey = _read(args.survey)
    refs = {p.stem: _read(p) for p in args.reference}
    reference = next(iter(refs.values())) if len(refs) == 1 else hm.union_references(refs, key=args.key)
    pairs = hm.match_pairs(survey, reference, key=args.key)
    rng = np.random.default_rng(args.seed)
    is_test = rng.random(len(pairs)) < args.test_fraction
    sets = {"train": pairs[~is_test], "test": pairs[is_test]}
    summaries = []
    with report_folder(args.out, overwrite=args.overwrite,
                       title=f"homogenisation of {args.survey.stem} {args.target}") as rep:
        for method in methods:
            cal = hm.METHODS[method](target=args.target, coverage=hm.CoverageModel(args.coverage),
                                     outside=args.outside)
            try:
                cal.fit_pairs(sets["train"])
            except ImportError as exc:  # an optional extra (PySR, xgboost) is missing
                raise SystemExit(f"sos-vo validate: error: {exc}") from None
            diag = hm.calibration_diagnostics(cal, sets)
            rep.table(f"diagnostics_{method}.ecsv", diag,
                      f"{method}: binned median and 16th-84th percentiles of survey - reference")
            hm.plot_residual_diagnostics(diag, rep.figure(
                f"diagnostics_{method}.png", f"{method}: residuals before/after vs each input, train and test"),
                title=f"{args.survey.stem} {args.target}: {method}")
            covered = hm.coverage_fraction(cal.coverage, table_inputs(survey))
            for s in diag.meta["summary"]:
                summaries.append({"method": method, **s, "survey_in_coverage_fraction": covered})
            if args.save_calibrations:
                cal.save(rep.folder / f"calibration_{method}")
        summary = Table(rows=[tuple(s.values()) for s in summaries], names=tuple(summaries[0]))
        rep.table("homogenise_summary.ecsv", summary,
                  "Per method, set and stage: N, median and MAD of the residuals; coverage fractions")
    print("\n".join(summary.pformat(max_width=-1)))
    return 0
