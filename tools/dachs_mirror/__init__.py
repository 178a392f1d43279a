"""Builders of the local GAVO DaCHS mirror the tests run against (not part of the installed package).

``archives``: the synthetic archive tables under the real Gaia / SDSS / SkyMapper names;
``references``: the reference catalogues of the validation under their VizieR names.
``tools/make_dachs_fixtures.py`` writes both; the tests import them through ``pythonpath``.
"""
