"""The manifest of a partitioned prediction run: which parts are done, resume or refuse, finalize.

A run writes one output part per input part (same relative path under the output folder),
each atomically, and records it in ``_manifest.json`` (rewritten atomically after every part).
The manifest carries a *fingerprint* of the run (model checksum, survey, the input parts with
their sizes and row counts): an output folder holding a run with another fingerprint is never
mixed with this one (:class:`RunConflictError`), one with the same fingerprint is resumed
(parts already recorded, and whose file still has the recorded row count, are skipped).
Finalizing checks that every input part has exactly one output part and no other part file
exists, then marks the run complete.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..exceptions import SosVoError
from ..io import atomic_path
from ..prepare.cuts import CutReport, CutStep
from .parquet_io import parquet_rows

MANIFEST = "_manifest.json"
FORMAT = "sos_vo.scale.run"
FORMAT_VERSION = 1


class RunConflictError(SosVoError, FileExistsError):
    """The output folder holds another run (or foreign files): refusing to mix them."""


class IncompleteRunError(SosVoError, RuntimeError):
    """A run stopped before every part was written; resume it with ``resume=True``."""


def report_to_dict(report: CutReport) -> dict[str, Any]:
    """JSON-ready :class:`CutReport`."""
    return {"survey": report.survey, "masked_values": dict(report.masked_values),
            "steps": [[s.name, s.source, s.n_before, s.n_removed, s.server_side]
                      for s in report.steps]}


def report_from_dict(data: Mapping[str, Any]) -> CutReport:
    """Inverse of :func:`report_to_dict`."""
    return CutReport(data["survey"], [CutStep(*s) for s in data["steps"]],
                     dict(data.get("masked_values", {})))


@dataclass
class PartResult:
    """What one input part gave: rows read, rows written, the cut counts."""

    key: str
    rows_in: int
    rows_out: int
    report: CutReport | None

    def to_dict(self) -> dict[str, Any]:
        return {"rows_in": self.rows_in, "rows_out": self.rows_out,
                "cuts": None if self.report is None else report_to_dict(self.report)}


@dataclass
class RunManifest:
    """State of one run in ``folder`` (see the module docstring)."""

    folder: Path
    fingerprint: dict[str, Any]
    parts: dict[str, dict[str, Any]] = field(default_factory=dict)
    complete: bool = False

    @property
    def path(self) -> Path:
        return self.folder / MANIFEST

    @classmethod
    def open(cls, folder: str | os.PathLike, fingerprint: Mapping[str, Any], *,
             resume: bool = True, overwrite: bool = False) -> RunManifest:
        """Start or resume the run ``fingerprint`` in ``folder``.

        Parameters
        ----------
        resume : bool
            Continue a run with the same fingerprint (otherwise such a folder is refused).
        overwrite : bool
            Delete whatever the folder holds and start afresh.

        Raises
        ------
        RunConflictError
            The folder holds another run, files that are not a run, or (``resume=False``)
            this same run.
        """
        folder = Path(folder)
        fp = json.loads(json.dumps(dict(fingerprint), default=str))
        if folder.exists() and overwrite:
            shutil.rmtree(folder)
        if folder.exists() and any(folder.iterdir()):
            mpath = folder / MANIFEST
            if not mpath.is_file():
                raise RunConflictError(f"{folder}: not empty and holds no {MANIFEST}; refusing to "
                                       f"write a run into it (choose another folder or "
                                       f"overwrite=True)")
            data = json.loads(mpath.read_text())
            if data.get("format") != FORMAT or data.get("fingerprint") != fp:
                diff = sorted(k for k in set(fp) | set(data.get("fingerprint", {}))
                              if fp.get(k) != data.get("fingerprint", {}).get(k))
                raise RunConflictError(
                    f"{folder}: holds another run (differs in {', '.join(diff) or 'format'}); "
                    f"refusing to mix them (choose another folder or overwrite=True)")
            if not resume:
                state = "complete" if data.get("complete") else "partial"
                raise RunConflictError(f"{folder}: holds a {state} run of the same inputs "
                                       f"({len(data.get('parts', {}))} parts done); pass "
                                       f"resume=True to continue or overwrite=True")
            run = cls(folder, fp, dict(data.get("parts", {})), bool(data.get("complete")))
            run._forget_damaged()
            run._remove_temporaries()
            return run
        folder.mkdir(parents=True, exist_ok=True)
        run = cls(folder, fp)
        run.save()
        return run

    def output_path(self, key: str) -> Path:
        """Output part of input part ``key`` (a relative path ending in ``.parquet``)."""
        return self.folder / key

    def _forget_damaged(self) -> None:
        for key in list(self.parts):
            p = self.output_path(key)
            if not p.is_file() or parquet_rows(p) != self.parts[key]["rows_out"]:
                del self.parts[key]
                self.complete = False

    def _remove_temporaries(self) -> None:
        for p in self.folder.rglob(".*.tmp*"):
            if p.is_dir():
                shutil.rmtree(p, ignore_errors=True)
            else:
                p.unlink(missing_ok=True)

    def pending(self, keys: Iterable[str]) -> list[str]:
        """Keys not yet done, in the given order."""
        return [k for k in keys if k not in self.parts]

    def record(self, result: PartResult) -> None:
        """Mark a part done (after its file is in place) and save the manifest."""
        self.parts[result.key] = result.to_dict()
        self.save()

    def save(self) -> None:
        """Rewrite ``_manifest.json`` atomically."""
        data = {"format": FORMAT, "format_version": FORMAT_VERSION, "fingerprint": self.fingerprint,
                "complete": self.complete, "parts": self.parts}
        with atomic_path(self.path, overwrite=True) as tmp:
            tmp.write_text(json.dumps(data, indent=1))

    def cut_report(self) -> CutReport | None:
        """The cut counts of all done parts, summed."""
        reports = [report_from_dict(p["cuts"]) for p in self.parts.values() if p.get("cuts")]
        return CutReport.combine(reports) if reports else None

    def finalize(self, keys: Iterable[str]) -> dict[str, int]:
        """Check that the folder holds exactly one part per key, mark the run complete.

        Raises :class:`IncompleteRunError` naming missing parts, :class:`RunConflictError`
        for part files that belong to no key.
        """
        keys = list(keys)
        missing = [k for k in keys if k not in self.parts or not self.output_path(k).is_file()]
        if missing:
            raise IncompleteRunError(f"{self.folder}: {len(missing)} of {len(keys)} parts not "
                                     f"written (first: {missing[:3]}); resume the run")
        expected = {self.output_path(k).resolve() for k in keys}
        stray = sorted(str(p) for p in self.folder.rglob("*.parquet") if p.resolve() not in expected)
        if stray:
            raise RunConflictError(f"{self.folder}: part files that belong to no input part: "
                                   f"{stray[:3]}")
        self.complete = True
        self.save()
        return {"parts": len(keys), "rows_in": sum(self.parts[k]["rows_in"] for k in keys),
                "rows_out": sum(self.parts[k]["rows_out"] for k in keys)}
