"""LAMOST LRS stellar parameters (LASP; Luo et al. 2015, RAA 15, 1095) over TAPVizieR.

Table: ``"V/162/dr11sl"``, the LAMOST DR11 LRS stellar-parameter table on VizieR, chosen
because it carries a Gaia DR3 id; the earlier releases on VizieR do not:

* ``V/164`` (DR5; ``stellar5`` = "A, F, G and K type stars catalog", 5 348 712 rows, VizieR
  ReadMe V/164) has labels ``ObsID``, ``RAJ2000``, ``DEJ2000``, ``Teff``, ``e_Teff``,
  ``logg``, ``e_logg``, ``[Fe/H]``, ``e_[Fe/H]`` (a public script selects exactly these from
  ``"V/164/stellar5"`` on TAPVizieR) but no Gaia id in any public code found: the LAMOST
  catalogues carry Gaia source identifiers only from DR8 on (LAMOST DR8 LRS data description:
  "LAMOST targets were cross-matched with Gaia DR2 catalog");
* ``V/156/dr7slrs`` (DR7) carries ``GaiaDR2`` (public astroquery scripts), a Gaia **DR2** id.

What was verified for ``"V/162/dr11sl"`` (public code, not the ReadMe): the table name (public
astroquery scripts, "LAMOST DR11 LRS") and its ``GaiaDR3`` column (a public script queries it
with ``GaiaDR3=<Gaia DR3 source_id>`` as an exact constraint); ``RAJ2000``, ``DEJ2000`` on the
companion table ``"V/162/dr11l"`` (a public TAPVizieR ADQL query).  **Guesses**: ``ObsID``,
``RAJ2000``, ``DEJ2000``, ``Teff``, ``e_Teff``, ``logg``, ``e_logg``, ``[Fe/H]``,
``e_[Fe/H]`` on ``dr11sl``, by analogy with ``V/164/stellar5`` and ``V/156/dr7slrs`` where
they are verified.  The run-time TAP_SCHEMA check lists the closest names; pass
``--table lamost_lrs=NAME`` / ``--column lamost_lrs.ROLE=NAME``.
"""

from __future__ import annotations

from .label_source import LabelSource, all_finite_labels, register

SOURCE = register(LabelSource(
    key="lamost-lrs", title="LAMOST DR11 LRS (LASP) stellar parameters",
    citation="Luo et al. 2015, RAA 15, 1095",
    conf_item="lamost_tap_url", table='"V/162/dr11sl"', vizier=True,
    columns={"source_id": "GaiaDR3", "survey_id": "ObsID", "ra": "RAJ2000", "dec": "DEJ2000",
             "teff": "Teff", "e_teff": "e_Teff", "logg": "logg", "e_logg": "e_logg",
             "feh": "[Fe/H]", "e_feh": "e_[Fe/H]"},
    template="labels_lamost_lrs", quality=all_finite_labels,
    quality_doc="Teff, logg, [Fe/H] present (LASP publishes parameters only for spectra it "
                "accepts; no further flag is served uniformly)",
    verified="table and GaiaDR3: public astroquery scripts (V/162/dr11sl); label columns: a "
             "guess from V/164/stellar5 and V/156/dr7slrs, where public TAPVizieR code reads them"))
