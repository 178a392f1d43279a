"""APOGEE DR17 allStar labels (Abdurro'uf et al. 2022, ApJS 259, 35) over TAPVizieR.

Names and what was verified (public code, not the
VizieR ReadMe itself):

* table ``"III/286/catalog"``: several independent public scripts query TAPVizieR with
  ``FROM "III/286/catalog"`` and astroquery's ``Vizier(...).get_catalogs("III/286/catalog")``;
* ``GaiaEDR3``, ``APOGEE``, ``RAJ2000``, ``DEJ2000``, ``Teff``, ``e_Teff``, ``logg``,
  ``e_logg``, ``[Fe/H]``, ``e_[Fe/H]``: selected by name from ``"III/286/catalog"`` in those
  scripts;
* ``AFlag`` (VizieR's label of the allStar ``ASPCAPFLAG``): one public astroquery script asks
  ``"III/286/catalog"`` for ``AFlag`` by name and tests bits 3, 7, 19, 23 of it as an integer
  (it drops STAR_BAD, bit 23, among others), so the column exists and holds the integer
  bitmask; not confirmed in the VizieR ReadMe (the byte-by-byte part of III/286 could not be
  read here).  A text list of flag names is handled too.
* bit 23 = STAR_BAD: SDSS DR17 "APOGEE Bitmasks" page (APOGEE_ASPCAPFLAG); the part of the page
  read here lists bits 0-20 (STAR_WARN = 7, M_H_BAD = 19), bit 23 is taken from the SDSS
  documentation as cited at :data:`STAR_BAD_BIT`.

The allStar FITS names (``GAIAEDR3_SOURCE_ID``, ``TEFF``, ``LOGG``, ``FE_H``, ``ASPCAPFLAG``)
are those of the SDSS data model; the real rows in the tests' fixture data carry them in
lower case.  Gaia EDR3 and DR3 share source_id values.
"""

from __future__ import annotations

import numpy as np
from astropy.table import Table

from .label_source import LabelSource, all_finite_labels, register

STAR_BAD_BIT = 23
"""ASPCAPFLAG bit 23, STAR_BAD (SDSS DR17 APOGEE bitmask documentation, APOGEE_ASPCAPFLAG):
"BAD overall for star", set when any of the parameter flags is BAD.  The rule: bit clear."""


def quality(rows: Table) -> np.ndarray:
    """ASPCAPFLAG STAR_BAD clear and Teff, log g, [Fe/H] present (SDSS DR17 APOGEE
    documentation, "Using the ASPCAP parameters")."""
    flag = np.ma.asarray(rows["aspcapflag"])
    if flag.dtype.kind in "iu":
        bad = ((np.ma.filled(flag, 0).astype(np.int64) >> STAR_BAD_BIT) & 1) == 1
    else:  # a text list of flag names
        bad = np.char.find(np.ma.filled(flag.astype(str), "").astype(str), "STAR_BAD") >= 0
    return ~bad & all_finite_labels(rows)


SOURCE = register(LabelSource(
    key="apogee-dr17", title="APOGEE DR17 allStar (ASPCAP)",
    citation="Abdurro'uf et al. 2022, ApJS 259, 35",
    conf_item="apogee_dr17_tap_url", table='"III/286/catalog"', vizier=True,
    columns={"source_id": "GaiaEDR3", "survey_id": "APOGEE", "ra": "RAJ2000", "dec": "DEJ2000",
             "teff": "Teff", "e_teff": "e_Teff", "logg": "logg", "e_logg": "e_logg",
             "feh": "[Fe/H]", "e_feh": "e_[Fe/H]", "aspcapflag": "AFlag"},
    template="labels_apogee_dr17", quality=quality,
    quality_doc=f"ASPCAPFLAG bit {STAR_BAD_BIT} (STAR_BAD) clear; Teff, logg, [Fe/H] present",
    verified="table and label columns: public TAPVizieR scripts; AFlag: one public astroquery "
             "script reading it as an integer bitmask (not the ReadMe)"))
