"""Reader of the Harris (1996, 2010 edition) catalogue of Milky Way globular clusters.

The catalogue ("mwgc.dat", W.E. Harris, McMaster University; Harris 1996, AJ 112, 1487,
December 2010 revision) is a text file in three parts: I identifications and positions, II
metallicities and photometry, III velocities and structure.  Each part has a header line that
starts with ``ID`` and ends at a line of underscores; every cluster has one fixed-width row
per part.  We read part I (positions, distances) and the first three columns of part II
([Fe/H], its weight, E(B-V)) and join them on the ID.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import astropy.units as u
import numpy as np
from astropy.coordinates import SkyCoord
from astropy.table import Table

from ..exceptions import EmptyInputError, SchemaError

HARRIS_CITATION = "Harris W.E. 1996, AJ 112, 1487 (2010 edition)"

ID_SLICE = slice(1, 11)
"""Cluster ID, bytes 2-11 of every row (e.g. ``NGC 104``, ``Terzan 5``, ``2MS-GC01``)."""
NAME_SLICE = slice(12, 25)
"""Other common name in part I (e.g. ``47 Tuc``)."""
PART1_VALUES_START = 25
"""Part I values after the names: RA (h m s), Dec (d m s), l, b, R_sun, R_gc, X, Y, Z."""
FEH_SLICE, WT_SLICE, EBV_SLICE = slice(11, 18), slice(18, 21), slice(21, 28)
"""Part II: [Fe/H], its weight (number of averaged measurements), foreground E(B-V)."""

_PART = re.compile(r"^\s*Part\s+(I{1,3}):", re.IGNORECASE)


def _sections(lines: list[str], path: Path) -> dict[str, list[str]]:
    """Data rows of each part, keyed by ``I``, ``II``, ``III``.

    A part title is a ``Part <n>:`` line followed by an ``ID`` header line before any other
    part title (the table of contents near the top also lists the parts, without headers).
    """
    parts: dict[str, list[str]] = {}
    for i, line in enumerate(lines):
        m = _PART.match(line)
        if not m:
            continue
        header = None
        for j in range(i + 1, len(lines)):
            if _PART.match(lines[j]):
                break
            if lines[j].lstrip().startswith("ID"):
                header = j
                break
        if header is None:
            continue
        rows = []
        for row in lines[header + 1:]:
            if row.strip().startswith("_") or _PART.match(row):
                break
            if row.strip():
                rows.append(row)
        parts[m.group(1).upper()] = rows
    return parts


def _number(text: str) -> float:
    text = text.strip()
    return float(text) if text else np.nan


def read_harris(path: str | os.PathLike) -> Table:
    """Read the Harris catalogue (raw ``mwgc.dat`` format).

    Parameters
    ----------
    path : path-like
        The file.

    Returns
    -------
    astropy.table.Table
        One row per cluster: ``cluster`` (ID), ``name`` (other name, may be empty), ``ra``,
        ``dec`` (deg, J2000), ``l``, ``b`` (deg), ``r_sun``, ``r_gc`` (kpc), ``feh`` ([Fe/H],
        NaN where not given), ``feh_weight``, ``ebv`` (mag).

    Raises
    ------
    SchemaError
        If part I or II is missing or a row cannot be parsed (the message names the line).
    """
    path = Path(path)
    lines = path.read_text(encoding="latin-1").splitlines()
    parts = _sections(lines, path)
    for part in ("I", "II"):
        if not parts.get(part):
            raise SchemaError(f"{path}: part {part} of the Harris catalogue not found or empty")
    ids, names, ra, dec, rest = [], [], [], [], []
    for row in parts["I"]:
        tokens = row[PART1_VALUES_START:].split()
        if len(tokens) != 13:
            raise SchemaError(f"{path}: part I row for {row[ID_SLICE].strip()!r} has {len(tokens)} "
                              f"values after the names, expected 13: {row!r}")
        ids.append(row[ID_SLICE].strip())
        names.append(row[NAME_SLICE].strip())
        ra.append(" ".join(tokens[0:3]))
        dec.append(" ".join(tokens[3:6]))
        try:
            rest.append([float(t) for t in tokens[6:]])
        except ValueError:
            raise SchemaError(f"{path}: non-numeric position value in part I row {row!r}") from None
    metal = {}
    for row in parts["II"]:
        try:
            metal[row[ID_SLICE].strip()] = (_number(row[FEH_SLICE]), _number(row[WT_SLICE]),
                                            _number(row[EBV_SLICE]))
        except ValueError:
            raise SchemaError(f"{path}: cannot read [Fe/H], weight, E(B-V) of part II row {row!r}"
                              ) from None
    missing = [i for i in ids if i not in metal]
    if missing:
        raise SchemaError(f"{path}: cluster(s) {', '.join(missing[:5])} of part I not in part II")
    coords = SkyCoord(ra, dec, unit=(u.hourangle, u.deg), frame="icrs")
    values = np.array(rest)
    table = Table()
    table["cluster"] = ids
    table["name"] = names
    table["ra"] = coords.ra.deg * u.deg
    table["dec"] = coords.dec.deg * u.deg
    for j, (col, unit) in enumerate((("l", u.deg), ("b", u.deg), ("r_sun", u.kpc), ("r_gc", u.kpc))):
        table[col] = values[:, j] * unit
    table["feh"] = np.array([metal[i][0] for i in ids])
    table["feh"].unit = u.dex
    table["feh_weight"] = np.array([metal[i][1] for i in ids])
    table["ebv"] = np.array([metal[i][2] for i in ids]) * u.mag
    if len(table) == 0:
        raise EmptyInputError(f"{path}: no cluster rows")
    table.meta["source"] = f"{HARRIS_CITATION}, read from {path.name}"
    return table
