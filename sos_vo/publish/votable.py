"""VOTable writer (BINARY2 or TABLEDATA) with units, UCDs, descriptions and provenance."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from astropy.io.votable.tree import Info, Param, Resource, TableElement, VOTableFile
from astropy.table import Table

from ..io import atomic_path
from ..schema import Column
from .metadata import ColumnsArg, prepare_table, unit_string
from .provenance import PROVENANCE_META_KEY, Provenance, resolve_provenance

VOTABLE_ENCODINGS = {"binary2": "binary2", "tabledata": "tabledata"}
"""Serialisations offered (VOTable 1.4, Sect. 5)."""

VOTABLE_VERSION = "1.3"
"""VOTable 1.3: its units follow the CDS syntax, which has logarithmic units such as ``[cm/s2]``
(VOTable 1.4 switched to VOUnit, which has none); see :mod:`sos_vo.publish.metadata`."""


def _add_provenance(votable: VOTableFile, prov: Provenance) -> None:
    resource = votable.resources[0]
    counts: dict[str, int] = {}
    for name, value in prov.items():
        counts[name] = counts.get(name, 0) + 1
        resource.infos.append(Info(ID=f"info_{name}_{counts[name]}", name=name, value=value))
    table = resource.tables[0]
    params = [("sos_vo_version", prov.package_version, "meta.version", "sos-vo package version"),
              ("date", prov.date, "time.creation", "Creation date of this table (UTC)")]
    if prov.model_version:
        params.insert(1, ("model_version", prov.model_version, "meta.version",
                          "Version of the trained model"))
    for name, value, ucd, description in params:
        p = Param(votable, ID=f"param_{name}", name=name, datatype="char", arraysize="*",
                  value=value, ucd=ucd)
        p.description = description
        table.params.append(p)


def build_votable(table: Table, metas: Sequence[Column], prov: Provenance, *,
                  table_name: str | None = None, description: str | None = None) -> VOTableFile:
    """Build the VOTable tree of a table prepared by :func:`sos_vo.publish.metadata.prepare_table`."""
    clean = table.copy(copy_data=False)
    clean.meta = {k: v for k, v in clean.meta.items() if k != PROVENANCE_META_KEY}
    votable = VOTableFile(version=VOTABLE_VERSION)
    resource = Resource()
    votable.resources.append(resource)
    vtable = TableElement.from_table(votable, clean)
    resource.tables.append(vtable)
    if table_name:
        vtable.name = table_name
    if description:
        vtable.description = description
    by_name = {m.name: m for m in metas}
    for f in vtable.fields:
        meta = by_name[f.name]
        if clean[f.name].dtype.kind == "b":
            # astropy writes numpy bool as datatype="bit"; STILTS/TOPCAT 4.8 read a scalar
            # BINARY2 bit as boolean[] and fail (ClassCastException), so write "boolean"
            f.datatype = "boolean"
        f.unit = unit_string(meta, "cds")
        f.ucd = meta.ucd or None
        f.description = meta.description or None
    _add_provenance(votable, prov)
    return votable


def write_votable(table: Table, path: str | os.PathLike, *, columns: ColumnsArg = None,
                  provenance: Provenance | dict | None = None, encoding: str = "binary2",
                  required: Sequence[str] = (), strict: bool = True, table_name: str | None = None,
                  description: str | None = None, overwrite: bool = False) -> Path:
    """Write ``table`` as a VOTable 1.4 with units, UCDs, descriptions and provenance.

    Parameters
    ----------
    table : astropy.table.Table
        Table to write.
    path : path-like
        Output file (written atomically).
    columns : mapping or iterable of Column, optional
        Column metadata overriding the catalogue defaults (:mod:`sos_vo.publish.metadata`).
    provenance : Provenance or dict, optional
        Provenance; merged with ``table.meta["provenance"]``.
    encoding : {"binary2", "tabledata"}
        Serialisation of the data.
    required : sequence of str
        Columns that must be present.
    strict : bool
        Require a description and a UCD for every column.
    table_name, description : str, optional
        TABLE name and DESCRIPTION.
    overwrite : bool
        Replace an existing file.

    Returns
    -------
    pathlib.Path
        The written file.
    """
    if encoding not in VOTABLE_ENCODINGS:
        raise ValueError(f"unknown VOTable encoding {encoding!r}: expected one of "
                         f"{', '.join(VOTABLE_ENCODINGS)}")
    prepared, metas = prepare_table(table, columns, required=required, strict=strict)
    prov = resolve_provenance(table.meta, provenance)
    votable = build_votable(prepared, metas, prov, table_name=table_name, description=description)
    with atomic_path(path, overwrite=overwrite) as tmp:
        votable.to_xml(str(tmp), tabledata_format=VOTABLE_ENCODINGS[encoding])
    return Path(path)
