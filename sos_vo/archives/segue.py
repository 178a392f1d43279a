"""SEGUE Stellar Parameter Pipeline labels (Lee et al. 2008, AJ 136, 2022): SDSS ``sppParams``.

The column names ``teffadop``, ``teffadopunc``, ``loggadop``, ``loggadopunc``, ``fehadop``,
``fehadopunc``, ``flag`` and ``specobjid`` are those of the SDSS DR17 schema (the real
``FEH_ADOP`` rows of the tests' fixture data come from it).  **Guesses**: the TAP service
(NOIRLab Astro Data Lab, ``conf.segue_sspp_tap_url``), its table name
``sdss_dr17.sppparams`` and a Gaia DR3 id column ``gaia_dr3_source_id`` (``sppParams`` itself
has none; a served copy must carry a cross-match).  Resolved against TAP_SCHEMA at run time.
"""

from __future__ import annotations

import numpy as np

from .label_source import LabelSource, all_finite_labels, register

GOOD_FLAG = "nnnnn"
"""SSPP ``flag`` of a spectrum with no warning (SDSS DR17 sppParams documentation: five
characters, 'n' = normal); the rule keeps these only."""
NULL_VALUE = -9999.0
"""SSPP's value of a missing parameter."""


def quality(rows):
    """SSPP flag 'nnnnn' and the three adopted parameters present and not -9999."""
    flag = np.ma.filled(np.ma.asarray(rows["sspp_flag"]).astype(str), "").astype(str)
    ok = np.char.strip(np.char.lower(flag)) == GOOD_FLAG
    for c in ("teff", "logg", "feh"):
        ok &= np.ma.filled(np.ma.asarray(rows[c], dtype=float), NULL_VALUE) > NULL_VALUE + 1
    return ok & all_finite_labels(rows)


SOURCE = register(LabelSource(
    key="segue-sspp", title="SEGUE SSPP adopted parameters (sppParams)",
    citation="Lee et al. 2008, AJ 136, 2022",
    conf_item="segue_sspp_tap_url", table="sdss_dr17.sppparams",
    columns={"source_id": "gaia_dr3_source_id", "survey_id": "specobjid", "ra": "ra", "dec": "dec",
             "teff": "teffadop", "e_teff": "teffadopunc", "logg": "loggadop",
             "e_logg": "loggadopunc", "feh": "fehadop", "e_feh": "fehadopunc",
             "sspp_flag": "flag"},
    template="labels_segue_sspp", quality=quality,
    quality_doc="SSPP flag 'nnnnn'; adopted Teff, logg, [Fe/H] present and not -9999",
    verified="columns: SDSS DR17 sppParams schema; service, table and Gaia id column: a guess"))
