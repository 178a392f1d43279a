"""The ``sos-vo`` command line: ``sos-vo <command> --help`` describes each command.

One error boundary for every command (:func:`main`):

* an expected failure (bad input, a file that cannot be read or written, an archive that does
  not answer) is one line ``sos-vo COMMAND: error: ...`` on stderr and exit code 2;
* an unexpected one (a bug) is one line saying how to report it, exit code 1; ``--debug``
  shows the traceback instead;
* Ctrl-C (and SIGTERM) stop the command with exit code 130 (143): temporary files are removed
  on the way out, and temporaries of earlier runs killed outright are removed on the next run.

The parser is built without importing the science stack: each command module imports what it
needs inside ``add_arguments`` and ``run``, and only the command being run gets its options
(``sos-vo --help`` lists the commands without importing matplotlib, mocpy or TensorFlow).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import logging
import os
import signal
import sys
import warnings
import zipfile
from pathlib import Path
from types import ModuleType

from . import __version__
from .commands import COMMAND_MODULES
from .exceptions import SosVoError

ISSUES_URL = "https://github.com/sos-vo/sos-vo/issues"
"""Where unexpected errors are reported."""

TRAINING_COMMANDS = frozenset({"train", "demo", "build-model"})
"""Commands that may import TensorFlow (its start-up log lines are filtered for them when they
do: :func:`uses_tensorflow`)."""


def uses_tensorflow(args: argparse.Namespace) -> bool:
    """Whether this run of a training command trains with Keras / TensorFlow: the per-network
    engine does; fused training with Adam (the only optimiser these commands offer) runs the
    numpy engine, which never imports TensorFlow."""
    if args.command == "build-model":
        return getattr(args, "engine", "fused") != "fused"
    if args.command == "train":
        return not getattr(args, "fused", False)
    if args.command == "demo":
        return bool(getattr(args, "per_network", False))
    return False

EXPECTED_ERRORS: tuple[type[BaseException], ...] = (
    SosVoError, OSError, ValueError, EOFError, zipfile.BadZipFile, UnicodeError, ImportError,
)
"""Failures caused by the input, the file system or the network: one line and exit code 2.
(json.JSONDecodeError and astropy's unit errors are ValueErrors; FileNotFoundError,
PermissionError, timeouts and connection errors are OSErrors; ImportError is an optional extra
that is not installed.)"""

EXIT_USAGE = 2
EXIT_BUG = 1
EXIT_SIGINT = 130
EXIT_SIGTERM = 143

_TF_STARTUP_MARKERS = (
    "All log messages before absl::InitializeLog()",
    "oneDNN custom operations are on",
    "cpu_feature_guard.cc",
    "This TensorFlow binary is optimized to use available CPU instructions",
    "To enable the following instructions:",
    "Unable to register cuDNN factory", "Unable to register cuFFT factory",
    "Unable to register cuBLAS factory", "computation placer already registered",
    "Could not find cuda drivers", "TF-TRT Warning",
)
"""Start-up lines TensorFlow's C++ runtime writes to stderr before its logging is configured
(``TF_CPP_MIN_LOG_LEVEL`` does not reach them); other lines are passed through."""


def _load_module(name: str) -> ModuleType:
    """Import the command module ``name``; a module that fails to import is an error, not skipped."""
    return importlib.import_module(f".commands.{name}", __package__)


def _selected_command(argv: list[str]) -> str | None:
    """The sub-command named in ``argv`` (first word that is not a top-level option)."""
    for word in argv:
        if word == "--":
            return None
        if not word.startswith("-"):
            return word
    return None


class UsageExit(SystemExit):
    """SystemExit with exit code 2 that keeps its message (already printed) as ``str()``."""

    def __init__(self, message: str):
        super().__init__(EXIT_USAGE)
        self.message = message

    def __str__(self) -> str:
        return self.message


class OneLineParser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors are one line (exit code 2), pointing to ``--help``."""

    def error(self, message: str):
        self.exit(EXIT_USAGE, f"{self.prog}: error: {' '.join(message.split())} "
                              f"(see '{self.prog} --help')\n")


def build_parser(only: str | None | bool = False) -> argparse.ArgumentParser:
    """Build the top-level parser with one sub-parser per module in :mod:`sos_vo.commands`.

    Parameters
    ----------
    only
        ``False`` (default): every sub-command gets its options.  A command name: only that
        one does (the others are listed with their help line), so that ``sos-vo --help`` and
        each command start without importing the other commands' libraries.  ``None``: none.
    """
    parser = OneLineParser(
        prog="sos-vo",
        description="Survey of Surveys stellar parameters (Teff, log g, [Fe/H]) from Gaia DR3 + "
        "SDSS/SkyMapper photometry over the Virtual Observatory (Turchi et al. 2025).",
    )
    parser.add_argument("--version", action="version", version=f"sos-vo {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    parser.add_argument("--debug", action="store_true",
                        help="show the full traceback of an unexpected error")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        module = _load_module(name)
        p = sub.add_parser(module.NAME, help=module.HELP, description=module.HELP)
        if only is False or only == module.NAME:
            module.add_arguments(p)
        p.set_defaults(_run=module.run)
    return parser


def one_line(exc: BaseException) -> str:
    """The message of ``exc`` on one line, with its type where the message alone is unclear."""
    text = " ".join(str(exc).split())
    if isinstance(exc, OSError) and exc.filename is not None and str(exc.filename) not in text:
        text = f"{text}: {exc.filename}"
    if isinstance(exc, KeyError | IndexError) or not text:
        text = f"{type(exc).__name__}: {text or 'no message'}"
    elif isinstance(exc, OSError) and not isinstance(exc, SosVoError) and exc.strerror:
        text = " ".join(str(exc).split())
    return text


def _format_warning(message, category, filename, lineno, line=None) -> str:  # noqa: ARG001
    text = " ".join(str(message).split())
    return f"sos-vo: warning: {text} ({category.__name__})\n"


def _raise_sigterm(signum, frame):  # noqa: ARG001
    raise SystemExit(EXIT_SIGTERM)


class _FilteredStderr:
    """Capture file descriptor 2 while TensorFlow loads; pass on what is not start-up noise."""

    def __enter__(self):
        import tempfile

        sys.stderr.flush()
        self._saved = os.dup(2)
        self._tmp = tempfile.TemporaryFile(mode="w+b")
        os.dup2(self._tmp.fileno(), 2)
        return self

    def __exit__(self, *exc) -> None:
        sys.stderr.flush()
        os.dup2(self._saved, 2)
        os.close(self._saved)
        self._tmp.seek(0)
        for raw in self._tmp.read().decode(errors="replace").splitlines():
            if raw.strip() and not any(m in raw for m in _TF_STARTUP_MARKERS):
                print(raw, file=sys.stderr)
        self._tmp.close()


def quiet_tensorflow_startup(verbose: bool = False) -> None:
    """Import TensorFlow with its C++ start-up lines filtered out (unless the user set
    ``TF_CPP_MIN_LOG_LEVEL``, in which case TensorFlow's own setting rules).

    TensorFlow's Python logger is set to ERROR unless ``verbose``: its warnings (e.g. that
    training the ensemble members one after the other retraces ``tf.function``) are about
    TensorFlow's internals, not about the data, and the user can do nothing about them.
    """
    if not verbose:
        logging.getLogger("tensorflow").setLevel(logging.ERROR)
    if "TF_CPP_MIN_LOG_LEVEL" in os.environ and os.environ.get("SOS_VO_TF_LOG_SET") != "1":
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ["SOS_VO_TF_LOG_SET"] = "1"
    try:
        with _FilteredStderr():
            import tensorflow as tf

            tf.constant(0.0) + 0.0  # the oneDNN line comes with the first operation
    except ImportError:
        pass  # the command says which extra is missing when it needs TensorFlow


def _stale_temporaries(args: argparse.Namespace) -> None:
    """Remove temporaries left next to ``--out`` by earlier runs that were killed."""
    from .io import remove_stale_temporaries

    out = getattr(args, "out", None)
    if not out or not str(out).strip():
        return
    out = Path(out)
    for folder in (out.parent, out):
        removed = remove_stale_temporaries(folder)
        for path in removed:
            logging.getLogger("sos_vo").info("removed %s, left by an interrupted run", path)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``sos-vo`` console script."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(only=_selected_command(argv))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    previous_format = warnings.formatwarning
    warnings.formatwarning = _format_warning
    previous = signal.getsignal(signal.SIGTERM)
    try:
        signal.signal(signal.SIGTERM, _raise_sigterm)
    except ValueError:  # not the main thread (tests may call main from a thread)
        previous = None
    name = args.command
    try:
        if name in TRAINING_COMMANDS and uses_tensorflow(args):
            quiet_tensorflow_startup(verbose=args.verbose)
        _stale_temporaries(args)
        return int(args._run(args) or 0)
    except BrokenPipeError:  # the reader of stdout went away (e.g. "| head"): not an error
        with contextlib.suppress(OSError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        print(f"sos-vo {name}: interrupted; temporary files removed", file=sys.stderr)
        return EXIT_SIGINT
    except SystemExit as exc:
        if exc.code == EXIT_SIGTERM:
            print(f"sos-vo {name}: terminated; temporary files removed", file=sys.stderr)
        elif isinstance(exc.code, str):  # a command's own SystemExit(message): one line, 2
            message = " ".join(exc.code.split())
            print(message, file=sys.stderr)
            raise UsageExit(message) from None
        raise
    except EXPECTED_ERRORS as exc:
        if args.debug:
            raise
        print(f"sos-vo {name}: error: {one_line(exc)}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as exc:  # noqa: BLE001 - the boundary: a bug, reported in one line
        if args.debug:
            raise
        print(f"sos-vo {name}: unexpected error ({type(exc).__name__}: {one_line(exc)}); this is "
              f"a bug: please report it at {ISSUES_URL} with the output of the same command "
              "run with 'sos-vo --debug ...'", file=sys.stderr)
        return EXIT_BUG
    finally:
        warnings.formatwarning = previous_format
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
