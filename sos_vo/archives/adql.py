"""Load and fill the ADQL templates of ``sos_vo/tap_queries/``."""

from __future__ import annotations

import re
import string
from importlib import resources

from .conf import table_name
from .tables import ARCHIVE_TABLES

TEMPLATE_PACKAGE = "sos_vo.tap_queries"

ADQL_RESERVED = frozenset({
    "absolute", "action", "all", "and", "any", "as", "asc", "between", "by", "cast", "catalog",
    "column", "connection", "date", "day", "default", "desc", "domain", "external", "first",
    "from", "full", "global", "group", "having", "hour", "in", "inner", "join", "key", "last",
    "left", "level", "like", "local", "match", "minute", "month", "names", "natural", "not",
    "null", "or", "order", "outer", "position", "public", "right", "schema", "second",
    "section", "select", "session", "size", "space", "table", "time", "top", "translation",
    "union", "user", "value", "values", "view", "where", "year", "zone",
})
"""Words that ADQL (2.0 Sect. 2.1.2 and 2.1 Sect. 2.1.2, the SQL-92 reserved words) forbids as
bare identifiers.  ``external`` is one: the Gaia archive accepts ``external.gaiaedr3_distance``
bare, but a strict parser (GAVO DaCHS) needs ``"external".gaiaedr3_distance``, which every
conforming service accepts; so reserved parts of table names are always quoted."""



def quote_table_name(name: str) -> str:
    """Quote the parts of a qualified table name that are ADQL reserved words."""
    if '"' in name:
        return name
    return ".".join(f'"{p}"' if p.lower() in ADQL_RESERVED else p for p in name.split("."))


def template_text(name: str) -> str:
    """The raw text of ``sos_vo/tap_queries/<name>.adql``."""
    try:
        return resources.files(TEMPLATE_PACKAGE).joinpath(f"{name}.adql").read_text()
    except FileNotFoundError:
        raise FileNotFoundError(f"no ADQL template {name!r} in package {TEMPLATE_PACKAGE}") \
            from None


def placeholders(name: str) -> set[str]:
    """Names of the ``{placeholders}`` of a template (comments excluded)."""
    body = strip_comments(template_text(name))
    return {f for _, f, _, _ in string.Formatter().parse(body) if f}


def strip_comments(text: str) -> str:
    """Remove ``--`` comment lines and blank lines (not every TAP server accepts comments)."""
    return "\n".join(line for line in text.splitlines()
                     if line.strip() and not line.lstrip().startswith("--"))


def render(name: str, *, region: str = "1 = 1", chunk: str = "1 = 1",
           drop_blocks: tuple[str, ...] = (), tables: dict[str, str] | None = None,
           **params: object) -> str:
    """Fill template ``name``.

    Parameters
    ----------
    region, chunk : str
        ADQL constraints for the region and the chunk (``1 = 1`` for none).
    drop_blocks : tuple of str
        Names of ``-- BEGIN x`` ... ``-- END x`` blocks to leave out (e.g. ``gaia_cuts``).
    tables : dict, optional
        Table-name overrides by logical key, on top of :mod:`conf`'s.
    params
        Other placeholder values (cut thresholds, extra table keys such as ``pastel``).
    """
    text = template_text(name)
    for block in drop_blocks:
        text = re.sub(rf"^-- BEGIN {block}\b.*?^-- END {block}[^\n]*\n?", "", text,
                      flags=re.S | re.M)
    body = strip_comments(text)
    values: dict[str, object] = {"region": region, "chunk": chunk}
    for key, spec in ARCHIVE_TABLES.items():
        values[key] = quote_table_name(table_name(key, spec.name, overrides=tables))
    values.update(params)
    missing = {f for _, f, _, _ in string.Formatter().parse(body) if f} - set(values)
    if missing:
        raise KeyError(f"ADQL template {name!r} needs values for {', '.join(sorted(missing))}")
    return body.format(**values)
