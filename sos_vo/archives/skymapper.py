"""SkyMapper's own TAP service (NCI): ``dr2.master``, an alternative to the Gaia archive copy.

The column names are those of the Gaia archive's ``external.skymapperdr2_master`` (which is
replicated from it); ``sos_vo/tap_queries/skymapper_dr2_master_region.adql``.
"""

from __future__ import annotations

from astropy.table import Table

from .adql import render
from .conf import setting, table_name
from .exceptions import RegionError
from .regions import Region
from .tap import TapClient

SKYMAPPER_DR2_MASTER = "dr2.master"
"""SkyMapper DR2 main table on the NCI TAP service (Onken et al. 2019)."""


def client(tap_url: str | None = None, **kwargs) -> TapClient:
    """A :class:`TapClient` for SkyMapper (``tap_url`` overrides ``conf.skymapper_tap_url``)."""
    return TapClient(str(setting("skymapper_tap_url", tap_url)), **kwargs)


def query_region(region: Region, *, tap_url: str | None = None,
                 tables: dict[str, str] | None = None, use_async: bool = False,
                 **kwargs) -> Table:
    """SkyMapper DR2 master rows in ``region`` (circle or polygon)."""
    if not region.exact_on_server:
        raise RegionError("MOC/HEALPix regions work for Gaia queries only; use a circle or "
                          "polygon for SkyMapper")
    name = table_name("skymapper_dr2_master", SKYMAPPER_DR2_MASTER, overrides=tables)
    adql = render("skymapper_dr2_master_region", region=region.adql("m.raj2000", "m.dej2000"),
                  skymapper_dr2_master=name)
    return client(tap_url, **kwargs).run(adql, use_async=use_async)
