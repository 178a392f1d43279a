"""Resolve a table and its columns against a TAP service's ``TAP_SCHEMA`` before querying it.

Table and column names of the label sources (:mod:`sos_vo.archives.label_source`) were checked
against public documentation and code where possible, but names drift between releases and
mirrors.  :func:`resolve_table` asks the service itself (TAP 1.1, Sect. 4: ``TAP_SCHEMA.tables``
and ``TAP_SCHEMA.columns``), matches the expected names case-insensitively (TAP_SCHEMA keeps
the service's own spelling, which is then used in the ADQL) and, when a name is absent, raises
:class:`SchemaResolutionError` listing the closest names the service does have
(:func:`difflib.get_close_matches`).  The resolved names go into the provenance of every
product built from the table (:meth:`ResolvedTable.provenance`).

Quoted VizieR names (``"III/286/catalog"``) are compared without their quotes: TAP_SCHEMA
lists them bare.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from .exceptions import ArchiveError, QueryOverflowError
from .tap import TapClient

MAX_CANDIDATE_TABLES = 20_000
"""Most ``TAP_SCHEMA.tables`` rows read to suggest alternatives for a missing table (TAPVizieR
lists tens of thousands of tables; a prefix search is tried first)."""
N_SUGGESTIONS = 5
"""Closest names listed in an error."""
SUGGESTION_CUTOFF = 0.4
"""Similarity cutoff of :func:`difflib.get_close_matches` for the suggestions."""


class SchemaResolutionError(ArchiveError, ValueError):
    """A table or column is not in the service's ``TAP_SCHEMA``; the message lists the closest."""


def bare_name(name: str) -> str:
    """A table name without ADQL delimiters: ``'"III/286/catalog"'`` -> ``'III/286/catalog'``."""
    return ".".join(p.strip('"') for p in name.split(".")) if not name.startswith('"') \
        else name.strip('"')


def _adql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def quote_column(name: str) -> str:
    """An ADQL delimited identifier: ``[Fe/H]`` -> ``"[Fe/H]"`` (exact spelling, any service)."""
    return '"' + name.replace('"', '""') + '"'


@dataclass(frozen=True)
class ResolvedTable:
    """A table and columns as the service spells them.

    Attributes
    ----------
    url : str
        TAP service.
    requested : str
        The table name asked for.
    table : str
        The name in ``TAP_SCHEMA.tables`` (bare, no quotes).
    columns : dict
        Role -> column name as in ``TAP_SCHEMA.columns``.
    requested_columns : dict
        Role -> the column name asked for.
    """

    url: str
    requested: str
    table: str
    columns: dict[str, str]
    requested_columns: dict[str, str] = field(default_factory=dict)

    @property
    def adql_table(self) -> str:
        """The table name for ADQL: quoted when it is not a plain ``schema.table`` identifier."""
        if '"' in self.table:
            return self.table
        plain = all(part.replace("_", "").isalnum() for part in self.table.split("."))
        return self.table if plain and self.table.count(".") <= 1 else quote_column(self.table)

    def adql_column(self, role: str, alias: str | None = None) -> str:
        """Column of ``role`` as an ADQL delimited identifier, prefixed with ``alias.``."""
        col = quote_column(self.columns[role])
        return f"{alias}.{col}" if alias else col

    def provenance(self) -> dict[str, object]:
        """JSON-ready record: service, requested and resolved table and column names."""
        return {"service": self.url, "requested_table": self.requested, "table": self.table,
                "columns": dict(self.columns), "requested_columns": dict(self.requested_columns)}


def _closest(name: str, candidates: Iterable[str]) -> list[str]:
    pool = list(dict.fromkeys(candidates))
    lowered = {c.lower(): c for c in pool}
    hits = difflib.get_close_matches(name.lower(), list(lowered), n=N_SUGGESTIONS,
                                     cutoff=SUGGESTION_CUTOFF)
    return [lowered[h] for h in hits]


def _tables_like(client: TapClient, pattern: str) -> list[str]:
    rows = client.run("SELECT table_name FROM TAP_SCHEMA.tables WHERE table_name LIKE "
                      f"{_adql_string(pattern)}", maxrec=MAX_CANDIDATE_TABLES + 1)
    return [str(v) for v in rows["table_name"]]


def _find_table(client: TapClient, name: str) -> tuple[str | None, list[str]]:
    """(resolved name or None, candidate names seen)."""
    exact = _tables_like(client, name.replace("%", ""))
    for t in exact:
        if bare_name(t).lower() == name.lower():
            return t, exact
    # other spellings: same schema / catalogue prefix, then everything (bounded)
    cut = max(name.rfind("."), name.rfind("/"))
    prefix = name[:cut + 1] if cut > 0 else name[:3]
    seen = list(exact)
    for pattern in (prefix + "%", prefix.lower() + "%", prefix.upper() + "%"):
        seen += _tables_like(client, pattern)
    for t in seen:
        if bare_name(t).lower() == name.lower():
            return t, seen
    if not seen:
        try:
            seen = _tables_like(client, "%")
        except QueryOverflowError:
            seen = []
    for t in seen:
        if bare_name(t).lower() == name.lower():
            return t, seen
    return None, [bare_name(t) for t in seen]


def table_columns(client: TapClient, table: str) -> list[str]:
    """Column names of ``table`` (bare TAP_SCHEMA name) as ``TAP_SCHEMA.columns`` lists them."""
    rows = client.run("SELECT column_name FROM TAP_SCHEMA.columns WHERE table_name = "
                      f"{_adql_string(table)}")
    return [str(v) for v in rows["column_name"]]


def resolve_table(client: TapClient, table: str, columns: Mapping[str, str]) -> ResolvedTable:
    """Check ``table`` and ``columns`` against ``TAP_SCHEMA`` of ``client``'s service.

    Parameters
    ----------
    client : TapClient
        The service.
    table : str
        Expected table name (quoted VizieR names allowed).
    columns : mapping
        Role -> expected column name.

    Returns
    -------
    ResolvedTable
        The names as the service spells them.

    Raises
    ------
    SchemaResolutionError
        The table, or any column, is not in ``TAP_SCHEMA``; the message names the service,
        what is missing and the closest names found.
    """
    wanted = bare_name(table)
    found, candidates = _find_table(client, wanted)
    if found is None:
        close = _closest(wanted, candidates)
        hint = (f"closest tables there: {', '.join(close)}" if close else
                f"no similar table among the {len(set(candidates))} listed")
        raise SchemaResolutionError(
            f"table {wanted!r} is not in TAP_SCHEMA.tables of {client.url}; {hint} "
            "(override the name with --table KEY=NAME or SOS_VO_TABLE_NAMES)")
    have = table_columns(client, found)
    by_lower = {c.lower(): c for c in have}
    resolved, missing = {}, []
    for role, col in columns.items():
        hit = by_lower.get(col.lower())
        if hit is None:
            missing.append((role, col))
        else:
            resolved[role] = hit
    if missing:
        parts = []
        for role, col in missing:
            close = _closest(col, have)
            parts.append(f"{col!r} ({role}; closest: {', '.join(close) if close else 'none'})")
        raise SchemaResolutionError(
            f"table {found!r} at {client.url} lacks column(s) {'; '.join(parts)}")
    return ResolvedTable(url=client.url, requested=table, table=found, columns=resolved,
                         requested_columns=dict(columns))
