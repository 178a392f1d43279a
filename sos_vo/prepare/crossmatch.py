"""Join the archive tables into the "joined table" of :func:`sos_vo.schema.joined_columns`.

:func:`join_survey` is a pure function of the archive tables, equivalent to this ADQL on the Gaia
archive (the archive module runs it server-side; both must give the same rows and columns)::

    SELECT g.<GAIA_COLUMNS>, d.r_med_geo, a.mh_xgboost AS mh_andrae,
           n.number_of_neighbours, n.number_of_mates, n.angular_distance, n.xm_flag,
           p.objid AS sdss_objid, p.type, p.clean, p.psfmag_u, ...        -- or SkyMapper
    FROM gaiadr3.gaia_source AS g
    JOIN gaiadr3.sdssdr13_best_neighbour AS n ON n.source_id = g.source_id
    JOIN external.sdssdr13_photoprimary AS p ON p.objid = n.original_ext_source_id
    LEFT JOIN external.gaiaedr3_distance AS d ON d.source_id = g.source_id
    LEFT JOIN external.xgboost_table1 AS a ON a.source_id = g.source_id

followed, locally, by ``mh_andrae_err`` = :func:`andrae_mh_error` and SDSS nulls (-9999) to
masked values.  Rows keep the order of ``gaia_source``.  No quality cut is applied here (that is
:mod:`sos_vo.prepare.cuts`), so one-to-many matches are kept with their
``number_of_neighbours`` / ``number_of_mates``.

The Andrae et al. (2023) table has no per-star [M/H] uncertainty (neither the Gaia-archive copy
``external.xgboost_table1`` nor VizieR J/ApJS/267/8); T25 uses an error as a feature without
saying how it was obtained.  We form ``mh_andrae_err`` with :func:`andrae_mh_error`, a documented
proxy that depends on G and [M/H] only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
from astropy import units as u
from astropy.coordinates import SkyCoord
from astropy.table import MaskedColumn, Table

from ..exceptions import SchemaError
from ..gaia_dr3 import (  # noqa: F401 - re-exported: the proxy is part of the join
    ANDRAE_ERR_AMPLITUDE,
    ANDRAE_ERR_FLOOR,
    ANDRAE_ERR_G_REF,
    ANDRAE_ERR_METAL_POOR_SLOPE,
    andrae_mh_error,
)
from ..schema import (
    ANDRAE_TABLE,
    DISTANCE_TABLE,
    GAIA_COLUMNS,
    GAIA_SOURCE_TABLE,
    NEIGHBOUR_TABLES,
    PASTEL_TABLE,
    PHOTOMETRY_ID_COLUMNS,
    PHOTOMETRY_TABLES,
    SOS_SPECTRO_TABLE,
    SPEC_COLUMNS,
    SURVEY_COLUMNS,
    SURVEY_ID_COLUMN,
    check_survey,
    joined_columns,
)

GAIA_SOURCE = GAIA_SOURCE_TABLE
GAIA_DISTANCE = DISTANCE_TABLE
ANDRAE = ANDRAE_TABLE
SOS_SPECTRO = SOS_SPECTRO_TABLE
PASTEL = PASTEL_TABLE
PHOTOMETRY_TABLE = PHOTOMETRY_TABLES
NEIGHBOUR_TABLE = NEIGHBOUR_TABLES
PHOTOMETRY_ID = PHOTOMETRY_ID_COLUMNS
SDSS_NULL = -9999.0
"""SDSS's value for an unmeasured quantity."""

EXTRA_NEIGHBOUR_COLUMNS = ("angular_distance", "xm_flag")
"""Best-neighbour columns carried along (not in the schema contract, useful for checks)."""
EXTRA_SURVEY_COLUMNS = {"sdss": (), "skymapper": ("flags_psf",)}
"""Survey columns carried along when present: SkyMapper DR2 ``flags_psf`` (the paper's
``flags_psf = 0`` cut, T25 Sect. 2.3)."""

SPEC_SOURCE_COLUMNS = {
    "spec_teff": "teff", "spec_err_teff": "e_teff", "spec_logg": "logg",
    "spec_err_logg": "e_logg", "spec_feh": "feh", "spec_err_feh": "e_feh",
}
"""``sos_spectro.main`` column behind each :data:`sos_vo.schema.SPEC_COLUMNS` entry."""

PASTEL_MATCH_RADIUS_ARCSEC = 1.0
"""PASTEL-Gaia positional match radius after propagating Gaia to epoch J2000 (*choice*)."""
PASTEL_EPOCH = 2000.0
GAIA_EPOCH = 2016.0


def propagate_positions(ra, dec, pmra, pmdec, dt_years: float) -> tuple[np.ndarray, np.ndarray]:
    """Move positions linearly by their proper motions over ``dt_years``.

    ``ra``, ``dec`` in degrees, ``pmra`` (mu_alpha* = mu_alpha cos dec) and ``pmdec`` in mas/yr;
    masked or NaN proper motions count as zero.  Linear in (ra, dec): good to far below an
    arcsecond for the 16 yr between Gaia DR3 (J2016.0) and J2000 away from the poles.

    Returns
    -------
    ra, dec : ndarray
        Degrees, at the new epoch.
    """
    dec = np.asarray(dec, float)
    pmra = np.nan_to_num(np.ma.filled(np.ma.asarray(pmra).astype(float), 0.0), nan=0.0)
    pmdec = np.nan_to_num(np.ma.filled(np.ma.asarray(pmdec).astype(float), 0.0), nan=0.0)
    new_ra = np.asarray(ra, float) + pmra * dt_years / 3.6e6 / np.cos(np.deg2rad(dec))
    return np.mod(new_ra, 360.0), dec + pmdec * dt_years / 3.6e6


def require_columns(tables: Mapping[str, Table], name: str, columns: Iterable[str]) -> Table:
    """Return ``tables[name]``; raise SchemaError naming the table or the first missing columns."""
    if name not in tables:
        raise SchemaError(f"table {name!r} is missing (have: {', '.join(sorted(tables)) or 'none'})")
    table = tables[name]
    missing = [c for c in columns if c not in table.colnames]
    if missing:
        raise SchemaError(f"table {name!r} lacks column(s) {', '.join(missing)}")
    return table


def require_positions(table: Table, name: str, columns: tuple[str, str] = ("ra", "dec")) -> None:
    """Raise SchemaError if a position column of ``table`` has NaN, infinite or masked values.

    A missing position is an error rather than a silent row drop: every source published in
    Gaia DR3 ``gaia_source`` has an ``ra``/``dec`` (the columns are never null in the Gaia DR3
    datamodel), so a row without one is a damaged or hand-edited table, and dropping it would
    change the catalogue unseen (the same holds for PASTEL's J2000 positions).  The message
    names the table, the column, how many rows and the first row indices (0-based), so that the
    user can fix or remove those rows on purpose.
    """
    for column in columns:
        values = table[column]
        bad = np.ma.getmaskarray(values) | ~np.isfinite(np.ma.getdata(values).astype(float))
        n_bad = int(bad.sum())
        if n_bad:
            first = ", ".join(str(i) for i in np.flatnonzero(bad)[:5])
            raise SchemaError(
                f"table {name!r}: column {column} has no finite value in {n_bad} of {len(values)} "
                f"rows (row indices, 0-based: {first}{', ...' if n_bad > 5 else ''}); a position "
                "is needed for every row: fix or remove those rows")


def _index_of(keys: np.ndarray, table_keys: np.ndarray, table_name: str, key_name: str) -> tuple[np.ndarray, np.ndarray]:
    """Row of ``table_keys`` holding each of ``keys`` (unique keys required) and a found mask."""
    table_keys = np.asarray(table_keys)
    order = np.argsort(table_keys, kind="stable")
    sorted_keys = table_keys[order]
    if len(sorted_keys) > 1 and np.any(sorted_keys[1:] == sorted_keys[:-1]):
        dup = sorted_keys[1:][sorted_keys[1:] == sorted_keys[:-1]][0]
        raise SchemaError(f"table {table_name!r}: {key_name} {dup} appears more than once")
    pos = np.searchsorted(sorted_keys, keys)
    pos = np.clip(pos, 0, max(len(sorted_keys) - 1, 0))
    found = (sorted_keys[pos] == keys) if len(sorted_keys) else np.zeros(len(keys), bool)
    return order[pos] if len(sorted_keys) else np.zeros(len(keys), int), found


def _take(column, rows: np.ndarray, found: np.ndarray | None = None, name: str | None = None,
          null: float | None = None) -> MaskedColumn:
    """Rows of a column as a MaskedColumn; rows not ``found`` and ``null`` values are masked."""
    data = np.ma.asarray(column)[rows] if len(column) else np.ma.masked_all(len(rows), dtype=column.dtype)
    mask = np.ma.getmaskarray(data).copy()
    if found is not None:
        mask |= ~found
    values = np.ma.getdata(data)
    if null is not None and values.dtype.kind == "f":
        mask |= values == null
    out = MaskedColumn(values, name=name or column.name, mask=mask, unit=column.unit,
                       description=getattr(column, "description", None))
    if column.meta:
        out.meta.update(column.meta)
    return out


def join_survey(tables: Mapping[str, Table], survey: str, labels: bool = True) -> Table:
    """Join Gaia DR3, distances, Andrae [M/H], best neighbours and one survey's photometry.

    Parameters
    ----------
    tables
        Archive tables keyed by their fully qualified names (as :class:`sos_vo.simulate.SyntheticSky`
        or the archive clients return them).
    survey
        ``"sdss"`` or ``"skymapper"``.
    labels
        Attach the SoS-Spectro labels as ``spec_*`` columns (:data:`sos_vo.schema.SPEC_COLUMNS`,
        masked where a star has none) when the ``sos_spectro.main`` table is present.

    Returns
    -------
    astropy.table.Table
        The columns of :func:`sos_vo.schema.joined_columns` first, then ``angular_distance``,
        ``xm_flag``, survey extras (SkyMapper ``flags_psf``) and the ``spec_*`` columns.  One
        row per Gaia source that has a best neighbour with photometry, in ``gaia_source`` order.

    Raises
    ------
    SchemaError
        A required table or column is missing, or a key is duplicated where it must be unique.
    """
    check_survey(survey)
    id_col = PHOTOMETRY_ID[survey]
    archive_survey_cols = [id_col if c == SURVEY_ID_COLUMN[survey] else c for c in SURVEY_COLUMNS[survey]]
    gaia = require_columns(tables, GAIA_SOURCE, GAIA_COLUMNS)
    require_positions(gaia, GAIA_SOURCE)
    dist = require_columns(tables, GAIA_DISTANCE, ("source_id", "r_med_geo"))
    andrae = require_columns(tables, ANDRAE, ("source_id", "mh_xgboost"))
    nb_name = NEIGHBOUR_TABLE[survey]
    nb = require_columns(tables, nb_name, ("source_id", "original_ext_source_id", "number_of_neighbours",
                                           "number_of_mates"))
    ph_name = PHOTOMETRY_TABLE[survey]
    phot = require_columns(tables, ph_name, archive_survey_cols)

    sid = np.asarray(gaia["source_id"])
    nb_rows, has_nb = _index_of(sid, np.asarray(nb["source_id"]), nb_name, "source_id")
    nb_ext = np.asarray(nb["original_ext_source_id"])
    # no best-neighbour rows at all (e.g. SkyMapper, a southern survey, in a northern field):
    # nothing to look up, every source is dropped below and the caller reports 0 rows
    ext_id = nb_ext[nb_rows] if len(nb_ext) else np.zeros(len(sid), dtype=nb_ext.dtype)
    ph_rows, has_ph = _index_of(ext_id, np.asarray(phot[id_col]), ph_name, id_col)
    keep = np.flatnonzero(has_nb & has_ph)
    sid = sid[keep]
    nb_rows, ph_rows = nb_rows[keep], ph_rows[keep]

    out = Table(meta={"survey": survey, "SYNTHETIC": bool(gaia.meta.get("SYNTHETIC", False))})
    for c in GAIA_COLUMNS:
        out[c] = _take(gaia[c], keep)
    d_rows, d_found = _index_of(sid, np.asarray(dist["source_id"]), GAIA_DISTANCE, "source_id")
    out["r_med_geo"] = _take(dist["r_med_geo"], d_rows, d_found)
    a_rows, a_found = _index_of(sid, np.asarray(andrae["source_id"]), ANDRAE, "source_id")
    out["mh_andrae"] = _take(andrae["mh_xgboost"], a_rows, a_found, name="mh_andrae")
    err = andrae_mh_error(np.ma.filled(out["mh_andrae"].astype(float), np.nan),
                          np.ma.filled(out["phot_g_mean_mag"].astype(float), np.nan))
    out["mh_andrae_err"] = MaskedColumn(err.astype(np.float32), mask=np.ma.getmaskarray(out["mh_andrae"]) | ~np.isfinite(err),
                                        unit=out["mh_andrae"].unit,
                                        description="Proxy uncertainty of mh_andrae (sos_vo.prepare.crossmatch.andrae_mh_error)")
    for c in ("number_of_neighbours", "number_of_mates"):
        out[c] = _take(nb[c], nb_rows)
    null = SDSS_NULL if survey == "sdss" else None
    for joined, archive in zip(SURVEY_COLUMNS[survey], archive_survey_cols, strict=True):
        out[joined] = _take(phot[archive], ph_rows, name=joined, null=null)
    for c in EXTRA_NEIGHBOUR_COLUMNS:
        if c in nb.colnames:
            out[c] = _take(nb[c], nb_rows)
    for c in EXTRA_SURVEY_COLUMNS[survey]:
        if c in phot.colnames:
            out[c] = _take(phot[c], ph_rows, null=null)
    if labels and SOS_SPECTRO in tables:
        sos = require_columns(tables, SOS_SPECTRO, ("source_id", *SPEC_SOURCE_COLUMNS.values()))
        s_rows, s_found = _index_of(sid, np.asarray(sos["source_id"]), SOS_SPECTRO, "source_id")
        for c in SPEC_COLUMNS:
            out[c] = _take(sos[SPEC_SOURCE_COLUMNS[c]], s_rows, s_found, name=c)
    assert tuple(out.colnames[: len(joined_columns(survey))]) == joined_columns(survey)
    return out


NEAR_PASTEL_MARGIN_ARCSEC = 1e-3
"""Added to the match radius by :func:`near_pastel` (*choice*): 1 mas, far above the rounding
of a separation computed in another argument order (~1e-11 arcsec), far below the radius."""


def pastel_sky(pastel: Table) -> SkyCoord:
    """PASTEL J2000 positions as one SkyCoord (its k-d tree, built by the first
    :func:`near_pastel` call, is kept on it and reused by the next calls).

    Raises SchemaError for an entry without a finite position, as :func:`join_pastel` does.
    """
    require_positions(pastel, PASTEL, ("RAJ2000", "DEJ2000"))
    return SkyCoord(ra=np.asarray(pastel["RAJ2000"], float) * u.deg,
                    dec=np.asarray(pastel["DEJ2000"], float) * u.deg)


def near_pastel(gaia: Table, sky: SkyCoord,
                radius_arcsec: float = PASTEL_MATCH_RADIUS_ARCSEC) -> np.ndarray:
    """Rows of ``gaia`` that :func:`join_pastel` can match to an entry of ``sky`` (:func:`pastel_sky`).

    True where the Gaia position at J2016.0, or propagated to J2000 as :func:`join_pastel`
    does, lies within ``radius_arcsec`` (+ :data:`NEAR_PASTEL_MARGIN_ARCSEC`) of a PASTEL
    entry, and where a position is not finite (kept, so that :func:`join_pastel` reports it).

    Why this subset gives the pairs of the whole table: :func:`join_pastel` pairs each PASTEL
    entry with its nearest Gaia source and keeps the pair when it is within the radius; that
    source is in the subset (its J2000 position is within the radius), so it is also the
    nearest within the subset, and an entry with no source within the radius has none in the
    subset either.  The J2016.0 test makes the same hold when a star outside the subset is
    later matched without its proper motion (then at its J2016.0 position, farther than the
    radius from every entry): :func:`sos_vo.labels.real_model.prepare_joined` gives proper
    motions to the subset's stars only.  Exact ties between two stars are left to the k-d tree
    in both cases.
    """
    gaia_cols = require_columns({GAIA_SOURCE: gaia}, GAIA_SOURCE, ("ra", "dec", "pmra", "pmdec"))
    ra = np.ma.filled(np.ma.asarray(gaia_cols["ra"]).astype(float), np.nan)
    dec = np.ma.filled(np.ma.asarray(gaia_cols["dec"]).astype(float), np.nan)
    bad = ~(np.isfinite(ra) & np.isfinite(dec))
    near = bad.copy()
    if len(sky) == 0 or len(gaia) == 0 or bad.all():
        return near
    good = np.flatnonzero(~bad)
    ra2000, dec2000 = propagate_positions(ra[good], dec[good], gaia_cols["pmra"][good],
                                          gaia_cols["pmdec"][good], PASTEL_EPOCH - GAIA_EPOCH)
    limit = radius_arcsec + NEAR_PASTEL_MARGIN_ARCSEC
    for r, d in ((ra[good], dec[good]), (ra2000, dec2000)):
        _, sep, _ = SkyCoord(ra=r * u.deg, dec=d * u.deg).match_to_catalog_sky(sky)
        near[good[sep.arcsec <= limit]] = True
    return near


def join_pastel(tables: Mapping[str, Table], radius_arcsec: float = PASTEL_MATCH_RADIUS_ARCSEC) -> Table:
    """Match every PASTEL entry to its nearest Gaia DR3 source by position.

    Gaia positions (epoch J2016.0) are propagated linearly to J2000 with ``pmra``/``pmdec``
    (masked proper motions count as zero) and matched to PASTEL ``RAJ2000``/``DEJ2000`` within
    ``radius_arcsec``.  Several PASTEL entries (bibliographic references) of one star all get
    its ``source_id``; aggregating them is left to the caller.

    Returns
    -------
    astropy.table.Table
        ``source_id, pastel_id, pastel_teff, pastel_e_teff, pastel_logg, pastel_e_logg,
        pastel_feh, pastel_e_feh, bibcode, match_distance`` (arcsec), one row per matched entry.
    """
    gaia = require_columns(tables, GAIA_SOURCE, ("source_id", "ra", "dec", "pmra", "pmdec"))
    pastel = require_columns(tables, PASTEL, ("ID", "RAJ2000", "DEJ2000", "Teff", "e_Teff", "logg", "e_logg",
                                              "[Fe/H]", "e_[Fe/H]"))
    require_positions(gaia, GAIA_SOURCE)
    require_positions(pastel, PASTEL, ("RAJ2000", "DEJ2000"))
    ra2000, dec2000 = propagate_positions(gaia["ra"], gaia["dec"], gaia["pmra"], gaia["pmdec"],
                                          PASTEL_EPOCH - GAIA_EPOCH)
    cols = ("pastel_id", "pastel_teff", "pastel_e_teff", "pastel_logg", "pastel_e_logg", "pastel_feh",
            "pastel_e_feh", "bibcode")
    if len(pastel) == 0 or len(gaia) == 0:
        return Table(names=("source_id", *cols, "match_distance"),
                     dtype=(np.int64, str, np.float32, np.float32, np.float32, np.float32, np.float32, np.float32, str, float))
    idx, sep = _nearest_gaia(ra2000, dec2000, pastel)
    ok = sep <= radius_arcsec
    rows = np.flatnonzero(ok)
    out = Table()
    out["source_id"] = np.asarray(gaia["source_id"])[idx[ok]]
    names = {"pastel_id": "ID", "pastel_teff": "Teff", "pastel_e_teff": "e_Teff", "pastel_logg": "logg",
             "pastel_e_logg": "e_logg", "pastel_feh": "[Fe/H]", "pastel_e_feh": "e_[Fe/H]"}
    for new, old in names.items():
        out[new] = _take(pastel[old], rows, name=new)
    if "bibcode" in pastel.colnames:
        out["bibcode"] = _take(pastel["bibcode"], rows)
    out["match_distance"] = MaskedColumn(sep[ok], unit=u.arcsec)
    out.meta["SYNTHETIC"] = bool(pastel.meta.get("SYNTHETIC", False))
    return out


def _nearest_gaia(ra2000, dec2000, pastel: Table) -> tuple[np.ndarray, np.ndarray]:
    """Row of the nearest Gaia position (J2000, degrees) to each PASTEL entry and its
    separation (arcsec): the one matching rule of :func:`join_pastel` and
    :func:`pastel_nearest_source`."""
    g = SkyCoord(ra=np.asarray(ra2000, float) * u.deg, dec=np.asarray(dec2000, float) * u.deg)
    p = SkyCoord(ra=np.asarray(pastel["RAJ2000"], float) * u.deg,
                 dec=np.asarray(pastel["DEJ2000"], float) * u.deg)
    idx, sep, _ = p.match_to_catalog_sky(g)
    return np.asarray(idx), np.asarray(sep.arcsec)


def pastel_nearest_source(gaia: Table, pastel: Table,
                          radius_arcsec: float = PASTEL_MATCH_RADIUS_ARCSEC) -> np.ndarray:
    """Gaia DR3 ``source_id`` that :func:`join_pastel` pairs each PASTEL row with, on ``gaia``
    (``source_id, ra, dec, pmra, pmdec``), or -1 where none lies within ``radius_arcsec``.

    One value per row of ``pastel``, in its order: which star an entry belongs to, decided once
    on a table of all the stars, so that work split into parts of the stars (the prepared
    chunks of :func:`sos_vo.labels.real_model.prepare_joined`) gives each part only the
    entries of its own stars.
    """
    gaia = require_columns({GAIA_SOURCE: gaia}, GAIA_SOURCE,
                           ("source_id", "ra", "dec", "pmra", "pmdec"))
    require_columns({PASTEL: pastel}, PASTEL, ("RAJ2000", "DEJ2000"))
    out = np.full(len(pastel), -1, dtype=np.int64)
    if len(pastel) == 0 or len(gaia) == 0:
        return out
    require_positions(gaia, GAIA_SOURCE)
    require_positions(pastel, PASTEL, ("RAJ2000", "DEJ2000"))
    ra2000, dec2000 = propagate_positions(gaia["ra"], gaia["dec"], gaia["pmra"], gaia["pmdec"],
                                          PASTEL_EPOCH - GAIA_EPOCH)
    idx, sep = _nearest_gaia(ra2000, dec2000, pastel)
    ok = sep <= radius_arcsec
    out[ok] = np.asarray(gaia["source_id"], dtype=np.int64)[idx[ok]]
    return out
