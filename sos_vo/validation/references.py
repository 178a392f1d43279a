"""The reference catalogues of the paper's validation, by their real VizieR identifiers.

Each :class:`VizierTable` names a VizieR catalogue, the table served by VizieR's TAP service
(``"<catalogue>/<table>"``) and the VizieR column names we use, keyed by the role they play
here (``cluster``, ``source_id``, ``prob``, ``feh``, ...).  :func:`adql_select` writes the ADQL
that fetches them with the roles as column aliases and :func:`fetch_vizier` runs it with
:class:`sos_vo.archives.TapClient` (retries, row limit, overflow check) against VizieR or any TAP
mirror, e.g. the local GAVO DaCHS of the tests.

A DaCHS mirror cannot use VizieR's names (quoted paths, bracketed column labels), so with
``sos_vo.archives.conf.vizier_names = "sql"`` (or ``$SOS_VO_VIZIER_NAMES=sql``, or
``names="sql"``) the table is named by :func:`sos_vo.archives.conf.sql_table_name`
(``J/A+A/686/A42/members`` -> ``vizier.j_a_a_686_a42_members``) and every column by
:func:`sql_column_name`, the same rule (``[Fe/H]HQS`` -> ``fe_h_hqs``).  Table names can also be
overridden per table with ``conf.table_names`` keyed by the VizieR table path.

Where we could not check a table or column name against VizieR's ReadMe we say so in the
constant's ``note``; pass the names explicitly in that case.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from astropy.table import Table

from ..archives.conf import sql_table_name
from ..exceptions import SchemaError

NAMING_SCHEMES = ("vizier", "sql")
"""``vizier``: VizieR's quoted names; ``sql``: the SQL-identifier mapping of a DaCHS mirror."""

_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def sql_column_name(vizier_column: str) -> str:
    """VizieR column label -> SQL identifier used by the DaCHS mirror.

    The rule of :func:`sos_vo.archives.conf.sql_table_name`: lower case, every run of
    characters that are not letters or digits replaced by ``_``, leading/trailing ``_``
    stripped; a name that would start with a digit gets a leading ``c_``.

    >>> sql_column_name("[Fe/H]HQS"), sql_column_name("e_[Fe/H]HQS"), sql_column_name("GaiaDR3")
    ('fe_h_hqs', 'e_fe_h_hqs', 'gaiadr3')
    """
    name = _NON_ALNUM.sub("_", vizier_column.strip().lower()).strip("_")
    if not name:
        raise SchemaError(f"VizieR column {vizier_column!r} has no letters or digits")
    return f"c_{name}" if name[0].isdigit() else name


@dataclass(frozen=True)
class VizierTable:
    """One VizieR table and the columns we use from it.

    Attributes
    ----------
    catalogue : str
        VizieR catalogue identifier, e.g. ``J/A+A/686/A42``.
    table : str or None
        TAP table name, e.g. ``J/A+A/686/A42/members`` (None where not verified).
    citation : str
        The paper.
    columns : mapping of str to str
        Role -> VizieR column name.
    note : str
        Caveats (what is not verified, where the data really live).
    """

    catalogue: str
    table: str | None
    citation: str
    columns: Mapping[str, str] = field(default_factory=dict)
    note: str = ""


HARRIS_1996 = VizierTable(
    "VII/202", "VII/202/catalog", "Harris W.E. 1996, AJ 112, 1487",
    {"cluster": "ID", "name": "Name", "feh": "[Fe/H]"},
    note="Verified: the VII/202 ReadMe (cdsarc.cds.unistra.fr/viz-bin/ReadMe/VII/202) has one "
         "table 'catalog' of 147 clusters, revision of 15 May 1997, with labels 'ID' (bytes "
         "2-10) and 'Name' (12-22); public scripts query it over TAPVizieR as "
         "\"VII/202/catalog\" with ID, Name, GLON, GLAT, Rsun.  [Fe/H] label: a public script "
         "queries VizieR VII/202 with astroquery (Vizier.query_object(..., catalog=['VII/202'])) "
         "and reads table['[Fe/H]'] and table['Rsun'] (found in public code; the ReadMe "
         "byte-by-byte line itself was not seen), so '[Fe/H]' is supported by use, not by the "
         "ReadMe; pass columns={'feh': ...} if VizieR differs.  T25 uses the 2010 edition (157 clusters; the raw file mwgc.dat, "
         "sos_vo.validation.clusters.read_harris), so VizieR's 1997 values differ for some "
         "clusters.")
"""Globular-cluster [Fe/H] (T25 Sect. 6.4: "metallicities ... taken from Harris (1996)")."""

VB21_CLUSTERS = VizierTable(
    "J/MNRAS/505/5978", "J/MNRAS/505/5978/tablea1",
    "Vasiliev E., Baumgardt H. 2021, MNRAS 505, 5978",
    {"cluster": "Name"},
    note="VizieR holds the mean parallaxes and proper motions of 170 clusters only (table "
         "'tablea1', as queried by public scripts); the member stars are on Zenodo.")
"""Vasiliev & Baumgardt (2021) cluster table."""

VB21_MEMBERS_DOI = "10.5281/zenodo.4891252"
"""The VB21 member-star lists are published on Zenodo (one file per cluster), not in VizieR,
so globular-cluster members are always read from files (``sos-vo validate clusters
--members``)."""

VB21_MEMBER_COLUMNS = {"source_id": "source_id", "prob": "memberprob"}
"""Columns of the VB21 Zenodo member files (Gaia EDR3 = DR3 source_id, membership probability)."""

VB21_MIN_PROBABILITY = 0.8
"""T25 Sect. 6.4: "probable members using Vasiliev & Baumgardt (2021) with a membership
probability threshold of 0.8"."""

HR24_MEMBERS = VizierTable(
    "J/A+A/686/A42", "J/A+A/686/A42/members", "Hunt E.L., Reffert S. 2024, A&A 686, A42",
    {"cluster": "Name", "source_id": "GaiaDR3", "prob": "Prob"},
    note="Verified against the catalogue's ReadMe (a copy of cdsarc ReadMe J/A+A/686/A42 in a "
         "public repository): members.dat, 1 291 929 rows, labels 'Name' (A20, main accepted "
         "cluster name), 'GaiaDR3' (I19, Gaia DR3 source ID), 'Prob' (membership probability); "
         "a public script pages through TAPVizieR's \"J/A+A/686/A42/members\" selecting Name "
         "and Prob.  Fetched by uploading the catalogue's ids (fetch_vizier_by_ids) or with a "
         "WHERE on Name.")
"""Open-cluster members (T25 Sect. 6.4: "we selected members using Hunt & Reffert (2024)")."""

HR24_CLUSTERS = VizierTable(
    "J/A+A/686/A42", "J/A+A/686/A42/clusters", "Hunt E.L., Reffert S. 2024, A&A 686, A42",
    {"cluster": "Name", "type": "Type", "n_members": "N"},
    note="Verified (same ReadMe): clusters.dat, labels Name, Type ([omgdr]; o = open, "
         "g = globular, m = moving group), N (number of members).")
"""HR24 cluster table (``Type`` o = open, g = globular, m = moving group, ...)."""

HR24_MIN_PROBABILITY = 0.0
"""T25 gives no probability cut for the HR24 members, so every published member is used (our
reading; raise it with ``min_prob``)."""

NETOPIL_2016 = VizierTable(
    "J/A+A/585/A150", "J/A+A/585/A150/tablea1",
    "Netopil M., Paunzen E., Heiter U., Soubiran C. 2016, A&A 585, A150",
    {"cluster": "Cluster", "feh": "[Fe/H]HQS", "e_feh": "e_[Fe/H]HQS"},
    note="HQS = the high-quality spectroscopic sample, T25 Sect. 6.4 'high-quality "
         "metallicities'.  Verified: a public script reads VizieR 'J/A+A/585/A150/tablea1' with "
         "astroquery and uses the columns 'Cluster', '__Fe_H_HQS', 'e__Fe_H_HQS', "
         "'__Fe_H_LQS' (astroquery's renaming of the VizieR labels [Fe/H]HQS, e_[Fe/H]HQS, "
         "[Fe/H]LQS); the exact bracketed spelling is inferred from that renaming.  Cluster "
         "names there contain spaces (the script replaces them by '_'), hence cluster_key.")
"""Open-cluster [Fe/H]."""

APOKASC3 = VizierTable(
    "J/ApJS/276/69", "J/ApJS/276/69/table4", "Pinsonneault M.H. et al. 2025, ApJS 276, 69",
    {"source_id": "GaiaDR3", "logg": "loggSeis", "e_logg": "e_loggSeis", "evol_state": "EvolSt",
     "category": "CatTab", "kic": "KIC"},
    note="Verified: a public repository's test holds rows 'as VizieR serves them' of "
         "J/ApJS/276/69 table4 with the header KIC, CatTab, EvolSt, Mass, e_Mass, Radius, "
         "e_Radius, Teff, e_Teff, loggSeis, e_loggSeis, GaiaDR3 (units of loggSeis [cm.s-2]); "
         "its reader treats -9999 as an empty value and CatTab as Gold/Silver/... "
         "(APOKASC3_NULL).  Not checked: the ReadMe itself.")
"""APOKASC-3 asteroseismic log g (T25 App. C.3: median offset 0.14 dex for giants)."""

APOKASC3_NULL = -9999.0
"""Value APOKASC-3 writes where a quantity is missing (per the reader cited in the note of
:data:`APOKASC3`); compared as missing (NaN)."""

ANDRAE_2023 = VizierTable(
    "J/ApJS/267/8", "J/ApJS/267/8/table1", "Andrae R., Rix H.-W., Chandra V. 2023, ApJS 267, 8",
    {"source_id": "source_id", "mh": "mh_xgboost", "teff": "teff_xgboost",
     "logg": "logg_xgboost"},
    note="Columns are the authors' names as served by the Gaia archive's copy "
         "external.xgboost_table1 (source_id, mh_xgboost, teff_xgboost, logg_xgboost; see "
         "sos_vo.schema.archive, from version 2.1 of doi:10.5281/zenodo.7945154; the gaia_access "
         "crate's generated module for external.xgboost_table1 on docs.rs names it 'table 1 of "
         "Andrae et al. (2023)' with column source_id).  NOT verified: VizieR's table name "
         "('table1' is our guess) and whether VizieR kept those labels (it often renames, e.g. "
         "to GaiaDR3/[M/H]); no public code or page we found "
         "names a J/ApJS/267/8 table.  Override with "
         "--vizier-table / --vizier-column, or query the Gaia archive copy.")
"""XGBoost Teff, log g, [M/H] from Gaia XP (T25 Sect. 6.3, Fig. 7 bottom row)."""

ZHANG_2023 = VizierTable(
    "J/MNRAS/524/1855", None, "Zhang X., Green G.M., Rix H.-W. 2023, MNRAS 524, 1855",
    note="Catalogue identifier from the paper reference; VizieR table and column names NOT "
         "verified: we found no public use of a VizieR table (pass --vizier-table and --vizier-column "
         "source_id=... teff=... logg=... feh=...).  Found instead: the GAVO Data Center "
         "republishes the catalogue over TAP as 'xpparams.main' (dc.zah.uni-heidelberg.de table "
         "info and the resource descriptor svn.g-vo.org/svn/gavo/hdinputs/xpparams/q.rd, source "
         "2023MNRAS.524.1855Z), and a public script joins it by TAP_UPLOAD on https://dc.g-vo.org/"
         "tap ('JOIN xpparams.main AS x ON m.source_id = x.source_id', columns source_id, ext, "
         "err_ext, quality_flags, mod_parallax); its teff/feh/logg column names were not seen.  "
         "T25 keeps stars with confidence > 0.5 (Sect. 6.1); GAVO documents that the three "
         "least significant bits of quality_flags flag confidence < 0.5 in Teff, [Fe/H], log g, "
         "so that cut is quality_flags & 7 = 0 there.")
"""Gaia XP forward-model parameters (T25 Sect. 6.1, Fig. 7 top row)."""

GU_2025 = VizierTable(
    "J/ApJS/277/19", None, "Gu H. et al. 2025, ApJS 277, 19",
    note="Catalogue identifier from the paper reference; table and column names NOT verified "
         "(pass --vizier-table and --vizier-column): we found no public ReadMe, page or code "
         "naming its tables or columns.")
"""SAGES DR2 random-forest parameters (T25 Sect. 6.2, Fig. 7 middle row)."""

PASTEL = VizierTable(
    "B/pastel", "B/pastel/pastel", "Soubiran C. et al. 2016, A&A 591, A118",
    {"id": "ID", "ra": "RAJ2000", "dec": "DEJ2000", "teff": "Teff", "logg": "logg",
     "feh": "[Fe/H]", "bibcode": "bibcode"},
    note="Verified in public code (not the ReadMe itself): a script queries "
         "TAPVizieR with 'SELECT ID, Teff, logg FROM \"B/pastel/pastel\" WHERE ID IN (...)' "
         "(table name, ID, Teff, logg as TAP serves them); astroquery scripts ask "
         "Vizier(catalog='B/pastel/pastel') for the columns 'ID', 'Teff', 'e_Teff', 'logg', "
         "'e_logg', '[Fe/H]', 'e_[Fe/H]', 'bibcode', 'RAJ2000', 'DEJ2000' (and read "
         "'__Fe_H_', astroquery's renaming of '[Fe/H]').  NOT settled: the position labels "
         "over TAP - one public TAPVizieR script reads 'RAdeg'/'DEdeg' from B/pastel/pastel "
         "instead of RAJ2000/DEJ2000; pass --vizier-column ra=... dec=... if VizieR refuses "
         "RAJ2000.  PASTEL has no Gaia DR3 id: it is fetched by uploading the catalogue's "
         "positions (fetch_vizier_by_position, CONTAINS/CIRCLE join), propagated to "
         "PASTEL_EPOCH (J2000) within PASTEL_MATCH_RADIUS_ARCSEC "
         "(sos_vo.prepare.crossmatch).  T25 App. C.1 compares stars with [Fe/H] < -2.")
"""PASTEL (very metal-poor comparison, T25 App. C.1).  Several rows (bibliographic entries)
per star."""

PASTEL_ENTRY_REDUCTION = "median"
"""How the PASTEL entries matched to one catalogue star become one reference row: the median of
the entries, per parameter, over the entries that have a value (our choice; T25 App. C.1 does
not say).  Only entries with [Fe/H] < -2 are fetched (the cut is applied server-side, per
entry), so a star with entries on both sides of -2 is represented by those below it."""

VERY_METAL_POOR_FEH = -2.0
"""T25 App. C.1 / Fig. C.1: median differences "computed only for [Fe/H] < -2"."""


@dataclass(frozen=True)
class ComparisonPreset:
    """A reference catalogue of the external comparisons, fetched by Gaia DR3 id.

    Attributes
    ----------
    table : VizierTable
        The VizieR table (its ``source_id`` role is the join column).
    columns : mapping of str to str
        Catalogue column -> reference role compared with it.
    name : str
        Name used in messages and plots.
    null_value : float, optional
        A sentinel the catalogue writes for missing values (read as NaN).
    match : {"source_id", "position"}
        Join on the Gaia DR3 id (``source_id`` role) or by position (``ra``/``dec`` roles,
        :func:`fetch_vizier_by_position`), for catalogues without Gaia ids (PASTEL).
    server_below : (role, value), optional
        Cut ``role < value`` applied in the ADQL (rows above it never come back).
    """

    table: VizierTable
    columns: Mapping[str, str]
    name: str
    null_value: float | None = None
    match: str = "source_id"
    server_below: tuple[str, float] | None = None


COMPARISONS = {
    "andrae2023": ComparisonPreset(ANDRAE_2023, {"ml_teff": "teff", "ml_logg": "logg",
                                                 "ml_feh": "mh"}, "Andrae et al. 2023"),
    "zhang2023": ComparisonPreset(ZHANG_2023, {"ml_teff": "teff", "ml_logg": "logg",
                                               "ml_feh": "feh"}, "Zhang et al. 2023"),
    "gu2025": ComparisonPreset(GU_2025, {"ml_teff": "teff", "ml_logg": "logg",
                                         "ml_feh": "feh"}, "Gu et al. 2025"),
    "apokasc3": ComparisonPreset(APOKASC3, {"ml_logg": "logg"}, "APOKASC-3", APOKASC3_NULL),
    "pastel": ComparisonPreset(PASTEL, {"ml_teff": "teff", "ml_logg": "logg", "ml_feh": "feh"},
                               "PASTEL", match="position",
                               server_below=("feh", VERY_METAL_POOR_FEH)),
}
"""``sos-vo validate compare --vizier KEY`` presets (T25 Sect. 6.1-6.3, App. C.1 and C.3).
PASTEL has no Gaia DR3 id: it is matched by position and its entries are reduced to one row per
star (:data:`PASTEL_ENTRY_REDUCTION`)."""


def adql_select(table: VizierTable, roles: Sequence[str] | None = None, where: str | None = None,
                columns: Mapping[str, str] | None = None, *, names: str = "vizier",
                table_name: str | None = None, alias: str | None = None,
                join: str | None = None) -> str:
    """ADQL selecting ``table``'s columns with their roles as aliases.

    Parameters
    ----------
    table : VizierTable
        The table; its ``table`` must be known.
    roles : sequence of str, optional
        Roles to select (default: every role of the table).
    where : str, optional
        ADQL condition appended as ``WHERE`` (written with the names of the chosen scheme;
        see :func:`column_ref`).
    columns : mapping, optional
        Role -> column overrides (for the names marked unverified), as VizieR labels.
    names : {"vizier", "sql"}
        Naming scheme (:data:`NAMING_SCHEMES`).
    table_name : str, optional
        ADQL table name to use instead of the scheme's.
    alias : str, optional
        Correlation name of the table (``FROM <table> AS <alias>``); the selected columns are
        qualified with it (needed with ``join``).
    join : str, optional
        A ``JOIN ... ON ...`` clause placed after the table (e.g. with ``TAP_UPLOAD``).
    """
    if table.table is None:
        raise SchemaError(f"{table.catalogue}: the TAP table name is not known; "
                          f"see the note: {table.note}")
    if names not in NAMING_SCHEMES:
        raise ValueError(f"names={names!r}: expected one of {', '.join(NAMING_SCHEMES)}")
    labels = dict(table.columns) | dict(columns or {})
    roles = list(roles or labels)
    missing = [r for r in roles if r not in labels]
    if missing:
        raise SchemaError(f"{table.catalogue}: no column known for role(s) {', '.join(missing)}; "
                          f"pass columns={{role: name}}")
    prefix = f"{alias}." if alias else ""
    select = ", ".join(f"{prefix}{column_ref(labels[r], names)} AS {r}" for r in roles)
    if table_name is None:
        table_name = sql_table_name(table.table) if names == "sql" else f'"{table.table}"'
    query = f"SELECT {select} FROM {table_name}"
    if alias:
        query += f" AS {alias}"
    if join:
        query += f" {join}"
    return f"{query} WHERE {where}" if where else query


def column_ref(label: str, names: str = "vizier") -> str:
    """ADQL reference to VizieR column ``label``: quoted (``"[Fe/H]HQS"``) or its SQL name."""
    return sql_column_name(label) if names == "sql" else f'"{label}"'


def _adql_table_name(table: VizierTable, scheme: str) -> str | None:
    """ADQL name of ``table`` after ``conf.table_names`` overrides and the naming scheme."""
    from ..archives.conf import table_name

    if table.table is None:
        return None
    adql_name = table_name(table.table, f'"{table.table}"', vizier=True)
    if scheme == "sql" and adql_name == f'"{table.table}"':
        adql_name = sql_table_name(table.table)
    return adql_name


def fetch_vizier(table: VizierTable, roles: Sequence[str] | None = None, where: str | None = None,
                 columns: Mapping[str, str] | None = None, tap_url: str | None = None, *,
                 names: str | None = None, use_async: bool = False, **client_kwargs) -> Table:
    """Run :func:`adql_select` on a TAP service and return the result, columns named by role.

    Goes through :mod:`sos_vo.archives`: the URL is ``tap_url`` or ``conf.vizier_tap_url``
    (``$SOS_VO_VIZIER_TAP_URL``), the naming scheme ``names`` or ``conf.vizier_names``
    (``$SOS_VO_VIZIER_NAMES``; ``sql`` for the DaCHS mirror), the table name may be overridden
    by ``conf.table_names`` under the key ``table.table``, and the query runs with
    :class:`~sos_vo.archives.TapClient` (``client_kwargs``: ``timeout``, ``row_limit``,
    ``retries``, ...), so a truncated result raises instead of being returned.
    """
    from ..archives import vizier
    from ..archives.conf import setting

    client = vizier.client(tap_url, **client_kwargs)
    scheme = str(setting("vizier_names", names))
    query = adql_select(table, roles, where, columns, names=scheme,
                        table_name=_adql_table_name(table, scheme))
    result = client.run(query, use_async=use_async)
    result.meta["query"] = query
    result.meta["source"] = f"{table.catalogue} ({table.citation}) via {client.url}"
    return result


UPLOAD_TABLE = "sosvo_ids"
"""Name of the uploaded id table (``TAP_UPLOAD.sosvo_ids``, one column ``source_id``)."""

UPLOAD_CHUNK_ROWS = 8_000
"""Ids sent per TAP job by :func:`fetch_vizier_by_ids`.  Our choice, set by GAVO DaCHS's default
limit on synchronous uploads (``maxSyncUploadSize`` = 500 000 bytes): measured on the mirror,
10 000 ids (0.55 MB as an astropy TABLEDATA VOTable) are refused, 8 000 (0.44 MB) pass.  VizieR's upload limit is not documented where we looked:
lower ``chunk_size`` if it refuses an upload.  A whole-sky catalogue needs many jobs; for the
cluster validation select HR24 members by cluster name instead (``members_by="cluster"``)."""


def fetch_vizier_by_ids(table: VizierTable, ids, roles: Sequence[str] | None = None, *,
                        id_role: str = "source_id", where: str | None = None,
                        columns: Mapping[str, str] | None = None, tap_url: str | None = None,
                        names: str | None = None, chunk_size: int | None = None,
                        use_async: bool = False, **client_kwargs) -> Table:
    """Rows of ``table`` whose Gaia DR3 id is in ``ids``: a TAP_UPLOAD join, so only the overlap
    comes back.

    The ids (unique, int64) are uploaded as ``TAP_UPLOAD.sosvo_ids(source_id)`` in chunks of
    ``chunk_size`` (:data:`UPLOAD_CHUNK_ROWS`) and joined on the table's ``id_role`` column;
    every chunk goes through :class:`~sos_vo.archives.TapClient` (row limit checked), and the
    results are stacked.  URL, naming scheme and table-name overrides as in
    :func:`fetch_vizier`.

    Raises
    ------
    EmptyInputError
        If ``ids`` is empty.
    SchemaError
        If the table's TAP name or its ``id_role`` column is not known.
    """
    import numpy as np

    from ..archives import vizier
    from ..archives.conf import setting
    from ..archives.upload import run_upload_join
    from ..exceptions import EmptyInputError

    ids = np.unique(np.asarray(ids, dtype=np.int64))
    if ids.size == 0:
        raise EmptyInputError(f"{table.catalogue}: no Gaia DR3 id to upload")
    labels = dict(table.columns) | dict(columns or {})
    if id_role not in labels:
        raise SchemaError(f"{table.catalogue}: no column known for the id role {id_role!r}; "
                          f"pass columns={{{id_role!r}: name}}")
    roles = list(roles or labels)
    if id_role not in roles:
        roles.insert(0, id_role)
    scheme = str(setting("vizier_names", names))
    join = (f"JOIN TAP_UPLOAD.{UPLOAD_TABLE} AS u "
            f"ON t.{column_ref(labels[id_role], scheme)} = u.source_id")
    query = adql_select(table, roles, where, columns, names=scheme,
                        table_name=_adql_table_name(table, scheme), alias="t", join=join)
    client = vizier.client(tap_url, **client_kwargs)
    result = run_upload_join(client, query, UPLOAD_TABLE, Table({"source_id": ids}),
                             chunk_size or UPLOAD_CHUNK_ROWS, use_async=use_async)
    result.meta["query"] = query
    result.meta["uploaded_ids"] = int(ids.size)
    result.meta["source"] = (f"{table.catalogue} ({table.citation}) via {client.url}, "
                             "ids uploaded")
    return result


POSITION_UPLOAD_TABLE = "sosvo_pos"
"""Name of the uploaded position table (``TAP_UPLOAD.sosvo_pos``: ``source_id, ra, dec``)."""

POSITION_UPLOAD_CHUNK_ROWS = 3_000
"""Positions sent per TAP job by :func:`fetch_vizier_by_position`.  Our choice, under GAVO
DaCHS's 500 000-byte limit on synchronous uploads: an astropy TABLEDATA VOTable of
(int64, double, double) rows takes about 123 bytes a row (measured), so 3 000 rows are
0.37 MB."""


def fetch_vizier_by_position(table: VizierTable, ids, ra, dec, radius_arcsec: float,
                             roles: Sequence[str] | None = None, *, where: str | None = None,
                             columns: Mapping[str, str] | None = None,
                             tap_url: str | None = None, names: str | None = None,
                             chunk_size: int | None = None, use_async: bool = False,
                             **client_kwargs) -> Table:
    """Rows of ``table`` within ``radius_arcsec`` of uploaded positions: a TAP_UPLOAD join with
    ``1=CONTAINS(POINT('ICRS', t.ra, t.dec), CIRCLE('ICRS', u.ra, u.dec, r))``.

    For reference catalogues without Gaia DR3 ids (PASTEL).  ``(ids, ra, dec)`` are uploaded as
    ``TAP_UPLOAD.sosvo_pos(source_id, ra, dec)`` in chunks of ``chunk_size``
    (:data:`POSITION_UPLOAD_CHUNK_ROWS`); the table's ``ra``/``dec`` roles are its positions.
    The positions must be at the table's epoch (propagate them first: PASTEL is J2000).
    Every pair closer than the radius comes back (a reference row near two uploaded stars
    twice); URL, naming scheme and table-name overrides as in :func:`fetch_vizier`.

    Parameters
    ----------
    ids, ra, dec : array-like
        Uploaded identifiers (int64) and positions (deg, ICRS).
    radius_arcsec : float
        Match radius.
    roles : sequence of str, optional
        Roles to select (default: every role of the table).
    where : str, optional
        ADQL condition on the table, written with the alias ``t`` (e.g. ``t."[Fe/H]" < -2``).

    Returns
    -------
    Table
        ``source_id`` (the uploaded id), the roles, ``match_distance`` (arcsec).

    Raises
    ------
    EmptyInputError
        If nothing is uploaded.
    SchemaError
        If the table's TAP name or its ``ra``/``dec`` columns are not known, or the positions
        are not finite.
    """
    import numpy as np

    from ..archives import vizier
    from ..archives.conf import setting
    from ..archives.upload import run_upload_join
    from ..exceptions import EmptyInputError

    ids = np.asarray(ids, dtype=np.int64)
    ra, dec = np.asarray(ra, dtype=float), np.asarray(dec, dtype=float)
    if not ids.shape == ra.shape == dec.shape:
        raise ValueError(f"ids, ra, dec differ in shape: {ids.shape}, {ra.shape}, {dec.shape}")
    if ids.size == 0:
        raise EmptyInputError(f"{table.catalogue}: no position to upload")
    bad = ~(np.isfinite(ra) & np.isfinite(dec))
    if bad.any():
        raise SchemaError(f"{table.catalogue}: {bad.sum()} uploaded positions are not finite "
                          f"(first id {ids[bad][0]})")
    radius = float(radius_arcsec)
    if not radius > 0:
        raise ValueError(f"radius_arcsec must be > 0, got {radius_arcsec!r}")
    labels = dict(table.columns) | dict(columns or {})
    missing = [r for r in ("ra", "dec") if r not in labels]
    if missing:
        raise SchemaError(f"{table.catalogue}: no column known for the position role(s) "
                          f"{', '.join(missing)}; pass columns={{'ra': ..., 'dec': ...}}")
    roles = [r for r in (roles or labels) if r != "source_id"]
    scheme = str(setting("vizier_names", names))
    t_ra, t_dec = (f"t.{column_ref(labels[r], scheme)}" for r in ("ra", "dec"))
    join = (f"JOIN TAP_UPLOAD.{POSITION_UPLOAD_TABLE} AS u ON 1=CONTAINS(POINT('ICRS', {t_ra}, "
            f"{t_dec}), CIRCLE('ICRS', u.ra, u.dec, {radius / 3600.0!r}))")
    query = adql_select(table, roles, where, columns, names=scheme,
                        table_name=_adql_table_name(table, scheme), alias="t", join=join)
    query = query.replace(
        "SELECT ", f"SELECT u.source_id AS source_id, DISTANCE(POINT('ICRS', {t_ra}, {t_dec}), "
                   "POINT('ICRS', u.ra, u.dec)) AS match_distance, ", 1)
    client = vizier.client(tap_url, **client_kwargs)
    result = run_upload_join(client, query, POSITION_UPLOAD_TABLE,
                             Table({"source_id": ids, "ra": ra, "dec": dec}),
                             chunk_size or POSITION_UPLOAD_CHUNK_ROWS, use_async=use_async)
    distance = np.ma.filled(np.ma.asarray(result["match_distance"], dtype=float), np.nan)
    result["match_distance"] = distance * 3600.0  # DISTANCE is in degrees
    result["match_distance"].unit = "arcsec"
    result.meta["query"] = query
    result.meta["uploaded_positions"] = int(ids.size)
    result.meta["source"] = (f"{table.catalogue} ({table.citation}) via {client.url}, positions "
                             f"uploaded, radius {radius} arcsec")
    return result


def with_roles(table: Table, names: Mapping[str, str], what: str) -> Table:
    """Copy of ``table`` with the columns ``names`` (role -> column) renamed to their roles."""
    missing = [c for c in names.values() if c not in table.colnames]
    if missing:
        raise SchemaError(f"{what}: column(s) {', '.join(missing)} missing "
                          f"(has: {', '.join(table.colnames)})")
    out = Table()
    for role, col in names.items():
        out[role] = table[col]
    return out
