"""``sos-vo query REGION``: fetch a sky region from the archives and run the pipeline on it."""

from __future__ import annotations

import argparse

from ._options import path_text, positive_float, positive_int

NAME = "query"
HELP = ("Query a sky region over TAP (ESA Gaia archive or a mirror), apply the T25 cuts, "
        "predict with an installed model and write the catalogue.")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``sos-vo query``."""
    from ._choices import QUERY_SURVEYS as SURVEY_CHOICES

    parser.add_argument("region", help="'circle RA DEC RADIUS' (e.g. 'circle 56.75 24.12 0.5deg'), "
                        "'box RA DEC W H [ANGLE]', 'polygon RA1 DEC1 ...', 'healpix ORDER IPIX...', "
                        "'moc ORDER/IPIX...', or a ds9/CRTF region file or FITS MOC")
    parser.add_argument("--survey", choices=SURVEY_CHOICES, default="sdss",
                        help="photometric survey (default sdss)")
    parser.add_argument("--tap-url", help="TAP service holding the Gaia archive tables "
                        "(default: the ESA Gaia archive, conf.gaia_tap_url / $SOS_VO_GAIA_TAP_URL)")
    parser.add_argument("--model", default=None,
                        help="installed model name ('sos-vo models list'), model folder, folder "
                        "of model folders, or 'installed' (default: the ensembles shipped with "
                        "sos-vo)")
    parser.add_argument("--no-model", action="store_true",
                        help="stop after the cuts and write the joined, cut table(s)")
    parser.add_argument("--out", type=path_text,
                        help="catalogue (.vot, .xml, .fits; no suffix: a CDS folder); with "
                             "--no-model the cut table(s) (.vot, .fits, .ecsv, .csv)")
    parser.add_argument("--overwrite", action="store_true", help="replace existing outputs")
    parser.add_argument("--max-radius", type=positive_float, help="largest allowed region radius, deg")
    parser.add_argument("--row-limit", type=positive_int, help="MAXREC per job before a chunk is split")
    parser.add_argument("--timeout", type=positive_float, help="HTTP / job time-out, s")
    parser.add_argument("--chunk-order", type=_chunk_order, help="HEALPix order of the chunks")
    parser.add_argument("--cache-dir", type=path_text, help="chunk cache folder (default ~/.cache/sos-vo/tap)")
    parser.add_argument("--no-cache", action="store_true", help="do not cache chunks")
    parser.add_argument("--sync", action="store_true", help="sync requests instead of async jobs")
    parser.add_argument("--no-server-cuts", action="store_true",
                        help="apply the Gaia cuts locally only, not in the ADQL")
    parser.add_argument("--table", action="append", default=[], metavar="KEY=NAME",
                        help="override a table name (keys: sos_vo.archives.tables), repeatable")
    parser.add_argument("--compare", choices=["sos-dr2"],
                        help="set the published SoS DR2 values of the same stars beside the "
                        "predictions and print the T25 Table 4 statistics of the differences")
    parser.add_argument("--label-tap-url", help="TAP service of the SoS DR2 catalogue for "
                        "--compare (default conf.sos_dr2_tap_url)")


def _chunk_order(text: str) -> int:
    from ._options import bounded

    return bounded(int, 0, 29)(text)  # HEALPix orders 0..29 (Gorski et al. 2005; IVOA MOC 2.0)


def run(args: argparse.Namespace) -> int:
    """Query, cut, predict and write; print the row counts and the cut report."""
    from ..archives.conf import parse_table_names
    from ..archives.exceptions import RegionError
    from ..pipeline import query_region

    try:
        tables = parse_table_names(",".join(args.table))
    except ValueError as exc:
        raise RegionError(str(exc)) from None
    if args.compare and args.no_model:
        raise RegionError("--compare needs predictions: drop --no-model")
    if args.compare and args.out:  # checked before any job is sent
        from ..io import check_writable

        check_writable(_compare_path(args.out), args.overwrite)
    result = query_region(
        args.region, survey=args.survey, tap_url=args.tap_url,
        model=False if args.no_model else args.model, out=args.out,
        overwrite=args.overwrite, server_cuts=not args.no_server_cuts, tables=tables or None,
        chunk_order=args.chunk_order, cache_dir=False if args.no_cache else args.cache_dir,
        use_async=not args.sync, progress=True, max_radius_deg=args.max_radius,
        row_limit=args.row_limit, timeout=args.timeout)
    for survey, reason in result.skipped.items():
        print(f"{survey}: {len(result.rows[survey])} rows from the archive, left out ({reason})")
    for survey in result.surveys:
        prepared = result.prepared[survey]
        print(f"{survey}: {len(result.rows[survey])} rows from the archive, "
              f"{len(prepared.joined)} after the cuts")
        print(prepared.cut_report)
        if not args.no_server_cuts:
            print("(--no-server-cuts applies the Gaia cuts locally, where they are counted)")
    if result.catalogue is not None:
        print(f"catalogue: {len(result.catalogue)} rows")
    if args.compare == "sos-dr2":
        _compare_sos_dr2(args, result, tables)
    for path in result.outputs:
        print(f"wrote {path}")
    return 0


def _compare_sos_dr2(args: argparse.Namespace, result, tables: dict) -> None:
    """``--compare sos-dr2``: print the statistics; write the pairs beside ``--out``."""
    from ..io import atomic_path
    from ..validation.sos_dr2 import compare_with_sos_dr2

    pairs, stats = compare_with_sos_dr2(result.catalogue, result.region, tap_url=args.label_tap_url,
                                        tables=tables or None, cache_dir=False if args.no_cache
                                        else args.cache_dir, use_async=not args.sync,
                                        progress=False, timeout=args.timeout,
                                        chunk_order=args.chunk_order)
    prov = pairs.meta["provenance"]
    print(f"SoS DR2 ({prov['table']} at {prov['service']}): {len(pairs)} stars in common; "
          "package minus published (T25 Table 4 statistics):")
    print("\n".join(stats.pformat(max_width=-1, max_lines=-1)))
    if args.out:
        path = _compare_path(args.out)
        with atomic_path(path, overwrite=args.overwrite) as tmp:
            pairs.meta["statistics"] = [dict(zip(stats.colnames, [v.item() if hasattr(v, "item")
                                                                  else v for v in r], strict=True))
                                        for r in stats]
            pairs.write(tmp, format="ascii.ecsv")
        print(f"wrote {path}")


def _compare_path(out: str):
    """``<out stem>_vs_sos_dr2.ecsv`` beside ``--out``."""
    from pathlib import Path

    out = Path(out)
    return out.with_name(f"{out.stem}_vs_sos_dr2.ecsv")
