"""SEGUE Stellar Parameter Pipeline labels (Lee et al. 2008, AJ 136, 2022): SDSS ``sppParams``.

``sppParams`` has no Gaia id: the label query joins it, on the server, to the Astro Data Lab
cross-match of Gaia DR3 with SDSS DR16 spectra (nearest neighbour within 1.5 arcsec).

Names and what was verified (public code and documentation, not the service itself):

* service: NOIRLab Astro Data Lab TAP (``conf.segue_sspp_tap_url``), which serves the SDSS
  schemas ``sdss_dr16`` and ``sdss_dr17`` (public scripts querying ``sdss_dr17.specobj`` and
  ``sdss_dr16.specobj`` there);
* table ``sdss_dr16.sppparams`` with ``specobjid``, ``teffadop``, ``loggadop``, ``fehadop``:
  a public script joins ``sdss_dr16.specobj`` and ``sdss_dr16.sppparams`` on ``specobjid``
  and reads these three columns at the Data Lab.  No public code found reads an
  ``sdss_dr17.sppparams`` there, hence DR16 (whether the DR17 copy differs was not checked);
* ``teffadopunc``, ``loggadopunc``, ``fehadopunc``, ``flag``, ``ra``, ``dec``: SDSS DR17
  ``sppParams`` schema (the real ``FEH_ADOP`` rows of the tests' fixture data come from it);
  their presence in the Data Lab copy is **not verified**;
* cross-match ``gaia_dr3.x1p5__gaia_source__sdss_dr16__specobj`` with ``id1`` (Gaia DR3
  ``source_id``) and ``id2`` (``specobjid``): two public scripts join it as
  ``x.id1 = gaia_source.source_id`` and ``x.id2 = specobj.specobjid`` at the Data Lab, whose
  documentation names its 1.5 arcsec nearest-neighbour cross-match tables ``x1p5__...``.
  A spectrum nearest to two Gaia sources gives both the same labels (the pairs are kept as
  served; :func:`~sos_vo.archives.label_source.one_per_star` then keeps one row per Gaia id).

Everything is resolved against TAP_SCHEMA at run time.
"""

from __future__ import annotations

import numpy as np

from .label_source import GaiaCrossmatch, LabelSource, all_finite_labels, register

GOOD_FLAG = "nnnnn"
"""SSPP ``flag`` of a spectrum with no warning (SDSS DR17 sppParams documentation: five
characters, 'n' = normal); the rule keeps these only."""
NULL_VALUE = -9999.0
"""SSPP's value of a missing parameter."""

CROSSMATCH = GaiaCrossmatch(
    table="gaia_dr3.x1p5__gaia_source__sdss_dr16__specobj", match="id2",
    table_key="segue_sspp_gaia",
    verified="table, id1 (Gaia DR3 source_id) and id2 (specobjid): public scripts joining it "
             "at the Astro Data Lab")
"""Astro Data Lab cross-match Gaia DR3 -> SDSS DR16 spectra (1.5 arcsec, nearest neighbour)."""


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
    conf_item="segue_sspp_tap_url", table="sdss_dr16.sppparams",
    # source_id: a column of the cross-match table (CROSSMATCH), not of sppParams
    columns={"source_id": "id1", "survey_id": "specobjid", "ra": "ra", "dec": "dec",
             "teff": "teffadop", "e_teff": "teffadopunc", "logg": "loggadop",
             "e_logg": "loggadopunc", "feh": "fehadop", "e_feh": "fehadopunc",
             "sspp_flag": "flag"},
    template="labels_segue_sspp", quality=quality,
    quality_doc="SSPP flag 'nnnnn'; adopted Teff, logg, [Fe/H] present and not -9999",
    verified="table sdss_dr16.sppparams, specobjid, teffadop, loggadop, fehadop and the Gaia DR3 "
             "cross-match (id1, id2): public Astro Data Lab scripts; uncertainties, flag, ra, dec: "
             "SDSS sppParams schema, not verified on the Data Lab copy",
    crossmatch=CROSSMATCH))
