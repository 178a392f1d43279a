"""The synthetic sky: every archive table the pipeline reads, made up for one cone, plus the truth."""

from __future__ import annotations

import json
import logging
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from astropy import units as u
from astropy.coordinates import SkyCoord
from astropy.io import votable
from astropy.io.votable.exceptions import VOWarning
from astropy.table import MaskedColumn, Table

from .. import __version__
from ..exceptions import SchemaError
from ..io import atomic_path, check_writable, read_checked, read_manifest, restore_log_units
from . import archive_tables as at
from . import failures, stars
from .gaia import gaia_tables, source_ids
from .photometry import EXTINCTION_COEFFICIENTS, absolute_magnitudes
from .spectro import pastel_table, sos_table
from .surveys import survey_tables

log = logging.getLogger(__name__)

DEFAULT_DENSITY_PER_DEG2 = 200.0
"""Default number of synthetic Gaia sources per square degree (*synthetic choice*: small enough
for quick tests; the real Gaia density at high latitude is ~10^4 per deg^2)."""
G_LIMIT = 20.5
G_BRIGHT = 6.0
"""Magnitude range of the synthetic Gaia sources (Gaia is complete to G ~ 20.5, Gaia
Collaboration 2023, Vallenari et al., Sect. 5; bright limit a *synthetic choice*)."""
COMPANION_FRACTION = 0.02
"""Fraction of stars placed within 1.2" of another star, sharing its survey counterpart
(number_of_mates = 1 for both; *synthetic choice*)."""
COMPANION_MAX_SEP_ARCSEC = 1.2
MAX_DISTANCE_DRAWS = 60
"""Distance redraws before a star that stays outside the magnitude range gets new parameters."""
TRUTH_NAME = "truth"
FORMATS = {"votable": ".vot", "ecsv": ".ecsv"}
MANIFEST = "manifest.json"


@dataclass
class SyntheticSky:
    """Synthetic archive tables of one cone, the truth behind them, and how they were made.

    Attributes
    ----------
    tables
        Archive tables keyed by the real fully qualified table name (``gaiadr3.gaia_source``, ...).
    truth
        One row per Gaia source: true parameters, population, distance, reddening, survey
        membership, and ``fails`` (comma-separated names of :data:`failures.CUT_NAMES` it fails).
    meta
        ``seed``, ``center_ra``, ``center_dec``, ``radius_deg``, ``n_stars``, ``SYNTHETIC``,
        ``version``.
    """

    tables: dict[str, Table]
    truth: Table
    meta: dict = field(default_factory=dict)

    def write(self, folder: str | Path, format: str = "votable", overwrite: bool = False) -> list[Path]:
        """Write one file per table (``<table name><suffix>``), the truth and a manifest.

        Each file is written atomically; nothing is replaced unless ``overwrite``.  VOTable
        (BINARY2 serialisation, as the archives' TAP services return) is written cell by cell by
        astropy, ~2 s per 10^6 cells: prefer ``format="ecsv"`` for skies of 10^5+ stars.
        """
        if format not in FORMATS:
            raise ValueError(f"unknown format {format!r}: expected one of {', '.join(FORMATS)}")
        folder = Path(folder)
        targets = {name: folder / f"{name.replace('/', '_')}{FORMATS[format]}" for name in self.tables}
        targets[TRUTH_NAME] = folder / f"{TRUTH_NAME}{FORMATS[format]}"
        for path in [*targets.values(), folder / MANIFEST]:
            check_writable(path, overwrite)
        folder.mkdir(parents=True, exist_ok=True)
        written = []
        for name, path in targets.items():
            table = self.truth if name == TRUTH_NAME else self.tables[name]
            with atomic_path(path, overwrite=overwrite) as tmp:
                _write_table(table, tmp, format)
            written.append(path)
        manifest = {"tables": {name: p.name for name, p in targets.items() if name != TRUTH_NAME},
                    "truth": targets[TRUTH_NAME].name, "format": format, "meta": self.meta,
                    "rows": {name: len(self.truth if name == TRUTH_NAME else self.tables[name])
                             for name in targets}}
        with atomic_path(folder / MANIFEST, overwrite=overwrite) as tmp:
            tmp.write_text(json.dumps(manifest, indent=2, default=str))
        written.append(folder / MANIFEST)
        return written


def _write_table(table: Table, path: Path, format: str) -> None:
    if format == "ecsv":
        table.write(path, format="ascii.ecsv")
        return
    out = table.copy(copy_data=False)
    for name in out.colnames:  # VOTable char (ASCII), as the archives write it
        if out[name].dtype.kind in "UO":
            out[name] = MaskedColumn(np.char.encode(np.asarray(out[name]).astype(str), "ascii"),
                                     name=name, unit=out[name].unit, description=out[name].description,
                                     mask=np.ma.getmaskarray(out[name]), meta=out[name].meta)
    with warnings.catch_warnings():  # archive VOUnit strings and VizieR names astropy does not parse
        warnings.simplefilter("ignore", VOWarning)
        vot = votable.from_table(out)
    for f in vot.get_first_table().fields:
        if f.datatype == "char":
            f.arraysize = "*"
        elif f.datatype == "bit":  # astropy writes masked bools as bit; the archives use boolean
            f.datatype = "boolean"
    vot.get_first_table().description = str(table.meta.get("DESCRIPTION", ""))
    info = votable.tree.Info(name="SYNTHETIC", value="true")
    vot.resources[0].infos.append(info)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", VOWarning)
        vot.to_xml(str(path), tabledata_format="binary2")


def _read_table(path: Path, format: str) -> Table:
    if format == "ecsv":
        t = Table.read(path, format="ascii.ecsv")
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", VOWarning)
            t = votable.parse_single_table(str(path)).to_table(use_names_over_ids=True)
    restore_log_units(t)  # "dex" parses differently across astropy versions (sos_vo.io)
    for name in t.colnames:  # strings: plain str, empty rather than masked (as written)
        if t[name].dtype.kind in "OU":
            t[name] = MaskedColumn(np.ma.filled(t[name], "").astype(str), name=name, unit=t[name].unit,
                                   description=t[name].description, meta=t[name].meta)
    return t


def read_synthetic_sky(folder: str | Path) -> SyntheticSky:
    """Read a folder written by :meth:`SyntheticSky.write`."""
    folder = Path(folder)
    manifest = read_manifest(folder, MANIFEST, FORMATS)  # checked, paths confined (sos_vo.io)
    fmt = manifest["format"]
    tables = {}
    for name, fname in manifest["tables"].items():
        t = read_checked(folder / fname, lambda p: _read_table(p, fmt),
                         manifest.get("rows", {}).get(name))
        t.meta.update({"name": name, "SYNTHETIC": True})
        tables[name] = t
    truth = read_checked(folder / manifest["truth"], lambda p: _read_table(p, fmt),
                         manifest.get("rows", {}).get(TRUTH_NAME))
    truth.meta["SYNTHETIC"] = True
    return SyntheticSky(tables=tables, truth=truth, meta=manifest["meta"])


def _as_center(center: SkyCoord | Iterable[float]) -> SkyCoord:
    if isinstance(center, SkyCoord):
        return center.icrs
    ra, dec = (float(x) for x in center)
    if not -90.0 <= dec <= 90.0:
        raise ValueError(f"center Dec {dec} outside [-90, 90] deg")
    return SkyCoord(ra=ra * u.deg, dec=dec * u.deg, frame="icrs")


def _radius_deg(radius: u.Quantity | float) -> float:
    r = radius.to_value(u.deg) if isinstance(radius, u.Quantity) else float(radius)
    if not 0.0 < r <= 90.0:
        raise ValueError(f"radius {r} deg must be in (0, 90]")
    return r


def _place_stars(rng: np.random.Generator, population: np.ndarray, b: np.ndarray, ebv_sfd: np.ndarray) -> dict[str, np.ndarray]:
    """Parameters, absolute magnitudes and distances such that every star has G_BRIGHT < G < G_LIMIT."""
    n = len(population)
    comp = stars.component(population)
    params = stars.stellar_parameters(rng, population)
    mags = absolute_magnitudes(rng, params["teff"], params["logg"], params["feh"],
                               stars.bolometric_magnitude(params["teff"], params["logg"], params["mass"]))
    dist = np.empty(n)
    ebv = np.empty(n)
    todo = np.arange(n)
    draws = 0
    while todo.size:
        d = stars.sample_distances(rng, comp[todo], b[todo])
        e = stars.star_reddening(ebv_sfd[todo], d, b[todo])
        g = mags["G"][todo] + 5 * np.log10(d) - 5 + EXTINCTION_COEFFICIENTS["gaia"]["G"] * e
        ok = (g > G_BRIGHT) & (g < G_LIMIT)
        dist[todo[ok]], ebv[todo[ok]] = d[ok], e[ok]
        todo = todo[~ok]
        draws += 1
        if draws % MAX_DISTANCE_DRAWS == 0 and todo.size:  # hopeless: new parameters for these
            new = stars.stellar_parameters(rng, population[todo])
            new_mags = absolute_magnitudes(rng, new["teff"], new["logg"], new["feh"],
                                           stars.bolometric_magnitude(new["teff"], new["logg"], new["mass"]))
            for k in params:
                params[k][todo] = new[k]
            for k in mags:
                mags[k][todo] = new_mags[k]
    return {**params, **{f"abs_{k}": v for k, v in mags.items()}, "distance_pc": dist, "ebv": ebv}


def _companions(rng: np.random.Generator, ra: np.ndarray, dec: np.ndarray, center: SkyCoord,
                radius_deg: float) -> np.ndarray:
    """Move a few stars next to another one; return primary index per star (itself if single)."""
    n = len(ra)
    primary = np.arange(n)
    comp = np.flatnonzero(rng.random(n) < COMPANION_FRACTION)
    if n < 2 or comp.size == 0:
        return primary
    singles = np.setdiff1d(np.arange(n), comp)
    hosts = rng.choice(singles, comp.size, replace=False) if singles.size >= comp.size else singles[:0]
    if hosts.size == 0:
        return primary
    sep = rng.uniform(0.3, COMPANION_MAX_SEP_ARCSEC, comp.size) / 3600.0
    ang = rng.uniform(0, 2 * np.pi, comp.size)
    new_dec = dec[hosts] + sep * np.cos(ang)
    new_ra = (ra[hosts] + sep * np.sin(ang) / np.cos(np.deg2rad(dec[hosts]))) % 360.0
    inside = SkyCoord(new_ra * u.deg, new_dec * u.deg).separation(center).deg < radius_deg * (1 - 1e-9)
    comp, hosts = comp[inside], hosts[inside]
    ra[comp], dec[comp] = new_ra[inside], new_dec[inside]
    primary[comp] = hosts
    return primary


def simulate_sky(center: SkyCoord | Iterable[float] = (180.0, 0.0), radius: u.Quantity | float = 2.0,
                 n_stars: int | None = None, seed: int = 0, surveys: Iterable[str] = ("sdss", "skymapper"),
                 density_per_deg2: float = DEFAULT_DENSITY_PER_DEG2) -> SyntheticSky:
    """Make the synthetic archive tables of a cone.

    Parameters
    ----------
    center
        Cone centre: a SkyCoord or (ra, dec) in degrees (ICRS).
    radius
        Cone radius (Quantity or degrees).
    n_stars
        Number of Gaia sources; default ``density_per_deg2`` times the cone's area.
    seed
        Random seed; the output is a deterministic function of all arguments.
    surveys
        Photometric surveys to simulate (``sdss``, ``skymapper``).
    density_per_deg2
        Source density used when ``n_stars`` is None.

    Returns
    -------
    SyntheticSky
        Stars are uniformly distributed inside the cone (on the sphere).
    """
    center = _as_center(center)
    radius_deg = _radius_deg(radius)
    surveys = tuple(surveys)
    for sv in surveys:
        if sv not in at.PHOTOMETRY_TABLE:
            raise ValueError(f"unknown survey {sv!r}: expected one of {', '.join(at.PHOTOMETRY_TABLE)}")
    area = 2 * np.pi * (1 - np.cos(np.deg2rad(radius_deg))) * (180 / np.pi) ** 2
    n = int(round(density_per_deg2 * area)) if n_stars is None else int(n_stars)
    if n < 0:
        raise ValueError(f"n_stars must be >= 0, got {n}")
    rng = np.random.default_rng(seed)
    ra, dec = stars.uniform_cone(rng, center, radius_deg, n)
    primary = _companions(rng, ra, dec, center, radius_deg)
    l_deg, b_deg = stars.galactic(ra, dec)
    population = stars.sample_populations(rng, n)
    ebv_sfd = stars.sfd_reddening(rng, b_deg)
    placed = _place_stars(rng, population, b_deg, ebv_sfd)
    comp = stars.component(population)
    pmra, pmdec = stars.proper_motions(rng, comp, placed["distance_pc"])
    dm = 5 * np.log10(placed["distance_pc"]) - 5
    s: dict[str, np.ndarray] = {
        "ra": ra, "dec": dec, "l": l_deg, "b": b_deg, "population": population,
        "ebv_sfd": ebv_sfd, "pmra": pmra, "pmdec": pmdec, **placed,
        "source_id": source_ids(rng, ra, dec),
    }
    gaia_ext = EXTINCTION_COEFFICIENTS["gaia"]
    for band in ("G", "BP", "RP"):
        s[f"app_{band}"] = placed[f"abs_{band}"] + dm + gaia_ext[band] * placed["ebv"]
    for key in ("sdss", "sm"):  # survey magnitudes without extinction (added per survey)
        for b in EXTINCTION_COEFFICIENTS["sdss" if key == "sdss" else "skymapper"]:
            s[f"app_{key}_{b}"] = placed[f"abs_{key}_{b}"] + dm
    plan = failures.injection_plan(rng, n)
    tables = gaia_tables(rng, s, plan)
    gaia = tables[at.GAIA_SOURCE]
    gmag = np.ma.filled(gaia["phot_g_mean_mag"].astype(float), np.nan)
    for sv in surveys:
        tables.update(survey_tables(rng, sv, s, plan, primary))
    tables[at.SOS_SPECTRO] = sos_table(rng, s, gmag)
    tables[at.PASTEL] = pastel_table(rng, s, gmag, pmra, pmdec)
    meta = {"seed": seed, "center_ra": float(center.ra.deg), "center_dec": float(center.dec.deg),
            "radius_deg": radius_deg, "n_stars": n, "surveys": list(surveys), "SYNTHETIC": True,
            "version": __version__}
    for t in tables.values():
        t.meta.update({"seed": seed, "version": __version__})
    truth = _truth_table(s, primary, tables, plan, surveys)
    truth.meta.update(meta)
    return SyntheticSky(tables=tables, truth=truth, meta=meta)


def _truth_table(s: dict[str, np.ndarray], primary: np.ndarray, tables: dict[str, Table],
                 plan: dict[str, np.ndarray], surveys: tuple[str, ...]) -> Table:
    n = len(s["ra"])
    gaia = tables[at.GAIA_SOURCE]
    fails = failures.evaluate_gaia_cuts(gaia, np.asarray(tables[at.GAIA_DISTANCE]["source_id"]))
    member = {}
    for sv in ("sdss", "skymapper"):
        member[sv] = np.zeros(n, bool)
        if sv not in surveys:
            continue
        nb = tables[at.NEIGHBOUR_TABLE[sv]]
        phot = tables[at.PHOTOMETRY_TABLE[sv]]
        rows = np.searchsorted(np.asarray(gaia["source_id"]), np.asarray(nb["source_id"]))
        order = np.argsort(np.asarray(gaia["source_id"]))
        sorted_ids = np.asarray(gaia["source_id"])[order]
        rows = order[np.searchsorted(sorted_ids, np.asarray(nb["source_id"]))]
        pid = np.asarray(phot[at.PHOTOMETRY_ID[sv]])
        porder = np.argsort(pid)
        prow = porder[np.searchsorted(pid[porder], np.asarray(nb["original_ext_source_id"]))]
        if not np.array_equal(pid[prow], np.asarray(nb["original_ext_source_id"])):
            raise SchemaError(f"{at.NEIGHBOUR_TABLE[sv]}: original_ext_source_id without photometry")
        survey_fails = failures.evaluate_survey_cuts(sv, phot[prow], nb)
        member[sv][rows] = True
        for name, mask in survey_fails.items():
            full = np.zeros(n, bool)
            full[rows] = mask
            fails[name] = full
    t = Table()
    t["source_id"] = s["source_id"]
    t["ra"], t["dec"] = s["ra"], s["dec"]
    t["l"], t["b"] = s["l"], s["b"]
    t["population"] = s["population"].astype(str)
    t["teff"] = MaskedColumn(s["teff"], unit="K", description="True effective temperature")
    t["logg"] = MaskedColumn(s["logg"], unit="dex", description="True log10(g / cm s-2)")
    t["feh"] = MaskedColumn(s["feh"], unit="dex", description="True [Fe/H]")
    t["mass"] = MaskedColumn(s["mass"], unit="solMass", description="Mass used for the luminosity")
    t["distance_pc"] = MaskedColumn(s["distance_pc"], unit="pc", description="True distance")
    t["ebv"] = MaskedColumn(s["ebv"], unit="mag", description="True E(B-V) in front of the star")
    t["a_v"] = MaskedColumn(3.1 * s["ebv"], unit="mag", description="True A_V = 3.1 E(B-V)")
    t["ebv_sfd"] = MaskedColumn(s["ebv_sfd"], unit="mag", description="Total line-of-sight E(B-V) (SFD-like)")
    for band in ("G", "BP", "RP"):
        t[f"abs_{band}"] = MaskedColumn(s[f"abs_{band}"], unit="mag", description=f"True absolute {band} magnitude")
    t["in_sdss"] = member["sdss"]
    t["in_skymapper"] = member["skymapper"]
    t["companion_of"] = np.where(primary == np.arange(n), 0, s["source_id"][primary])
    t["has_sos_label"] = np.isin(s["source_id"], np.asarray(tables[at.SOS_SPECTRO]["source_id"]))
    t["fails"] = failures.fails_strings(n, fails)
    t["injected"] = failures.fails_strings(n, plan)
    t.meta["DESCRIPTION"] = f"Truth behind the synthetic archive tables. {at.SYNTHETIC_DESCRIPTION}"
    t.meta["CUT_NAMES"] = list(failures.CUT_NAMES)
    return t
