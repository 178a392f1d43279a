"""Provenance written into every product: package and model version, archives, releases, queries, date.

VOTable: one ``INFO`` per item in the RESOURCE (``sos_vo_version``, ``model_version``,
``archive``, ``release``, ``query``, ``date``, ``reference``) plus ``PARAM`` elements for the
versions and the creation date.  FITS: keywords in the table HDU (``CREATOR``, ``SOSVOVER``,
``MODELVER``, ``DATE``, ``ARCHIVn``, ``RELEASn``, ``QUERYn``, ``REFERENC``), long values with
the ``CONTINUE`` long-string convention.  CDS: a paragraph of the ReadMe description.

Upstream stages hand provenance over in ``table.meta[PROVENANCE_META_KEY]`` (a dict with the
fields of :class:`Provenance`); the writers merge it with what the caller passes.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace

from ..version import __version__

PROVENANCE_META_KEY = "provenance"
"""Key of ``Table.meta`` under which a stage passes its provenance dict to the writers."""

REFERENCE = "Turchi et al. 2025, A&A (Survey of Surveys II: SoS-ML)"
"""The method this package reproduces."""


def _utc_now() -> str:
    return _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")


@dataclass(frozen=True)
class Provenance:
    """Where a table comes from.

    Parameters
    ----------
    package_version : str
        sos-vo version that wrote the table.
    model_version : str or None
        Version/identifier of the trained model used (None for tables without predictions).
    archives : tuple of str
        Archives queried (e.g. ``"ESA Gaia archive https://gea.esac.esa.int/tap-server/tap"``).
    releases : tuple of str
        Data releases used (e.g. ``"Gaia DR3"``, ``"SDSS DR13"``).
    queries : tuple of str
        ADQL queries (or other requests) run.
    date : str
        Creation date, ISO 8601 UTC (``YYYY-MM-DDThh:mm:ss``).
    reference : str
        Publication describing the method.
    synthetic : bool or None
        True when the table holds synthetic data or predictions of a model trained on the
        synthetic sky (:mod:`sos_vo.simulate`); False when it comes from real archives with a
        model trained on real labels; None when unknown (not written).  Written as the
        boolean FITS keyword ``SYNTHETC`` and the VOTable ``INFO name="SYNTHETIC"``.
    """

    package_version: str = __version__
    model_version: str | None = None
    archives: tuple[str, ...] = ()
    releases: tuple[str, ...] = ()
    queries: tuple[str, ...] = ()
    date: str = field(default_factory=_utc_now)
    reference: str = REFERENCE
    synthetic: bool | None = None

    @classmethod
    def from_mapping(cls, mapping: Mapping) -> Provenance:
        """Build from a dict (unknown keys are ignored; scalars become one-element tuples)."""
        kwargs = {}
        for f in fields(cls):
            if f.name in mapping and mapping[f.name] is not None:
                value = mapping[f.name]
                if f.name in ("archives", "releases", "queries"):
                    value = (value,) if isinstance(value, str) else tuple(str(v) for v in value)
                elif f.name == "synthetic":
                    value = _as_bool(value)
                else:
                    value = str(value)
                kwargs[f.name] = value
        return cls(**kwargs)

    def merged(self, other: Provenance | Mapping | None) -> Provenance:
        """Return self with the lists of ``other`` appended and its scalars filling the blanks."""
        if other is None:
            return self
        if not isinstance(other, Provenance):
            other = Provenance.from_mapping(other)

        def union(a: tuple[str, ...], b: tuple[str, ...]) -> tuple[str, ...]:
            return tuple(dict.fromkeys(a + b))

        synthetic = (None if self.synthetic is None and other.synthetic is None
                     else bool(self.synthetic) or bool(other.synthetic))  # synthetic wins
        return replace(self, model_version=self.model_version or other.model_version,
                       synthetic=synthetic,
                       archives=union(self.archives, other.archives),
                       releases=union(self.releases, other.releases),
                       queries=union(self.queries, other.queries))

    def items(self) -> list[tuple[str, str]]:
        """(name, value) pairs in writing order; lists give one pair per element."""
        out = [("sos_vo_version", self.package_version)]
        if self.synthetic is not None:
            out.append(("SYNTHETIC", "true" if self.synthetic else "false"))
        if self.model_version:
            out.append(("model_version", self.model_version))
        out += [("archive", a) for a in self.archives]
        out += [("release", r) for r in self.releases]
        out += [("query", q) for q in self.queries]
        out += [("date", self.date), ("reference", self.reference)]
        return out

    def fits_cards(self) -> list[tuple[str, str, str]]:
        """(keyword, value, comment) FITS cards (keywords of at most 8 characters)."""
        cards = [("CREATOR", f"sos-vo {self.package_version}", "software that wrote this file"),
                 ("SOSVOVER", self.package_version, "sos-vo package version")]
        if self.synthetic is not None:
            cards.append(("SYNTHETC", bool(self.synthetic), "T: synthetic data or model, not real"))
        if self.model_version:
            cards.append(("MODELVER", self.model_version, "trained model version"))
        for key, values, comment in (("ARCHIV", self.archives, "archive queried"),
                                     ("RELEAS", self.releases, "data release used"),
                                     ("QUERY", self.queries, "query run")):
            for i, v in enumerate(values, 1):
                cards.append((f"{key}{i}", v, comment))
        cards += [("DATE", self.date, "file creation date (UTC)"),
                  ("REFERENC", self.reference, "method")]
        # FITS values are one line of printable ASCII: an ADQL query spans lines, and its
        # whitespace carries no meaning, so runs of whitespace become one space
        return [(k, v if isinstance(v, bool) else " ".join(str(v).split()), c) for k, v, c in cards]

    def text(self) -> str:
        """One paragraph for a ReadMe."""
        parts = [f"Written by sos-vo {self.package_version}"]
        if self.synthetic:
            parts.insert(0, "SYNTHETIC data (synthetic sky or a model trained on it), not real stars")
        if self.model_version:
            parts.append(f"model {self.model_version}")
        if self.releases:
            parts.append("data releases: " + ", ".join(self.releases))
        if self.archives:
            parts.append("archives: " + ", ".join(self.archives))
        parts.append(f"on {self.date} UTC")
        return "; ".join(parts) + "."


def resolve_provenance(table_meta: Mapping, provenance: Provenance | Mapping | None) -> Provenance:
    """Provenance passed by the caller merged with the one in ``table.meta`` (if any)."""
    given = provenance if isinstance(provenance, Provenance) else (
        Provenance.from_mapping(provenance) if provenance is not None else Provenance())
    return given.merged(table_meta.get(PROVENANCE_META_KEY))


FITS_LIST_KEYS = {"ARCHIV": "archives", "RELEAS": "releases", "QUERY": "queries"}


def provenance_from_fits_header(header: Mapping) -> dict:
    """Provenance dict from the keywords written by :meth:`Provenance.fits_cards` (for re-export)."""
    out: dict = {"archives": [], "releases": [], "queries": []}
    for prefix, name in FITS_LIST_KEYS.items():
        i = 1
        while f"{prefix}{i}" in header:
            out[name].append(str(header[f"{prefix}{i}"]))
            i += 1
    if "MODELVER" in header:
        out["model_version"] = str(header["MODELVER"])
    if "SYNTHETC" in header:
        out["synthetic"] = _as_bool(header["SYNTHETC"])
    return out


def provenance_from_infos(infos) -> dict:
    """Provenance dict from VOTable INFO elements (name, value) written by the VOTable writer."""
    out: dict = {"archives": [], "releases": [], "queries": []}
    lists = {"archive": "archives", "release": "releases", "query": "queries"}
    for info in infos:
        if info.name in lists:
            out[lists[info.name]].append(info.value)
        elif info.name == "model_version":
            out["model_version"] = info.value
        elif info.name == "SYNTHETIC":
            out["synthetic"] = _as_bool(info.value)
    return out


def _as_bool(value) -> bool:
    """A boolean from True/False, 'true'/'false', 'T'/'F', 1/0 (FITS and VOTable spellings)."""
    if isinstance(value, str):
        text = value.strip().lower()
        if text in ("true", "t", "1", "yes"):
            return True
        if text in ("false", "f", "0", "no", ""):
            return False
        raise ValueError(f"cannot read {value!r} as a boolean")
    return bool(value)


def catalogue_provenance(models: Mapping, data_synthetic: bool) -> dict:
    """Provenance of a predicted catalogue: model versions and the SYNTHETIC marker.

    Parameters
    ----------
    models
        survey -> model folder used.
    data_synthetic
        Whether the input tables are synthetic.

    Returns
    -------
    dict
        ``model_version`` (per survey: folder name, sos-vo version that trained it, first 12
        hex digits of the weights' SHA-256) and ``synthetic`` (the data, or any model, is).
    """
    from pathlib import Path

    from ..ml.modelio import WEIGHTS_NPZ, read_metadata

    versions, synthetic = [], bool(data_synthetic)
    for survey, folder in models.items():
        meta = read_metadata(folder)
        sha = str(meta.get("sha256", {}).get(WEIGHTS_NPZ, ""))[:12]
        versions.append(f"{survey}: {Path(folder).name} (sos-vo {meta.get('package_version', '?')}"
                        + (f", weights sha256 {sha}" if sha else "") + ")")
        synthetic = synthetic or bool(meta.get("provenance", {}).get("synthetic", False))
    return {"model_version": "; ".join(versions), "synthetic": synthetic}
