"""Synthetic sky: the archive tables the pipeline reads, made up for a cone, with the truth.

:func:`simulate_sky` returns a :class:`SyntheticSky` whose ``tables`` are keyed by the real
archive table names (``gaiadr3.gaia_source``, ``external.gaiaedr3_distance``,
``external.xgboost_table1``, ``external.sdssdr13_photoprimary``,
``gaiadr3.sdssdr13_best_neighbour``, ``external.skymapperdr2_master``,
``gaiadr3.skymapperdr2_best_neighbour``, ``sos_spectro.main``, ``B/pastel/pastel``) with the
archives' column names, dtypes, units and UCDs (:mod:`sos_vo.simulate.archive_tables` documents
where each schema comes from).  Every table's ``meta`` has ``SYNTHETIC=True``.
"""

from .archive_tables import TABLE_COLUMNS
from .failures import CUT_NAMES
from .sky import SyntheticSky, read_synthetic_sky, simulate_sky

__all__ = ["CUT_NAMES", "TABLE_COLUMNS", "SyntheticSky", "read_synthetic_sky", "simulate_sky"]
