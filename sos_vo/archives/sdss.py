"""SDSS DR13 SkyServer (SQL, not TAP), through astroquery: an alternative source of PhotoPrimary.

The Gaia archive's ``external.sdssdr13_photoprimary`` is the default (it joins on the server);
this module reads the same columns from SkyServer's ``PhotoPrimary`` view for a cone, with
SkyServer's ``dbo.fGetNearbyObjEq`` (radius in arcmin).  Column names are SkyServer's
(``psfMag_u``, ...), returned lower case to match the Gaia archive copy.
"""

from __future__ import annotations

from astropy.table import Table

from ..extras import require
from ..schema import BANDS
from .conf import setting
from .exceptions import RegionError
from .regions import Cone, Region

SDSS_DATA_RELEASE = 13
"""T25 Sect. 2.2 uses SDSS DR13."""

PHOTO_COLUMNS = ("objID", "ra", "dec", "type", "clean",
                 *(f"psfMag_{b}" for b in BANDS["sdss"]),
                 *(f"psfMagErr_{b}" for b in BANDS["sdss"]),
                 *(f"extinction_{b}" for b in BANDS["sdss"]))


def cone_sql(region: Cone) -> str:
    """SkyServer SQL for the PhotoPrimary rows of a cone."""
    cols = ", ".join(f"p.{c}" for c in PHOTO_COLUMNS)
    return (f"SELECT {cols} FROM dbo.fGetNearbyObjEq({region.ra!r}, {region.dec!r}, "
            f"{region.radius * 60.0!r}) AS n JOIN PhotoPrimary AS p ON p.objID = n.objID")


def query_region(region: Region, *, timeout: float | None = None) -> Table:
    """PhotoPrimary rows of a cone from SkyServer (astroquery.sdss)."""
    if not isinstance(region, Cone):
        raise RegionError("SkyServer queries take a circle region")
    SDSS = require("astroquery.sdss", "SkyServer queries", "skyserver").SDSS  # noqa: N806

    table = SDSS.query_sql(cone_sql(region), data_release=SDSS_DATA_RELEASE,
                           timeout=float(setting("timeout", timeout)))
    if table is None:
        return Table(names=[c.lower() for c in PHOTO_COLUMNS])
    for name in table.colnames:
        table.rename_column(name, name.lower())
    return table
