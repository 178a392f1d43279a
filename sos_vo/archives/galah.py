"""GALAH DR3 labels (Buder et al. 2021, MNRAS 506, 150) from the Data Central TAP service.

Names and what was verified:

* table ``galah_dr3.main_star``: the GALAH team's DR3 pages ("Known as galah_dr3.main_star
  table in the database", ``GALAH_DR3_main_allstar_v2.fits``, with an ADQL example on Data
  Central) -- verified in the team's documentation (public documentation);
* ``sobject_id``, ``ra``, ``dec``, ``teff``, ``e_teff``, ``logg``, ``e_logg``, ``fe_h``,
  ``e_fe_h``, ``flag_sp``, ``flag_fe_h``, ``dr3_source_id``: columns of
  ``GALAH_DR3_main_allstar_v2`` (the real rows in the tests' fixture data carry them).  The team
  warns that Data Central serves the *initial* DR3 version; whether its ``main_star`` has
  ``dr3_source_id`` is **not verified** -- the run-time TAP_SCHEMA check reports it.
"""

from __future__ import annotations

from .label_source import LabelSource, all_finite_labels, flag_is_zero, register

_FLAGS = flag_is_zero("flag_sp", "flag_fe_h")


def quality(rows):
    """``flag_sp == 0`` and ``flag_fe_h == 0`` (Buder et al. 2021, Sect. 6; GALAH DR3 "best
    practices": "we recommend flag_sp == 0 and flag_fe_h == 0") and all three labels present."""
    return _FLAGS(rows) & all_finite_labels(rows)


SOURCE = register(LabelSource(
    key="galah-dr3", title="GALAH DR3 main_star", citation="Buder et al. 2021, MNRAS 506, 150",
    conf_item="galah_dr3_tap_url", table="galah_dr3.main_star",
    columns={"source_id": "dr3_source_id", "survey_id": "sobject_id", "ra": "ra", "dec": "dec",
             "teff": "teff", "e_teff": "e_teff", "logg": "logg", "e_logg": "e_logg",
             "feh": "fe_h", "e_feh": "e_fe_h", "flag_sp": "flag_sp", "flag_fe_h": "flag_fe_h"},
    template="labels_galah_dr3", quality=quality,
    quality_doc="flag_sp = 0 and flag_fe_h = 0; Teff, logg, [Fe/H] present",
    verified="table and columns: GALAH team DR3 documentation and the allstar_v2 file; "
             "dr3_source_id on Data Central's copy: not verified"))
