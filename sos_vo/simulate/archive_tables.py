"""Synthetic archive tables with the real archives' names, columns, dtypes, units and UCDs.

The schema itself (which tables, which columns, their dtypes, units, UCDs, descriptions and
where each comes from) is :mod:`sos_vo.schema.archive`, shared with :mod:`sos_vo.archives.tables`;
its names stay importable from here.  This module adds :func:`build_table`, which assembles
one table of the synthetic sky and marks it SYNTHETIC.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from astropy.table import MaskedColumn, Table

from ..schema.archive import (  # noqa: F401  (re-exported: the simulator's historical names)
    ANDRAE,
    ANDRAE_COLUMNS,
    DEX,
    DISTANCE_COLUMNS,
    FLUX,
    GAIA_DISTANCE,
    GAIA_SOURCE,
    GAIA_SOURCE_COLUMNS,
    KMS,
    LOGG,
    NEIGHBOUR_TABLE,
    PASTEL,
    PASTEL_COLUMNS,
    PHOTOMETRY_ID,
    PHOTOMETRY_TABLE,
    PM,
    SDSS_NEIGHBOUR,
    SDSS_NEIGHBOUR_COLUMNS,
    SDSS_NULL,
    SDSS_PHOTO,
    SDSS_PHOTO_COLUMNS,
    SKYMAPPER_MASTER,
    SKYMAPPER_MASTER_COLUMNS,
    SKYMAPPER_NEIGHBOUR,
    SKYMAPPER_NEIGHBOUR_COLUMNS,
    SOS_SPECTRO,
    SOS_SPECTRO_COLUMNS,
    TABLE_COLUMNS,
    TABLE_DESCRIPTIONS,
)
from ..schema.column import Column

SYNTHETIC_DESCRIPTION = (
    "SYNTHETIC DATA made by sos_vo.simulate: imitates the archive schema; not real measurements."
)


def build_table(name: str, values: Mapping[str, np.ndarray], masks: Mapping[str, np.ndarray] | None = None,
                meta: Mapping[str, object] | None = None) -> Table:
    """Assemble archive table ``name`` from column arrays, with the archive's dtypes, units and UCDs.

    Parameters
    ----------
    name
        Fully qualified archive table name (a key of :data:`TABLE_COLUMNS`).
    values
        One array per column of the table (every column is required).
    masks
        Optional boolean arrays, True where the archive has a null.  NaN in a float column is
        masked as well.
    meta
        Extra table metadata; ``SYNTHETIC=True`` and a DESCRIPTION are always added.
    """
    specs: Sequence[Column] = TABLE_COLUMNS[name]
    masks = masks or {}
    missing = [s.name for s in specs if s.name not in values]
    if missing:
        raise KeyError(f"{name}: no values for column(s) {', '.join(missing)}")
    table = Table()
    for spec in specs:
        data = np.asarray(values[spec.name])
        data = data.astype(str) if spec.dtype == "str" else data.astype(spec.dtype)
        mask = np.zeros(len(data), bool) if spec.name not in masks else np.asarray(masks[spec.name], bool)
        if data.dtype.kind == "f":
            mask = mask | ~np.isfinite(data)
        elif data.dtype.kind == "U":  # the archives write an empty string, not a null
            data = np.where(mask, "", data)
            mask = np.zeros(len(data), bool)
        col = MaskedColumn(data, name=spec.name, mask=mask, unit=spec.unit, description=spec.description)
        if spec.ucd:
            col.meta["ucd"] = spec.ucd
        table[spec.name] = col
    table.meta.update(meta or {})
    table.meta["name"] = name
    table.meta["SYNTHETIC"] = True
    table.meta["DESCRIPTION"] = f"{TABLE_DESCRIPTIONS[name]}. {SYNTHETIC_DESCRIPTION}"
    return table
