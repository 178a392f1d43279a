"""``sos-vo validate``: cluster validation, external comparisons and survey homogenisation.

Each sub-command writes a report folder of plots and tables plus ``figures.ecsv``, the table
of figures (:mod:`sos_vo.validation.report`).
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from astropy.table import Table

NAME = "validate"
HELP = ("Validate a catalogue on star clusters (T25 Fig. 8) or against a reference catalogue "
        "(Fig. 7), or calibrate a spectroscopic survey against a reference (Avdeeva et al. 2025)")

log = logging.getLogger(__name__)

MEMBER_FORMATS = {
    "generic": {"cluster": "cluster", "source_id": "source_id", "prob": "prob", "min_prob": None},
    "vb21": {"cluster": "cluster", "source_id": "source_id", "prob": "memberprob", "min_prob": 0.8},
    "hr24": {"cluster": "Name", "source_id": "GaiaDR3", "prob": "Prob", "min_prob": None},
}
"""Column presets of member lists: VB21 Zenodo files (with a ``cluster`` column added by the
user) with T25's p > 0.8, HR24 as served by VizieR (J/A+A/686/A42/members), or generic."""

COMPARISON_KEYS = {
    "andrae2023": "Andrae et al. 2023, J/ApJS/267/8",
    "zhang2023": "Zhang et al. 2023, J/MNRAS/524/1855 (needs --vizier-table/--vizier-column)",
    "gu2025": "Gu et al. 2025, J/ApJS/277/19 (needs --vizier-table/--vizier-column)",
    "apokasc3": "APOKASC-3, J/ApJS/276/69",
    "pastel": "PASTEL, B/pastel/pastel, matched by position, [Fe/H] < -2 (T25 App. C.1)",
}
"""``--vizier`` keys (sos_vo.validation.references.COMPARISONS), listed here so --help needs no
import of the validation package."""

REFERENCE_FORMATS = {"harris": None, "netopil": ("Cluster", "[Fe/H]HQS"), "generic": ("cluster", "feh")}
"""Reference [Fe/H] presets: the raw Harris file, Netopil et al. 2016 as in VizieR, or generic."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Define the ``clusters``, ``compare`` and ``homogenise`` sub-commands."""
    sub = parser.add_subparsers(dest="validation", metavar="WHAT", required=True)

    c = sub.add_parser(
        "clusters", help="per-cluster [Fe/H] residuals and box plots (T25 Sect. 6.4)",
        description="Per-cluster residuals of the predicted [Fe/H] against literature cluster "
                    "metallicities.  From files (--members, --reference) or from VizieR over TAP "
                    "(--from-vizier): open clusters take the Hunt & Reffert (2024) members "
                    "(J/A+A/686/A42/members) and Netopil et al. (2016) [Fe/H] "
                    "(J/A+A/585/A150/tablea1); globular clusters take the Harris [Fe/H] of VizieR "
                    "VII/202 (the 1997 revision; the 2010 file mwgc.dat needs --reference), while "
                    "their Vasiliev & Baumgardt (2021) members are published on Zenodo "
                    "(doi:10.5281/zenodo.4891252), not VizieR, so they always come from --members.")
    c.add_argument("--catalogue", required=True, type=Path, help="catalogue table (FITS/VOTable/ECSV)")
    c.add_argument("--value-column", default="ml_feh", help="predicted [Fe/H] column (default ml_feh)")
    c.add_argument("--key", default="gaia_dr3_id", help="catalogue Gaia DR3 id column")
    c.add_argument("--from-vizier", choices=("open", "globular"),
                   help="fetch references over TAP: 'open' = HR24 members + Netopil [Fe/H] (no "
                        "--members/--reference); 'globular' = Harris VII/202 [Fe/H] (no "
                        "--reference; --members with the VB21 Zenodo lists is required)")
    c.add_argument("--members", type=Path, help="member list table (required unless --from-vizier open)")
    c.add_argument("--members-format", choices=sorted(MEMBER_FORMATS), default=None,
                   help="column preset of --members (default generic; vb21 with --from-vizier globular)")
    c.add_argument("--members-cluster-column", help="override the preset's cluster column")
    c.add_argument("--min-prob", type=float, help="keep members with probability > this "
                   "(default: the preset's; 0.8 for vb21, T25 Sect. 6.4; none for HR24)")
    c.add_argument("--members-by", choices=("upload", "cluster"), default="upload",
                   help="--from-vizier open: select HR24 members by uploading the catalogue's "
                        "Gaia DR3 ids (TAP_UPLOAD join, default) or by the names of the clusters "
                        "with a Netopil [Fe/H] (better for a whole-sky catalogue)")
    c.add_argument("--reference", type=Path, help="reference [Fe/H] file (required unless --from-vizier)")
    c.add_argument("--reference-format", choices=sorted(REFERENCE_FORMATS), default="harris")
    c.add_argument("--min-members", type=int, default=None,
                   help="keep clusters with more than this many predicted members (default 20, T25)")
    c.add_argument("--label", default="this catalogue", help="panel title")
    _tap_options(c)
    _common(c)

    m = sub.add_parser(
        "compare", help="offsets and scatter against a reference catalogue (T25 Fig. 7)",
        description="Offsets and scatter (catalogue - reference) per parameter, matched on Gaia "
                    "DR3 source_id.  The reference is a file (--reference) or a VizieR catalogue "
                    "fetched over TAP by uploading the catalogue's ids, so only the overlap comes "
                    "back (--vizier KEY).  PASTEL has no Gaia id: --vizier pastel uploads the "
                    "catalogue's positions (ra, dec propagated from J2016.0 to J2000 with pmra, "
                    "pmdec), keeps entries with [Fe/H] < -2 within --match-radius and takes the "
                    "median of the entries of each star (T25 App. C.1).  A catalogue without "
                    "pmra, pmdec (the final catalogue has none) gets ra, dec, pmra, pmdec from "
                    "gaiadr3.gaia_source by uploading its Gaia DR3 ids (--gaia-tap-url); ids "
                    "the archive lacks are counted and listed in gaia_missing_ids.ecsv.")
    m.add_argument("--catalogue", required=True, type=Path)
    m.add_argument("--reference", type=Path, help="reference table file (or --vizier)")
    m.add_argument("--vizier", choices=sorted(COMPARISON_KEYS),
                   help="fetch the reference from VizieR: " + "; ".join(
                       f"{k} = {v}" for k, v in COMPARISON_KEYS.items()))
    m.add_argument("--vizier-table", help="TAP table name of the --vizier catalogue (for the "
                   "names not verified, see sos_vo.validation.references)")
    m.add_argument("--vizier-column", nargs="+", default=[], metavar="ROLE=LABEL",
                   help="VizieR column label of a role, e.g. source_id=GaiaDR3 logg=loggSeis")
    m.add_argument("--name", help="name of the reference, e.g. 'Andrae et al. 2023' (default: the preset's)")
    m.add_argument("--columns", nargs="+", metavar="OURS=THEIRS",
                   help="column pairs, e.g. ml_teff=teff_xgboost ml_feh=mh_xgboost; with --vizier "
                        "THEIRS is a role (teff, logg, feh/mh); default: the preset's pairs")
    m.add_argument("--catalogue-key", default="gaia_dr3_id")
    m.add_argument("--reference-key", default="source_id")
    m.add_argument("--reference-below", metavar="COLUMN=VALUE",
                   help="use reference rows with COLUMN < VALUE only (e.g. feh=-2, T25 App. C.1)")
    m.add_argument("--match-radius", type=float, metavar="ARCSEC",
                   help="--vizier pastel: match radius (default "
                        "sos_vo.prepare.crossmatch.PASTEL_MATCH_RADIUS_ARCSEC, 1 arcsec)")
    m.add_argument("--no-propagate", action="store_true",
                   help="--vizier pastel: match the catalogue's ra, dec as they are, without "
                        "propagating them to J2000 with pmra, pmdec (fast movers are lost)")
    m.add_argument("--gaia-tap-url",
                   help="--vizier pastel, catalogue without pmra/pmdec: Gaia archive TAP service "
                        "queried for ra, dec (J2016.0), pmra, pmdec of the catalogue's Gaia DR3 "
                        "ids (TAP_UPLOAD join on gaiadr3.gaia_source; default "
                        "sos_vo.archives.conf.gaia_tap_url, $SOS_VO_GAIA_TAP_URL, i.e. "
                        "https://gea.esac.esa.int/tap-server/tap)")
    _tap_options(m)
    _common(m)

    h = sub.add_parser("homogenise", help="calibrate a survey against a reference (Avdeeva et al. 2025)")
    h.add_argument("--survey", required=True, type=Path,
                   help="survey table with gaia_dr3_id, teff, logg, feh (the one to calibrate)")
    h.add_argument("--reference", required=True, type=Path, nargs="+",
                   help="reference table(s); several are averaged into their union")
    h.add_argument("--key", default="gaia_dr3_id")
    h.add_argument("--target", default="feh", choices=("teff", "logg", "feh"))
    h.add_argument("--methods", default="polynomial,xgboost",
                   help="comma-separated: polynomial, xgboost, pysr (optional extra), linear (T25 Eq. 2)")
    h.add_argument("--test-fraction", type=float, default=0.2, help="pairs held out for the test diagnostics")
    h.add_argument("--seed", type=int, default=0)
    h.add_argument("--coverage", default="knn", choices=("knn", "hull"))
    h.add_argument("--outside", default="nan", choices=("raise", "nan", "flag"),
                   help="what calibrating a star outside coverage does (default nan)")
    h.add_argument("--save-calibrations", action="store_true", help="save each fitted calibration in the report")
    _common(h)


def _tap_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--tap-url", help="TAP service of the VizieR tables (default: "
                   "sos_vo.archives.conf.vizier_tap_url, $SOS_VO_VIZIER_TAP_URL, i.e. "
                   "https://tapvizier.cds.unistra.fr/TAPVizieR/tap)")
    p.add_argument("--names", choices=("vizier", "sql"), default=None,
                   help="table/column naming: 'vizier' (quoted VizieR names) or 'sql' (the "
                        "mapping of a DaCHS mirror); default conf.vizier_names")
    p.add_argument("--upload-chunk", type=int, default=None,
                   help="Gaia DR3 ids uploaded per TAP job (default 8000), or positions for "
                        "--vizier pastel (default 3000)")


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", required=True, type=Path, help="report folder to write")
    p.add_argument("--overwrite", action="store_true", help="replace an existing report folder")


def run(args: argparse.Namespace) -> int:
    """Dispatch to the chosen validation."""
    return {"clusters": _clusters, "compare": _compare, "homogenise": _homogenise}[args.validation](args)


def _read(path: Path) -> Table:
    from astropy.table import Table

    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist")
    return Table.read(path)


def _fail(message: str) -> SystemExit:
    return SystemExit(f"sos-vo validate: error: {message}")


def _clusters(args: argparse.Namespace) -> int:
    from ..validation import clusters as cl
    from ..validation import vizier as vz
    from ..validation.report import report_folder

    min_members = cl.MIN_MEMBERS if args.min_members is None else args.min_members
    if args.from_vizier is None and args.reference is None:
        raise _fail("--reference is required unless --from-vizier")
    if args.from_vizier == "globular" and args.reference:
        raise _fail("--from-vizier globular fetches the Harris [Fe/H] from VizieR VII/202: "
                    "do not pass --reference (or drop --from-vizier to use mwgc.dat)")
    catalogue = _read(args.catalogue)
    fetch = {"tap_url": args.tap_url, "names": args.names}
    members = None
    if args.from_vizier == "open":
        if args.members or args.reference:
            raise _fail("--from-vizier open fetches members (HR24) and [Fe/H] (Netopil 2016) "
                        "from VizieR: do not pass --members/--reference")
    else:
        if args.members is None:
            raise _fail("--members is required (Vasiliev & Baumgardt 2021 members are on Zenodo, "
                        "doi:10.5281/zenodo.4891252, not in VizieR)" if args.from_vizier
                        else "--members is required unless --from-vizier open")
        fmt = args.members_format or ("vb21" if args.from_vizier == "globular" else "generic")
        preset = MEMBER_FORMATS[fmt]
        members = cl.members_table(_read(args.members),
                                   cluster=args.members_cluster_column or preset["cluster"],
                                   source_id=preset["source_id"], prob=preset["prob"],
                                   min_prob=args.min_prob if args.min_prob is not None else preset["min_prob"])
    if args.from_vizier:
        source = ("HR24 members + Netopil [Fe/H]" if args.from_vizier == "open"
                  else "Harris VII/202 [Fe/H]") + f" over TAP ({args.tap_url or 'conf.vizier_tap_url'})"
        result = vz.validate_clusters_vizier(
            catalogue, args.from_vizier, members, value_column=args.value_column,
            catalogue_key=args.key, min_members=min_members, members_by=args.members_by,
            min_prob=args.min_prob, chunk_size=args.upload_chunk, **fetch)
    else:
        source = f"{args.members} + {args.reference}"
        if args.reference_format == "harris":
            refs = cl.harris_references(args.reference)
        else:
            ccol, fcol = REFERENCE_FORMATS[args.reference_format]
            refs = cl.reference_table(_read(args.reference), cluster=ccol, feh=fcol)
        result = cl.cluster_residuals(catalogue, members, refs, value_column=args.value_column,
                                      catalogue_key=args.key, min_members=min_members)
    with report_folder(args.out, overwrite=args.overwrite, title="cluster validation") as rep:
        result.stats.meta["references"] = source
        rep.table("cluster_stats.ecsv", result.stats,
                  f"Residuals {args.value_column} - [Fe/H]_ref per cluster with > {min_members} members")
        rep.table("clusters_skipped.ecsv", result.skipped, "Clusters left out and why")
        cl.plot_cluster_boxplots({args.label: result},
                                 rep.figure("clusters_boxplot.png", "Box plots sorted by [Fe/H]_ref (T25 Fig. 8)"))
    m, s = result.pooled()
    print(f"{len(result.stats)} clusters kept, {len(result.skipped)} skipped; pooled M = {m:+.3f}, "
          f"Sigma = {s:.3f}; references: {source}; report in {args.out}")
    return 0


def _compare(args: argparse.Namespace) -> int:
    import numpy as np
    from astropy.table import Table

    from ..validation.compare import compare_catalogues, plot_comparison_density
    from ..validation.report import report_folder

    columns = dict(_pair(item, "--columns") for item in args.columns) if args.columns else None
    below = None
    if args.reference_below:
        col, value = _pair(args.reference_below, "--reference-below")
        try:
            below = (col, float(value))
        except ValueError:
            raise _fail(f"--reference-below: {value!r} is not a number") from None
    catalogue = _read(args.catalogue)
    if (args.vizier is None) == (args.reference is None):
        raise _fail("give exactly one of --reference FILE and --vizier KEY")
    if (args.match_radius is not None or args.no_propagate or args.gaia_tap_url) \
            and args.vizier != "pastel":
        raise _fail("--match-radius, --no-propagate and --gaia-tap-url apply to --vizier pastel "
                    "only")
    if args.gaia_tap_url and args.no_propagate:
        raise _fail("--gaia-tap-url fetches proper motions to propagate with: not with "
                    "--no-propagate")
    if args.vizier:
        from ..validation.vizier import compare_with_vizier, comparison_preset

        labels = dict(_pair(item, "--vizier-column") for item in args.vizier_column)
        name = args.name or comparison_preset(args.vizier).name
        comp = compare_with_vizier(catalogue, args.vizier, columns, catalogue_key=args.catalogue_key,
                                   table=args.vizier_table, labels=labels or None, below=below,
                                   tap_url=args.tap_url, names=args.names, chunk_size=args.upload_chunk,
                                   radius_arcsec=args.match_radius, propagate=not args.no_propagate,
                                   gaia_tap_url=args.gaia_tap_url)
        comp.name = name
        comp.stats.meta["reference"] = name
    else:
        if args.name is None or columns is None:
            raise _fail("--reference needs --name and --columns")
        name = args.name
        reference = _read(args.reference)
        mask = None
        if below:
            if below[0] not in reference.colnames:
                raise _fail(f"--reference-below: {args.reference} has no column {below[0]!r}")
            mask = np.ma.filled(np.ma.asarray(reference[below[0]], dtype=float), np.nan) < below[1]
        comp = compare_catalogues(catalogue, reference, columns, name,
                                  catalogue_key=args.catalogue_key, reference_key=args.reference_key,
                                  reference_mask=mask)
    gaia_missing = comp.stats.meta.pop("gaia_missing_ids", None)
    with report_folder(args.out, overwrite=args.overwrite, title=f"comparison with {name}") as rep:
        rep.table("comparison_stats.ecsv", comp.stats, f"Catalogue - {name}: offsets and scatter")
        if gaia_missing is not None:
            rep.table("gaia_missing_ids.ecsv", Table({args.catalogue_key: gaia_missing}),
                      "Catalogue Gaia DR3 ids not in gaiadr3.gaia_source: no ra, dec, pmra, "
                      "pmdec, so not matched")
        plot_comparison_density(comp, rep.figure("comparison_density.png",
                                                 f"Catalogue vs {name} (T25 Fig. 7 style)"))
    if gaia_missing is not None:
        print(f"ra, dec, pmra, pmdec from {comp.stats.meta['gaia_astrometry']}; "
              f"{gaia_missing.size} Gaia DR3 id(s) not found there, not matched"
              + (f" (listed in {args.out / 'gaia_missing_ids.ecsv'}; first: "
                 f"{', '.join(str(i) for i in gaia_missing[:5])})" if gaia_missing.size else ""))
    from ..stats import format_value

    for row in comp.stats:
        parameter = str(row["parameter"])
        print(f"{parameter}: N = {row['n']}, median offset = "
              f"{format_value(row['median_offset'], parameter, signed=True)}, "
              f"MAD = {format_value(row['mad'], parameter)}")
    return 0


def _pair(item: str, option: str) -> tuple[str, str]:
    if "=" not in item:
        raise SystemExit(f"sos-vo validate: error: {option}: expected NAME=VALUE, got {item!r}")
    a, b = item.split("=", 1)
    return a.strip(), b.strip()


def _homogenise(args: argparse.Namespace) -> int:
    from .. import homogenise as hm
    from ..homogenise.workflow import homogenise_survey

    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    unknown = [m for m in methods if m not in hm.METHODS]
    if unknown:
        raise SystemExit(f"sos-vo validate: error: --methods: unknown {', '.join(unknown)} (known: {', '.join(hm.METHODS)})")
    if not 0.0 < args.test_fraction < 1.0:
        raise SystemExit(f"sos-vo validate: error: --test-fraction must be in (0, 1), got {args.test_fraction}")
    survey = _read(args.survey)
    refs = {p.stem: _read(p) for p in args.reference}
    try:
        summary = homogenise_survey(
            survey, refs, args.out, methods=methods, key=args.key, target=args.target,
            test_fraction=args.test_fraction, seed=args.seed, coverage=args.coverage,
            outside=args.outside, save_calibrations=args.save_calibrations,
            overwrite=args.overwrite, label=args.survey.stem)
    except ImportError as exc:  # an optional extra (PySR, xgboost) is missing
        raise SystemExit(f"sos-vo validate: error: {exc}") from None
    from ..stats import format_statistics

    print("\n".join(format_statistics(summary, label=args.target).pformat(max_width=-1)))
    return 0
