"""Spectroscopic label tables for the local TAP mirror, real rows where they exist.

What :func:`label_fixture_tables` builds (all under the names the real services use, or the
documented SQL mapping of VizieR names, :func:`sos_vo.archives.conf.sql_table_name`):

* ``galah_dr3.main_star`` (resource ``sosvo_galah_dr3``): the **real** GALAH DR3 rows of
  ``../shared/realdata/apogee_galah_gaia/Galah_data_filtered_1061.fits`` (Buder et al. 2021;
  MIT licence of the repository that published the file), columns as Data Central names them.
  ``ra``/``dec`` are the file's Gaia DR2 positions (``ra_dr2``/``dec_dr2``): the file has no
  GALAH ``ra``/``dec``.  ``galah_dr3.vac_gaiaedr3`` in the same resource: the file's **real**
  ``sobject_id``, ``star_id`` and ``dr3_source_id``, the cross-match the GALAH labels are joined
  to (:mod:`sos_vo.archives.galah`).
* ``"III/286/catalog"`` -> ``vizier.iii_286_catalog`` (added to the ``sosvo_vizier`` resource):
  the **real** APOGEE DR17 rows of ``Apogee_data_filtered_1612.fits`` under the VizieR labels
  (SQL-mapped).  ``AFlag`` is 0 for every row: the file was filtered by its authors and does
  not carry ASPCAPFLAG (documented, synthetic column).
* ``"V/162/dr11sl"``, ``"J/A+A/676/A129/catalog"`` (LAMOST, Gaia-ESO) and
  ``"J/A+A/700/A195/catalog"`` (SoS DR2): **synthetic** rows for subsets of the same real stars:
  the real APOGEE/GALAH labels plus known trends and noise (:data:`LAMOST_TREND`, ...), so the
  homogenisation and the comparison have something to recover; ``sdss_dr16.sppparams`` likewise
  (resource ``sosvo_sdss_dr16``), without a Gaia id, as the Astro Data Lab serves it, and its
  cross-match ``gaia_dr3.x1p5__gaia_source__sdss_dr16__specobj`` (resource ``sosvo_gaia_dr3``:
  ``id1`` = Gaia DR3 source_id, ``id2`` = specobjid, ``distance``; the distances are synthetic).
* ``labelsky.*`` (resource ``sosvo_labelsky``): Gaia-side tables for the label stars --
  ``gaia_source``, ``gaiaedr3_distance``, ``xgboost_table1``, both best-neighbour tables and both
  photometry tables.  Only ``source_id``, ``ra``, ``dec``, ``l``, ``b`` are real (the label
  files' Gaia DR3 ids and positions); **every other column is synthetic**
  (:func:`sos_vo.simulate.simulate_sky` rows re-keyed to the real ids), unrelated to the real
  labels.  They live in their own schema so that the existing ``gaiadr3``/``external`` tables
  stay byte-identical; queries reach them with table-name overrides
  (:data:`LABEL_SKY_OVERRIDES`).
* ``labelsky.b_pastel_pastel``: synthetic PASTEL entries at the positions of 150 label stars
  (J2000, propagated with the synthetic proper motions), labels = the star's real APOGEE (else
  GALAH) labels minus a known T25 Eq. 2 offset (:data:`PASTEL_INJECTED`): refitting Eq. 2 on
  those labels returns the injected coefficients exactly; on the combined multi-survey labels
  it returns them approximately.
* planted metal-poor stars (:func:`metal_poor_sky`): :data:`N_METAL_POOR` extra ``labelsky``
  Gaia stars in no label table, with their synthetic distance, [M/H] and photometry rows, and
  PASTEL entries (most of [Fe/H] < -1) appended to ``labelsky.b_pastel_pastel`` after the 150
  entries above; ``fixture/labels/labelsky.metal_poor_truth.ecsv`` lists them.  The rows of the
  label stars are unchanged; ``"I/355/gaiadr3"`` (Gaia-ESO match) does not hold the planted
  stars.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from astropy.table import Table, vstack

from sos_vo.archives.conf import sql_table_name
from sos_vo.archives.tables import ARCHIVE_TABLES
from sos_vo.labels.recalibration import LinearCorrection
from sos_vo.publish.dachs_rd import write_rd

REALDATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "realdata" / "apogee_galah_gaia"
"""The real label rows, located from the repository root (never copied into it)."""
APOGEE_FILE = "Apogee_data_filtered_1612.fits"
GALAH_FILE = "Galah_data_filtered_1061.fits"

LABEL_SKY_SCHEMA = "labelsky"
LABEL_SKY_RESOURCE = "sosvo_labelsky"
GALAH_RESOURCE = "sosvo_galah_dr3"
SSPP_SCHEMA = "sdss_dr16"
SSPP_RESOURCE = "sosvo_sdss_dr16"
SSPP_XMATCH_SCHEMA = "gaia_dr3"
SSPP_XMATCH_TABLE = "x1p5__gaia_source__sdss_dr16__specobj"
SSPP_XMATCH_RESOURCE = "sosvo_gaia_dr3"
"""Schemas, tables and resources of the SEGUE SSPP labels as :mod:`sos_vo.archives.segue` names
them (the Astro Data Lab's)."""

LABEL_SKY_OVERRIDES: dict[str, str] = {
    key: f"{LABEL_SKY_SCHEMA}.{spec.table_name}" for key, spec in ARCHIVE_TABLES.items()}
LABEL_SKY_OVERRIDES["pastel"] = f"{LABEL_SKY_SCHEMA}.b_pastel_pastel"
"""Table-name overrides (``--table KEY=NAME``) that point the Gaia queries at the label sky."""

LAMOST_TREND = {"teff": (35.0, 0.0, 0.0, 0.0), "logg": (0.05, 0.0, 0.0, 0.0),
                "feh": (-0.08, 0.0, 0.0, 0.06)}
"""Synthetic LAMOST = reference + (a + b*(Teff-5000) + c*(logg-3) + d*[Fe/H]) + noise: the
offset the homogenisation must find (made up; LAMOST's real trend is in Avdeeva et al. 2025, homogenisation talk)."""
LAMOST_NOISE = {"teff": 60.0, "logg": 0.1, "feh": 0.06}
GES_OFFSET = {"teff": -20.0, "logg": 0.02, "feh": 0.03}
PASTEL_INJECTED = {"teff": LinearCorrection(112.0, -6.66e-3, -28.1, -40.7),
                   "logg": LinearCorrection(0.159, -2.21e-5, -0.00242, -0.0689),
                   "feh": LinearCorrection(0.0769, -3.84e-7, -0.0186, -0.0262)}
"""Delta f (T25 Table 1 values) built into the synthetic PASTEL entries: PASTEL = reference label
- Delta f, exactly (no noise)."""
N_PASTEL = 150
N_METAL_POOR = 30
"""Gaia stars in no label table planted for the metal-poor PASTEL augmentation
(:func:`metal_poor_sky`); the last :data:`N_NOT_POOR` of them get PASTEL entries of
[Fe/H] > -1 (not added)."""
N_NOT_POOR = 4
METAL_POOR_OFFSET_DEG = 0.01
"""Dec offset of a planted star from the label star it is placed next to (36 arcsec: outside
the 9-arcsec server-side PASTEL search around every other star's entries)."""
METAL_POOR_PHOT_ID_OFFSET = 10_000_000
"""Added to the planted stars' SDSS/SkyMapper object ids so that they differ from the label
stars' (both skies number their objects alike)."""
METAL_POOR_TRUTH = "labelsky.metal_poor_truth"


def _realdata(name: str) -> Table:
    path = REALDATA / name
    if not path.exists():
        raise FileNotFoundError(f"real label rows not found: {path} (see ../shared/realdata)")
    return Table.read(path)


def real_labels() -> tuple[Table, Table]:
    """The real APOGEE DR17 and GALAH DR3 rows (numbers as read, bytes decoded)."""
    apogee, galah = _realdata(APOGEE_FILE), _realdata(GALAH_FILE)
    for t in (apogee, galah):
        for c in t.colnames:
            if t[c].dtype.kind == "S":
                t[c] = np.char.decode(t[c]).astype(str)
    return apogee, galah


def _stars(apogee: Table, galah: Table) -> Table:
    """One row per label star: Gaia DR3 id, position, a reference label (APOGEE first)."""
    ids = np.concatenate([apogee["dr3_source_id"], galah["dr3_source_id"]]).astype(np.int64)
    ra = np.concatenate([apogee["ra"], galah["ra_dr2"]]).astype(float)
    dec = np.concatenate([apogee["dec"], galah["dec_dr2"]]).astype(float)
    lab = {k: np.concatenate([np.asarray(apogee[a], float), np.asarray(galah[g], float)])
           for k, a, g in (("teff", "teff", "teff"), ("logg", "logg", "logg"), ("feh", "fe_h", "fe_h"))}
    _, first = np.unique(ids, return_index=True)
    first = np.sort(first)
    return Table({"source_id": ids[first], "ra": ra[first], "dec": dec[first],
                  **{k: v[first] for k, v in lab.items()}})


def label_sky(stars: Table, seed: int = 11) -> dict[str, Table]:
    """Gaia-side tables (by ARCHIVE_TABLES key) re-keyed to the real label stars."""
    from astropy.coordinates import SkyCoord

    from sos_vo.simulate import simulate_sky

    n = len(stars)
    sky = simulate_sky((180.0, 0.0), 10.0, n_stars=n, seed=seed)
    gaia = sky.tables[ARCHIVE_TABLES["gaia_source"].name]
    old = np.asarray(gaia["source_id"], dtype=np.int64)
    take = min(n, len(old))
    mapping = dict(zip(old[:take].tolist(), np.asarray(stars["source_id"][:take]).tolist(), strict=True))
    out = {}
    for key, spec in ARCHIVE_TABLES.items():
        t = sky.tables[spec.name][list(spec.column_names)]
        if "source_id" in t.colnames:
            sid = np.asarray(t["source_id"], dtype=np.int64)
            keep = np.isin(sid, list(mapping))
            t = t[keep]
            t["source_id"] = np.asarray([mapping[s] for s in sid[keep]], dtype=np.int64)
        out[key] = t
    g = out["gaia_source"]
    pos = {int(s): i for i, s in enumerate(stars["source_id"])}
    idx = np.asarray([pos[int(s)] for s in g["source_id"]])
    g["ra"] = np.asarray(stars["ra"])[idx]
    g["dec"] = np.asarray(stars["dec"])[idx]
    gal = SkyCoord(g["ra"], g["dec"], unit="deg").galactic
    g["l"], g["b"] = gal.l.deg, gal.b.deg
    for key in ("sdss_photo", "skymapper_master"):  # photometry of the kept neighbours only
        nb = out["sdss_neighbour" if key == "sdss_photo" else "skymapper_neighbour"]
        idcol = "objid" if key == "sdss_photo" else "object_id"
        out[key] = out[key][np.isin(np.asarray(out[key][idcol]), np.asarray(nb["original_ext_source_id"]))]
    for t in out.values():
        t.meta.clear()
    return out


GES_GAIA_TABLE = "I/355/gaiadr3"
"""TAPVizieR's Gaia DR3 table, which the Gaia-ESO labels are matched to by position."""
GES_AMBIGUOUS = 3
"""Gaia-ESO entries given a second Gaia source 0.5 arcsec away (two candidates, the true star
nearer)."""
GES_FAR_NEIGHBOUR = 1
"""Gaia-ESO entries given a Gaia source 3 arcsec away (inside the search circle, outside the
match radius: not a candidate)."""
GES_NO_MATCH = 2
"""Gaia-ESO entries placed 0.05 deg from their star, with no Gaia source near (no candidate)."""
GES_DUPLICATES = 1
"""Gaia-ESO entries listed twice (0.2 arcsec apart, the copy with twice the errors): two entries
on one Gaia star, left to the one-per-star rule."""


def gaia_eso_positional(ges: Table, gaia: Table, seed: int) -> tuple[Table, Table, Table]:
    """The synthetic Gaia-ESO rows without their Gaia id, and the Gaia table they match.

    ``ges``: rows with VizieR labels and the ``GaiaDR3`` they were built for; ``gaia``: the
    ``labelsky`` Gaia rows (J2016.0 positions, the label stars' real ones, and synthetic
    proper motions).  Returns

    * the Gaia-ESO table: positions moved to :data:`sos_vo.archives.gaia_eso.LABEL_EPOCH` with
      the proper motions, ``GaiaDR3`` dropped, plus the entries of :data:`GES_NO_MATCH` and
      :data:`GES_DUPLICATES`;
    * ``"I/355/gaiadr3"`` (``Source``, ``RA_ICRS``, ``DE_ICRS``, ``pmRA``, ``pmDE``,
      ``Epoch``): every ``labelsky`` row plus the neighbours of :data:`GES_AMBIGUOUS` and
      :data:`GES_FAR_NEIGHBOUR` (ids next to their star's: same HEALPix cell);
    * the truth: ``Object``, ``source_id`` (0: none), ``candidates`` (Gaia sources within the
      match radius after propagation) and ``findable`` (the star's motion between the epochs
      fits the server-side search circle).

    Uses its own generator, so the rows of every other table stay as they were.
    """
    from astropy.coordinates import SkyCoord

    from sos_vo.archives.gaia_eso import LABEL_EPOCH, POSITIONAL
    from sos_vo.prepare.crossmatch import GAIA_EPOCH, propagate_positions

    rng = np.random.default_rng(seed)
    sid = np.asarray(gaia["source_id"], dtype=np.int64)
    row = {int(s): i for i, s in enumerate(sid)}
    idx = np.asarray([row[int(s)] for s in ges["GaiaDR3"]])
    pmra, pmdec = np.asarray(gaia["pmra"], float)[idx], np.asarray(gaia["pmdec"], float)[idx]
    ra16, dec16 = np.asarray(gaia["ra"], float)[idx], np.asarray(gaia["dec"], float)[idx]
    ges = Table(ges, copy=True)
    ges["Object"] = np.asarray(ges["Object"]).astype("U24")
    ges["RAJ2000"], ges["DEJ2000"] = propagate_positions(ra16, dec16, pmra, pmdec,
                                                         LABEL_EPOCH - GAIA_EPOCH)
    truth = Table({"Object": np.asarray(ges["Object"]).astype("U24"), "source_id": np.asarray(ges["GaiaDR3"]),
                   "candidates": np.ones(len(ges), dtype=np.int64)})
    moved = np.hypot(pmra, pmdec) * abs(LABEL_EPOCH - GAIA_EPOCH) / 1e3
    truth["findable"] = moved + POSITIONAL.radius_arcsec <= POSITIONAL.search_radius_arcsec
    ges.remove_column("GaiaDR3")
    new_gaia = Table({"Source": sid, "RA_ICRS": np.asarray(gaia["ra"], float),
                      "DE_ICRS": np.asarray(gaia["dec"], float),
                      "pmRA": np.asarray(gaia["pmra"], float), "pmDE": np.asarray(gaia["pmdec"], float)})
    used = set(sid.tolist())
    chosen = rng.choice(np.flatnonzero(truth["findable"]), GES_AMBIGUOUS + GES_FAR_NEIGHBOUR
                        + GES_NO_MATCH + GES_DUPLICATES, replace=False)
    extra_gaia = []
    for j, k in enumerate(chosen[:GES_AMBIGUOUS + GES_FAR_NEIGHBOUR]):
        offset = 0.5 if j < GES_AMBIGUOUS else 3.0  # arcsec, north of the star
        new_id = int(truth["source_id"][k]) + 1
        while new_id in used:
            new_id += 1
        used.add(new_id)
        assert new_id >> 35 == int(truth["source_id"][k]) >> 35  # same level-12 cell
        extra_gaia.append((new_id, ra16[k], dec16[k] + offset / 3600.0, pmra[k], pmdec[k]))
        if j < GES_AMBIGUOUS:
            truth["candidates"][k] = 2
    for values in extra_gaia:
        new_gaia.add_row(values)
    new_gaia["Epoch"] = np.full(len(new_gaia), GAIA_EPOCH)
    start = GES_AMBIGUOUS + GES_FAR_NEIGHBOUR
    extra_ges = []
    for j, k in enumerate(chosen[start:start + GES_NO_MATCH]):
        r = Table(ges[k:k + 1], copy=True)
        r["Object"] = f"GES-NOMATCH-{j}"
        r["DEJ2000"] = r["DEJ2000"] + 0.05
        near = SkyCoord(r["RAJ2000"], r["DEJ2000"], unit="deg").separation(
            SkyCoord(new_gaia["RA_ICRS"], new_gaia["DE_ICRS"], unit="deg")).arcsec.min()
        assert near > 3 * POSITIONAL.search_radius_arcsec
        extra_ges.append(r)
        truth.add_row((f"GES-NOMATCH-{j}", 0, 0, True))
    for k in chosen[start + GES_NO_MATCH:]:
        r = Table(ges[k:k + 1], copy=True)
        r["Object"] = f"{r['Object'][0]}-BIS"
        r["RAJ2000"] = r["RAJ2000"] + 0.2 / 3600.0 / np.cos(np.deg2rad(r["DEJ2000"]))
        for c in ("e_Teff", "e_logg", "e_[Fe/H]"):
            r[c] = 2 * r[c]
        extra_ges.append(r)
        truth.add_row((r["Object"][0], truth["source_id"][k], 1, True))
    from astropy.table import vstack

    ges = vstack([ges, *extra_ges], metadata_conflicts="silent")
    return ges, new_gaia, truth


def metal_poor_sky(stars: Table, sky: dict[str, Table], seed: int = 23
                   ) -> tuple[dict[str, Table], Table, Table]:
    """Planted Gaia stars in no label table, with metal-poor PASTEL entries (T25 Sect. 4.3).

    :data:`N_METAL_POOR` stars, each :data:`METAL_POOR_OFFSET_DEG` north of a label star of the
    label sky (evenly spaced in its ``source_id`` order), with ``source_id`` = that star's + 1
    (+2, ... until no label star has it: none of the label tables holds them).  Their Gaia-side
    rows are made as the label sky's (:func:`label_sky`: :func:`sos_vo.simulate.simulate_sky`
    rows re-keyed, only ``source_id``/``ra``/``dec``/``l``/``b`` set here, **every other column
    synthetic**), with the photometry object ids moved by :data:`METAL_POOR_PHOT_ID_OFFSET`.
    PASTEL entries (J2000, from the synthetic proper motions): two per star, [Fe/H] in
    [-2.6, -1.2] and 0.1 dex apart; the first star three, one of them above -1 dex (median
    below: added); the last :data:`N_NOT_POOR` stars [Fe/H] in [-0.6, -0.2] (not added).

    Returns
    -------
    tables, pastel, truth
        Label-sky tables of the planted stars (by ARCHIVE_TABLES key), their PASTEL entries
        (VizieR labels) and ``source_id, metal_poor, n_entries`` per planted star.
    """
    from sos_vo.prepare.crossmatch import GAIA_EPOCH, PASTEL_EPOCH, propagate_positions

    rng = np.random.default_rng(seed)
    g = sky["gaia_source"]
    taken = set(np.asarray(stars["source_id"], dtype=np.int64).tolist())
    order = np.argsort(np.asarray(g["source_id"], dtype=np.int64))
    near = order[np.linspace(0, len(order) - 1, N_METAL_POOR).astype(int)]
    ids = []
    for sid in np.asarray(g["source_id"], dtype=np.int64)[near].tolist():
        new = sid + 1
        while new in taken:
            new += 1
        taken.add(new)
        ids.append(new)
    planted = Table({"source_id": np.asarray(ids, dtype=np.int64),
                     "ra": np.asarray(g["ra"], float)[near],
                     "dec": np.asarray(g["dec"], float)[near] + METAL_POOR_OFFSET_DEG})
    tables = label_sky(planted, seed=seed)
    for key, idcol in (("sdss_neighbour", "original_ext_source_id"),
                       ("skymapper_neighbour", "original_ext_source_id"),
                       ("sdss_photo", "objid"), ("skymapper_master", "object_id")):
        tables[key][idcol] = np.asarray(tables[key][idcol], dtype=np.int64) + METAL_POOR_PHOT_ID_OFFSET
    pg = tables["gaia_source"]
    n = len(pg)
    ra2000, dec2000 = propagate_positions(pg["ra"], pg["dec"], pg["pmra"], pg["pmdec"],
                                          PASTEL_EPOCH - GAIA_EPOCH)
    poor = np.arange(n) < n - N_NOT_POOR
    feh = np.where(poor, rng.uniform(-2.6, -1.2, n), rng.uniform(-0.6, -0.2, n))
    teff, logg = rng.uniform(4600.0, 6200.0, n), rng.uniform(1.8, 4.5, n)
    star, fe = [], []
    for i in range(n):
        values = [feh[i], feh[i] + 0.1] + ([-0.9] if i == 0 else [])
        star += [i] * len(values)
        fe += values
    star = np.asarray(star)
    pastel = Table({"ID": np.char.add("SOSVO-METALPOOR ", star.astype(str)),
                    "RAJ2000": np.asarray(ra2000, float)[star],
                    "DEJ2000": np.asarray(dec2000, float)[star],
                    "Teff": teff[star], "e_Teff": np.full(star.size, 0.5 * LAMOST_NOISE["teff"]),
                    "logg": logg[star], "e_logg": np.full(star.size, 0.5 * LAMOST_NOISE["logg"]),
                    "[Fe/H]": np.asarray(fe), "e_[Fe/H]": np.full(star.size, 0.5 * LAMOST_NOISE["feh"]),
                    "bibcode": np.char.add("2099POOR...", np.arange(star.size).astype(str))})
    truth = Table({"source_id": np.asarray(pg["source_id"], dtype=np.int64), "metal_poor": poor,
                   "n_entries": np.bincount(star, minlength=n)})
    return tables, pastel, truth


def _vizier_sql(table: Table) -> Table:
    from sos_vo.validation.references import sql_column_name

    out = Table()
    for name in table.colnames:
        out[sql_column_name(name)] = table[name]
        out[sql_column_name(name)].description = f"VizieR column {name}"
    return out


def _trend(lab: dict[str, np.ndarray], coef: tuple[float, float, float, float]) -> np.ndarray:
    a, b, c, d = coef
    return a + b * (lab["teff"] - 5000.0) + c * (lab["logg"] - 3.0) + d * lab["feh"]


def label_fixture_tables(seed: int = 5) -> dict[str, dict[str, Table]]:
    """Mirror tables by resource: ``vizier`` (VizieR path -> rows with VizieR labels),
    ``galah_dr3`` (table -> rows), ``labelsky`` (table -> rows), ``sdss_dr16`` (sppParams) and
    ``gaia_dr3`` (its Gaia DR3 cross-match)."""
    rng = np.random.default_rng(seed)
    apogee, galah = real_labels()
    stars = _stars(apogee, galah)
    sky = label_sky(stars)
    apo = Table({"APOGEE": apogee["apogee_id"], "GaiaEDR3": apogee["dr3_source_id"].astype(np.int64),
                 "RAJ2000": apogee["ra"].astype(float), "DEJ2000": apogee["dec"].astype(float),
                 "Teff": apogee["teff"], "e_Teff": apogee["teff_err"], "logg": apogee["logg"],
                 "e_logg": apogee["logg_err"], "[Fe/H]": apogee["fe_h"],
                 "e_[Fe/H]": apogee["fe_h_err"], "AFlag": np.zeros(len(apogee), dtype=np.int64)})
    gal = Table({"sobject_id": galah["sobject_id"].astype(np.int64), "star_id": galah["star_id"],
                 "dr3_source_id": galah["dr3_source_id"].astype(np.int64),
                 "ra": galah["ra_dr2"].astype(float), "dec": galah["dec_dr2"].astype(float),
                 **{c: galah[c] for c in ("teff", "e_teff", "logg", "e_logg", "fe_h", "e_fe_h",
                                          "flag_sp", "flag_fe_h")}})
    for c in ("ra", "dec"):
        gal[c].meta["ucd"] = f"pos.eq.{c};meta.main"
    gal_gaia = Table({"sobject_id": gal["sobject_id"], "star_id": gal["star_id"],
                      "dr3_source_id": gal["dr3_source_id"]})
    lab = {k: np.asarray(stars[k], float) for k in ("teff", "logg", "feh")}
    n = len(stars)
    # LAMOST: 60% of the stars, reference + trend + noise
    pick = np.sort(rng.choice(n, int(0.6 * n), replace=False))
    sub = {k: v[pick] for k, v in lab.items()}
    lamost = Table({"ObsID": (100_000_000 + pick).astype(np.int64),
                    "GaiaDR3": np.asarray(stars["source_id"])[pick],
                    "RAJ2000": np.asarray(stars["ra"])[pick], "DEJ2000": np.asarray(stars["dec"])[pick]})
    for k, label in (("teff", "Teff"), ("logg", "logg"), ("feh", "[Fe/H]")):
        lamost[label] = sub[k] + _trend(sub, LAMOST_TREND[k]) + rng.normal(0, LAMOST_NOISE[k], pick.size)
        lamost[f"e_{label}"] = np.full(pick.size, LAMOST_NOISE[k])
    # Gaia-ESO: 15% of the stars, constant offsets; no Gaia id (positions at J2000, see gaia_eso)
    pick = np.sort(rng.choice(n, int(0.15 * n), replace=False))
    ges = Table({"Object": np.char.add("GES", pick.astype(str)), "GaiaDR3": np.asarray(stars["source_id"])[pick],
                 "RAJ2000": np.asarray(stars["ra"])[pick], "DEJ2000": np.asarray(stars["dec"])[pick]})
    for k, label in (("teff", "Teff"), ("logg", "logg"), ("feh", "[Fe/H]")):
        ges[label] = lab[k][pick] + GES_OFFSET[k] + rng.normal(0, 0.5 * LAMOST_NOISE[k], pick.size)
        ges[f"e_{label}"] = np.full(pick.size, 0.5 * LAMOST_NOISE[k])
    ges, ges_gaia, ges_truth = gaia_eso_positional(ges, sky["gaia_source"], seed + 2)
    # SoS DR2: every label star, spec = reference labels, ml = spec + noise
    sos = Table({"SoSid": np.arange(n, dtype=np.int64) + 1, "GaiaDR3": np.asarray(stars["source_id"]),
                 "RAJ2000": np.asarray(stars["ra"]), "DEJ2000": np.asarray(stars["dec"])})
    for k, label in (("teff", "Teff"), ("logg", "log_g"), ("feh", "[Fe/H]")):
        sos[f"spec_{label}"] = lab[k]
        sos[f"spec_err_{label}"] = np.full(n, 0.5 * LAMOST_NOISE[k])
        sos[f"ml_{label}"] = lab[k] + rng.normal(0, LAMOST_NOISE[k], n)
        sos[f"ml_err_{label}"] = np.full(n, LAMOST_NOISE[k])
    sos["SDSS_train_set"] = rng.random(n) < 0.5
    sos["SM_train_set"] = rng.random(n) < 0.5
    # SEGUE SSPP: 20% of the stars, SSPP names, some flagged
    pick = np.sort(rng.choice(n, int(0.2 * n), replace=False))
    sspp = Table({"specobjid": (7_000_000_000 + pick).astype(np.int64),
                  "ra": np.asarray(stars["ra"])[pick], "dec": np.asarray(stars["dec"])[pick]})
    xmatch = Table({"id1": np.asarray(stars["source_id"])[pick].astype(np.int64),
                    "id2": np.asarray(sspp["specobjid"]),
                    # own generator: the rows of every other table stay as before
                    "distance": np.random.default_rng(seed + 1).uniform(0.0, 1.5, pick.size)})
    for k, c in (("teff", "teffadop"), ("logg", "loggadop"), ("feh", "fehadop")):
        sspp[c] = lab[k][pick] + rng.normal(0, LAMOST_NOISE[k], pick.size)
        sspp[f"{c}unc"] = np.full(pick.size, LAMOST_NOISE[k])
    sspp["flag"] = np.where(rng.random(pick.size) < 0.8, "nnnnn", "nnnnD")
    for c in ("ra", "dec"):
        sspp[c].meta["ucd"] = f"pos.eq.{c};meta.main"
    # PASTEL: N_PASTEL label stars, J2000 positions from the synthetic proper motions
    from sos_vo.prepare.crossmatch import GAIA_EPOCH, PASTEL_EPOCH, propagate_positions

    g = sky["gaia_source"]
    pick = np.sort(rng.choice(len(g), min(N_PASTEL, len(g)), replace=False))
    ra2000, dec2000 = propagate_positions(g["ra"][pick], g["dec"][pick], g["pmra"][pick],
                                          g["pmdec"][pick], PASTEL_EPOCH - GAIA_EPOCH)
    pos = {int(s): i for i, s in enumerate(stars["source_id"])}
    rows = np.asarray([pos[int(s)] for s in g["source_id"][pick]])
    v = {k: lab[k][rows] for k in lab}
    pastel = Table({"ID": np.char.add("SOSVO-LABELSKY ", np.arange(pick.size).astype(str)),
                    "RAJ2000": np.asarray(ra2000, float), "DEJ2000": np.asarray(dec2000, float)})
    for k, label in (("teff", "Teff"), ("logg", "logg"), ("feh", "[Fe/H]")):
        pastel[label] = v[k] - PASTEL_INJECTED[k].delta(v["teff"], v["logg"], v["feh"])
        pastel[f"e_{label}"] = np.full(pick.size, 0.5 * LAMOST_NOISE[k])
    pastel["bibcode"] = np.char.add("2099LABEL..", np.arange(pick.size).astype(str))
    # planted metal-poor PASTEL stars in no label table, appended after every existing row
    poor_sky, poor_pastel, poor_truth = metal_poor_sky(stars, sky)
    sky = {k: vstack([t, poor_sky[k]], metadata_conflicts="silent") for k, t in sky.items()}
    pastel = vstack([pastel, poor_pastel], metadata_conflicts="silent")
    labelsky = {ARCHIVE_TABLES[k].table_name: t for k, t in sky.items()}
    labelsky["b_pastel_pastel"] = _vizier_sql(pastel)
    return {"vizier": {"III/286/catalog": apo, "V/162/dr11sl": lamost,
                       "J/A+A/676/A129/catalog": ges, "J/A+A/700/A195/catalog": sos,
                       GES_GAIA_TABLE: ges_gaia},
            "_truth": {f"{sql_table_name('J/A+A/676/A129/catalog')}.truth": ges_truth,
                       METAL_POOR_TRUTH: poor_truth},
            "galah_dr3": {"main_star": gal, "vac_gaiaedr3": gal_gaia},
            SSPP_SCHEMA: {"sppparams": sspp},
            SSPP_XMATCH_SCHEMA: {SSPP_XMATCH_TABLE: xmatch},
            "labelsky": labelsky, "_pastel_vizier_labels": {"b_pastel_pastel": pastel}}


def write_label_mirror(tables: dict[str, dict[str, Table]], out: str | os.PathLike) -> dict:
    """Write the resources ``sosvo_galah_dr3``, ``sosvo_sdss_dr16``, ``sosvo_gaia_dr3``,
    ``sosvo_labelsky`` and
    ECSV copies under ``out/fixture/labels/``; the VizieR tables are returned for the caller to
    add to the ``sosvo_vizier`` resource (one RD per schema).

    Returns
    -------
    dict
        ``{"resources": [...], "tables": {name: sql name}, "rows": {name: n},
        "overrides": LABEL_SKY_OVERRIDES, "vizier": {path: rows}}``.
    """
    out = Path(out)
    fixture = out / "fixture" / "labels"
    fixture.mkdir(parents=True, exist_ok=True)
    resources, names, rows = [], {}, {}
    for schema, resource in (("galah_dr3", GALAH_RESOURCE), (SSPP_SCHEMA, SSPP_RESOURCE),
                             (SSPP_XMATCH_SCHEMA, SSPP_XMATCH_RESOURCE),
                             (LABEL_SKY_SCHEMA, LABEL_SKY_RESOURCE)):
        members = tables[schema]
        write_rd(out / "rd" / resource, schema, members,
                 title=f"sos-vo fixture mirror of {schema} (label sources)",
                 description="Label-source test tables (tools/dachs_mirror/labels.py): real rows "
                             "where the module says so, synthetic otherwise.",
                 overwrite=True)
        resources.append(f"{resource}/q")
        for name, t in members.items():
            names[f"{schema}.{name}"] = f"{schema}.{name}"
            rows[f"{schema}.{name}"] = len(t)
            t.write(fixture / f"{schema}.{name}.ecsv", overwrite=True)
    for path, t in tables["vizier"].items():
        names[path] = sql_table_name(path)
        rows[path] = len(t)
        t.write(fixture / f"{sql_table_name(path)}.ecsv", overwrite=True)
    for name, t in tables.get("_truth", {}).items():
        t.write(fixture / f"{name}.ecsv", overwrite=True)
    for name, t in tables["_pastel_vizier_labels"].items():
        t.write(fixture / f"{LABEL_SKY_SCHEMA}.{name}.vizier_labels.ecsv", overwrite=True)
    return {"resources": resources, "tables": names, "rows": rows,
            "overrides": LABEL_SKY_OVERRIDES, "vizier": tables["vizier"]}
