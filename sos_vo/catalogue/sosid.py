"""SoSid: the Survey of Surveys identifier (T25 Sect. 5.2, Table 6).

T25 = Turchi et al. (2025): "The catalog contains a newly defined SoSid, built combining a
healpix index with a running number, with the aim of ensuring the id uniqueness throughout
the SoS project."  The paper does not give the order, scheme or layout; we choose:

``SoSid = healpix * 10**7 + running``

* ``healpix``: HEALPix index of the Gaia DR3 (ra, dec) at order :data:`HEALPIX_ORDER` = 12
  (nside 4096), NESTED scheme, computed with astropy-healpix.  Order 12 nested is the scheme
  that Gaia source_ids embed (source_id // 2**35), so SoSids sort like Gaia ids by sky
  region; pixels are ~0.74 arcmin^2.
* ``running``: 1, 2, ... within the pixel, in increasing Gaia DR3 source_id order, so the
  assignment is reproducible from the catalogue content alone.  Limit: fewer than
  :data:`RUNNING_BASE` = 10**7 stars per pixel (the densest Gaia pixels hold a few hundred).
* Largest value: 12 * 4**12 * 10**7 ~ 2.0e15, well inside int64.

Uniqueness across releases: pass the previous releases' ids as a *registry* (a table of
``sosid`` and ``gaia_dr3_id``).  A star already in the registry keeps its SoSid; a new star
gets a running number after the largest one used in its pixel by any earlier release, so an
id is never reused for a different star.  Without the registry (a first release) numbering
starts at 1.  Stars that move to another pixel between Gaia releases keep their registered
id (ids are identifiers, not positions); :func:`decode_sosid` gives the pixel at the time
of first assignment.
"""

from __future__ import annotations

import numpy as np
from astropy.table import Table

from .. import gaia_dr3

HEALPIX_ORDER = 12
"""HEALPix order (nside = 2**12 = 4096), NESTED scheme."""
RUNNING_BASE = 10**7
"""The running number occupies the last 7 decimal digits of the SoSid."""
FIRST_RUNNING_NUMBER = 1
"""Running numbers start at 1 (so running 0 never occurs: 0 is never a valid SoSid)."""

def healpix_index(ra_deg: np.ndarray, dec_deg: np.ndarray) -> np.ndarray:
    """Order-12 NESTED HEALPix index of ICRS (ra, dec) in degrees, as int64
    (:func:`sos_vo.gaia_dr3.healpix_index`)."""
    return gaia_dr3.healpix_index(ra_deg, dec_deg, HEALPIX_ORDER)


def decode_sosid(sosid: np.ndarray | int) -> tuple[np.ndarray, np.ndarray]:
    """Split SoSid(s) into (HEALPix order-12 nested index, running number)."""
    s = np.asarray(sosid, dtype=np.int64)
    if np.any(s < FIRST_RUNNING_NUMBER):
        raise ValueError("a SoSid is a positive integer")
    return s // RUNNING_BASE, s % RUNNING_BASE


def assign_sosids(ra_deg: np.ndarray, dec_deg: np.ndarray, gaia_dr3_id: np.ndarray, *,
                  registry: Table | None = None) -> np.ndarray:
    """Assign SoSids to stars (see the module docstring for the scheme).

    Parameters
    ----------
    ra_deg, dec_deg
        Gaia DR3 ICRS coordinates, degrees.
    gaia_dr3_id
        Gaia DR3 source_id, positive and unique (the ordering key).
    registry
        Ids of earlier releases: columns ``sosid`` and ``gaia_dr3_id``.

    Returns
    -------
    numpy.ndarray
        int64 SoSids, in the input order.

    Raises
    ------
    ValueError
        Duplicate or non-positive source_ids, or a pixel overflowing 10**7 stars.
    """
    ids = np.asarray(gaia_dr3_id, dtype=np.int64)
    if ids.size and ids.min() <= 0:
        raise ValueError(f"{int(np.sum(ids <= 0))} row(s) without a Gaia DR3 source_id (<= 0)")
    if np.unique(ids).size != ids.size:
        raise ValueError(f"{ids.size - np.unique(ids).size} duplicated Gaia DR3 source_id(s)")
    pix = healpix_index(ra_deg, dec_deg)
    out = np.zeros(ids.size, dtype=np.int64)
    used_max: dict[int, int] = {}
    if registry is not None and len(registry):
        reg_ids = np.asarray(registry["gaia_dr3_id"], dtype=np.int64)
        reg_sos = np.asarray(registry["sosid"], dtype=np.int64)
        order = np.argsort(reg_ids)
        pos = np.clip(np.searchsorted(reg_ids[order], ids), 0, len(order) - 1)
        known = reg_ids[order][pos] == ids
        out[known] = reg_sos[order][pos[known]]
        reg_pix, reg_run = decode_sosid(reg_sos)
        for p, r in zip(*_max_per_group(reg_pix, reg_run), strict=True):
            used_max[int(p)] = int(r)
    new = out == 0
    order = np.lexsort((ids[new], pix[new]))          # by pixel, then source_id
    new_idx = np.flatnonzero(new)[order]
    new_pix = pix[new_idx]
    if new_idx.size:
        starts = np.r_[0, np.flatnonzero(np.diff(new_pix)) + 1]
        rank = np.arange(new_idx.size) - np.repeat(starts, np.diff(np.r_[starts, new_idx.size]))
        offset = np.array([used_max.get(int(p), FIRST_RUNNING_NUMBER - 1) for p in new_pix],
                          dtype=np.int64)
        running = offset + FIRST_RUNNING_NUMBER + rank
        if running.max() >= RUNNING_BASE:
            raise ValueError(f"HEALPix pixel {int(new_pix[np.argmax(running)])} would need "
                             f"running number {int(running.max())} >= {RUNNING_BASE}")
        out[new_idx] = new_pix * RUNNING_BASE + running
    return out


def _max_per_group(keys: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    order = np.lexsort((values, keys))
    k, v = keys[order], values[order]
    last = np.r_[np.flatnonzero(np.diff(k)), k.size - 1] if k.size else np.array([], int)
    return k[last], v[last]
