"""Reference-catalogue fixtures for the local TAP mirror (tests, demos).

Two small tables shaped like the VizieR tables of the cluster validation, under their real
identifiers mapped to SQL names (:func:`sos_vo.archives.conf.sql_table_name`,
:func:`sos_vo.validation.references.sql_column_name`):

* :data:`~sos_vo.validation.references.HR24_MEMBERS` (``J/A+A/686/A42/members`` ->
  ``vizier.j_a_a_686_a42_members``): members of fake clusters whose ``GaiaDR3`` ids are
  synthetic-sky ``source_id`` values of the fixture ``gaia_source`` table;
* :data:`~sos_vo.validation.references.NETOPIL_2016` (``J/A+A/585/A150/tablea1`` ->
  ``vizier.j_a_a_585_a150_tablea1``): their reference [Fe/H].

The rows are made up (the names say so); they exist to test the TAP path and the statistics,
not the science.  :func:`write_reference_mirror` writes the DaCHS resource and ECSV copies with
the VizieR column labels, from which tests compute expected answers without the server.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np
from astropy.table import Table

from ..archives.conf import sql_table_name
from ..archives.dachs_rd import write_rd
from ..exceptions import SchemaError
from .references import HR24_MEMBERS, NETOPIL_2016, VizierTable, sql_column_name

REFERENCE_RESOURCE = "sosvo_vizier"
"""DaCHS resource directory of the reference fixtures (RD id ``sosvo_vizier/q``)."""
REFERENCE_SCHEMA = "vizier"
"""Schema of every VizieR table in the mirror (:func:`sos_vo.archives.conf.sql_table_name`)."""

FAKE_CLUSTERS = {"SOSVO_FAKE_1": (40, -0.12), "SOSVO_FAKE_2": (12, 0.08), "SOSVO_FAKE_3": (0, -0.35)}
"""Fake cluster name -> (number of members, reference [Fe/H]).  FAKE_1 has more members than
``clusters.MIN_MEMBERS`` (kept), FAKE_2 fewer (skipped), FAKE_3 has a [Fe/H] but no members."""
FAKE_FEH_ERROR = 0.05
"""``e_[Fe/H]HQS`` of every fake cluster (dex)."""


def reference_fixture_tables(gaia_source: Table, seed: int = 7) -> dict[str, Table]:
    """HR24 members and Netopil [Fe/H] of :data:`FAKE_CLUSTERS`, keyed by VizieR table path.

    Members are distinct ``source_id`` values drawn from ``gaia_source``; probabilities are
    uniform in [0.5, 1).  Columns carry the VizieR labels of the constants in
    :mod:`sos_vo.validation.references`.
    """
    if "source_id" not in gaia_source.colnames:
        raise SchemaError("reference fixtures: gaia_source lacks column 'source_id'")
    need = sum(n for n, _ in FAKE_CLUSTERS.values())
    if len(gaia_source) < need:
        raise SchemaError(f"reference fixtures: gaia_source has {len(gaia_source)} rows, "
                          f"need at least {need}")
    rng = np.random.default_rng(seed)
    ids = rng.choice(np.asarray(gaia_source["source_id"], dtype=np.int64), need, replace=False)
    names = np.repeat(list(FAKE_CLUSTERS), [n for n, _ in FAKE_CLUSTERS.values()])
    m = HR24_MEMBERS.columns
    members = Table({m["cluster"]: names.astype(str), m["source_id"]: ids,
                     m["prob"]: rng.uniform(0.5, 1.0, need)})
    n = NETOPIL_2016.columns
    feh = Table({n["cluster"]: list(FAKE_CLUSTERS),
                 n["feh"]: [f for _, f in FAKE_CLUSTERS.values()],
                 n["e_feh"]: np.full(len(FAKE_CLUSTERS), FAKE_FEH_ERROR)})
    return {HR24_MEMBERS.table: members, NETOPIL_2016.table: feh}


def _sql_copy(table: Table) -> Table:
    """Copy with SQL column names; each description names the VizieR label it stands for."""
    out = Table()
    for name in table.colnames:
        out[sql_column_name(name)] = table[name]
        out[sql_column_name(name)].description = f"VizieR column {name}"
    return out


def write_reference_mirror(tables: Mapping[str, Table], out: str | os.PathLike,
                           overwrite: bool = True) -> dict:
    """Write ``out/rd/sosvo_vizier`` (DaCHS) and ``out/fixture/<sql table>.ecsv`` (VizieR labels).

    Parameters
    ----------
    tables : mapping
        VizieR table path -> rows with VizieR column labels (:func:`reference_fixture_tables`).
    out : path
        The fixture folder of ``tools/make_dachs_fixtures.py``.

    Returns
    -------
    dict
        ``{"resource": ..., "tables": {vizier path: sql name}, "files": {vizier path: ecsv},
        "rows": {vizier path: n}}``.
    """
    out = Path(out)
    (out / "fixture").mkdir(parents=True, exist_ok=True)
    known: dict[str, VizierTable] = {t.table: t for t in (HR24_MEMBERS, NETOPIL_2016)}
    sql_tables, files = {}, {}
    for path, table in tables.items():
        sql = sql_table_name(path, REFERENCE_SCHEMA)
        sql_tables[path] = sql
        files[path] = f"fixture/{sql}.ecsv"
        table.write(out / files[path], overwrite=True)
    write_rd(out / "rd" / REFERENCE_RESOURCE, REFERENCE_SCHEMA,
             {sql_tables[p].split(".", 1)[1]: _sql_copy(t) for p, t in tables.items()},
             title="sos-vo fixture mirror of VizieR reference catalogues",
             description="Made-up rows under the real VizieR identifiers, names mapped to SQL "
                         "identifiers (sos_vo.validation.mirror).",
             table_descriptions={sql_tables[p].split(".", 1)[1]:
                                 f"Fixture of {p} ({known[p].citation})" if p in known else p
                                 for p in tables},
             overwrite=overwrite)
    return {"resource": f"{REFERENCE_RESOURCE}/q", "tables": sql_tables, "files": files,
            "rows": {p: len(t) for p, t in tables.items()}}
