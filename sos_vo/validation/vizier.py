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
  always passed in as a table;
* external comparisons by Gaia DR3 id upload (Andrae, Zhang, Gu, APOKASC-3) or, for PASTEL
  (B/pastel/pastel, no Gaia id), by position upload (:func:`pastel_references`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import numpy as np
from astropy.table import Table

from ..archives.gaia import ASTROMETRY_COLUMNS
from ..exceptions import EmptyInputError, SchemaError
from ..prepare.crossmatch import (
    GAIA_EPOCH,
    PASTEL_EPOCH,
    PASTEL_MATCH_RADIUS_ARCSEC,
    propagate_positions,
)
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
    PASTEL,
    PASTEL_ENTRY_REDUCTION,
    VB21_MIN_PROBABILITY,
    VERY_METAL_POOR_FEH,
    ComparisonPreset,
    VizierTable,
    column_ref,
    fetch_vizier,
    fetch_vizier_by_ids,
    fetch_vizier_by_position,
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


POSITION_COLUMNS: tuple[str, str, str, str] = ASTROMETRY_COLUMNS
"""Catalogue columns of the positional match: ICRS position (deg) at ``catalogue_epoch`` and
proper motion (mas/yr, ``pmra`` = mu_alpha*); by default Gaia's own names
(:data:`sos_vo.archives.gaia.ASTROMETRY_COLUMNS`)."""


def catalogue_positions(catalogue: Table, epoch: float, *, catalogue_epoch: float = GAIA_EPOCH,
                        propagate: bool = True,
                        position_columns: tuple[str, str, str, str] = POSITION_COLUMNS,
                        ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows with a position, and their (ra, dec) moved from ``catalogue_epoch`` to ``epoch``.

    With ``propagate`` the proper-motion columns are required (masked/NaN motions count as
    zero, as in :func:`sos_vo.prepare.crossmatch.join_pastel`); without, positions are used as
    they are (stars moving more than the match radius over the epoch difference are lost).

    Returns
    -------
    rows, ra, dec : ndarray
        Indices of the catalogue rows with a finite position, and their positions (deg).
    """
    ra_col, dec_col, pmra_col, pmdec_col = position_columns
    need = [ra_col, dec_col] + ([pmra_col, pmdec_col] if propagate and epoch != catalogue_epoch
                                else [])
    missing = [c for c in need if c not in catalogue.colnames]
    if missing:
        hint = (f" to propagate its J{catalogue_epoch} positions to J{epoch} (add them, e.g. from "
                f"gaiadr3.gaia_source, or match without propagation: propagate=False / "
                f"--no-propagate)" if set(missing) & {pmra_col, pmdec_col} else "")
        raise SchemaError(f"catalogue lacks column(s) {', '.join(missing)}{hint} "
                          f"(has: {', '.join(catalogue.colnames)})")
    ra = np.ma.filled(np.ma.asarray(catalogue[ra_col], dtype=float), np.nan)
    dec = np.ma.filled(np.ma.asarray(catalogue[dec_col], dtype=float), np.nan)
    rows = np.flatnonzero(np.isfinite(ra) & np.isfinite(dec))
    if rows.size == 0:
        raise EmptyInputError(f"no catalogue row has a finite {ra_col}/{dec_col}")
    ra, dec = ra[rows], dec[rows]
    if propagate and epoch != catalogue_epoch:
        ra, dec = propagate_positions(ra, dec, np.asarray(catalogue[pmra_col])[rows],
                                      np.asarray(catalogue[pmdec_col])[rows],
                                      epoch - catalogue_epoch)
    return rows, ra, dec


def with_gaia_astrometry(catalogue: Table, *, catalogue_key: str = "gaia_dr3_id",
                         position_columns: tuple[str, str, str, str] = POSITION_COLUMNS,
                         gaia_tap_url: str | None = None, **client_kwargs) -> Table:
    """A copy of ``catalogue`` with ``ra, dec`` (J2016.0) and ``pmra, pmdec`` from
    gaiadr3.gaia_source, fetched by uploading its Gaia DR3 ids
    (:func:`sos_vo.archives.gaia.astrometry_by_ids`).

    For catalogues without proper motions (the final catalogue, T25 Table 6, has none): the
    position and the motion of each star then come from the same Gaia DR3 astrometric solution
    (epoch J2016.0, :data:`~sos_vo.prepare.crossmatch.GAIA_EPOCH`).  Rows whose id the archive
    does not have get a masked position (so they cannot be matched) and are listed in
    ``meta["gaia_missing_ids"]``; rows with a two-parameter solution keep a masked motion
    (propagated as zero, as :func:`catalogue_positions` does).

    Parameters
    ----------
    gaia_tap_url : str, optional
        Gaia archive TAP service (default ``conf.gaia_tap_url``).
    client_kwargs
        Passed to :class:`~sos_vo.archives.TapClient` (``retries``, ``timeout``, ...).

    Returns
    -------
    Table
        The catalogue with the four ``position_columns`` replaced; ``meta["gaia_astrometry"]``
        names the source, ``meta["gaia_missing_ids"]`` the ids not found.
    """
    from astropy.table import MaskedColumn

    from ..archives.gaia import astrometry_by_ids
    from ..schema.archive import GAIA_SOURCE, astropy_unit, column_spec

    ids = _ids(catalogue, catalogue_key)
    astro = astrometry_by_ids(ids, tap_url=gaia_tap_url, **client_kwargs)
    found = np.asarray(astro["source_id"], dtype=np.int64)
    order = np.argsort(found)
    pos = np.zeros(ids.size, dtype=np.int64)
    hit = np.zeros(ids.size, dtype=bool)
    if found.size:
        pos = np.clip(np.searchsorted(found[order], ids), 0, found.size - 1)
        hit = found[order][pos] == ids
    out = catalogue.copy(copy_data=True)
    for ours, theirs in zip(position_columns, ASTROMETRY_COLUMNS, strict=True):
        values = np.full(ids.size, np.nan)
        mask = ~hit
        if found.size:
            col = np.ma.asarray(astro[theirs], dtype=float)[order][pos]
            values[hit] = np.ma.filled(col, np.nan)[hit]
            mask = mask | np.ma.getmaskarray(col) | ~np.isfinite(values)
        unit = astropy_unit(column_spec(GAIA_SOURCE, theirs).unit)
        out[ours] = MaskedColumn(values, mask=mask, unit=unit,
                                 description=f"gaiadr3.gaia_source {theirs} (J{GAIA_EPOCH})")
    out.meta["gaia_astrometry"] = astro.meta["source"]
    out.meta["gaia_missing_ids"] = np.unique(ids[~hit])
    return out


def reduce_entries(entries: Table, roles, key: str = "source_id") -> Table:
    """One row per ``key``: the median of each role over the entries that have a value
    (:data:`~sos_vo.validation.references.PASTEL_ENTRY_REDUCTION`), ``n_entries`` and the
    smallest ``match_distance``."""
    if PASTEL_ENTRY_REDUCTION != "median":  # pragma: no cover - the constant names the rule here
        raise NotImplementedError(PASTEL_ENTRY_REDUCTION)
    keys = np.asarray(entries[key], dtype=np.int64)
    uniq, inverse = np.unique(keys, return_inverse=True)
    out = Table({key: uniq})
    order = np.argsort(inverse, kind="stable")
    bounds = np.flatnonzero(np.diff(inverse[order])) + 1
    groups = np.split(order, bounds) if keys.size else []
    out["n_entries"] = np.array([g.size for g in groups], dtype=np.int32)
    for role in roles:
        values = np.ma.filled(np.ma.asarray(entries[role], dtype=float), np.nan)
        out[role] = np.array([np.nanmedian(values[g]) if np.isfinite(values[g]).any() else np.nan
                              for g in groups])
    if "id" in entries.colnames:
        ids = np.asarray(entries["id"]).astype(str)
        out["pastel_id"] = [";".join(dict.fromkeys(i.strip() for i in ids[g])) for g in groups]
    if "match_distance" in entries.colnames:
        d = np.asarray(entries["match_distance"], dtype=float)
        out["match_distance"] = np.array([d[g].min() for g in groups])
        out["match_distance"].unit = "arcsec"
    return out


def pastel_references(catalogue: Table, roles=("teff", "logg", "feh"), *,
                      catalogue_key: str = "gaia_dr3_id",
                      radius_arcsec: float = PASTEL_MATCH_RADIUS_ARCSEC,
                      max_feh: float | None = VERY_METAL_POOR_FEH, propagate: bool = True,
                      catalogue_epoch: float = GAIA_EPOCH,
                      position_columns: tuple[str, str, str, str] = POSITION_COLUMNS,
                      columns: Mapping[str, str] | None = None, table: str | None = None,
                      tap_url: str | None = None, names: str | None = None,
                      chunk_size: int | None = None, gaia_astrometry: bool | None = None,
                      gaia_tap_url: str | None = None, **client_kwargs) -> Table:
    """PASTEL (B/pastel/pastel) entries near the catalogue's stars, one row per star.

    0. With ``propagate`` and a catalogue without ``pmra``/``pmdec`` (``gaia_astrometry=None``,
       the default; ``True`` forces it), the positions (J2016.0) and proper motions are fetched
       from gaiadr3.gaia_source by uploading the Gaia DR3 ids (:func:`with_gaia_astrometry`,
       ``gaia_tap_url`` default ``conf.gaia_tap_url``); ids the archive lacks are not matched
       and are listed in ``meta["gaia_missing_ids"]``.

    1. The catalogue positions are propagated from ``catalogue_epoch`` (Gaia DR3: J2016.0) to
       PASTEL's J2000 (:data:`~sos_vo.prepare.crossmatch.PASTEL_EPOCH`) and uploaded with the
       ids (:func:`~sos_vo.validation.references.fetch_vizier_by_position`).
    2. The server returns the PASTEL entries within ``radius_arcsec``
       (:data:`~sos_vo.prepare.crossmatch.PASTEL_MATCH_RADIUS_ARCSEC`) with
       ``[Fe/H] < max_feh`` (T25 App. C.1: -2; None: no cut).
    3. Each PASTEL position goes to its nearest uploaded star (as ``join_pastel`` does).
    4. The entries of one star are reduced to one row by
       :data:`~sos_vo.validation.references.PASTEL_ENTRY_REDUCTION` (median).

    Returns
    -------
    Table
        ``source_id`` (the catalogue's ``catalogue_key``), ``n_entries``, the roles,
        ``pastel_id``, ``match_distance`` (arcsec); ``meta["query"]`` holds the ADQL,
        ``meta["gaia_astrometry"]`` / ``meta["gaia_missing_ids"]`` the Gaia fetch (step 0).
    """
    pm_cols = position_columns[2:]
    if gaia_astrometry is None:
        gaia_astrometry = (propagate and PASTEL_EPOCH != catalogue_epoch
                           and not set(pm_cols) <= set(catalogue.colnames))
    gaia_meta = {}
    if gaia_astrometry:
        if catalogue_epoch != GAIA_EPOCH:
            raise ValueError(f"gaia_astrometry gives J{GAIA_EPOCH} positions; catalogue_epoch is "
                             f"J{catalogue_epoch}")
        catalogue = with_gaia_astrometry(catalogue, catalogue_key=catalogue_key,
                                         position_columns=position_columns,
                                         gaia_tap_url=gaia_tap_url, **client_kwargs)
        missing = catalogue.meta["gaia_missing_ids"]
        if missing.size == np.unique(_ids(catalogue, catalogue_key)).size:
            raise EmptyInputError(
                f"none of the catalogue's {missing.size} Gaia DR3 ids ({catalogue_key}) is in "
                f"gaiadr3.gaia_source ({catalogue.meta['gaia_astrometry']}): no proper motion "
                f"to propagate with; check the id column or use --no-propagate")
        gaia_meta = {"gaia_astrometry": catalogue.meta["gaia_astrometry"],
                     "gaia_missing_ids": missing}
    rows, ra, dec = catalogue_positions(catalogue, PASTEL_EPOCH, catalogue_epoch=catalogue_epoch,
                                        propagate=propagate, position_columns=position_columns)
    ids = _ids(catalogue, catalogue_key)[rows]
    vt = PASTEL if not (table or columns) else dataclasses.replace(
        PASTEL, table=table or PASTEL.table, columns=dict(PASTEL.columns) | dict(columns or {}))
    from ..archives.conf import setting

    scheme = str(setting("vizier_names", names))
    where = None
    if max_feh is not None:
        where = f"t.{column_ref(vt.columns['feh'], scheme)} < {float(max_feh)!r}"
    roles = list(roles)
    entries = fetch_vizier_by_position(vt, ids, ra, dec, radius_arcsec,
                                       ["id", "ra", "dec", *roles], where=where, tap_url=tap_url,
                                       names=names, chunk_size=chunk_size, **client_kwargs)
    query = entries.meta.get("query")
    if len(entries):
        # every PASTEL position to its nearest uploaded star
        pos_key = np.char.add(np.char.add(np.asarray(entries["id"]).astype(str), "|"),
                              np.char.add(np.char.mod("%.7f", np.asarray(entries["ra"], float)),
                                          np.char.mod("|%.7f", np.asarray(entries["dec"], float))))
        order = np.lexsort((np.asarray(entries["source_id"]), entries["match_distance"], pos_key))
        first = np.r_[True, pos_key[order][1:] != pos_key[order][:-1]]
        nearest = dict(zip(pos_key[order][first], np.asarray(entries["source_id"])[order][first],
                           strict=True))
        keep = np.array([nearest[k] == s for k, s in zip(pos_key, entries["source_id"],
                                                          strict=True)])
        entries = entries[keep]
    out = reduce_entries(entries, roles)
    out.meta["query"] = query
    out.meta["reduction"] = (f"{PASTEL_ENTRY_REDUCTION} of the PASTEL entries per star "
                             f"(sos_vo.validation.references.PASTEL_ENTRY_REDUCTION)")
    out.meta["radius_arcsec"] = float(radius_arcsec)
    out.meta["propagated"] = bool(propagate)
    out.meta.update(gaia_meta)
    return out


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
                        radius_arcsec: float | None = None, propagate: bool = True,
                        position_columns: tuple[str, str, str, str] = POSITION_COLUMNS,
                        gaia_astrometry: bool | None = None, gaia_tap_url: str | None = None,
                        **client_kwargs) -> Comparison:
    """Offsets and scatter against a reference fetched from VizieR by uploading the catalogue's
    Gaia DR3 ids (only the overlap comes back), or its positions for PASTEL (``key="pastel"``:
    :func:`pastel_references`, [Fe/H] < -2 server-side, median of the entries per star).

    Parameters
    ----------
    catalogue : Table
        With ``catalogue_key`` and the compared columns.
    key : str
        Preset (``andrae2023``, ``zhang2023``, ``gu2025``, ``apokasc3``, ``pastel``).
    columns : mapping, optional
        Catalogue column -> reference role (default: the preset's, restricted to the columns
        the catalogue has).
    table, labels : optional
        TAP table name and role -> VizieR label overrides (for names not verified).
    below : (role, value), optional
        Use reference rows with ``role < value`` only (e.g. ``("feh", -2.0)``, T25 App. C.1).
    radius_arcsec, propagate, position_columns
        Positional presets (PASTEL) only: match radius (default
        :data:`~sos_vo.prepare.crossmatch.PASTEL_MATCH_RADIUS_ARCSEC`), whether the catalogue
        positions are propagated to the reference epoch with its proper motions, and the
        catalogue's ``ra, dec, pmra, pmdec`` column names.
    gaia_astrometry, gaia_tap_url
        PASTEL: fetch ``ra, dec, pmra, pmdec`` from gaiadr3.gaia_source by Gaia DR3 id (default:
        when propagating a catalogue without ``pmra``/``pmdec``) from ``gaia_tap_url`` (default
        ``conf.gaia_tap_url``); see :func:`pastel_references`.  The ids not found are in
        ``stats.meta["gaia_missing_ids"]`` (their number in ``stats.meta["n_gaia_missing"]``).

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
    if preset.match == "position":
        roles = list(dict.fromkeys([*columns.values(), *([below[0]] if below else [])]))
        ref = pastel_references(
            catalogue, roles, catalogue_key=catalogue_key,
            radius_arcsec=PASTEL_MATCH_RADIUS_ARCSEC if radius_arcsec is None else radius_arcsec,
            max_feh=preset.server_below[1] if preset.server_below else None, propagate=propagate,
            position_columns=position_columns, columns=labels, table=table, tap_url=tap_url,
            names=names, chunk_size=chunk_size, gaia_astrometry=gaia_astrometry,
            gaia_tap_url=gaia_tap_url, **client_kwargs)
        gaia_missing = ref.meta.get("gaia_missing_ids")
        if len(ref) == 0:
            cut = (f" with {preset.server_below[0]} < {preset.server_below[1]}"
                   if preset.server_below else "")
            raise NoOverlapError(
                f"{preset.name} ({preset.table.catalogue}) has no entry{cut} within "
                f"{ref.meta['radius_arcsec']} arcsec of the catalogue's {len(catalogue)} stars "
                f"(positions {'propagated to J' + str(PASTEL_EPOCH) if propagate else 'not propagated'}"
                f"): check the sky region, the position columns and the epoch")
        mask = None
        if below is not None:
            mask = np.asarray(ref[below[0]], dtype=float) < float(below[1])
        comp = compare_catalogues(catalogue, ref, dict(columns), preset.name,
                                  catalogue_key=catalogue_key, reference_key="source_id",
                                  reference_mask=mask)
        if gaia_missing is not None:
            comp.stats.meta["gaia_astrometry"] = ref.meta["gaia_astrometry"]
            comp.stats.meta["n_gaia_missing"] = int(gaia_missing.size)
            comp.stats.meta["gaia_missing_ids"] = gaia_missing
        return comp
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


__all__ = ["CLUSTER_KINDS", "MEMBER_QUERIES", "POSITION_COLUMNS", "VB21_MIN_PROBABILITY",
           "catalogue_positions", "compare_with_vizier", "comparison_preset",
           "harris_references_vizier", "hr24_members", "netopil_references", "pastel_references",
           "reduce_entries", "validate_clusters_vizier", "with_gaia_astrometry"]
