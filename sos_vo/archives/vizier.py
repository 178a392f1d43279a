"""CDS VizieR TAP (TAPVizieR): PASTEL, SoS DR1 and Andrae et al. (2023).

VizieR names tables by their catalogue path, quoted in ADQL (``"B/pastel/pastel"``); a DaCHS
mirror cannot use such names, see :func:`sos_vo.archives.conf.sql_table_name` and
``conf.vizier_names``.  Positions are VizieR's computed ``RAJ2000``/``DEJ2000`` columns.
"""

from __future__ import annotations

from astropy.table import Table

from ..schema import PASTEL_TABLE
from .adql import render
from .conf import setting, table_name
from .exceptions import RegionError
from .regions import Region
from .tap import TapClient

VIZIER_TABLES = {
    "pastel": f'"{PASTEL_TABLE}"',
    # SoS DR1 (Tsantaki et al. 2022, J/A+A/659/A95): check the table name on TAPVizieR's
    # TAP_SCHEMA (the catalogue has several tables); override with SOS_VO_TABLE_NAMES.
    "sos_dr1": '"J/A+A/659/A95/sos"',
}
"""Real VizieR table names by logical key (overridable, see :mod:`sos_vo.archives.conf`)."""
RA_COLUMN, DEC_COLUMN = "RAJ2000", "DEJ2000"


def client(tap_url: str | None = None, **kwargs) -> TapClient:
    """A :class:`TapClient` for VizieR (``tap_url`` overrides ``conf.vizier_tap_url``)."""
    return TapClient(str(setting("vizier_tap_url", tap_url)), **kwargs)


def _region_adql(region: Region, alias: str) -> str:
    if not region.exact_on_server:
        raise RegionError("MOC/HEALPix regions work for Gaia queries only (they use source_id); "
                          "use a circle or polygon for VizieR")
    return region.adql(f"{alias}.{RA_COLUMN}", f"{alias}.{DEC_COLUMN}")


def query_table(key: str, region: Region, *, tap_url: str | None = None,
                tables: dict[str, str] | None = None, use_async: bool = False,
                **kwargs) -> Table:
    """Rows of VizieR table ``key`` (``pastel`` or ``sos_dr1``) in ``region``."""
    if key not in VIZIER_TABLES:
        raise KeyError(f"unknown VizieR table key {key!r}: expected {', '.join(VIZIER_TABLES)}")
    name = table_name(key, VIZIER_TABLES[key], vizier=True, overrides=tables)
    alias = "p" if key == "pastel" else "s"
    adql = render(f"vizier_{key}_region", region=_region_adql(region, alias), **{key: name})
    return client(tap_url, **kwargs).run(adql, use_async=use_async)
