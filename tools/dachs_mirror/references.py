"""Reference-catalogue fixtures for the local TAP mirror (tests, demos).

Small tables shaped like the VizieR tables of the validation, under their real
identifiers mapped to SQL names (:func:`sos_vo.archives.conf.sql_table_name`,
:func:`sos_vo.validation.references.sql_column_name`):

* :data:`~sos_vo.validation.references.HR24_MEMBERS` (``J/A+A/686/A42/members`` ->
  ``vizier.j_a_a_686_a42_members``): members of fake clusters whose ``GaiaDR3`` ids are
  synthetic-sky ``source_id`` values of the fixture ``gaia_source`` table;
* :data:`~sos_vo.validation.references.NETOPIL_2016` (``J/A+A/585/A150/tablea1`` ->
  ``vizier.j_a_a_585_a150_tablea1``): their reference [Fe/H];
* :data:`~sos_vo.validation.references.HARRIS_1996` (``VII/202/catalog``): [Fe/H] of fake
  globular clusters (:data:`FAKE_GLOBULARS`), whose members are NOT in the mirror (VB21 lists
  live on Zenodo) but in the ECSV file :data:`VB21_FIXTURE_FILE` (VB21 Zenodo columns plus
  ``cluster``), which tests pass as a members file;
* :data:`~sos_vo.validation.references.ANDRAE_2023` (``J/ApJS/267/8/table1``) and
  :data:`~sos_vo.validation.references.APOKASC3` (``J/ApJS/276/69/table4``): reference
  parameters of synthetic-sky stars plus a few ids that are not in the synthetic sky.
* :data:`~sos_vo.validation.references.PASTEL` (``B/pastel/pastel``): several entries per star
  at the J2000 positions of isolated synthetic-sky stars (moved back from J2016.0 with their
  gaia_source proper motions, some fast), very metal-poor stars, stars above [Fe/H] = -2, stars with
  entries on both sides of -2, Teff-only entries and stars far from any synthetic-sky star;
  the true star of every entry and the proper motions are in :data:`PASTEL_TRUTH_FILE`.

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

from sos_vo.archives.conf import sql_table_name
from sos_vo.exceptions import SchemaError
from sos_vo.publish.dachs_rd import write_rd
from sos_vo.validation.references import (
    ANDRAE_2023,
    APOKASC3,
    APOKASC3_NULL,
    HARRIS_1996,
    HR24_MEMBERS,
    NETOPIL_2016,
    PASTEL,
    VB21_MEMBER_COLUMNS,
    VizierTable,
    sql_column_name,
)

REFERENCE_RESOURCE = "sosvo_vizier"
"""DaCHS resource directory of the reference fixtures (RD id ``sosvo_vizier/q``)."""
REFERENCE_SCHEMA = "vizier"
"""Schema of every VizieR table in the mirror (:func:`sos_vo.archives.conf.sql_table_name`)."""

FAKE_CLUSTERS = {"SOSVO_FAKE_1": (40, -0.12), "SOSVO_FAKE_2": (12, 0.08), "SOSVO_FAKE_3": (0, -0.35)}
"""Fake cluster name -> (number of members, reference [Fe/H]).  FAKE_1 has more members than
``clusters.MIN_MEMBERS`` (kept), FAKE_2 fewer (skipped), FAKE_3 has a [Fe/H] but no members."""
FAKE_FEH_ERROR = 0.05
"""``e_[Fe/H]HQS`` of every fake cluster (dex)."""

FAKE_GLOBULARS = {"SOSVO_GC_1": (80, -1.55, "Fake Tuc"), "SOSVO_GC_2": (9, -2.2, ""),
                  "SOSVO_GC_3": (0, -0.9, "")}
"""Fake globular cluster ID -> (number of VB21-style members, Harris [Fe/H], other name).
GC_1 is kept after the p > 0.8 cut, GC_2 has too few members, GC_3 has none."""
VB21_FIXTURE_FILE = "fixture/vb21_members_fake.ecsv"
"""Members of :data:`FAKE_GLOBULARS` in the VB21 Zenodo layout (``cluster`` added)."""
N_ANDRAE, N_APOKASC, N_FOREIGN = 3000, 400, 25
"""Rows of the Andrae and APOKASC-3 fixtures drawn from the synthetic sky, plus ``N_FOREIGN``
ids that are not in it (they must not take part in any comparison)."""


PASTEL_STARS = {"poor": 40, "rich": 10, "straddling": 6, "fast": 8, "foreign": 6}
"""PASTEL fixture stars by kind: very metal-poor ([Fe/H] in [-3.5, -2.2]), above -2 (about
-1), entries on both sides of -2, very metal-poor with proper motions of 150-300 mas/yr (lost
without propagating J2016.0 -> J2000: 2.4-4.8 arcsec), and very metal-poor 20 arcsec away from
the nearest synthetic-sky star (must never match)."""
PASTEL_TRUTH_FILE = "fixture/pastel_truth.ecsv"
"""Row-aligned with the PASTEL fixture: the synthetic-sky ``source_id`` of each entry (-1 for
the foreign stars) and its ``pmra``, ``pmdec`` (mas/yr; gaia_source's, 0 for the foreign stars)
used to place it at J2000."""
PASTEL_FAST_MAS_YR = (150.0, 300.0)
"""Total proper motion (mas/yr) of the ``fast`` PASTEL fixture stars, taken from gaia_source:
2.4-4.8 arcsec over J2000-J2016, beyond the 1 arcsec match radius without propagation."""
PASTEL_SLOW_MAS_YR = 100.0
"""The other PASTEL fixture stars move less than this (mas/yr) in gaia_source."""
PASTEL_ISOLATION_ARCSEC = 40.0
"""PASTEL fixture stars have no other synthetic-sky star within this distance, so the match
within 1 arcsec is unambiguous and the foreign stars (20 arcsec off) match nothing."""


def pastel_fixture(gaia_source: Table, rng: np.random.Generator) -> tuple[Table, Table]:
    """PASTEL-shaped rows (VizieR labels of :data:`PASTEL` plus errors) and their truth table.

    Stars per :data:`PASTEL_STARS`, 1-4 entries each (bibliographic entries), entry-to-entry
    scatter 0.1 dex in [Fe/H]; about one entry in eight has Teff only ([Fe/H], log g masked,
    as PASTEL lists Teff-only determinations); positions at J2000 within 0.3 arcsec.
    """
    from astropy.coordinates import SkyCoord
    from astropy.table import MaskedColumn

    from sos_vo.prepare.crossmatch import GAIA_EPOCH, PASTEL_EPOCH, propagate_positions

    for col in ("source_id", "ra", "dec", "pmra", "pmdec"):
        if col not in gaia_source.colnames:
            raise SchemaError(f"PASTEL fixture: gaia_source lacks column {col!r}")
    all_ids = np.asarray(gaia_source["source_id"], dtype=np.int64)
    ra0 = np.asarray(gaia_source["ra"], float)
    dec0 = np.asarray(gaia_source["dec"], float)
    pm_ra0 = np.ma.filled(np.ma.asarray(gaia_source["pmra"], dtype=float), np.nan)
    pm_dec0 = np.ma.filled(np.ma.asarray(gaia_source["pmdec"], dtype=float), np.nan)
    speed0 = np.hypot(pm_ra0, pm_dec0)
    sky = SkyCoord(ra0, dec0, unit="deg")
    _, d2, _ = sky.match_to_catalog_sky(sky, nthneighbor=2)
    isolated = (d2.arcsec > PASTEL_ISOLATION_ARCSEC) & np.isfinite(speed0)
    kinds = np.repeat(list(PASTEL_STARS), list(PASTEL_STARS.values()))
    fast = kinds == "fast"
    n_stars = kinds.size
    # the proper motions are gaia_source's own (what sos-vo fetches from the Gaia TAP when the
    # catalogue has none); fast movers are the isolated stars moving PASTEL_FAST_MAS_YR or more
    pools = {True: np.flatnonzero(isolated & (speed0 >= PASTEL_FAST_MAS_YR[0])
                                  & (speed0 <= PASTEL_FAST_MAS_YR[1])),
             False: np.flatnonzero(isolated & (speed0 < PASTEL_SLOW_MAS_YR))}
    for is_fast, pool in pools.items():
        need = int((fast == is_fast).sum())
        if pool.size < need:
            raise SchemaError(f"PASTEL fixture: only {pool.size} isolated "
                              f"{'fast' if is_fast else 'slow'} stars, need {need}")
    pick = np.empty(n_stars, dtype=np.int64)
    pick[fast] = rng.choice(pools[True], fast.sum(), replace=False)
    pick[~fast] = rng.choice(pools[False], (~fast).sum(), replace=False)
    pmra, pmdec = pm_ra0[pick], pm_dec0[pick]
    ra, dec = propagate_positions(ra0[pick], dec0[pick], pmra, pmdec, PASTEL_EPOCH - GAIA_EPOCH)
    feh_star = np.where(np.isin(kinds, ["poor", "fast", "foreign"]),
                        rng.uniform(-3.5, -2.2, n_stars),
                        np.where(kinds == "rich", rng.uniform(-1.5, -0.5, n_stars), -2.0))
    foreign = kinds == "foreign"
    source = all_ids[pick].copy()
    source[foreign] = -1
    pmra[foreign] = pmdec[foreign] = 0.0
    dec[foreign] += 20.0 / 3600.0  # 20 arcsec north of an isolated star: no star within 1"
    n_entries = rng.integers(1, 5, n_stars)
    n_entries[kinds == "straddling"] = np.maximum(n_entries[kinds == "straddling"], 2)
    star = np.repeat(np.arange(n_stars), n_entries)
    m = star.size
    jitter = rng.uniform(0, 0.3, m) / 3600.0
    theta = rng.uniform(0, 2 * np.pi, m)
    e_ra = ra[star] + jitter * np.cos(theta) / np.cos(np.deg2rad(dec[star]))
    e_dec = dec[star] + jitter * np.sin(theta)
    feh = feh_star[star] + rng.normal(0.0, 0.1, m)
    first = np.r_[True, star[1:] != star[:-1]]
    strad = kinds[star] == "straddling"
    # entries of straddling stars alternate around -2: -2.15, -1.85, -2.15, ...
    rank = np.arange(m) - np.repeat(np.flatnonzero(first), n_entries)
    feh[strad] = np.where(rank[strad] % 2 == 0, -2.15, -1.85) + rng.normal(0, 0.02, strad.sum())
    teff_only = (rng.random(m) < 0.125) & ~first  # every star keeps one full entry
    c = PASTEL.columns
    rows = Table()
    rows[c["id"]] = np.char.add("SOSVO-PASTEL ", (star + 1).astype(str))
    rows[c["ra"]] = e_ra
    rows[c["dec"]] = e_dec
    rows[c["teff"]] = (rng.uniform(4500, 6500, n_stars)[star] + rng.normal(0, 60, m)).astype(np.float32)
    rows["e_Teff"] = np.full(m, 80.0, dtype=np.float32)
    rows[c["logg"]] = MaskedColumn((rng.uniform(1.0, 4.8, n_stars)[star]
                                    + rng.normal(0, 0.1, m)).astype(np.float32), mask=teff_only)
    rows["e_logg"] = MaskedColumn(np.full(m, 0.15, dtype=np.float32), mask=teff_only)
    rows[c["feh"]] = MaskedColumn(feh.astype(np.float32), mask=teff_only)
    rows["e_[Fe/H]"] = MaskedColumn(np.full(m, 0.1, dtype=np.float32), mask=teff_only)
    rows[c["bibcode"]] = np.char.add("2099SOSVO..", np.char.zfill(np.arange(m).astype(str), 8))
    truth = Table({"source_id": source[star], "pmra": pmra[star], "pmdec": pmdec[star],
                   "kind": kinds[star]})
    return rows, truth


def reference_fixture_tables(gaia_source: Table, seed: int = 7) -> dict[str, Table]:
    """The VizieR reference fixtures, keyed by VizieR table path (plus the VB21 members under
    ``"vb21"``, not published in the mirror).

    HR24 members and Netopil [Fe/H] of :data:`FAKE_CLUSTERS`; Harris [Fe/H] of
    :data:`FAKE_GLOBULARS` and their VB21-style members; Andrae et al. (2023) and APOKASC-3
    rows of synthetic-sky stars; PASTEL entries and their truth (:func:`pastel_fixture`) when
    ``gaia_source`` has ``ra``, ``dec``, ``pmra``, ``pmdec``.  Members are distinct ``source_id`` values drawn from
    ``gaia_source`` (open and globular members disjoint); probabilities are uniform in
    [0.5, 1).  Columns carry the VizieR labels of the constants in
    :mod:`sos_vo.validation.references`.
    """
    if "source_id" not in gaia_source.colnames:
        raise SchemaError("reference fixtures: gaia_source lacks column 'source_id'")
    n_open = sum(n for n, _ in FAKE_CLUSTERS.values())
    n_gc = sum(n for n, _, _ in FAKE_GLOBULARS.values())
    need = max(n_open + n_gc, N_ANDRAE)
    if len(gaia_source) < need:
        raise SchemaError(f"reference fixtures: gaia_source has {len(gaia_source)} rows, "
                          f"need at least {need}")
    rng = np.random.default_rng(seed)
    all_ids = np.asarray(gaia_source["source_id"], dtype=np.int64)
    ids = rng.choice(all_ids, n_open + n_gc, replace=False)
    names = np.repeat(list(FAKE_CLUSTERS), [n for n, _ in FAKE_CLUSTERS.values()])
    m = HR24_MEMBERS.columns
    members = Table({m["cluster"]: names.astype(str), m["source_id"]: ids[:n_open],
                     m["prob"]: rng.uniform(0.5, 1.0, n_open)})
    n = NETOPIL_2016.columns
    feh = Table({n["cluster"]: list(FAKE_CLUSTERS),
                 n["feh"]: [f for _, f in FAKE_CLUSTERS.values()],
                 n["e_feh"]: np.full(len(FAKE_CLUSTERS), FAKE_FEH_ERROR)})
    h = HARRIS_1996.columns
    harris = Table({h["cluster"]: list(FAKE_GLOBULARS),
                    h["name"]: [o for _, _, o in FAKE_GLOBULARS.values()],
                    h["feh"]: [f for _, f, _ in FAKE_GLOBULARS.values()]})
    gc_names = np.repeat(list(FAKE_GLOBULARS), [k for k, _, _ in FAKE_GLOBULARS.values()])
    vb21 = Table({"cluster": gc_names.astype(str), VB21_MEMBER_COLUMNS["source_id"]: ids[n_open:],
                  VB21_MEMBER_COLUMNS["prob"]: rng.uniform(0.5, 1.0, n_gc)})
    foreign = np.int64(all_ids.max()) + 1 + np.arange(N_FOREIGN, dtype=np.int64)
    a = ANDRAE_2023.columns
    sel = np.concatenate([rng.choice(all_ids, N_ANDRAE, replace=False), foreign])
    andrae = Table({a["source_id"]: sel, a["mh"]: rng.normal(-0.3, 0.4, sel.size).astype(np.float32),
                    a["teff"]: rng.uniform(4000, 7000, sel.size).astype(np.float32),
                    a["logg"]: rng.uniform(1.0, 5.0, sel.size).astype(np.float32)})
    k = APOKASC3.columns
    sel = np.concatenate([rng.choice(all_ids, N_APOKASC, replace=False), foreign])
    logg = rng.uniform(1.5, 3.3, sel.size)
    logg[:10] = APOKASC3_NULL  # missing seismic log g, as APOKASC-3 writes it
    apokasc = Table({k["source_id"]: sel, k["logg"]: logg,
                     k["e_logg"]: rng.uniform(0.005, 0.02, sel.size),
                     k["evol_state"]: rng.choice(["RGB", "RC"], sel.size),
                     k["category"]: rng.choice(["Gold", "Silver"], sel.size),
                     k["kic"]: 1_000_000 + np.arange(sel.size)})
    out = {HR24_MEMBERS.table: members, NETOPIL_2016.table: feh, HARRIS_1996.table: harris,
           ANDRAE_2023.table: andrae, APOKASC3.table: apokasc, "vb21": vb21}
    if {"ra", "dec", "pmra", "pmdec"} <= set(gaia_source.colnames):  # matched by position
        out[PASTEL.table], out["pastel_truth"] = pastel_fixture(gaia_source, rng)
    return out


EXTRA_FILES = {"vb21": VB21_FIXTURE_FILE, "pastel_truth": PASTEL_TRUTH_FILE}
"""Keys of :func:`reference_fixture_tables` written as files only (not served by the mirror)."""


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
        VizieR table path -> rows with VizieR column labels (:func:`reference_fixture_tables`);
        the keys of :data:`EXTRA_FILES` (``"vb21"``, ``"pastel_truth"``) are written as
        files only.
    out : path
        The fixture folder of ``tools/make_dachs_fixtures.py``.

    Returns
    -------
    dict
        ``{"resource": ..., "tables": {vizier path: sql name}, "files": {vizier path: ecsv},
        "rows": {vizier path: n}, "extra_files": {key: ecsv}}``.
    """
    out = Path(out)
    (out / "fixture").mkdir(parents=True, exist_ok=True)
    known: dict[str, VizierTable] = {t.table: t for t in (HR24_MEMBERS, NETOPIL_2016, HARRIS_1996,
                                                          ANDRAE_2023, APOKASC3, PASTEL)}
    tables = dict(tables)
    extra = {}
    for key, name in EXTRA_FILES.items():  # not VizieR tables: files only
        if key in tables:
            tables.pop(key).write(out / name, overwrite=True)
            extra[key] = name
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
                         "identifiers (tools/dachs_mirror/references.py).",
             table_descriptions={sql_tables[p].split(".", 1)[1]:
                                 f"Fixture of {p} ({known[p].citation})" if p in known else p
                                 for p in tables},
             overwrite=overwrite)
    return {"resource": f"{REFERENCE_RESOURCE}/q", "tables": sql_tables, "files": files,
            "rows": {p: len(t) for p, t in tables.items()}, "extra_files": extra}
