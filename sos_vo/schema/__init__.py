"""Column contracts shared by every stage of the pipeline: the one place that names columns.

Every column of every table, read or written, is one :class:`~sos_vo.schema.column.Column`
(name, numpy dtype, unit, UCD, description, T25 Table 6 name; the ADQL type follows from the
dtype).  The stages talk to each other through astropy Tables whose columns are named here:

``archive tables`` (:mod:`sos_vo.schema.archive`)
    exactly the archives' own table and column names, dtypes, units and UCDs (see
    :mod:`sos_vo.simulate` and :mod:`sos_vo.archives`); lower case, as the ESA Gaia archive
    and VizieR TAP return them.
``joined table`` and ``features`` (:mod:`sos_vo.schema.joined`)
    one row per Gaia DR3 source with one photometric survey attached, and the feature names of
    T25 Tables 2 (SDSS) and 3 (SkyMapper).
``catalogue`` (:mod:`sos_vo.schema.catalogue`)
    T25 Table 6 (Turchi et al. 2025) with ADQL-safe names; the paper's names are kept in
    :attr:`~sos_vo.schema.column.Column.paper_name`.

Importing this package imports neither numpy nor astropy, so that command parsers may use it.
"""

from __future__ import annotations

from .archive import ANDRAE as ANDRAE_TABLE
from .archive import GAIA_DISTANCE as DISTANCE_TABLE
from .archive import GAIA_SOURCE as GAIA_SOURCE_TABLE
from .archive import NEIGHBOUR_TABLE as NEIGHBOUR_TABLES
from .archive import PASTEL as PASTEL_TABLE
from .archive import PHOTOMETRY_ID as PHOTOMETRY_ID_COLUMNS
from .archive import PHOTOMETRY_TABLE as PHOTOMETRY_TABLES
from .archive import SOS_SPECTRO as SOS_SPECTRO_TABLE
from .catalogue import CATALOGUE_COLUMNS, CATALOGUE_NAMES
from .column import STR, Column, adql_type
from .joined import (
    ANDRAE_COLUMNS,
    BANDS,
    DISTANCE_COLUMNS,
    GAIA_COLUMNS,
    LABEL_LATEX,
    LABEL_UNITS,
    LABELS,
    NEIGHBOUR_COLUMNS,
    PASTEL_MATCH_COLUMNS,
    PRIOR_COLUMNS,
    SDSS_COLUMNS,
    SKYMAPPER_COLUMNS,
    SPEC_COLUMNS,
    SURVEY_COLUMNS,
    SURVEY_ID_COLUMN,
    SURVEY_SHORT,
    SURVEYS,
    check_survey,
    feature_names,
    joined_columns,
)

__all__ = [
    "ANDRAE_COLUMNS", "ANDRAE_TABLE", "BANDS", "CATALOGUE_COLUMNS", "CATALOGUE_NAMES",
    "DISTANCE_COLUMNS", "DISTANCE_TABLE", "GAIA_COLUMNS", "GAIA_SOURCE_TABLE", "LABELS",
    "LABEL_LATEX", "LABEL_UNITS", "NEIGHBOUR_COLUMNS", "NEIGHBOUR_TABLES", "PASTEL_MATCH_COLUMNS",
    "PASTEL_TABLE", "PHOTOMETRY_ID_COLUMNS", "PHOTOMETRY_TABLES", "PRIOR_COLUMNS", "SDSS_COLUMNS",
    "SKYMAPPER_COLUMNS", "SOS_SPECTRO_TABLE", "SPEC_COLUMNS", "STR", "SURVEYS", "SURVEY_COLUMNS",
    "SURVEY_ID_COLUMN", "SURVEY_SHORT", "Column", "adql_type", "check_survey", "feature_names",
    "joined_columns",
]
