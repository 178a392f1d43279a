"""Archive tables for a local TAP mirror (tests, demos) and their DaCHS resources.

:func:`fixture_tables` returns one astropy Table per logical archive table of
:mod:`sos_vo.archives.tables`, with exactly the archive's column names, filled from the
synthetic sky (:func:`sos_vo.simulate.simulate_sky`).

:func:`write_fixture_mirror` writes one DaCHS resource per schema (``gaiadr3``,
``external``) with :func:`sos_vo.publish.dachs_rd.write_rd`, plus the same rows as ECSV for
tests to compute expected answers without the server.
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from pathlib import Path

from astropy.table import Table

from sos_vo.archives.tables import ARCHIVE_TABLES, ArchiveTable
from sos_vo.publish.dachs_rd import write_rd

RESOURCE_PREFIX = "sosvo_"
"""DaCHS resource directories are named ``sosvo_<schema>`` (RD id ``sosvo_<schema>/q``)."""

FIXTURE_CONE = (52.0, 8.0, 6.0)
"""Centre RA, Dec and radius (deg) of the fixture sky: a field where the synthetic SDSS and
SkyMapper footprints overlap (the simulator puts both surveys everywhere)."""
FIXTURE_STARS = 15000
"""Number of synthetic Gaia sources (about 130 per deg^2: enough rows per test region, small
enough for a 2-core CI machine)."""


def fixture_tables(seed: int = 1) -> dict[str, Table]:
    """Synthetic archive tables by logical key (see :data:`tables.ARCHIVE_TABLES`).

    The rows are :func:`sos_vo.simulate.simulate_sky` in :data:`FIXTURE_CONE`, restricted to
    the columns sos-vo reads.
    """
    from sos_vo.simulate import simulate_sky

    ra, dec, radius = FIXTURE_CONE
    sky = simulate_sky((ra, dec), radius, n_stars=FIXTURE_STARS, seed=seed)
    out = {}
    for key, spec in ARCHIVE_TABLES.items():
        table = sky.tables[spec.name]
        out[key] = table[[c for c in spec.column_names]]
    return out


def write_fixture_mirror(tables: dict[str, Table], out: str | os.PathLike) -> dict:
    """Write DaCHS resources (one per schema) and ECSV copies of ``tables`` under ``out``.

    Returns the manifest (also written to ``out/manifest.json``): resource ids, table names
    by key, row counts.
    """
    out = Path(out)
    (out / "fixture").mkdir(parents=True, exist_ok=True)
    by_schema: dict[str, dict[str, tuple[ArchiveTable, Table]]] = defaultdict(dict)
    for key, table in tables.items():
        spec = ARCHIVE_TABLES[key]
        by_schema[spec.schema_name][spec.table_name] = (spec, table)
        table.write(out / "fixture" / f"{key}.ecsv", overwrite=True)
    resources = []
    for schema, members in by_schema.items():
        name = RESOURCE_PREFIX + schema
        write_rd(out / "rd" / name, schema, {t: tab for t, (_, tab) in members.items()},
                 title=f"sos-vo fixture mirror of {schema}",
                 description="Archive-shaped test tables under the real archive names "
                             "(tools/dachs_mirror/archives.py).",
                 columns={t: spec.columns for t, (spec, _) in members.items()},
                 primary={t: spec.primary for t, (spec, _) in members.items() if spec.primary},
                 table_descriptions={t: spec.description for t, (spec, _) in members.items()},
                 overwrite=True)
        resources.append(f"{name}/q")
    manifest = {"resources": resources,
                "tables": {k: ARCHIVE_TABLES[k].name for k in tables},
                "rows": {k: len(t) for k, t in tables.items()}}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1))
    return manifest
