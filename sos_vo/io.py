"""Atomic file output and the output contract: nothing is half-written, nothing is lost.

The contract every writer of the package follows:

* an output is written under a temporary name next to its target and moved into place only
  when the writer succeeded (:func:`atomic_path`), so a reader never sees a half-written file
  and an interrupted run (Ctrl-C, an exception) leaves nothing behind;
* ``overwrite`` replaces a **file**; it never deletes a folder the package did not create.  A
  folder is replaced only if it is empty or carries the output-folder marker
  (:data:`OUTPUT_MARKER`) that every folder written through :func:`atomic_path` receives;
* an input can never be an output (:func:`check_outputs`), and outputs are checked before any
  work starts;
* temporary names carry the writing process id, so temporaries left by a killed run (SIGKILL
  cannot be caught) are recognised and removed by the next run writing the same target.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import tempfile
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path

from .exceptions import SosVoError

OUTPUT_MARKER = ".sos-vo-output"
"""File written into every output folder the package creates; only a folder carrying it (or
an empty folder) may be replaced with ``overwrite``."""

TMP_TAG = "sosvo"
"""Tag in temporary names: ``.<stem>.sosvo-<pid>-<random>.tmp<suffix>``."""

_TMP_RE = re.compile(rf"^\.(?P<stem>.*)\.{TMP_TAG}-(?P<pid>\d+)-[0-9a-z_]+\.tmp(?P<suffix>.*)$")


class OutputError(SosVoError, FileExistsError):
    """An output path that cannot or must not be written (exists, is an input, is a folder...)."""


def _describe(path: Path) -> str:
    return f"'{path}'"


def is_output_folder(path: str | os.PathLike) -> bool:
    """Whether ``path`` is a folder written by this package (it carries :data:`OUTPUT_MARKER`)."""
    return (Path(path) / OUTPUT_MARKER).is_file()


def mark_output_folder(path: str | os.PathLike) -> None:
    """Mark ``path`` (a folder) as written by this package, so that ``overwrite`` may replace it."""
    from . import __version__

    marker = Path(path) / OUTPUT_MARKER
    if not marker.exists():
        marker.write_text(json.dumps({"written_by": f"sos-vo {__version__}"}) + "\n")


def _check_parent(path: Path) -> None:
    """Raise OutputError if the folder holding ``path`` cannot be created or written."""
    parent = path.parent
    for ancestor in (parent, *parent.parents):
        if ancestor.exists():
            if not ancestor.is_dir():
                raise OutputError(f"cannot write {_describe(path)}: {_describe(ancestor)} is not a folder")
            if not os.access(ancestor, os.W_OK | os.X_OK):
                raise OutputError(f"cannot write {_describe(path)}: no permission to write in "
                                  f"{_describe(ancestor)}")
            return


def check_writable(path: str | os.PathLike, overwrite: bool = False, *,
                   kind: str | None = None) -> Path:
    """Check that ``path`` may be written and return it as a Path.

    Parameters
    ----------
    path
        Output file or folder.
    overwrite
        Whether an existing *file* (or an existing output folder of this package) may be
        replaced.
    kind
        ``"file"``, ``"folder"`` or None (either).  A folder where a file is expected (and the
        reverse) is refused even with ``overwrite``.

    Raises
    ------
    OutputError
        The path is empty, exists (without ``overwrite``), is a folder not written by this
        package, or its parent folder cannot be written.
    """
    if str(path).strip() == "":
        raise OutputError("the output path is empty")
    path = Path(path)
    if path.is_dir():
        if kind == "file":
            raise OutputError(f"{_describe(path)} is a folder; give a file name")
        empty = not any(path.iterdir())
        if not empty and not overwrite:
            raise OutputError(f"{_describe(path)} already exists and is not empty (pass "
                              "overwrite=True / --overwrite to replace an sos-vo output folder)")
        if not empty and not is_output_folder(path):
            raise OutputError(f"{_describe(path)} is a folder that sos-vo did not write (no "
                              f"{OUTPUT_MARKER} file): it is never replaced; choose another output")
    elif path.exists() or path.is_symlink():
        if kind == "folder":
            raise OutputError(f"{_describe(path)} is a file; give a folder")
        if not overwrite:
            raise OutputError(f"{_describe(path)} already exists (pass overwrite=True / "
                              "--overwrite to replace it)")
        if not path.is_file():
            raise OutputError(f"{_describe(path)} is not a regular file; it is never replaced")
    _check_parent(path)
    return path


def _same_or_inside(inner: Path, outer: Path) -> bool:
    return inner == outer or outer in inner.parents


def check_outputs(outputs: Iterable[str | os.PathLike | tuple[str | os.PathLike, str | None]],
                  inputs: Iterable[str | os.PathLike] = (), overwrite: bool = False) -> list[Path]:
    """Check every output of a command before any work starts.

    Parameters
    ----------
    outputs
        Output paths, or ``(path, kind)`` pairs with ``kind`` as in :func:`check_writable`.
    inputs
        Files or folders the command reads: an output may not be, contain or lie inside one.
    overwrite
        As in :func:`check_writable`.

    Returns
    -------
    list of Path
        The outputs.
    """
    resolved_inputs = [(Path(p), Path(p).resolve()) for p in inputs if str(p)]
    checked = []
    for item in outputs:
        path, kind = item if isinstance(item, tuple) else (item, None)
        path = check_writable(path, overwrite, kind=kind)
        target = path.resolve()
        for given, source in resolved_inputs:
            if _same_or_inside(source, target) or (source.is_dir() and _same_or_inside(target, source)):
                raise OutputError(f"output {_describe(path)} would replace the input "
                                  f"{_describe(given)}: an input is never an output")
        checked.append(path)
    return checked


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True


def remove_stale_temporaries(folder: str | os.PathLike, stem: str | None = None) -> list[Path]:
    """Remove temporaries of this package in ``folder`` whose writing process is gone.

    Only names written by :func:`atomic_path` (``.<stem>.sosvo-<pid>-<random>.tmp<suffix>``)
    of a process that no longer runs are removed; with ``stem`` only those of that target.
    """
    folder = Path(folder)
    removed: list[Path] = []
    if not folder.is_dir():
        return removed
    with contextlib.suppress(OSError):
        for entry in folder.iterdir():
            m = _TMP_RE.match(entry.name)
            if not m or (stem is not None and m["stem"] != stem) or _pid_alive(int(m["pid"])):
                continue
            with contextlib.suppress(OSError):
                if entry.is_dir() and not entry.is_symlink():
                    shutil.rmtree(entry)
                else:
                    entry.unlink()
                removed.append(entry)
    return removed


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; move it into place only if the block succeeds.

    Works for files and for folders (a model folder is written into a temporary folder, which
    receives :data:`OUTPUT_MARKER`).  The temporary name keeps the final suffix so that
    writers choosing a format by extension (astropy's ``Table.write``) still work.  A folder
    is replaced only if :func:`check_writable` allows it (empty or marked); the old folder is
    moved aside first and deleted only once the new one is in place.
    """
    path = check_writable(path, overwrite)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path.parent, path.stem)
    tmp_path = path.parent / f".{path.stem}.{TMP_TAG}-{os.getpid()}-{uuid.uuid4().hex[:8]}.tmp{path.suffix}"
    old: Path | None = None
    try:
        yield tmp_path
        if not tmp_path.exists():
            raise OutputError(f"writer produced nothing for {path}")
        if tmp_path.is_dir():
            mark_output_folder(tmp_path)
        if path.is_dir():  # checked again: it may have appeared while writing
            if not tmp_path.is_dir():
                raise OutputError(f"{_describe(path)} is a folder; a file is never moved onto it")
            check_writable(path, overwrite=True, kind="folder")
            old = Path(tempfile.mkdtemp(prefix=f".{path.stem}.{TMP_TAG}-{os.getpid()}-old",
                                        suffix=".tmp", dir=path.parent))
            os.rename(path, old / path.name)
        elif path.exists() and tmp_path.is_dir():
            raise OutputError(f"{_describe(path)} is a file; a folder is never moved onto it")
        os.replace(tmp_path, path)
    finally:
        if tmp_path.exists() or tmp_path.is_symlink():
            if tmp_path.is_dir() and not tmp_path.is_symlink():
                shutil.rmtree(tmp_path, ignore_errors=True)
            else:
                tmp_path.unlink()
        if old is not None:
            if path.exists():
                shutil.rmtree(old, ignore_errors=True)
            elif (old / path.name).exists():  # the move failed: put the old folder back
                os.rename(old / path.name, path)
                old.rmdir()


# --------------------------------------------------------------------------------------
# Reading back: units and truncated files
# --------------------------------------------------------------------------------------
LOG_UNIT_NAMES = frozenset({"dex"})
"""Unit strings of logarithmic quantities (log g, [Fe/H], [M/H]) as the archives and this
package write them.  VOUnit 1.0 (the unit syntax of VOTable 1.4) and FITS 4.0 do not list
``dex``, and astropy parses it differently across versions: ``u.dex`` (a function unit),
``UnrecognizedUnit('dex')``, or, from astropy 7/8's VOUnit parser, a *deci*-prefixed unit
``d * ex``.  :func:`restore_log_units` maps every reading back to ``u.dex``."""


def is_log_unit_name(unit) -> bool:
    """Whether ``unit`` (any astropy unit or string) is written ``dex``, however it was parsed."""
    if unit is None:
        return False
    try:
        text = unit if isinstance(unit, str) else unit.to_string()
    except Exception:  # noqa: BLE001 - an odd unit object: not dex
        text = str(unit)
    # the Gaia archive writes mh_gspphot's unit quoted, "'dex'" (gaiadr3.gaia_source)
    return text.strip().strip("'\"") in LOG_UNIT_NAMES


def restore_log_units(table) -> None:
    """Set ``u.dex`` on every column of ``table`` whose unit was written ``dex`` (in place)."""
    import astropy.units as u

    for col in table.itercols():
        unit = getattr(col, "unit", None)
        if unit is not None and unit != u.dex and is_log_unit_name(unit):
            col.unit = u.dex


class InputFileError(SosVoError, ValueError):
    """An input file that is truncated, malformed or points outside its folder."""


def confined(folder: str | os.PathLike, name: str, what: str) -> Path:
    """``folder / name``, refused unless it is a plain file name inside ``folder``.

    A manifest is data: a name such as ``../../etc/passwd`` or ``/etc/passwd`` is never
    followed out of the folder that holds it (symbolic links included).
    """
    folder = Path(folder)
    if not isinstance(name, str) or not name or Path(name).is_absolute() or Path(name).name != name \
            or name in (".", ".."):
        raise InputFileError(f"{what}: file name {name!r} is not a plain file name inside {folder}")
    path = folder / name
    if folder.resolve() not in path.resolve().parents:
        raise InputFileError(f"{what}: {name!r} points outside {folder}")
    return path


def read_manifest(folder: str | os.PathLike, name: str, formats: Iterable[str]) -> dict:
    """Read and check the JSON manifest ``folder/name`` of a folder of tables.

    It must hold ``format`` (one of ``formats``), ``tables`` (table name -> file name) and
    ``truth`` (a file name); every file name must stay inside ``folder`` (:func:`confined`).
    """
    folder = Path(folder)
    path = folder / name
    if not folder.is_dir():
        raise InputFileError(f"{folder} is not a folder of tables (written by 'sos-vo simulate')")
    if not path.is_file():
        raise InputFileError(f"{path} not found: not a synthetic-sky folder")
    try:
        manifest = json.loads(path.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputFileError(f"{path} is not valid JSON (truncated?): {exc}") from None
    if not isinstance(manifest, dict):
        raise InputFileError(f"{path}: expected a JSON object")
    missing = [k for k in ("format", "tables", "truth") if k not in manifest]
    if missing:
        raise InputFileError(f"{path} lacks {', '.join(missing)}")
    if manifest["format"] not in set(formats):
        raise InputFileError(f"{path}: unknown format {manifest['format']!r}")
    if not isinstance(manifest["tables"], dict) or not manifest["tables"]:
        raise InputFileError(f"{path}: 'tables' must map table names to file names")
    for fname in [*manifest["tables"].values(), manifest["truth"]]:
        confined(folder, fname, str(path))
    rows = manifest.get("rows", {})
    if not isinstance(rows, dict):
        raise InputFileError(f"{path}: 'rows' must map table names to row counts")
    return manifest


def read_checked(path: Path, reader, rows: int | None = None):
    """``reader(path)`` with a named error for a missing, truncated or malformed file.

    Parameters
    ----------
    path
        File to read.
    reader
        Callable returning an astropy Table.
    rows
        Row count recorded when the file was written (a manifest's ``rows``): a file cut at a
        line boundary parses without error, so the count is what catches it.
    """
    if not Path(path).is_file():
        raise InputFileError(f"{path} is missing")
    import warnings

    try:  # warnings are held back: a failed read is reported by one error, not warnings + error
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            table = reader(path)
    except SosVoError:
        raise
    except Exception as exc:  # noqa: BLE001 - astropy/XML/FITS parsers raise many error types
        raise InputFileError(f"cannot read {path} (truncated or not a table?): "
                             f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}") from None
    for w in caught:
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    if rows is not None and len(table) != int(rows):
        raise InputFileError(f"{path} has {len(table)} rows, its manifest says {rows}: truncated?")
    return table
