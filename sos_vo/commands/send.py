"""``sos-vo send``: send a table to TOPCAT, Aladin or any SAMP client."""

from __future__ import annotations

import argparse
import time

from ._options import dec_deg, non_negative_float, path_text, positive_float, ra_deg

NAME = "send"
HELP = ("Send a VOTable or FITS table over SAMP to every client, or to one (--to topcat|aladin|NAME); "
        "optionally point Aladin at the table or a position.")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of ``sos-vo send``."""
    from ._choices import SAMP_TIMEOUT_S as DEFAULT_TIMEOUT_S

    parser.add_argument("file", type=path_text, metavar="FILE", help="table file (.vot/.xml or .fits)")
    parser.add_argument("--to", metavar="CLIENT", help="samp.name or client id (default: all)")
    parser.add_argument("--name", help="table name shown by the client (default: file name)")
    parser.add_argument("--point", nargs=2, type=float, metavar=("RA", "DEC"),
                        help="then point sky viewers at RA DEC (deg, ICRS)")
    parser.add_argument("--point-at-table", action="store_true",
                        help="then point sky viewers at the centre of the table's ra/dec")
    parser.add_argument("--start-hub", action="store_true",
                        help="start a SAMP hub if none runs (it lives as long as this command)")
    parser.add_argument("--wait", type=non_negative_float, default=0.0, metavar="S",
                        help="wait up to S seconds for --to CLIENT to register (with --start-hub)")
    parser.add_argument("--hub-linger", type=non_negative_float, default=None, metavar="S",
                        help="with a hub started here: keep it S seconds after sending "
                             "(default: until Ctrl-C)")
    parser.add_argument("--timeout", type=positive_float, default=DEFAULT_TIMEOUT_S,
                        help=f"seconds to wait for each reply (default {DEFAULT_TIMEOUT_S})")


def run(args: argparse.Namespace) -> int:
    """Send the table with :func:`sos_vo.publish.samp.send_table`."""
    from ..exceptions import SosVoError
    from ..publish import samp
    from ..publish.writers import read_table

    if args.point:
        try:
            args.point = (ra_deg(str(args.point[0])), dec_deg(str(args.point[1])))
        except argparse.ArgumentTypeError as exc:
            raise SosVoError(f"--point: {exc}") from None
    hub = None
    if args.start_hub and not samp.hub_is_running():
        hub = samp.start_hub()
        print(f"started a SAMP hub (lockfile {samp.hub_lockfile() or '~/.samp'})")
    try:
        if args.to and args.wait > 0:
            samp.wait_for_client(args.to, timeout=args.wait)
        result = samp.send_table(args.file, to=args.to, name=args.name, timeout=args.timeout)
        for cid, cname in result.names.items():
            print(f"{cname} ({cid}): {result.replies[cid]['samp.status']} "
                  f"[{result.mtype}, table-id {result.table_id}]")
        position = tuple(args.point) if args.point else None
        if args.point_at_table:
            table = read_table(args.file)
            position = samp.table_centre(table["ra"], table["dec"])
        if position is not None:
            for cid in samp.point_at(*position, to=args.to, timeout=args.timeout):
                print(f"pointed {cid} at ra={position[0]:.5f} dec={position[1]:.5f}")
        if hub is not None:
            if args.hub_linger is None:
                print("the hub stops with this command: press Ctrl-C to stop it")
                while True:
                    time.sleep(1)
            time.sleep(args.hub_linger)
    except KeyboardInterrupt:
        pass
    finally:
        if hub is not None:
            hub.stop()
    return 0
