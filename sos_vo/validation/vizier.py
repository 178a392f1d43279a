"""Cluster validation and external comparisons with the references fetched from VizieR over TAP.

The Python equivalents of ``sos-vo validate clusters --from-vizier`` and ``sos-vo validate
compare --vizier``.  Every fetch goes through :func:`~sos_vo.validation.references.fetch_vizier`
or :func:`~sos_vo.validation.references.fetch_vizier_by_ids` (``sos_vo.archives`` TapClient,
``conf.vizier_tap_url``, ``conf.vizier_names``), so the same code runs against VizieR and the
local DaCHS mirror (``names="sql"``).

* open clusters: Hunt & Reffert (2024) members (J/A+A/686/A42/members) and Netopil et al.
  (2016) high-quality [Fe/H] (J/A+A/585/A150/tablea1);
* globular clusters: Harris (1996) [Fe/H] (VII/202/catalog).  Vasiliev & Baumgardt (2021)
  members are published on Zenodo (doi:10.5281/zenodo.4891252), not in VizieR: they are
  always passed in as a table.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import numpy as np
from astropy.table import Table

from ..exceptions import EmptyInputError, SchemaError
from .clusters import (
    MIN_MEMBERS,
    ClusterValidation,
    cluster_residuals,
    harris_references,
    members_table,
    reference_table,
)
from .compare import Comparison, NoOverlapError, compare_catalogues
from .references import (
    COMPARISONS,
    HARRIS_1996,
    HR24_MEMBERS,
    NETOPIL_2016,
    VB21_MIN_PROBABILITY,
    ComparisonPreset,
    VizierTable,
    column_ref,
    fetch_vizier,
    fetch_vizier_by_ids,
)

CLUSTER_KINDS = ("open", "globular")
MEMBER_QUERIES = ("upload", "cluster")
"""How HR24 members are selected: ``upload`` the catalogue's Gaia DR3 ids (TAP_UPLOAD join, only
members in the catalogue come back) or ``cluster``: a WHERE on the names of the clusters that
have a Netopil [Fe/H] (every member of those clusters comes back)."""


def _ids(catalogue: Table, key: str) -> np.ndarray:
    if key not in catalogue.colnames:
        raise SchemaError(f"catalogue lacks column {key!r} (has: {', '.join(catalogue.colnames)})")
    if len(catalogue) == 0:
        raise EmptyInputError("the catalogue is empty: no Gaia DR3 id to send")
    return np.asarray(catalogue[key], dtype=np.int64)


def _name_variants(names) -> list[str]:
    """Each name as given, with spaces replaced by ``_`` and with ``_`` by spaces (VizieR
    catalogues spell cluster names either way: ``NGC 2682`` / ``NGC_2682``)."""
    out: dict[str, None] = {}
    for name in names:
        name = str(name).strip()
        for v in (name, name.replace(" ", "_"), name.replace("_", " ")):
            out.setdefault(v, None)
    return list(out)


def netopil_references(*, tap_url: str | None = None, names: str | None = None,
                       **client_kwargs) -> Table:
    """Netopil et al. (2016) HQS [Fe/H] from VizieR: ``cluster``, ``feh_ref`` (rows without one
    dropped)."""
    refs = fetch_vizier(NETOPIL_2016, roles=["cluster", "feh"], tap_url=tap_url, names=names,
                        **client_kwargs)
    return reference_table(refs)


def harris_references_vizier(*, tap_url: str | None = None, names: str | None = None,
                             columns: Mapping[str, str] | None = None, **client_kwargs) -> Table:
    """Harris [Fe/H] from VizieR VII/202 as a reference table (each cluster under its ID and its
    other name, as :func:`~sos_vo.validation.clusters.harris_references`).

    VizieR serves the 1997 revision (147 clusters), not the 2010 edition T25 uses; see the note
    of :data:`~sos_vo.validation.references.HARRIS_1996`.
    """
    t = fetch_vizier(HARRIS_1996, roles=["cluster", "name", "feh"], columns=columns,
                     tap_url=tap_url, names=names, **client_kwargs)
    t["name"] = [str(n).strip() for n in np.ma.filled(np.ma.asarray(t["name"]).astype(str), "")]
    t["feh"] = np.ma.filled(np.ma.asarray(t["feh"], dtype=float), np.nan)
    return harris_references(t)


def hr24_members(catalogue_ids=None, clusters=None, *, members_by: str = "upload",
                 min_prob: float | None = None,
                 tap_url: str | None = None, names: str | None = None,
                 chunk_size: int | None = None, **client_kwargs) -> Table:
    """Hunt & Reffert (2024) members from VizieR as a :func:`members_table`.

    Parameters
    ----------
    catalogue_ids : array of int, optional
        Gaia DR3 ids to upload (``members_by="upload"``).
    clusters : sequence of str, optional
        Cluster names for ``members_by="cluster"`` (both ``_`` and space spellings are asked).
    members_by : {"upload", "cluster"}
        See :data:`MEMBER_QUERIES`.
    min_prob : float, optional
        Keep members with ``Prob`` above it (default none:
        :data:`~sos_vo.validation.references.HR24_MIN_PROBABILITY`, T25 gives no cut).
    """
    if members_by == "upload":
        if catalogue_ids is None:
            raise ValueError("members_by='upload' needs the catalogue's Gaia DR3 ids")
        t = fetch_vizier_by_ids(HR24_MEMBERS, catalogue_ids, ["cluster", "source_id", "prob"],
                                tap_url=tap_url, names=names, chunk_size=chunk_size,
                                **client_kwargs)
    elif members_by == "cluster":
        if not clusters:
            raise EmptyInputError("members_by='cluster': no cluster name to ask for")
        from ..archives.conf import setting

        scheme = str(setting("vizier_names", names))
        quoted = ", ".join("'" + n.replace("'", "''") + "'" for n in _name_variants(clusters))
        t = fetch_vizier(HR24_MEMBERS, ["cluster", "source_id", "prob"],
                         where=f"{column_ref(HR24_MEMBERS.columns['cluster'], scheme)} IN ({quoted})",
                         tap_url=tap_url, names=names, **client_kwargs)
    else:
        raise ValueError(f"members_by={members_by!r}: expected one of {', '.join(MEMBER_QUERIES)}")
    if len(t) == 0:
        raise EmptyInputError(f"no Hunt & Reffert (2024) member came back ({members_by}): the "
                              f"catalogue shares no star with J/A+A/686/A42/members")
    return members_table(t, min_prob=min_prob)


def validate_clusters_vizier(catalogue: Table, kind: str = "open", members: Table | None = None, *,
                             value_column: str = "ml_feh", catalogue_key: str = "gaia_dr3_id",
                             min_members: int = MIN_MEMBERS, members_by: str = "upload",
                             min_prob: float | None = None, tap_url: str | None = None,
                             names: str | None = None, chunk_size: int | None = None,
                             harris_columns: Mapping[str, str] | None = None,
                             **client_kwargs) -> ClusterValidation:
    """Per-cluster residuals with the references (and open-cluster members) fetched over TAP.

    Parameters
    ----------
    catalogue : Table
        With ``catalogue_key`` (Gaia DR3 source_id) and ``value_column``.
    kind : {"open", "globular"}
        ``open``: HR24 members + Netopil [Fe/H], both from VizieR.  ``globular``: Harris [Fe/H]
        from VizieR VII/202; ``members`` must be given (VB21 lists are on Zenodo, not VizieR),
        normalised by :func:`members_table` (for VB21 with ``min_prob=0.8``, T25 Sect. 6.4).
    members_by : {"upload", "cluster"}
        Open clusters: how HR24 members are selected (:data:`MEMBER_QUERIES`).  With
        ``upload`` the ``n_members`` of the statistics counts members present in the
        catalogue; with ``cluster`` it counts every HR24 member.
    min_prob : float, optional
        Open clusters: HR24 probability cut (none by default, T25 gives none).
    tap_url, names, chunk_size, client_kwargs
        Passed to the fetch functions (``names="sql"`` for the DaCHS mirror).
    """
    if kind not in CLUSTER_KINDS:
        raise ValueError(f"kind={kind!r}: expected one of {', '.join(CLUSTER_KINDS)}")
    fetch = {"tap_url": tap_url, "names": names, **client_kwargs}
    if kind == "globular":
        if members is None:
            raise ValueError("globular clusters: pass the Vasiliev & Baumgardt (2021) members "
                             "(Zenodo doi:10.5281/zenodo.4891252; not in VizieR) as `members`")
        refs = harris_references_vizier(columns=harris_columns, **fetch)
    else:
        if members is not None:
            raise ValueError("open clusters: members come from VizieR (HR24); do not pass `members`")
        refs = netopil_references(**fetch)
        ids = _ids(catalogue, catalogue_key)
        members = hr24_members(ids, list(refs["cluster"]), members_by=members_by,
                               min_prob=min_prob, chunk_size=chunk_size, **fetch)
    return cluster_residuals(catalogue, members, refs, value_column=value_column,
                             catalogue_key=catalogue_key, min_members=min_members)


def comparison_preset(key: str, table: str | None = None,
                      columns: Mapping[str, str] | None = None) -> ComparisonPreset:
    """The preset ``key`` of :data:`~sos_vo.validation.references.COMPARISONS`, with the TAP
    table name and role -> VizieR label overrides applied (for the names not verified)."""
    if key not in COMPARISONS:
        raise KeyError(f"unknown VizieR comparison {key!r}: expected one of {', '.join(COMPARISONS)}")
    preset = COMPARISONS[key]
    vt: VizierTable = preset.table
    if table or columns:
        vt = dataclasses.replace(vt, table=table or vt.table,
                                 columns=dict(vt.columns) | dict(columns or {}))
    return dataclasses.replace(preset, table=vt)


def compare_with_vizier(catalogue: Table, key: str, columns: Mapping[str, str] | None = None, *,
                        catalogue_key: str = "gaia_dr3_id", table: str | None = None,
                        labels: Mapping[str, str] | None = None,
                        below: tuple[str, float] | None = None, tap_url: str | None = None,
                        names: str | None = None, chunk_size: int | None = None,
                        **client_kwargs) -> Comparison:
    """Offsets and scatter against a reference fetched from VizieR by uploading the catalogue's
    Gaia DR3 ids (only the overlap comes back).

    Parameters
    ----------
    catalogue : Table
        With ``catalogue_key`` and the compared columns.
    key : str
        Preset (``andrae2023``, ``zhang2023``, ``gu2025``, ``apokasc3``).
    columns : mapping, optional
        Catalogue column -> reference role (default: the preset's, restricted to the columns
        the catalogue has).
    table, labels : optional
        TAP table name and role -> VizieR label overrides (for names not verified).
    below : (role, value), optional
        Use reference rows with ``role < value`` only (e.g. ``("feh", -2.0)``, T25 App. C.1).

    Raises
    ------
    NoOverlapError
        If no catalogue star is in the reference table.
    """
    preset = comparison_preset(key, table, labels)
    if columns is None:
        columns = {c: r for c, r in preset.columns.items() if c in catalogue.colnames}
        if not columns:
            raise SchemaError(f"the catalogue has none of the columns compared with {preset.name} "
                              f"({', '.join(preset.columns)}); pass columns")
    roles = list(dict.fromkeys(["source_id", *columns.values(), *([below[0]] if below else [])]))
    ids = _ids(catalogue, catalogue_key)
    ref = fetch_vizier_by_ids(preset.table, ids, roles, tap_url=tap_url, names=names,
                              chunk_size=chunk_size, **client_kwargs)
    if len(ref) == 0:
        raise NoOverlapError(
            f"{preset.name} ({preset.table.catalogue}) has none of the catalogue's "
            f"{np.unique(ids).size} Gaia DR3 ids ({catalogue_key}): check the sky region and the "
            f"id column")
    if preset.null_value is not None:
        for role in roles[1:]:
            col = ref[role]
            if col.dtype.kind == "f" or col.dtype.kind in "iu":
                values = np.ma.filled(np.ma.asarray(col, dtype=float), np.nan)
                values[values == preset.null_value] = np.nan
                ref[role] = values
    mask = None
    if below is not None:
        mask = np.ma.filled(np.ma.asarray(ref[below[0]], dtype=float), np.nan) < float(below[1])
    return compare_catalogues(catalogue, ref, dict(columns), preset.name,
                              catalogue_key=catalogue_key, reference_key="source_id",
                              reference_mask=mask)


__all__ = ["CLUSTER_KINDS", "MEMBER_QUERIES", "VB21_MIN_PROBABILITY", "compare_with_vizier",
           "comparison_preset", "harris_references_vizier", "hr24_members", "netopil_references",
           "validate_clusters_vizier"]
