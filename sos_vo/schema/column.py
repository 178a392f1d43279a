"""One column of any table sos-vo reads or writes: :class:`Column`.

The same description serves the archive tables (:mod:`sos_vo.schema.archive`: what the
simulator writes, what the client selects, what the DaCHS fixture mirror publishes), the final
catalogue (:mod:`sos_vo.schema.catalogue`, T25 Table 6) and the metadata the writers of
:mod:`sos_vo.publish` attach.  The ADQL type is not stored: it follows from the numpy dtype by
:func:`adql_type`, the mapping TAP services and DaCHS use (an archive column's ADQL type is
checked against a real Gaia archive VOTable in ``tests/archives/test_tables.py``).
"""

from __future__ import annotations

from dataclasses import KW_ONLY, dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

STR = "str"
"""The dtype of a text column (its width is the data's, not the schema's)."""

def adql_type(dtype: str | np.dtype) -> str:
    """ADQL/PostgreSQL type of a numpy dtype, or of :data:`STR` (text), as TAP 1.1 services and DaCHS
    map them.

    Integers of 1 or 2 bytes are ``smallint``, of 4 bytes ``integer``, wider ones ``bigint``;
    floats of up to 4 bytes are ``real``, wider ones ``double precision``; numpy unicode and
    byte strings are ``text``; booleans ``boolean``.

    Raises
    ------
    ValueError
        For any other dtype (objects, dates, complex numbers), which no ADQL column holds.
    """
    if isinstance(dtype, str) and dtype == STR:
        return "text"
    import numpy as np  # here: naming columns needs no numpy (``sos-vo --help`` imports this)

    np_dtype = np.dtype(dtype)
    kind, size = np_dtype.kind, np_dtype.itemsize
    if kind == "b":
        return "boolean"
    if kind in "iu":
        return {1: "smallint", 2: "smallint", 4: "integer"}.get(size, "bigint")
    if kind == "f":
        return "real" if size <= 4 else "double precision"
    if kind in "US":
        return "text"
    raise ValueError(f"dtype {np_dtype} has no ADQL type (use numbers, booleans or strings)")


def dtype_name(dtype: np.dtype) -> str:
    """The schema's name of a numpy dtype: :data:`STR` for strings, else numpy's name."""
    return STR if dtype.kind in "US" else dtype.name


@dataclass(frozen=True)
class Column:
    """One column: name, numpy dtype, unit, UCD, description and, for T25 Table 6, the paper's name.

    Parameters
    ----------
    name : str
        Column name as the table spells it.
    dtype : str or None
        numpy dtype name (``"int64"``, ``"float32"``, ``"bool"``) or :data:`STR`; ``None``
        where the writers keep the table's own dtype.
    unit : str or None
        Unit string (the archive's VOUnit spelling for archive tables, ``"dex"`` for the
        logarithms of the catalogue); ``None`` for dimensionless columns.
    ucd : str
        UCD1+ word(s), e.g. ``"stat.error;phys.gravity"`` (empty where none).
    description : str
        Free-text description.
    paper_name : str
        Name of the column in T25 Table 6 (empty for other tables).
    """

    name: str
    _: KW_ONLY
    dtype: str | None = None
    unit: str | None = None
    ucd: str = ""
    description: str = ""
    paper_name: str = ""

    @property
    def adql_type(self) -> str:
        """ADQL/PostgreSQL type of :attr:`dtype` (:func:`adql_type`).

        Raises
        ------
        ValueError
            If the column has no dtype or one without an ADQL type.
        """
        if self.dtype is None:
            raise ValueError(f"column {self.name!r} has no dtype, hence no ADQL type")
        return adql_type(self.dtype)
