"""ESA Gaia archive: Gaia DR3 joined with distances, [M/H] and SDSS/SkyMapper photometry.

The joins and the Gaia quality cuts of T25 Sect. 2.1 run on the server
(``sos_vo/tap_queries/gaia_<survey>_joined.adql``), so only the rows the method can use travel.
The cut values are the named constants of :data:`GAIA_CUTS`.
"""

from __future__ import annotations

import astropy.units as u
from astropy.table import Table

from .. import gaia_dr3 as _cuts
from ..schema import check_survey
from .adql import render
from .conf import setting
from .regions import Region
from .tap import TapClient
from .upload import run_upload_join

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

The values are those of :mod:`sos_vo.gaia_dr3` (which cites the paper for each), which the local
cuts of :mod:`sos_vo.prepare.cuts` use too, so the server-side and local cuts cannot drift apart.

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


ASTROMETRY_COLUMNS = ("ra", "dec", "pmra", "pmdec")
"""gaiadr3.gaia_source columns fetched by :func:`astrometry_by_ids`: ICRS position at the Gaia
DR3 reference epoch J2016.0 (deg) and proper motion (mas/yr, ``pmra`` = mu_alpha*); Gaia DR3
documentation, Sect. 20.1.1 ``gaia_source``.  Two-parameter solutions have no ``pmra``/``pmdec``
(null)."""

ASTROMETRY_UPLOAD_TABLE = "sosvo_gaia_ids"
"""Name of the uploaded id table (``TAP_UPLOAD.sosvo_gaia_ids``, one column ``source_id``)."""

ASTROMETRY_CHUNK_ROWS = 8_000
"""Gaia DR3 ids uploaded per TAP job by :func:`astrometry_by_ids` (our choice, the id-upload
chunk of :data:`sos_vo.validation.references.UPLOAD_CHUNK_ROWS`: an int64 VOTable row is well
under 100 bytes, so a chunk stays under DaCHS's 500 000-byte synchronous upload limit)."""


def astrometry_by_ids(ids, *, tap_url: str | None = None, chunk_size: int | None = None,
                      use_async: bool = False, tables: dict[str, str] | None = None,
                      **kwargs) -> Table:
    """``ra, dec, pmra, pmdec`` of Gaia DR3 sources by id: a TAP_UPLOAD join on
    ``gaiadr3.gaia_source``.

    The unique ids are uploaded as ``TAP_UPLOAD.sosvo_gaia_ids(source_id)`` in chunks of
    ``chunk_size`` (:data:`ASTROMETRY_CHUNK_ROWS`), joined on ``source_id``; each chunk goes
    through :class:`TapClient` (row limit checked) and the results are stacked.

    Parameters
    ----------
    ids : array-like of int
        Gaia DR3 source_id values (duplicates are sent once).
    tap_url : str, optional
        TAP service (default ``conf.gaia_tap_url``, ``$SOS_VO_GAIA_TAP_URL``).
    tables : dict, optional
        Table-name overrides (``{"gaia_source": name}``), as for the other Gaia queries.

    Returns
    -------
    Table
        ``source_id`` and :data:`ASTROMETRY_COLUMNS` (positions at J2016.0), one row per id the
        archive has; ``meta``: ``query``, ``uploaded_ids``, ``missing_ids`` (array of the ids
        the archive does not have), ``source``.

    Raises
    ------
    EmptyInputError
        If ``ids`` is empty.
    """
    import numpy as np

    from ..exceptions import EmptyInputError
    from .conf import table_name as _table_name
    from .tables import ARCHIVE_TABLES

    ids = np.unique(np.asarray(ids, dtype=np.int64))
    if ids.size == 0:
        raise EmptyInputError("no Gaia DR3 id to upload to gaiadr3.gaia_source")
    spec = ARCHIVE_TABLES["gaia_source"]
    name = _table_name("gaia_source", spec.name, overrides=tables)
    cols = ", ".join(f"g.{c}" for c in ASTROMETRY_COLUMNS)
    query = (f"SELECT u.source_id AS source_id, {cols} FROM {name} AS g "
             f"JOIN TAP_UPLOAD.{ASTROMETRY_UPLOAD_TABLE} AS u ON g.source_id = u.source_id")
    c = client(tap_url, **kwargs)
    out = run_upload_join(c, query, ASTROMETRY_UPLOAD_TABLE, Table({"source_id": ids}),
                          chunk_size or ASTROMETRY_CHUNK_ROWS, use_async=use_async)
    out = out[["source_id", *ASTROMETRY_COLUMNS]]
    out["source_id"] = np.asarray(out["source_id"], dtype=np.int64)
    out.meta.clear()
    out.meta["query"] = query
    out.meta["uploaded_ids"] = int(ids.size)
    out.meta["missing_ids"] = np.setdiff1d(ids, np.asarray(out["source_id"]))
    out.meta["source"] = f"{name} via {c.url}, ids uploaded"
    return out
