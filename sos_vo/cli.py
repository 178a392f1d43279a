"""The ``sos-vo`` command line: ``sos-vo <command> --help`` describes each command."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from . import __version__
from .commands import COMMAND_MODULES
from .exceptions import SosVoError


def build_parser() -> argparse.ArgumentParser:
    """Build the top-level parser with one sub-parser per module in :mod:`sos_vo.commands`."""
    parser = argparse.ArgumentParser(
        prog="sos-vo",
        description="Survey of Surveys stellar parameters (Teff, log g, [Fe/H]) from Gaia DR3 + "
        "SDSS/SkyMapper photometry over the Virtual Observatory (Turchi et al. 2025).",
    )
    parser.add_argument("--version", action="version", version=f"sos-vo {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f".commands.{name}", __package__)
        except ModuleNotFoundError as exc:  # a command whose module is not written yet
            if exc.name and exc.name.endswith(f"commands.{name}"):
                continue
            raise
        p = sub.add_parser(module.NAME, help=module.HELP, description=module.HELP)
        module.add_arguments(p)
        p.set_defaults(_run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``sos-vo`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        return int(args._run(args) or 0)
    except (SosVoError, FileExistsError, FileNotFoundError) as exc:
        print(f"sos-vo {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
