"""Gaia-ESO DR5.1 recommended parameters (Hourihane et al. 2023, A&A 676, A129) over TAPVizieR.

Table: ``"J/A+A/676/A129/catalog"``, the VizieR catalogue of the paper that homogenises the
Gaia-ESO stellar parameters into the recommended set (Hourihane et al. 2023, "The Gaia-ESO
Survey: Homogenisation of stellar parameters and elemental abundances", A&A 676, A129).

What was verified, and where (public code; the VizieR ReadMe of J/A+A/676/A129 was not found
in any searchable copy):

* the table and its labels ``Object``, ``RAJ2000``, ``DEJ2000``, ``Teff``, ``logg``,
  ``[Fe/H]``: public STILTS ``tapquery`` scripts select exactly these from
  ``"J/A+A/676/A129/catalog"`` on TAPVizieR, and one of them joins it to Gaia **by position**
  (``CONTAINS(POINT(catalog.RAJ2000, catalog.DEJ2000), CIRCLE(gaia.ra, gaia.dec, ...))``),
  never by an id;
* no Gaia id: none of that code reads one, and the ESA Gaia archive's own copy of Gaia-ESO DR5.1
  (``external.gaia_eso_survey``, column list in the generated module
  ``src/data/external/gaia_eso_survey/mod.rs`` of the repository TheComamba/gaia_access) has
  ``object``, ``ra``, ``dec``, ``epoch`` ("coordinate epoch"), ``teff``, ``e_teff``, ``logg``,
  ``e_logg``, ``feh``, ``e_feh``, ... and no ``source_id``.  We conclude the VizieR table has no
  Gaia id either, and match by position (:data:`POSITIONAL`).  The ``source_id`` role keeps the
  guess ``GaiaDR3``: if TAP_SCHEMA lists such a column it is used and no match is run;
* **guesses**: ``e_Teff``, ``e_logg``, ``e_[Fe/H]`` (VizieR's usual labels of errors; the
  archive copy has errors, under ``e_teff``, ``e_logg``, ``e_feh``), checked against TAP_SCHEMA
  at run time like every name.

Positions: the labels ``RAJ2000``/``DEJ2000`` name the J2000 equinox; their epoch is **assumed**
to be J2000.0 (:data:`LABEL_EPOCH`): the VizieR table was not seen to carry an epoch column, and
the archive copy gives each star its own ``epoch``, which we could not read.  An epoch off by
2 years moves a 100 mas/yr star by 0.2 arcsec, within the 1 arcsec match radius.  The previous
table guess, ``"J/A+A/666/A121/tableb5"``, belongs to the survey overview paper (Randich et al.
2022, A&A 666, A121), not to the recommended-parameter catalogue.
"""

from __future__ import annotations

from .label_source import LabelSource, all_finite_labels, register
from .positional_match import GAIA_TABLE_COLUMNS, GaiaPositionalMatch

LABEL_EPOCH = 2000.0
"""Epoch (Julian year) assumed for the Gaia-ESO positions (see the module docstring)."""

POSITIONAL = GaiaPositionalMatch(
    table='"I/355/gaiadr3"', table_key="gaia_eso_gaia", label_epoch=LABEL_EPOCH,
    epoch_doc="assumed J2000.0: the VizieR labels RAJ2000/DEJ2000 name the equinox; no epoch "
              "column was seen for J/A+A/676/A129/catalog",
    template="labels_gaia_eso_positional",
    verified="I/355/gaiadr3 with " + ", ".join(GAIA_TABLE_COLUMNS.values())
             + ": public TAPVizieR scripts")
"""TAPVizieR's Gaia DR3 table, the same service as the labels (override key ``gaia_eso_gaia``)."""

SOURCE = register(LabelSource(
    key="gaia-eso", title="Gaia-ESO DR5.1 recommended parameters",
    citation="Hourihane et al. 2023, A&A 676, A129",
    conf_item="gaia_eso_tap_url", table='"J/A+A/676/A129/catalog"', vizier=True,
    columns={"source_id": "GaiaDR3", "survey_id": "Object", "ra": "RAJ2000", "dec": "DEJ2000",
             "teff": "Teff", "e_teff": "e_Teff", "logg": "logg", "e_logg": "e_logg",
             "feh": "[Fe/H]", "e_feh": "e_[Fe/H]"},
    template="labels_gaia_eso", quality=all_finite_labels,
    quality_doc="Teff, logg, [Fe/H] present (the recommended parameters are already the "
                "consortium's homogenised, flagged values)",
    verified="table, Object, RAJ2000, DEJ2000, Teff, logg, [Fe/H]: public TAPVizieR scripts; "
             "no Gaia id (public code matches the table by position; the ESA archive's copy of "
             "DR5.1 has none): Gaia DR3 ids by position on TAPVizieR (I/355/gaiadr3); errors "
             "e_Teff, e_logg, e_[Fe/H]: a guess",
    positional=POSITIONAL))
