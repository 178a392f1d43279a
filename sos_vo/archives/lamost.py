"""LAMOST LRS stellar parameters (LASP; Luo et al. 2015, RAA 15, 1095) over TAPVizieR.

**Guesses** (no authoritative name found in public documentation or code): the table
``"V/164/stellar5"`` (LAMOST DR5 v3, Luo et al. 2019, VizieR V/164, A/F/G/K stellar-parameter
table) and its labels ``Gaia`` (a Gaia id column; LAMOST DR5 predates Gaia DR3 and may carry a
DR2 id, which is *not* a DR3 id), ``ObsID``, ``RAJ2000``, ``DEJ2000``, ``Teff``, ``e_Teff``,
``logg``, ``e_logg``, ``[Fe/H]``, ``e_[Fe/H]``.  Public scripts name other LAMOST tables
(``V/156/dr7lrs``, ``V/156/dr7slrs``) inconsistently.  The run-time TAP_SCHEMA check lists the
closest names; pass ``--table lamost_lrs=NAME`` and check the id is Gaia DR3.
"""

from __future__ import annotations

from .label_source import LabelSource, all_finite_labels, register

SOURCE = register(LabelSource(
    key="lamost-lrs", title="LAMOST LRS (LASP) stellar parameters",
    citation="Luo et al. 2015, RAA 15, 1095",
    conf_item="lamost_tap_url", table='"V/164/stellar5"', vizier=True,
    columns={"source_id": "Gaia", "survey_id": "ObsID", "ra": "RAJ2000", "dec": "DEJ2000",
             "teff": "Teff", "e_teff": "e_Teff", "logg": "logg", "e_logg": "e_logg",
             "feh": "[Fe/H]", "e_feh": "e_[Fe/H]"},
    template="labels_lamost_lrs", quality=all_finite_labels,
    quality_doc="Teff, logg, [Fe/H] present (LASP publishes parameters only for spectra it "
                "accepts; no further flag is served uniformly)",
    verified="a guess: table and columns not verified"))
