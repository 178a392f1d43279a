"""Gaia-ESO DR5 recommended parameters (Randich et al. 2022, A&A 666, A121) over TAPVizieR.

**Guesses**: the catalogue J/A+A/666/A121 is the paper's VizieR entry (cited by the paper);
the table ``"J/A+A/666/A121/tableb5"`` appears in one public script only; the labels
``GaiaDR3``, ``CName``, ``RAJ2000``, ``DEJ2000``, ``Teff``, ``e_Teff``, ``logg``, ``e_logg``,
``[Fe/H]``, ``e_[Fe/H]`` are guesses from VizieR's usual labelling.  Resolved against TAP_SCHEMA
at run time.
"""

from __future__ import annotations

from .label_source import LabelSource, all_finite_labels, register

SOURCE = register(LabelSource(
    key="gaia-eso", title="Gaia-ESO DR5 recommended parameters",
    citation="Randich et al. 2022, A&A 666, A121",
    conf_item="gaia_eso_tap_url", table='"J/A+A/666/A121/tableb5"', vizier=True,
    columns={"source_id": "GaiaDR3", "survey_id": "CName", "ra": "RAJ2000", "dec": "DEJ2000",
             "teff": "Teff", "e_teff": "e_Teff", "logg": "logg", "e_logg": "e_logg",
             "feh": "[Fe/H]", "e_feh": "e_[Fe/H]"},
    template="labels_gaia_eso", quality=all_finite_labels,
    quality_doc="Teff, logg, [Fe/H] present (the recommended parameters are already the "
                "consortium's homogenised, flagged values)",
    verified="a guess: table and columns not verified"))
