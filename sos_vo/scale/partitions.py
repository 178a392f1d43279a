"""HEALPix-partitioned Parquet: one file per HEALPix pixel of one order.

A partitioned catalogue is a folder of ``Norder=<k>/Dir=<d>/Npix=<p>.parquet`` files: pixel
``p`` of the NESTED HEALPix grid of order ``k`` (nside = 2**k), ``d`` = ``10000 * (p // 10000)``.
The file names follow HATS (the Hierarchical Adaptive Tiling Scheme of ``lsdb``), but the
folder is *not* a HATS catalogue: it has no ``properties`` file, partition info or
HATS metadata, and lsdb does not open it.  :func:`write_hats` (the ``hats`` extra) writes a
real HATS catalogue with lsdb; :func:`sos_vo.scale.stream.list_parquet` reads both.  Rows
are assigned by their ``ra`` / ``dec`` (:func:`sos_vo.gaia_dr3.healpix_index`).  Each partition
is an independent unit of work for :mod:`sos_vo.scale.distributed`.

For Gaia rows the pixel also follows from the id (:func:`gaia_source_id_pixel`, Gaia DR3
documentation, Sect. 20.1.1 ``source_id``), without positions.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from astropy.table import Table

from ..exceptions import SchemaError
from ..extras import require
from ..gaia_dr3 import healpix_index, source_id_to_healpix
from .parquet_io import write_parquet

DEFAULT_ORDER = 3
"""HEALPix order of the partitions (768 pixels of ~54 deg^2); a whole-sky Gaia DR3 run at
~1.8e9 rows would rather use order 6-8 (~40k-800k rows per pixel), see docs/scaling.md."""


def pixel_path(order: int, pixel: int) -> str:
    """Relative path of one partition (HATS file naming; the folder is not a HATS catalogue)."""
    return f"Norder={order}/Dir={10000 * (pixel // 10000)}/Npix={pixel}.parquet"


def healpix_pixels(ra_deg: np.ndarray, dec_deg: np.ndarray, order: int) -> np.ndarray:
    """NESTED HEALPix pixel of each position at ``order`` (:func:`sos_vo.gaia_dr3.healpix_index`)."""
    return healpix_index(ra_deg, dec_deg, order)


def gaia_source_id_pixel(source_id: np.ndarray, order: int) -> np.ndarray:
    """Order-``order`` nested HEALPix pixel encoded in Gaia DR3 ``source_id`` (order <= 12)."""
    return source_id_to_healpix(source_id, order)


def write_partitions(table: Table, out_dir: str | os.PathLike, order: int = DEFAULT_ORDER, *,
                     overwrite: bool = False) -> list[Path]:
    """Split ``table`` by HEALPix pixel of (ra, dec) and write one Parquet file per pixel.

    Each file is written atomically; rows keep their order inside a pixel.  Returns the
    written paths (sorted by pixel).
    """
    for name in ("ra", "dec"):
        if name not in table.colnames:
            raise SchemaError(f"HEALPix partitioning needs column {name!r}")
    pix = healpix_pixels(np.asarray(table["ra"], float), np.asarray(table["dec"], float), order)
    order_idx = np.argsort(pix, kind="stable")
    uniq, starts = np.unique(pix[order_idx], return_index=True)
    bounds = list(starts[1:]) + [len(pix)]
    out = []
    for p, a, b in zip(uniq, starts, bounds, strict=True):
        path = Path(out_dir) / pixel_path(order, int(p))
        write_parquet(table[order_idx[a:b]], path, overwrite=overwrite)
        out.append(path)
    return out


def write_hats(table: Table, out_dir: str | os.PathLike, name: str = "catalog",
               order: int = DEFAULT_ORDER) -> Path:
    """Write ``table`` as a HATS catalogue with ``lsdb`` (optional dependency); returns its path.

    Raises :class:`~sos_vo.exceptions.MissingExtraError` (the ``hats`` extra) without lsdb.
    """
    lsdb = require("lsdb", "writing HATS catalogues", "hats")
    df = table.to_pandas()
    cat = lsdb.from_dataframe(df, catalog_name=name, ra_column="ra", dec_column="dec",
                              lowest_order=order, highest_order=order)
    path = Path(out_dir) / name
    cat.write_catalog(path, as_collection=False, progress_bar=False)
    return path
