"""Gaia DR3 facts shared by the archive queries, the preparation and the simulator.

Kept in one low-level module so that no layer imports a later one for them:

* the quality thresholds of Turchi et al. (2025, T25) Sect. 2.1, applied locally by
  :mod:`sos_vo.prepare.cuts` and in the ADQL of :mod:`sos_vo.archives.gaia`;
* the proxy for the Andrae et al. (2023) [M/H] uncertainty, formed by the join
  (:mod:`sos_vo.prepare.crossmatch`) and drawn by the simulator;
* the HEALPix index that Gaia DR3 ``source_id`` embeds (Gaia DR3 documentation, Sect. 20.1.1
  ``gaia_source.source_id``: ``source_id // 2**35`` is the level-12 NESTED HEALPix index) and
  the HEALPix index of a position, on astropy-healpix; used by the chunking of archive
  queries, the run planner, the Parquet partitions, the SoSid and the simulator.
"""

from __future__ import annotations

from functools import lru_cache

import astropy.units as u
import numpy as np
from astropy_healpix import HEALPix

# --------------------------------------------------------------------------------------
# Quality thresholds (T25 Sect. 2.1)
# --------------------------------------------------------------------------------------
MAX_IPD_FRAC_MULTI_PEAK = 10
"""T25 Sect. 2.1: "sources with ipd_frac_multi_peak > 10 ... were removed" (percent)."""
MAX_IPD_FRAC_ODD_WIN = 10
"""T25 Sect. 2.1: "ipd_frac_odd_win > 10" removed (percent)."""
MAX_RUWE = 1.4
"""T25 Sect. 2.1: "ruwe > 1.4" removed (Lindegren et al. 2021)."""
VARIABLE_FLAG = "VARIABLE"
"""T25 Sect. 2.1: sources with the VARIABLE ``phot_variable_flag`` removed."""
MAX_VBROAD = 30.0 * u.km / u.s
"""T25 Sect. 2.1: vbroad > 30 km/s removed "when this parameter was available"."""
MAX_TEFF_GSPPHOT = 9000.0 * u.K
"""T25 Sect. 2.1: teff_gspphot > 9000 K removed."""
MAX_TEFF_GSPPHOT_SPIE = 7500.0 * u.K
"""The SPIE paper (Turchi et al. 2024, SPIE, Sect. 2) used 7500 K; pass ``max_teff=`` to reproduce it."""
MAX_G_MAG = 18.0 * u.mag
"""T25 Sect. 2.1: G > 18 mag removed."""
MAX_PARALLAX_ERROR = 0.1 * u.mas
"""T25 Sect. 2.1: parallax_error > 0.1 removed (Gaia archive unit: mas)."""
MAX_ASTROMETRIC_SIGMA5D_MAX = 0.1 * u.mas
"""T25 Sect. 2.1: astrometric_sigma5d_max > 0.1 removed (Gaia archive unit: mas)."""


# --------------------------------------------------------------------------------------
# Andrae et al. (2023) [M/H] uncertainty proxy
# --------------------------------------------------------------------------------------
ANDRAE_ERR_FLOOR = 0.11
ANDRAE_ERR_AMPLITUDE = 0.05
ANDRAE_ERR_G_REF = 16.0
ANDRAE_ERR_METAL_POOR_SLOPE = 0.3
"""Proxy for the Andrae et al. (2023) [M/H] uncertainty (documented choice, not from the paper):
err = (0.11 + 0.05 * 10^(0.4 (G - 16))) * (1 + 0.3 * max(0, -1 - [M/H])).  It gives ~0.11 dex at
bright G, ~0.16 dex at G = 16 and ~0.3 dex at the XP limit G = 17.65 (the paper's mean precision
is 0.1 dex, Andrae, Rix & Chandra 2023, abstract; T25 finds 0.17 dex MAD against SoS, Sect. 4.2), and grows below [M/H] = -1 where the training
set is sparse (their Sect. 5)."""


def andrae_mh_error(mh: np.ndarray, g_mag: np.ndarray) -> np.ndarray:
    """Uncertainty proxy for Andrae et al. (2023) [M/H], dex (formula: :data:`ANDRAE_ERR_METAL_POOR_SLOPE`)."""
    mh = np.asarray(mh, float)
    g_mag = np.asarray(g_mag, float)
    base = ANDRAE_ERR_FLOOR + ANDRAE_ERR_AMPLITUDE * 10 ** (0.4 * (g_mag - ANDRAE_ERR_G_REF))
    return base * (1 + ANDRAE_ERR_METAL_POOR_SLOPE * np.clip(-1.0 - mh, 0, None))


# --------------------------------------------------------------------------------------
# HEALPix and source_id
# --------------------------------------------------------------------------------------
SOURCE_ID_ORDER = 12
"""HEALPix order (NESTED) encoded in Gaia DR3 source_id (Gaia DR3 documentation, Sect. 20.1.1)."""
SOURCE_ID_SHIFT = 35
"""``source_id = (level-12 nested index) * 2**35 + n`` (Gaia DR3 documentation, Sect. 20.1.1)."""
MOC_DEPTH = 29
"""Depth of the ``to_depth29_ranges`` of mocpy MOCs."""


def _check_order(order: int) -> int:
    order = int(order)
    if not 0 <= order <= SOURCE_ID_ORDER:
        raise ValueError(f"order must be in 0..{SOURCE_ID_ORDER}, got {order}")
    return order


def source_id_shift(order: int = SOURCE_ID_ORDER) -> int:
    """Bits of source_id below the order-``order`` nested HEALPix index (35 at order 12)."""
    return SOURCE_ID_SHIFT + 2 * (SOURCE_ID_ORDER - _check_order(order))


def source_id_to_healpix(source_id, order: int = SOURCE_ID_ORDER) -> np.ndarray:
    """Order-``order`` (<= 12) nested HEALPix index encoded in Gaia DR3 ``source_id``."""
    return np.asarray(source_id, dtype=np.int64) >> source_id_shift(order)


def healpix_source_id_range(order: int, ipix: int) -> tuple[int, int]:
    """Inclusive Gaia DR3 source_id range of the sources in nested cell ``(order, ipix)``."""
    shift = source_id_shift(order)
    return int(ipix) << shift, ((int(ipix) + 1) << shift) - 1


@lru_cache(maxsize=32)
def _healpix(order: int) -> HEALPix:
    return HEALPix(nside=2**int(order), order="nested")


def healpix_index(ra_deg, dec_deg, order: int = SOURCE_ID_ORDER) -> np.ndarray:
    """Nested HEALPix index at ``order`` of ICRS (ra, dec) in degrees, as int64."""
    return np.asarray(_healpix(order).lonlat_to_healpix(np.asarray(ra_deg, float) * u.deg,
                                                        np.asarray(dec_deg, float) * u.deg),
                      dtype=np.int64)


def healpix_centres(order: int, cells) -> tuple[u.Quantity, u.Quantity]:
    """ICRS (lon, lat) of the centres of nested cells of ``order``."""
    return _healpix(order).healpix_to_lonlat(np.asarray(cells))


def healpix_area_deg2(order: int) -> float:
    """Area of one HEALPix cell of ``order``, deg^2."""
    return float(_healpix(order).pixel_area.to_value(u.deg**2))


def moc_cells(moc, order: int) -> np.ndarray:
    """Nested cells of ``order`` that a mocpy MOC touches (whole or in part), sorted."""
    shift = 2 * (MOC_DEPTH - int(order))
    out = [np.arange(int(lo) >> shift, -(-int(hi) >> shift) if shift else int(hi))
           for lo, hi in np.asarray(moc.to_depth29_ranges, dtype=np.uint64)]
    return np.unique(np.concatenate(out)).astype(np.int64) if out else np.zeros(0, np.int64)
