"""Publishing and interoperability: VOTable, FITS, CDS-ready tables, SAMP and plots.

Every table the package writes goes through :func:`write_table` (or the format-specific
writers), which add units, UCDs, descriptions and provenance; see
:mod:`sos_vo.publish.metadata` for the column metadata and the choice of log units.
"""

from ..schema import Column
from .fits import write_fits
from .metadata import CATALOGUE_META, prepare_table
from .provenance import PROVENANCE_META_KEY, Provenance
from .votable import write_votable
from .writers import FORMATS, read_table, write_catalogue, write_table

__all__ = [
    "CATALOGUE_META", "FORMATS", "PROVENANCE_META_KEY", "Column", "Provenance",
    "prepare_table", "read_table", "write_catalogue", "write_fits", "write_table",
    "write_votable",
]
