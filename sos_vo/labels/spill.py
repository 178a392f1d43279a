"""Label rows kept on disk by Gaia DR3 source_id range, read back one partition at a time.

Every per-star step of the homogenisation (union of the references, pairs, calibration
offsets, the star-by-star average) reads the rows of one ``source_id`` only, so any partition
of the source_id values splits the work into independent parts.  Gaia DR3 ``source_id``
carries the level-12 nested HEALPix index (``source_id // 2**35``, Gaia DR3 documentation
Sect. 1.1; :mod:`sos_vo.gaia_dr3`): the cells of one HEALPix order are disjoint, ordered
source_id ranges, i.e. a partition of the sky.

:class:`LabelSpill` appends each survey's rows, chunk by chunk as they are fetched, to one file
per (survey, cell of order :data:`SPILL_ORDER`) in a work folder: fixed 56-byte records
(:data:`RECORD`: ``source_id`` and the six label columns).  :meth:`LabelSpill.partitions` groups
consecutive non-empty cells into partitions of at most ``partition_rows`` rows (all surveys
together; a cell holding more is a partition of its own), and :meth:`LabelSpill.read` gives a
survey's rows of one partition, one row per star (:data:`~sos_vo.archives.label_source.DUPLICATE_RULE`).

Why hand-written raw records: the rows are fixed-width and only ever appended then read whole,
which ``numpy.ndarray.tofile`` / ``numpy.fromfile`` do without a format layer; the partition
files of a survey are few hundred, each read once per pass.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from astropy.table import Table

from ..archives.label_source import one_per_star_rows
from ..gaia_dr3 import SOURCE_ID_ORDER

LABEL_VALUE_COLUMNS: tuple[str, ...] = ("teff", "e_teff", "logg", "e_logg", "feh", "e_feh")
"""The label-schema columns the homogenisation reads, besides ``source_id``."""

RECORD = np.dtype([("source_id", "<i8")] + [(c, "<f8") for c in LABEL_VALUE_COLUMNS])
"""One label row on disk: ``source_id`` and the six label columns, 56 bytes."""

SPILL_ORDER = 3
"""HEALPix order of the cells the rows are filed by (768 cells of 54 deg^2; our choice: the
densest whole-sky cell of the largest survey, LAMOST LRS ~5 M rows over ~17 000 deg^2, holds
some 10^4-10^5 rows, a few MB; finer cells would only multiply the files)."""

PARTITION_ROWS = 200_000
"""Rows (all surveys together) of one partition at most, unless one cell holds more (our
choice: 11 MB of records; the per-star intermediates of the homogenisation of one partition
(union, pairs, offsets, the star-by-star average and its text column) come to some 0.1 GB.
Measured by ``benchmarks/build_memory.py --rows 100000 --partition-rows 100000 200000 500000``
(``benchmarks/results/build_memory-partitions.json``, 5 sources): peak 362, 383 and 485 MB;
smaller partitions gain little more and multiply the passes' per-partition work)."""


def cell_of(source_id: np.ndarray, order: int = SPILL_ORDER) -> np.ndarray:
    """HEALPix index (nested) at ``order`` of Gaia DR3 ``source_id`` values (0 for ids below
    2**35, as the level-12 index of the id itself)."""
    shift = 35 + 2 * (SOURCE_ID_ORDER - order)
    return np.right_shift(np.maximum(np.asarray(source_id, dtype=np.int64), 0), shift)


def records(t: Table) -> np.ndarray:
    """Label-schema rows -> :data:`RECORD` array (NaN where a value is missing or masked)."""
    out = np.empty(len(t), dtype=RECORD)
    out["source_id"] = np.asarray(t["source_id"], dtype=np.int64)
    for col in LABEL_VALUE_COLUMNS:
        out[col] = np.ma.filled(np.ma.asarray(t[col], dtype=np.float64), np.nan)
    return out


class LabelSpill:
    """Label rows of several surveys on disk, by source_id cell (module docstring).

    Parameters
    ----------
    work_dir : path, optional
        Folder under which a temporary folder is made (None: the system's temporary folder).
        :meth:`close` (or leaving the ``with`` block) removes that folder and nothing else.
    order : int
        HEALPix order of the cells (default :data:`SPILL_ORDER`).
    """

    def __init__(self, work_dir: str | os.PathLike | None = None, order: int = SPILL_ORDER):
        if work_dir is not None:
            Path(work_dir).mkdir(parents=True, exist_ok=True)
        self.folder = Path(tempfile.mkdtemp(prefix="sos-vo-labels-", dir=work_dir))
        self.order = int(order)
        self.surveys: list[str] = []
        self.counts: dict[str, dict[int, int]] = {}
        """Survey -> cell -> rows filed (before one row per star)."""

    def __enter__(self) -> LabelSpill:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Remove the temporary folder."""
        shutil.rmtree(self.folder, ignore_errors=True)

    def _path(self, survey: str, cell: int) -> Path:
        return self.folder / str(self.surveys.index(survey)) / f"{cell}.rec"

    def add(self, survey: str, table: Table) -> int:
        """File ``table``'s rows (label schema, or :func:`records` columns) under ``survey``;
        returns the number of rows."""
        if survey not in self.counts:
            self.surveys.append(survey)
            self.counts[survey] = {}
            (self.folder / str(self.surveys.index(survey))).mkdir()
        rec = records(table)
        if rec.size == 0:
            return 0
        cells = cell_of(rec["source_id"], self.order)
        order = np.argsort(cells, kind="stable")
        rec, cells = rec[order], cells[order]
        starts = np.flatnonzero(np.r_[True, cells[1:] != cells[:-1]])
        ends = np.r_[starts[1:], cells.size]
        counts = self.counts[survey]
        for a, b in zip(starts, ends, strict=True):
            cell = int(cells[a])
            with open(self._path(survey, cell), "ab") as f:
                rec[a:b].tofile(f)
            counts[cell] = counts.get(cell, 0) + int(b - a)
        return int(rec.size)

    def rows(self, survey: str) -> int:
        """Rows filed under ``survey``."""
        return sum(self.counts.get(survey, {}).values())

    def partitions(self, partition_rows: int | None = None) -> list[tuple[int, ...]]:
        """Consecutive non-empty cells grouped into partitions of at most ``partition_rows``
        rows of all surveys (default :data:`PARTITION_ROWS`), in source_id order."""
        limit = PARTITION_ROWS if partition_rows is None else int(partition_rows)
        if limit < 1:
            raise ValueError(f"partition_rows must be >= 1, got {limit}")
        per_cell: dict[int, int] = {}
        for counts in self.counts.values():
            for cell, n in counts.items():
                per_cell[cell] = per_cell.get(cell, 0) + n
        parts: list[tuple[int, ...]] = []
        current: list[int] = []
        size = 0
        for cell in sorted(per_cell):
            if current and size + per_cell[cell] > limit:
                parts.append(tuple(current))
                current, size = [], 0
            current.append(cell)
            size += per_cell[cell]
        if current:
            parts.append(tuple(current))
        return parts

    def read(self, survey: str, cells: Sequence[int]) -> np.ndarray:
        """``survey``'s rows in ``cells``, one per star (the duplicate rule of the label
        fetch, ties by the order filed), in filing order."""
        counts = self.counts.get(survey, {})
        parts = [np.fromfile(self._path(survey, c), dtype=RECORD) for c in cells if c in counts]
        rec = np.concatenate(parts) if parts else np.zeros(0, dtype=RECORD)
        return rec[one_per_star_rows(rec["source_id"], rec["e_feh"])]
