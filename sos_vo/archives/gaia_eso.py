"""Gaia-ESO DR5.1 recommended parameters (Hourihane et al. 2023, A&A 676, A129) over TAPVizieR.

Table: ``"J/A+A/676/A129/catalog"``, the VizieR catalogue of the paper that homogenises the
Gaia-ESO stellar parameters into the recommended set (Hourihane et al. 2023, "The Gaia-ESO
Survey: Homogenisation of stellar parameters and elemental abundances", A&A 676, A129).

Verified (public code, not the ReadMe): the table and its labels ``Object``, ``RAJ2000``,
``DEJ2000``, ``Teff``, ``logg``, ``[Fe/H]`` (public STILTS ``tapquery`` scripts select exactly
these from ``"J/A+A/676/A129/catalog"`` on TAPVizieR).  **Guesses**: ``e_Teff``, ``e_logg``,
``e_[Fe/H]`` (VizieR's usual labels of errors) and a Gaia id ``GaiaDR3``: the public scripts
match this table to Gaia **by position**, which suggests it may have no Gaia id at all; then
the run-time TAP_SCHEMA check stops with the closest names, and the Gaia-ESO labels need a
positional cross-match that this module does not do.  The previous guess,
``"J/A+A/666/A121/tableb5"``, belongs to the survey overview paper (Randich et al. 2022,
A&A 666, A121), not to the recommended-parameter catalogue.
"""

from __future__ import annotations

from .label_source import LabelSource, all_finite_labels, register

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
             "errors and the Gaia id GaiaDR3: a guess (public code matches this table by position)"))
