"""ESA Gaia archive: Gaia DR3 joined with distances, [M/H] and SDSS/SkyMapper photometry.

The joins and the Gaia quality cuts of T25 Sect. 2.1 run on the server
(``tap_queries/gaia_<survey>_joined.adql``), so only the rows the method can use travel.
The cut values are the named constants of :data:`GAIA_CUTS`.
"""

from __future__ import annotations

import astropy.units as u
from astropy.table import Table

from ..prepare import cuts as _cuts
from ..schema import check_survey
from .adql import render
from .conf import setting
from .regions import Region
from .tap import TapClient

GAIA_CUTS: dict[str, float] = {
    "ipd_frac_multi_peak_max": _cuts.MAX_IPD_FRAC_MULTI_PEAK,
    "ipd_frac_odd_win_max": _cuts.MAX_IPD_FRAC_ODD_WIN,
    "ruwe_max": _cuts.MAX_RUWE,
    "vbroad_max": _cuts.MAX_VBROAD.to_value(u.km / u.s),
    "teff_gspphot_max": _cuts.MAX_TEFF_GSPPHOT.to_value(u.K),
    "g_max": _cuts.MAX_G_MAG.to_value(u.mag),
    "parallax_error_max": _cuts.MAX_PARALLAX_ERROR.to_value(u.mas),
    "astrometric_sigma5d_max": _cuts.MAX_ASTROMETRIC_SIGMA5D_MAX.to_value(u.mas),
}
"""Gaia DR3 cuts of Turchi et al. (2025, T25) Sect. 2.1, applied in the ADQL WHERE clause.

The values are those of :mod:`sos_vo.prepare.cuts` (which cites the paper for each), so the
server-side and local cuts cannot drift apart.

Choices the paper leaves open, made here: a missing ``vbroad`` or ``teff_gspphot`` passes
(missing values are features with a "present" flag, T25 Sect. 4.2); a missing BP or RP
magnitude or ``r_med_geo`` fails ("BP and RP both present", "has r_med_geo")."""

JOINED_TEMPLATE = {"sdss": "gaia_sdss_joined", "skymapper": "gaia_skymapper_joined"}


def joined_query(survey: str, region: Region, chunk: str = "1 = 1", *, server_cuts: bool = True,
                 tables: dict[str, str] | None = None) -> str:
    """ADQL of the joined Gaia + distance + Andrae + ``survey`` table in ``region``."""
    check_survey(survey)
    return render(JOINED_TEMPLATE[survey], region=region.adql("g.ra", "g.dec", "g.source_id"),
                  chunk=chunk, drop_blocks=() if server_cuts else ("gaia_cuts",),
                  tables=tables, **GAIA_CUTS)


def region_query(region: Region, chunk: str = "1 = 1",
                 tables: dict[str, str] | None = None) -> str:
    """ADQL of the gaia_source rows in ``region`` (no cuts)."""
    return render("gaia_source_region", region=region.adql("g.ra", "g.dec", "g.source_id"),
                  chunk=chunk, tables=tables)


def client(tap_url: str | None = None, **kwargs) -> TapClient:
    """A :class:`TapClient` for the Gaia archive (``tap_url`` overrides ``conf.gaia_tap_url``)."""
    return TapClient(str(setting("gaia_tap_url", tap_url)), **kwargs)


def query_region(region: Region, *, tap_url: str | None = None, use_async: bool = False,
                 **kwargs) -> Table:
    """gaia_source rows in ``region`` in one job (see :mod:`.chunking` for large regions)."""
    c = client(tap_url, **kwargs)
    table = c.run(region_query(region), use_async=use_async)
    if not region.exact_on_server and len(table):
        table = table[region.contains(table["ra"], table["dec"])]
    return table
