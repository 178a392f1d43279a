"""Parquet for sos-vo tables: astropy <-> Arrow with units and masks, atomic writes, schema checks.

Units travel as Arrow field metadata (``b"unit"``), missing values as Arrow nulls (astropy
masks), strings as Arrow strings.  A Parquet part is written to a temporary file next to its
final name and renamed into place (:func:`sos_vo.io.atomic_path`), so a reader never sees a
half-written part.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path

import astropy.units as u
import numpy as np
from astropy.table import Column, MaskedColumn, Table

from ..exceptions import SchemaError
from ..extras import require
from ..io import atomic_path

pa = require("pyarrow", "Parquet input and output", "scale")
pq = require("pyarrow.parquet", "Parquet input and output", "scale")

UNIT_KEY = b"unit"
"""Arrow field-metadata key of a column's unit string."""

DEFAULT_BATCH_ROWS = 262_144
"""Rows per streamed batch: ~50 joined columns x 8 bytes x 262k rows ~ 100 MB of input, a few
times that while cuts and features run; well inside a 2 GB budget."""


def _unit(text: str | None):
    if not text:
        return None
    return u.Unit(text, parse_strict="silent")


def arrow_to_table(data: pa.RecordBatch | pa.Table) -> Table:
    """Astropy Table from Arrow data: nulls become masked entries, ``unit`` metadata units."""
    out = Table()
    for i, field in enumerate(data.schema):
        arr = data.column(i)
        if isinstance(arr, pa.ChunkedArray):
            arr = arr.combine_chunks()
        unit = _unit((field.metadata or {}).get(UNIT_KEY, b"").decode() or None)
        if pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type):
            values = np.asarray(arr.fill_null("").to_numpy(zero_copy_only=False), dtype=str)
        elif arr.null_count:
            fill = False if pa.types.is_boolean(arr.type) else 0
            values = arr.fill_null(fill).to_numpy(zero_copy_only=False)
        else:
            values = arr.to_numpy(zero_copy_only=False)
        if arr.null_count:
            mask = arr.is_null().to_numpy(zero_copy_only=False)
            out[field.name] = MaskedColumn(values, mask=mask, unit=unit)
        else:
            out[field.name] = Column(values, unit=unit)
    out.meta.update({k.decode(): v.decode() for k, v in (data.schema.metadata or {}).items()
                     if not k.startswith(b"pandas")})
    return out


def table_to_arrow(table: Table) -> pa.Table:
    """Arrow table from an astropy Table: masks as nulls, units as field metadata."""
    arrays, fields = [], []
    for name in table.colnames:
        col = table[name]
        mask = np.asarray(col.mask) if isinstance(col, MaskedColumn) and np.any(col.mask) else None
        values = np.asarray(col)
        if values.dtype.kind == "U":
            arr = pa.array(values.astype(object), type=pa.string(), mask=mask)
        else:
            arr = pa.array(values, mask=mask)
        meta = {UNIT_KEY: str(col.unit).encode()} if col.unit is not None else None
        arrays.append(arr)
        fields.append(pa.field(name, arr.type, metadata=meta))
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))


def write_parquet(table: Table | pa.Table, path: str | os.PathLike, *, overwrite: bool = False,
                  compression: str = "zstd") -> Path:
    """Write one Parquet file atomically (temporary file, then rename)."""
    data = table if isinstance(table, pa.Table) else table_to_arrow(table)
    with atomic_path(path, overwrite=overwrite) as tmp:
        pq.write_table(data, tmp, compression=compression)
    return Path(path)


def iter_batches(path: str | os.PathLike, batch_rows: int = DEFAULT_BATCH_ROWS,
                 columns: Sequence[str] | None = None) -> Iterator[pa.RecordBatch]:
    """Record batches of one Parquet file, ``batch_rows`` at a time (bounded memory)."""
    with pq.ParquetFile(path) as pf:
        yield from pf.iter_batches(batch_size=int(batch_rows), columns=columns)


def schema_signature(schema: pa.Schema) -> tuple[tuple[str, str], ...]:
    """``(name, type)`` of every field (metadata ignored): what partitions must share."""
    return tuple((f.name, str(f.type)) for f in schema)


def read_schema(path: str | os.PathLike) -> pa.Schema:
    """Schema from a Parquet footer; an unreadable file raises :class:`SchemaError` naming it."""
    try:
        return pq.read_schema(path)
    except (OSError, pa.ArrowException) as exc:
        raise SchemaError(f"{path}: not a readable Parquet file ({exc})") from exc


def _few(items: list[str], n: int = 6) -> str:
    return str(items[:n]) if len(items) <= n else f"{items[:n]} and {len(items) - n} more"


def check_same_schema(paths: Sequence[str | os.PathLike]) -> pa.Schema:
    """Raise :class:`SchemaError` unless every Parquet file has the first file's columns and types.

    Only the footers are read.  The error names the file and the first differences.
    """
    if not paths:
        raise SchemaError("no Parquet file given")
    first = read_schema(paths[0])
    want = dict(schema_signature(first))
    for p in paths[1:]:
        got = dict(schema_signature(read_schema(p)))
        if got != want:
            missing = sorted(set(want) - set(got))
            extra = sorted(set(got) - set(want))
            retyped = sorted(f"{k} ({want[k]} -> {got[k]})" for k in set(want) & set(got)
                             if want[k] != got[k])
            parts = [f"missing {_few(missing)}" if missing else "",
                     f"extra {_few(extra)}" if extra else "",
                     f"different types {_few(retyped)}" if retyped else ""]
            raise SchemaError(f"{p}: schema differs from {paths[0]}: "
                              + "; ".join(x for x in parts if x))
    return first


def parquet_rows(path: str | os.PathLike) -> int:
    """Row count from the Parquet footer."""
    return int(pq.ParquetFile(path).metadata.num_rows)
