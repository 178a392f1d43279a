"""A validation report: a folder of plots and tables plus one table listing them.

``figures.ecsv`` is the table of figures (and tables): file name, kind and caption of every
item, in the order written.  The folder is written atomically: it appears complete or not at
all, and an existing report is replaced only with ``overwrite=True``.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from astropy.table import Table

from ..io import atomic_path

INDEX_FILE = "figures.ecsv"
"""The report's table of figures."""


class Report:
    """Items of a report being written into ``folder`` (use :func:`report_folder`)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.items: list[tuple[str, str, str]] = []

    def figure(self, filename: str, caption: str) -> Path:
        """Register a figure and return the path to write it to."""
        self.items.append((filename, "figure", caption))
        return self.folder / filename

    def table(self, filename: str, table: Table, caption: str) -> Path:
        """Write ``table`` (format from the suffix, e.g. ``.ecsv``) and register it."""
        path = self.folder / filename
        table.write(path)
        self.items.append((filename, "table", caption))
        return path

    def index(self) -> Table:
        """The table of figures."""
        return Table(rows=self.items or None, names=("file", "kind", "caption"),
                     dtype=(str, str, str))


@contextlib.contextmanager
def report_folder(path: str | os.PathLike, overwrite: bool = False, title: str = "") -> Iterator[Report]:
    """Context manager yielding a :class:`Report`; the folder is moved into place on success."""
    with atomic_path(path, overwrite=overwrite) as tmp:
        tmp.mkdir()
        report = Report(tmp)
        yield report
        index = report.index()
        index.meta["title"] = title
        index.write(tmp / INDEX_FILE)
