"""ADQL templates of sos-vo, one query per file, installed as package data.

Each ``*.adql`` file documents, in ``--`` comments, where its table and column names come
from.  Placeholders ``{name}`` are filled by :func:`sos_vo.archives.adql.render`: table
names (``{gaia_source}``, ...; real names unless overridden, see
:mod:`sos_vo.archives.conf`), the region and chunk constraints, and the cut values (named
constants in :mod:`sos_vo.archives.gaia`, each citing the paper).  Comment lines are removed
before a query is sent.
"""
