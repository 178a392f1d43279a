"""GALAH DR3 labels (Buder et al. 2021, MNRAS 506, 150) from the Data Central TAP service.

The Gaia DR3 (= EDR3) id comes from the team's value-added catalogue ``galah_dr3.vac_gaiaedr3``,
joined on the server on ``sobject_id``.

Names and what was verified:

* table ``galah_dr3.main_star``: the GALAH team's DR3 pages ("Known as galah_dr3.main_star
  table in the database", ``GALAH_DR3_main_allstar_v2.fits``, with an ADQL example on Data
  Central) -- verified in the team's documentation (public documentation);
* ``sobject_id``, ``ra``, ``dec``, ``teff``, ``e_teff``, ``logg``, ``e_logg``, ``fe_h``,
  ``e_fe_h``, ``flag_sp``, ``flag_fe_h``: columns of ``GALAH_DR3_main_allstar_v2`` (the real rows
  in the tests' fixture data carry them); ``sobject_id``, ``teff``, ``logg``, ``fe_h`` also in
  the team's Data Central ADQL example.  The team warns that Data Central serves the *initial*
  DR3 version, and its example reads a column ``source_id`` from ``main_star``, not the
  ``dr3_source_id`` of the v2 file: a Gaia DR2 id there cannot be ruled out (in the tests'
  1 061 real GALAH rows, 28 DR2 ids differ from the DR3 ids);
* ``galah_dr3.vac_gaiaedr3`` with ``sobject_id`` and ``dr3_source_id`` ("all columns from
  gaiaedr3.gaia_source, with source_id renamed dr3_source_id"; "there is a Gaia eDR3 source for
  every entry in the galah_dr3.main_star table"): the team's DR3 value-added-catalogue page --
  hence the join.
"""

from __future__ import annotations

from .label_source import GaiaCrossmatch, LabelSource, all_finite_labels, flag_is_zero, register

_FLAGS = flag_is_zero("flag_sp", "flag_fe_h")

CROSSMATCH = GaiaCrossmatch(
    table="galah_dr3.vac_gaiaedr3", match="sobject_id", table_key="galah_dr3_gaia",
    verified="table, sobject_id and dr3_source_id: the GALAH team's DR3 value-added-catalogue "
             "page")
"""The team's GALAH DR3 - Gaia EDR3 cross-match (via Gaia DR2 ids and dr2_neighbourhood)."""


def quality(rows):
    """``flag_sp == 0`` and ``flag_fe_h == 0`` (Buder et al. 2021, Sect. 6; GALAH DR3 "best
    practices": "we recommend flag_sp == 0 and flag_fe_h == 0") and all three labels present."""
    return _FLAGS(rows) & all_finite_labels(rows)


SOURCE = register(LabelSource(
    key="galah-dr3", title="GALAH DR3 main_star", citation="Buder et al. 2021, MNRAS 506, 150",
    conf_item="galah_dr3_tap_url", table="galah_dr3.main_star",
    # source_id: a column of the cross-match table (CROSSMATCH)
    columns={"source_id": "dr3_source_id", "survey_id": "sobject_id", "ra": "ra", "dec": "dec",
             "teff": "teff", "e_teff": "e_teff", "logg": "logg", "e_logg": "e_logg",
             "feh": "fe_h", "e_feh": "e_fe_h", "flag_sp": "flag_sp", "flag_fe_h": "flag_fe_h"},
    template="labels_galah_dr3", quality=quality,
    quality_doc="flag_sp = 0 and flag_fe_h = 0; Teff, logg, [Fe/H] present",
    verified="table and columns: GALAH team DR3 documentation and the allstar_v2 file; "
             "Gaia DR3 id from galah_dr3.vac_gaiaedr3 (team documentation)",
    crossmatch=CROSSMATCH))
