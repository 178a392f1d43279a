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

VIZIER_TAP_URL = "https://tapvizier.cds.unistra.fr/TAPVizieR/tap"
"""The VizieR TAP service (CDS); :func:`fetch_vizier` uses ``conf.vizier_tap_url`` (the same
URL unless configured otherwise)."""

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
    {"cluster": "ID", "name": "Name"},
    note="VizieR's VII/202 ReadMe describes the 15 May 1997 revision (147 clusters, one table "
         "'catalog'); the 2010 edition T25 uses is the raw file mwgc.dat (157 clusters), read "
         "with sos_vo.validation.clusters.read_harris.  The VizieR label of the [Fe/H] column "
         "was not verified: pass it as columns={'feh': ...}.")
"""Globular-cluster [Fe/H] (T25 Sect. 6.4: "metallicities ... taken from Harris (1996)")."""

VB21_CLUSTERS = VizierTable(
    "J/MNRAS/505/5978", "J/MNRAS/505/5978/tablea1",
    "Vasiliev E., Baumgardt H. 2021, MNRAS 505, 5978",
    {"cluster": "Name"},
    note="VizieR holds the mean parallaxes and proper motions of 170 clusters only.")
"""Vasiliev & Baumgardt (2021) cluster table."""

VB21_MEMBERS_DOI = "10.5281/zenodo.4891252"
"""The VB21 member-star lists are published on Zenodo (one file per cluster), not in VizieR."""

VB21_MEMBER_COLUMNS = {"source_id": "source_id", "prob": "memberprob"}
"""Columns of the VB21 Zenodo member files (Gaia EDR3 = DR3 source_id, membership probability)."""

VB21_MIN_PROBABILITY = 0.8
"""T25 Sect. 6.4: "probable members using Vasiliev & Baumgardt (2021) with a membership
probability threshold of 0.8"."""

HR24_MEMBERS = VizierTable(
    "J/A+A/686/A42", "J/A+A/686/A42/members", "Hunt E.L., Reffert S. 2024, A&A 686, A42",
    {"cluster": "Name", "source_id": "GaiaDR3", "prob": "Prob"},
    note="1 291 929 member stars (VizieR ReadMe, members.dat); fetch with a WHERE on Name.")
"""Open-cluster members (T25 Sect. 6.4: "we selected members using Hunt & Reffert (2024)")."""

HR24_CLUSTERS = VizierTable(
    "J/A+A/686/A42", "J/A+A/686/A42/clusters", "Hunt E.L., Reffert S. 2024, A&A 686, A42",
    {"cluster": "Name", "type": "Type", "n_members": "N"})
"""HR24 cluster table (``Type`` o = open, g = globular, m = moving group, ...)."""

HR24_MIN_PROBABILITY = 0.0
"""T25 gives no probability cut for the HR24 members, so every published member is used (our
reading; raise it with ``min_prob``)."""

NETOPIL_2016 = VizierTable(
    "J/A+A/585/A150", "J/A+A/585/A150/tablea1",
    "Netopil M., Paunzen E., Heiter U., Soubiran C. 2016, A&A 585, A150",
    {"cluster": "Cluster", "feh": "[Fe/H]HQS", "e_feh": "e_[Fe/H]HQS"},
    note="HQS = the high-quality spectroscopic sample, T25 Sect. 6.4 'high-quality metallicities'.")
"""Open-cluster [Fe/H]."""

APOKASC3 = VizierTable(
    "J/ApJS/276/69", "J/ApJS/276/69/table4", "Pinsonneault M.H. et al. 2025, ApJS 276, 69",
    {"source_id": "GaiaDR3", "logg": "loggSeis", "e_logg": "e_loggSeis", "evol_state": "EvolSt"})
"""APOKASC-3 asteroseismic log g (T25 App. C.3: median offset 0.14 dex for giants)."""

ANDRAE_2023 = VizierTable(
    "J/ApJS/267/8", None, "Andrae R., Rix H.-W., Chandra V. 2023, ApJS 267, 8",
    note="Table and column names not verified offline: pass them explicitly.")
"""XGBoost Teff, log g, [M/H] from Gaia XP (T25 Sect. 6.3, Fig. 7 bottom row)."""

ZHANG_2023 = VizierTable(
    "J/MNRAS/524/1855", None, "Zhang X., Green G.M., Rix H.-W. 2023, MNRAS 524, 1855",
    note="Catalogue identifier from the paper reference; table and columns not verified "
         "offline.  T25 keeps stars with confidence > 0.5 (Sect. 6.1).")
"""Gaia XP forward-model parameters (T25 Sect. 6.1, Fig. 7 top row)."""

GU_2025 = VizierTable(
    "J/ApJS/277/19", None, "Gu H. et al. 2025, ApJS 277, 19",
    note="Catalogue identifier from the paper reference; table and columns not verified offline.")
"""SAGES DR2 random-forest parameters (T25 Sect. 6.2, Fig. 7 middle row)."""

PASTEL = VizierTable(
    "B/pastel", "B/pastel/pastel", "Soubiran C. et al. 2016, A&A 591, A118",
    note="Column names not verified offline.  T25 App. C.1 compares stars with [Fe/H] < -2.")
"""PASTEL (very metal-poor comparison, T25 App. C.1)."""

VERY_METAL_POOR_FEH = -2.0
"""T25 App. C.1 / Fig. C.1: median differences "computed only for [Fe/H] < -2"."""


def adql_select(table: VizierTable, roles: Sequence[str] | None = None, where: str | None = None,
                columns: Mapping[str, str] | None = None, *, names: str = "vizier",
                table_name: str | None = None) -> str:
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
    select = ", ".join(f"{column_ref(labels[r], names)} AS {r}" for r in roles)
    if table_name is None:
        table_name = sql_table_name(table.table) if names == "sql" else f'"{table.table}"'
    query = f"SELECT {select} FROM {table_name}"
    return f"{query} WHERE {where}" if where else query


def column_ref(label: str, names: str = "vizier") -> str:
    """ADQL reference to VizieR column ``label``: quoted (``"[Fe/H]HQS"``) or its SQL name."""
    return sql_column_name(label) if names == "sql" else f'"{label}"'


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
    from ..archives.conf import setting, table_name
    from ..archives.tap import TapClient

    url = str(setting("vizier_tap_url", tap_url))
    scheme = str(setting("vizier_names", names))
    adql_name = None
    if table.table is not None:
        adql_name = table_name(table.table, f'"{table.table}"', vizier=True)
        if scheme == "sql" and adql_name == f'"{table.table}"':
            adql_name = sql_table_name(table.table)
    query = adql_select(table, roles, where, columns, names=scheme, table_name=adql_name)
    result = TapClient(url, **client_kwargs).run(query, use_async=use_async)
    result.meta["query"] = query
    result.meta["source"] = f"{table.catalogue} ({table.citation}) via {url}"
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
