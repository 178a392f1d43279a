"""Reading table columns as plain float arrays in a required unit.

Every science step of :mod:`sos_vo.prepare` and :mod:`sos_vo.labels` reads its inputs through
:func:`float_values`, so the unit rules live in one place:

* a column **without a unit** is taken to be in the unit of the column contract
  (:mod:`sos_vo.schema`); archive VOTables and the simulator both declare units, hand-made
  tables often do not;
* a column whose unit **converts** to the required one is converted (``kpc`` -> ``pc``,
  ``deg_C`` is *not* accepted for K because the conversion is not a scale factor and
  temperatures in the archives are never in Celsius);
* any other unit (a magnitude column in ``Jy``, a distance in ``s``) is a
  :class:`~sos_vo.exceptions.SchemaError` naming the column, its unit and the expected unit;
* logarithmic quantities (``dex``) accept ``dex``, any astropy logarithmic unit
  (``dex(cm / s2)``) and the Gaia archive's ``log(cm.s**-2)`` string, which astropy does not
  parse; a linear physical unit (e.g. ``K``) on a dex column is an error.

Masked entries and non-finite values come back as NaN.
"""

from __future__ import annotations

from collections.abc import Iterable

import astropy.units as u
import numpy as np
from astropy.table import Table

from ..exceptions import EmptyInputError, SchemaError
from ..io import is_log_unit_name

DEX = u.dex
"""Unit of logarithmic labels (log g, [Fe/H], [M/H]) in the column contract."""


def require_columns(table: Table, columns: Iterable[str], what: str) -> None:
    """Raise :class:`SchemaError` listing every column of ``columns`` absent from ``table``."""
    missing = [c for c in columns if c not in table.colnames]
    if missing:
        raise SchemaError(
            f"{what}: input table lacks column(s) {', '.join(missing)} "
            f"(it has {len(table.colnames)} columns: {', '.join(table.colnames[:12])}"
            f"{', ...' if len(table.colnames) > 12 else ''})"
        )


def require_rows(table: Table, what: str) -> None:
    """Raise :class:`EmptyInputError` if ``table`` has no rows."""
    if len(table) == 0:
        raise EmptyInputError(f"{what}: input table has no rows")


def _is_log_unit(unit: u.UnitBase | None) -> bool:
    if unit is None:
        return True
    if is_log_unit_name(unit):  # "dex" as astropy 7/8 parse it from a VOTable (sos_vo.io)
        return True
    if isinstance(unit, u.FunctionUnitBase):  # dex(cm/s2), mag(...)
        return isinstance(unit, u.DexUnit) or unit.physical_unit == u.dimensionless_unscaled
    if isinstance(unit, u.UnrecognizedUnit):
        text = unit.to_string().replace(" ", "").lower()
        return text.startswith("log(") or text.startswith("[") or "dex" in text
    return unit in (u.dex, u.dimensionless_unscaled)


def float_values(table: Table, name: str, unit: u.UnitBase | str | None = None) -> np.ndarray:
    """Return column ``name`` as a float64 array in ``unit``; masked/non-finite entries -> NaN.

    Parameters
    ----------
    table
        Input table.
    name
        Column name (must exist; see :func:`require_columns`).
    unit
        Required unit, or None for a dimensionless quantity, flag or count (no check).
        ``"dex"`` selects the logarithmic rules of the module docstring.

    Raises
    ------
    SchemaError
        If the column's unit cannot be converted to ``unit``.
    """
    col = table[name]
    have = getattr(col, "unit", None)
    data = np.ma.getdata(col)
    if data.dtype.kind not in "biuf":
        raise SchemaError(f"column {name!r} has dtype {data.dtype}, expected a number")
    values = np.asarray(data, dtype=np.float64).copy()
    mask = np.ma.getmaskarray(col)
    if mask.any():
        values[mask] = np.nan
    values[~np.isfinite(values)] = np.nan
    if unit is None or have is None:
        return values
    want = u.Unit(unit)
    if want == DEX:
        if not _is_log_unit(have):
            raise SchemaError(f"column {name!r} has unit {have}, expected a logarithmic unit (dex)")
        return values
    if want == u.mag and isinstance(have, u.MagUnit):  # ABmag, mag(AB): magnitudes anyway
        return values
    if isinstance(have, u.UnrecognizedUnit):
        raise SchemaError(f"column {name!r} has unrecognised unit {have!s}, expected {want}")
    try:
        factor = have.to(want)
    except u.UnitConversionError as exc:
        raise SchemaError(f"column {name!r} has unit {have}, expected {want} "
                          f"(not convertible)") from exc
    return values * factor if factor != 1.0 else values


def present(values: np.ndarray) -> np.ndarray:
    """Boolean mask of the finite (present) entries of ``values``."""
    return np.isfinite(values)
