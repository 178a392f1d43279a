"""Archive access over TAP (astroquery style): one module per service, a ``conf`` of endpoints.

* :mod:`.conf` — endpoints (ESA Gaia archive, VizieR, SkyMapper, SDSS SkyServer), time-outs,
  row limits; overridable by argument, ``SOS_VO_<ITEM>`` environment variables or astropy's
  configuration file.
* :mod:`.tap` — :class:`TapClient` over pyvo: service check, retries, overflow, async jobs.
* :mod:`.regions` — sky regions (regions, SkyCoord + radius, MOC, HEALPix, CLI strings, ds9/CRTF
  files) to ADQL.
* :mod:`.chunking` — HEALPix chunks, re-split on overflow, resumable on-disk cache.
* :mod:`.gaia`, :mod:`.vizier`, :mod:`.skymapper`, :mod:`.sdss` — the services.
* :mod:`.query` — the joined rows of a region (:func:`fetch_rows`) as archive tables; the
  end-to-end ``sos-vo query`` run is :func:`sos_vo.pipeline.query_region`.
"""

from .conf import conf
from .exceptions import (
                         ArchiveError,
                         QueryError,
                         QueryOverflowError,
                         RegionError,
                         ServiceError,
                         TransientError,
)
from .query import archive_tables_from_rows, fetch_rows
from .regions import as_region, parse_region
from .tap import TapClient

__all__ = ["ArchiveError", "QueryError", "QueryOverflowError", "RegionError",
           "ServiceError", "TapClient", "TransientError", "archive_tables_from_rows", "as_region",
           "conf", "fetch_rows", "parse_region"]
