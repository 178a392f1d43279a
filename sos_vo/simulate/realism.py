"""The synthetic sky measured against real stars.

Three real, public tables are compared with a synthetic sky (:func:`sos_vo.simulate.simulate_sky`):

* SDSS DR17 SEGUE/SSPP stars: SDSS colours u-g, g-r, r-i, i-z (photoObj model magnitudes, *not*
  dereddened) and the adopted SSPP [Fe/H] (:func:`read_segue`);
* SDSS DR17 MaStar stars: SDSS PSF u g r i z and Gaia EDR3 G, BP, RP (:func:`read_mastar`);
* GALAH DR3 stars with Gaia G, photo-geometric distances and E(B-V) (:func:`read_galah`).

Like is compared with like (:func:`segue_comparison`):

* the synthetic stars are the SDSS best neighbours of the Gaia sources, with the *observed*
  (noisy, reddened) PSF magnitudes of the synthetic SDSS table, in the magnitude range of the
  SEGUE spectroscopic targets (:data:`SEGUE_G_RANGE`); real and synthetic colours are both
  reddened (the real table is not dereddened and carries no E(B-V)), the synthetic sky sitting at
  high Galactic latitude as most SEGUE plates do;
* the synthetic stars are binned by a label carrying the SSPP's [Fe/H] uncertainty
  (:data:`SSPP_FEH_SIGMA`) instead of the true [Fe/H];
* SEGUE's targets are chosen by colour (metal-poor turn-off stars, G and K dwarfs, K giants;
  Yanny et al. 2009, AJ 137, 4377, Sect. 3), so their joint distribution in (g-r, [Fe/H]) is not
  that of any magnitude-limited field.  The synthetic stars are weighted so that their joint
  distribution in (g-r, noisy [Fe/H]) on a fine grid (:data:`WEIGHT_GRID`) is the real one; every
  median, MAD and fit below uses these weights.

The statistics (medians of u-g in bins of g-r and [Fe/H], the u-g change per dex of [Fe/H], the
[Fe/H] improvement of a colours-only XGBoost regressor, g - G against BP-RP) are those of the
calibration targets in ``tests/simulate/test_realism.py``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from . import archive_tables as at

REALDATA_ENV = "SOS_VO_REALDATA"
"""Environment variable naming the folder of the real public tables (default: ``shared/realdata``
beside the repository)."""
SEGUE_FILE = "segue_sspp_colours/data_valid_data.csv"
MASTAR_FILE = "mastar_sdss_gaia/data_mlp.csv"
GALAH_FILE = "apogee_galah_gaia/Galah_data_filtered_1061.fits"
APOGEE_FILE = "apogee_galah_gaia/Apogee_data_filtered_1612.fits"

SEGUE_COLOURS = ("ug", "gr", "ri", "iz")
SEGUE_BAD_COLOUR = 5.0
"""Rows with |colour| above this are SDSS -9999 null artefacts (a difference of a null and a
magnitude) and are dropped."""

SSPP_FEH_SIGMA = 0.10
"""Random [Fe/H] error of the SSPP labels: the typical internal error, <= 0.10 dex for S/N >= 10
spectra of 4500-7500 K stars (Lee et al. 2008, AJ 136, 2022, Sect. 8; quoted by the SEGUE
stellar-parameter pages).  The synthetic stars are binned in true [Fe/H] plus this noise.  The
external error, 0.22 dex against high-resolution analyses (Allende Prieto et al. 2008, AJ 136,
2070), adds scale systematics shared by every SSPP label, which neither the binned medians nor a
regressor trained and tested on SSPP labels see as scatter.  Check (``benchmarks.realism``, seed
2): with 0.10 dex the synthetic colours-only XGBoost residual MAD is 0.216 dex, the real one
0.217 dex; with 0.22 dex it is 0.259 dex."""

SEGUE_G_RANGE = (14.0, 20.3)
"""g range of the SEGUE spectroscopic targets (Yanny et al. 2009, AJ 137, 4377, Sect. 3: the
bright limit set by saturation, the faint one by S/N).  The real table carries colours only, so
the synthetic stars are cut to this range."""

GR_EDGES = (0.25, 0.35, 0.45, 0.55, 0.65, 0.75)
FEH_EDGES = (-2.5, -1.5, -1.0, -0.6, -0.3, 0.3)
"""Bins of the u-g comparison: g-r (observed) and [Fe/H] (SSPP-like).  F, G and early-K stars,
where u-g carries the metallicity (Ivezic et al. 2008, ApJ 684, 287, Sect. 3)."""
MIN_BIN_STARS = 100
"""A bin is compared when it holds at least this many real and this many synthetic stars."""

WEIGHT_GRID = (np.arange(0.0, 1.501, 0.05), np.arange(-4.0, 1.01, 0.1))
"""Fine (g-r, [Fe/H]) grid on which the synthetic stars are weighted to the real joint
distribution (0.05 mag x 0.1 dex: finer than the comparison bins, so that the stars inside each
comparison bin are distributed as the real ones)."""
MAX_WEIGHT_RATIO = 50.0
"""Weights are capped at this many times their median, so that a handful of synthetic stars in a
cell the real sample fills cannot dominate (our choice)."""

COLOUR_XGB_PARAMS: dict[str, Any] = {
    "n_estimators": 400, "learning_rate": 0.05, "max_depth": 5, "subsample": 0.8,
    "tree_method": "hist",
}
"""XGBoost regressor of [Fe/H] on the four SDSS colours (the algorithm of Andrae et al. 2023;
our hyper-parameters: a common gradient-boosting setting, identical for real and synthetic)."""
XGB_TEST_FRACTION = 0.5
"""Fraction of the stars held out to measure the colours-to-[Fe/H] improvement."""

BPRP_EDGES = tuple(np.round(np.arange(0.5, 2.01, 0.1), 2))
"""BP-RP bins of the g - G comparison with MaStar."""
MASTAR_G_RANGE = (14.0, 18.0)
"""Gaia G range compared with MaStar: SDSS PSF magnitudes saturate brighter than ~14 (York et al.
2000, AJ 120, 1579), and MaStar targets are brighter than G ~ 18 (Yan et al. 2019, ApJ 883, 175)."""


def realdata_dir() -> Path:
    """Folder of the real public tables: ``$SOS_VO_REALDATA`` or ``shared/realdata`` beside the
    repository that holds this package."""
    env = os.environ.get(REALDATA_ENV)
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[3] / "shared" / "realdata"


def _path(name: str, folder: str | Path | None) -> Path:
    path = Path(folder if folder is not None else realdata_dir()) / name
    if not path.is_file():
        raise FileNotFoundError(f"real-data table {path} not found (set {REALDATA_ENV})")
    return path


def _read_csv(path: Path) -> np.ndarray:
    """A numeric CSV file with a header line, as a structured array (numpy only: the core
    install has no pandas)."""
    return np.genfromtxt(path, delimiter=",", names=True, dtype=float, encoding="utf-8")


def read_segue(folder: str | Path | None = None) -> dict[str, np.ndarray]:
    """Real SEGUE/SSPP stars: ``ug, gr, ri, iz`` (not dereddened) and ``feh`` (FEH_ADOP).

    Rows with a colour beyond +-:data:`SEGUE_BAD_COLOUR` or a non-finite value are dropped.
    """
    df = _read_csv(_path(SEGUE_FILE, folder))
    cols = [*SEGUE_COLOURS, "feh"]
    arr = {c: np.asarray(df[c], float) for c in cols}
    ok = np.all([np.isfinite(arr[c]) for c in cols], axis=0)
    ok &= np.all([np.abs(arr[c]) < SEGUE_BAD_COLOUR for c in SEGUE_COLOURS], axis=0)
    return {c: v[ok] for c, v in arr.items()}


def read_mastar(folder: str | Path | None = None) -> dict[str, np.ndarray]:
    """Real MaStar stars: SDSS PSF ``u g r i z`` and Gaia ``G, BP, RP`` (finite rows only)."""
    df = _read_csv(_path(MASTAR_FILE, folder))
    out = {b: np.asarray(df[b], float) for b in "ugriz"}
    out.update({"G": np.asarray(df["gaia_g"], float), "BP": np.asarray(df["bp"], float),
                "RP": np.asarray(df["rp"], float)})
    ok = np.all([np.isfinite(v) & (v > 0) for v in out.values()], axis=0)
    return {k: v[ok] for k, v in out.items()}


def read_galah(folder: str | Path | None = None) -> dict[str, np.ndarray]:
    """Real GALAH DR3 stars: ``teff, logg, feh``, Gaia ``G``, photo-geometric distance and E(B-V)."""
    from astropy.table import Table

    t = Table.read(_path(GALAH_FILE, folder))
    out = {"teff": t["teff"], "logg": t["logg"], "feh": t["fe_h"], "G": t["phot_g_mean_mag"],
           "distance_pc": t["r_med_photogeo"], "ebv": t["ebv"]}
    out = {k: np.asarray(np.ma.filled(np.ma.asarray(v, dtype=float), np.nan)) for k, v in out.items()}
    ok = np.all([np.isfinite(v) for v in out.values()], axis=0)
    return {k: v[ok] for k, v in out.items()}


# -- the synthetic sample -------------------------------------------------------------------

def synthetic_sdss_stars(sky) -> dict[str, np.ndarray]:
    """SDSS best neighbours of the synthetic Gaia sources, as a user would join them.

    One row per Gaia source with a single SDSS neighbour and no mate, all five PSF magnitudes
    present and Gaia G, BP, RP present.  Keys: ``u g r i z`` (observed, reddened), ``ext_<band>``
    (the SDSS ``extinction_<band>``), ``G BP RP`` (observed), and the truth ``feh teff logg ebv
    population``.
    """
    nb = sky.tables[at.NEIGHBOUR_TABLE["sdss"]]
    ph = sky.tables[at.PHOTOMETRY_TABLE["sdss"]]
    gaia = sky.tables[at.GAIA_SOURCE]
    truth = sky.truth
    keep = (np.asarray(nb["number_of_mates"]) == 0) & (np.asarray(nb["number_of_neighbours"]) == 1)
    sid = np.asarray(nb["source_id"], dtype=np.int64)[keep]
    oid = np.asarray(nb["original_ext_source_id"], dtype=np.int64)[keep]

    def rows(ids: np.ndarray, key: np.ndarray) -> np.ndarray:
        order = np.argsort(key)
        pos = order[np.searchsorted(key[order], ids)]
        if not np.array_equal(key[pos], ids):
            raise KeyError("synthetic sky: a best neighbour without its row")
        return pos

    prow = rows(oid, np.asarray(ph[at.PHOTOMETRY_ID["sdss"]], dtype=np.int64))
    grow = rows(sid, np.asarray(gaia["source_id"], dtype=np.int64))
    trow = rows(sid, np.asarray(truth["source_id"], dtype=np.int64))

    def col(table, name: str, idx: np.ndarray) -> np.ndarray:
        return np.asarray(np.ma.filled(np.ma.asarray(table[name], dtype=float), np.nan))[idx]

    out: dict[str, np.ndarray] = {}
    for b in "ugriz":
        mag = col(ph, f"psfmag_{b}", prow)
        out[b] = np.where(mag == at.SDSS_NULL, np.nan, mag)
        out[f"ext_{b}"] = col(ph, f"extinction_{b}", prow)
    for band, name in (("G", "phot_g_mean_mag"), ("BP", "phot_bp_mean_mag"), ("RP", "phot_rp_mean_mag")):
        out[band] = col(gaia, name, grow)
    for k in ("feh", "teff", "logg", "ebv"):
        out[k] = col(truth, k, trow)
    out["population"] = np.asarray(truth["population"]).astype(str)[trow]
    ok = np.all([np.isfinite(out[k]) for k in (*"ugriz", "G", "BP", "RP")], axis=0)
    return {k: v[ok] for k, v in out.items()}


# -- weighted statistics --------------------------------------------------------------------

def weighted_median(x: np.ndarray, w: np.ndarray | None = None) -> float:
    """Median of ``x`` with weights ``w`` (the inverted-CDF definition; plain median if None)."""
    x = np.asarray(x, float)
    if x.size == 0:
        return float("nan")
    if w is None:
        return float(np.median(x))
    return float(np.quantile(x, 0.5, weights=np.asarray(w, float), method="inverted_cdf"))


def weighted_mad(x: np.ndarray, w: np.ndarray | None = None) -> float:
    """1.4826 times the weighted median of |x - weighted median(x)| (T25 footnote 6)."""
    from ..stats import MAD_SCALE

    m = weighted_median(x, w)
    return MAD_SCALE * weighted_median(np.abs(np.asarray(x, float) - m), w)


def match_weights(syn_x: np.ndarray, syn_y: np.ndarray, real_x: np.ndarray, real_y: np.ndarray,
                  edges: tuple[np.ndarray, np.ndarray] = WEIGHT_GRID,
                  max_ratio: float = MAX_WEIGHT_RATIO) -> np.ndarray:
    """Weights that give the synthetic stars the real joint distribution of (x, y) on ``edges``.

    A synthetic star in cell c gets ``N_real(c) / N_syn(c)``; stars outside the grid or in cells
    without real stars get 0.  Weights are capped at ``max_ratio`` times their median (positive)
    value and normalised to a mean of 1 over the positive ones.
    """
    hr, _, _ = np.histogram2d(real_x, real_y, bins=edges)
    hs, _, _ = np.histogram2d(syn_x, syn_y, bins=edges)
    ix = np.digitize(syn_x, edges[0]) - 1
    iy = np.digitize(syn_y, edges[1]) - 1
    inside = (ix >= 0) & (ix < hr.shape[0]) & (iy >= 0) & (iy < hr.shape[1])
    w = np.zeros(len(syn_x))
    ratio = np.divide(hr, hs, out=np.zeros_like(hr), where=hs > 0)
    w[inside] = ratio[ix[inside], iy[inside]]
    pos = w > 0
    if pos.any():
        w = np.minimum(w, max_ratio * np.median(w[pos]))
        w /= w[pos].mean()
    return w


# -- the SEGUE comparison -------------------------------------------------------------------

@dataclass
class BinnedColour:
    """Median u-g in bins of g-r (rows) and [Fe/H] (columns), with counts and median [Fe/H]."""

    median: np.ndarray
    count: np.ndarray
    feh_median: np.ndarray

    def as_dict(self) -> dict[str, list]:
        return {"median": _nan_to_none(self.median), "count": self.count.tolist(),
                "feh_median": _nan_to_none(self.feh_median)}


def binned_colour(colour: np.ndarray, gr: np.ndarray, feh: np.ndarray, w: np.ndarray | None = None,
                  gr_edges: Sequence[float] = GR_EDGES, feh_edges: Sequence[float] = FEH_EDGES) -> BinnedColour:
    """Weighted median of ``colour`` and of ``feh`` in each (g-r, [Fe/H]) bin."""
    shape = (len(gr_edges) - 1, len(feh_edges) - 1)
    med = np.full(shape, np.nan)
    fmed = np.full(shape, np.nan)
    cnt = np.zeros(shape, int)
    use = np.ones(len(colour), bool) if w is None else w > 0
    for i in range(shape[0]):
        in_gr = use & (gr >= gr_edges[i]) & (gr < gr_edges[i + 1])
        for k in range(shape[1]):
            sel = in_gr & (feh >= feh_edges[k]) & (feh < feh_edges[k + 1])
            cnt[i, k] = int(sel.sum())
            if cnt[i, k]:
                ww = None if w is None else w[sel]
                med[i, k] = weighted_median(colour[sel], ww)
                fmed[i, k] = weighted_median(feh[sel], ww)
    return BinnedColour(med, cnt, fmed)


def common_slope(b: BinnedColour, valid: np.ndarray) -> float:
    """d(colour)/d[Fe/H] shared by every g-r row: least squares of the valid bin medians on the
    bin's median [Fe/H] with one intercept per row (rows with fewer than two valid bins skipped)."""
    xs, ys, rows = [], [], []
    for i in range(b.median.shape[0]):
        ok = valid[i]
        if ok.sum() < 2:
            continue
        xs.append(b.feh_median[i, ok])
        ys.append(b.median[i, ok])
        rows.append(np.full(ok.sum(), len(rows)))
    if not xs:
        return float("nan")
    x, y, r = np.concatenate(xs), np.concatenate(ys), np.concatenate(rows)
    design = np.column_stack([x, np.eye(len(xs))[r]])
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    return float(coef[0])


def xgboost_improvement(colours: np.ndarray, feh: np.ndarray, w: np.ndarray | None = None,
                        seed: int = 0, n_jobs: int = 2) -> dict[str, float]:
    """How much a colours-only XGBoost regressor narrows the spread of [Fe/H].

    The stars are split at random (:data:`XGB_TEST_FRACTION` held out); the regressor
    (:data:`COLOUR_XGB_PARAMS`) is fitted on the rest.  On the held-out stars: ``spread`` = MAD of
    [Fe/H], ``residual_mad`` = MAD of prediction - [Fe/H], ``bias`` = median of it, and
    ``factor`` = spread / residual_mad.  Weights, when given, enter the fit and every statistic.
    """
    from xgboost import XGBRegressor

    rng = np.random.default_rng(seed)
    idx = rng.permutation(len(feh)) if w is None else rng.permutation(np.flatnonzero(w > 0))
    n_test = int(round(XGB_TEST_FRACTION * idx.size))
    te, tr = idx[:n_test], idx[n_test:]
    wt = None if w is None else w[tr]
    model = XGBRegressor(**COLOUR_XGB_PARAMS, random_state=seed, n_jobs=n_jobs)
    model.fit(colours[tr], feh[tr], sample_weight=wt)
    res = model.predict(colours[te]) - feh[te]
    we = None if w is None else w[te]
    spread = weighted_mad(feh[te], we)
    rmad = weighted_mad(res, we)
    return {"n_train": int(tr.size), "n_test": int(te.size), "spread": spread, "residual_mad": rmad,
            "bias": weighted_median(res, we), "factor": spread / rmad}


@dataclass
class SegueComparison:
    """Real SEGUE vs synthetic: binned u-g, slopes, XGBoost improvement (see :func:`segue_comparison`)."""

    real: BinnedColour
    synthetic: BinnedColour
    valid: np.ndarray
    slope_real: float
    slope_synthetic: float
    xgb_real: dict[str, float] | None
    xgb_synthetic: dict[str, float] | None
    n_real: int
    n_synthetic: int
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def difference(self) -> np.ndarray:
        """Synthetic minus real median u-g; NaN where a bin has too few stars on either side."""
        return np.where(self.valid, self.synthetic.median - self.real.median, np.nan)

    @property
    def max_abs_difference(self) -> float:
        return float(np.nanmax(np.abs(self.difference)))

    @property
    def slope_ratio(self) -> float:
        return self.slope_synthetic / self.slope_real

    @property
    def xgb_ratio(self) -> float:
        if not (self.xgb_real and self.xgb_synthetic):
            return float("nan")
        return self.xgb_synthetic["factor"] / self.xgb_real["factor"]

    def as_dict(self) -> dict[str, Any]:
        return {"gr_edges": list(GR_EDGES), "feh_edges": list(FEH_EDGES), "min_bin_stars": MIN_BIN_STARS,
                "n_real": self.n_real, "n_synthetic": self.n_synthetic,
                "real": self.real.as_dict(), "synthetic": self.synthetic.as_dict(),
                "difference": _nan_to_none(self.difference),
                "max_abs_difference": self.max_abs_difference,
                "slope_real": self.slope_real, "slope_synthetic": self.slope_synthetic,
                "slope_ratio": self.slope_ratio, "xgb_real": self.xgb_real,
                "xgb_synthetic": self.xgb_synthetic, "xgb_ratio": self.xgb_ratio, **self.extra}


def segue_sample(stars: Mapping[str, np.ndarray], seed: int = 0,
                 feh_sigma: float | None = None) -> dict[str, np.ndarray]:
    """Synthetic SEGUE-like sample: observed colours, g in :data:`SEGUE_G_RANGE`, noisy [Fe/H]."""
    feh_sigma = SSPP_FEH_SIGMA if feh_sigma is None else feh_sigma
    g = stars["g"]
    sel = (g >= SEGUE_G_RANGE[0]) & (g <= SEGUE_G_RANGE[1])
    rng = np.random.default_rng(seed)
    out = {"ug": (stars["u"] - stars["g"])[sel], "gr": (stars["g"] - stars["r"])[sel],
           "ri": (stars["r"] - stars["i"])[sel], "iz": (stars["i"] - stars["z"])[sel],
           "feh_true": stars["feh"][sel], "population": stars["population"][sel]}
    out["feh"] = out["feh_true"] + rng.normal(0.0, feh_sigma, int(sel.sum()))
    return out


def segue_comparison(real: Mapping[str, np.ndarray], stars: Mapping[str, np.ndarray], seed: int = 0,
                     with_xgboost: bool = True, n_jobs: int = 2,
                     feh_sigma: float | None = None) -> SegueComparison:
    """Compare the real SEGUE stars with the synthetic SDSS stars like with like (module docstring).

    Parameters
    ----------
    real
        :func:`read_segue` output.
    stars
        :func:`synthetic_sdss_stars` output.
    seed
        Seed of the label noise and of the XGBoost splits.
    with_xgboost
        Also measure the colours-to-[Fe/H] XGBoost improvement on both samples.
    n_jobs
        XGBoost threads.
    feh_sigma
        [Fe/H] label noise of the synthetic stars (default :data:`SSPP_FEH_SIGMA`).
    """
    feh_sigma = SSPP_FEH_SIGMA if feh_sigma is None else feh_sigma
    syn = segue_sample(stars, seed, feh_sigma)
    w = match_weights(syn["gr"], syn["feh"], real["gr"], real["feh"])
    b_real = binned_colour(real["ug"], real["gr"], real["feh"])
    b_syn = binned_colour(syn["ug"], syn["gr"], syn["feh"], w)
    valid = (b_real.count >= MIN_BIN_STARS) & (b_syn.count >= MIN_BIN_STARS)
    xr = xs = None
    if with_xgboost:
        cols_r = np.column_stack([real[c] for c in SEGUE_COLOURS])
        cols_s = np.column_stack([syn[c] for c in SEGUE_COLOURS])
        xr = xgboost_improvement(cols_r, real["feh"], None, seed, n_jobs)
        xs = xgboost_improvement(cols_s, syn["feh"], w, seed, n_jobs)
    pos = w > 0
    return SegueComparison(
        real=b_real, synthetic=b_syn, valid=valid,
        slope_real=common_slope(b_real, valid), slope_synthetic=common_slope(b_syn, valid),
        xgb_real=xr, xgb_synthetic=xs, n_real=len(real["feh"]), n_synthetic=int(pos.sum()),
        extra={"effective_n_synthetic": float(w.sum() ** 2 / (w**2).sum()) if pos.any() else 0.0,
               "feh_sigma": feh_sigma, "g_range": list(SEGUE_G_RANGE)})


# -- MaStar: g - G against BP-RP ------------------------------------------------------------

def binned_g_minus_G(g: np.ndarray, G: np.ndarray, bprp: np.ndarray,
                     edges: Sequence[float] = BPRP_EDGES) -> tuple[np.ndarray, np.ndarray]:
    """Median g - G and star count in each BP-RP bin."""
    n = len(edges) - 1
    med = np.full(n, np.nan)
    cnt = np.zeros(n, int)
    for i in range(n):
        sel = (bprp >= edges[i]) & (bprp < edges[i + 1])
        cnt[i] = int(sel.sum())
        if cnt[i]:
            med[i] = float(np.median((g - G)[sel]))
    return med, cnt


def mastar_comparison(real: Mapping[str, np.ndarray], stars: Mapping[str, np.ndarray],
                      min_stars: int = MIN_BIN_STARS) -> dict[str, Any]:
    """Median SDSS g - Gaia G in BP-RP bins, real MaStar vs synthetic, both in :data:`MASTAR_G_RANGE`."""
    def cut(d: Mapping[str, np.ndarray]) -> np.ndarray:
        return (d["G"] >= MASTAR_G_RANGE[0]) & (d["G"] <= MASTAR_G_RANGE[1])

    r, s = cut(real), cut(stars)
    mr, nr = binned_g_minus_G(real["g"][r], real["G"][r], (real["BP"] - real["RP"])[r])
    ms, ns = binned_g_minus_G(stars["g"][s], stars["G"][s], (stars["BP"] - stars["RP"])[s])
    valid = (nr >= min_stars) & (ns >= min_stars)
    diff = np.where(valid, ms - mr, np.nan)
    return {"bprp_edges": list(BPRP_EDGES), "g_range": list(MASTAR_G_RANGE), "min_bin_stars": min_stars,
            "real": _nan_to_none(mr), "n_real": nr.tolist(), "synthetic": _nan_to_none(ms),
            "n_synthetic": ns.tolist(), "difference": _nan_to_none(diff),
            "max_abs_difference": float(np.nanmax(np.abs(diff))) if valid.any() else float("nan")}


# -- GALAH: Kiel diagram and absolute G by [Fe/H] -------------------------------------------

GALAH_FEH_EDGES = (-1.3, -0.9, -0.6, -0.3)
GALAH_TEFF_EDGES = (4000.0, 4300.0, 4600.0, 4900.0, 5200.0)
"""Bins of the GALAH comparison: the table holds giants (log g 1.0-2.6, Teff 4150-5050 K and
[Fe/H] -1.2 to -0.4 between its 5th and 95th percentiles)."""
GAIA_R_G = 2.740
"""A_G / E(B-V) (Casagrande & VandenBerg 2018, MNRAS 479, L102, Table 2; as the simulator)."""


def galah_comparison(real: Mapping[str, np.ndarray], truth, min_stars: int = 20) -> dict[str, Any]:
    """Median log g and absolute G of giants (log g < 3.5) in (Teff, [Fe/H]) bins: GALAH DR3 vs
    the synthetic truth.

    GALAH's absolute G is G - 5 log10(d/10 pc) - A_G with the photo-geometric distance and GALAH's
    E(B-V).  Printed for inspection (no calibration target: 1 000 stars, giants of the thick disc and
    inner halo chosen for chemical-evolution work, a different selection from a high-latitude cone).
    """
    mg_real = real["G"] - 5 * np.log10(real["distance_pc"] / 10.0) - GAIA_R_G * real["ebv"]
    t = {k: np.asarray(np.ma.filled(np.ma.asarray(truth[k], dtype=float), np.nan))
         for k in ("teff", "logg", "feh", "abs_G")}
    out: dict[str, Any] = {"teff_edges": list(GALAH_TEFF_EDGES), "feh_edges": list(GALAH_FEH_EDGES),
                           "min_bin_stars": min_stars, "n_real": len(real["teff"])}
    for name, dwarfs_real, dwarfs_syn in (("giants", real["logg"] < 3.5, t["logg"] < 3.5),):
        for key, vr, vs in (("logg", real["logg"], t["logg"]), ("abs_G", mg_real, t["abs_G"])):
            mr = np.full((len(GALAH_TEFF_EDGES) - 1, len(GALAH_FEH_EDGES) - 1), np.nan)
            ms = mr.copy()
            for i in range(mr.shape[0]):
                for k in range(mr.shape[1]):
                    def sel(teff: np.ndarray, feh: np.ndarray, base: np.ndarray, i: int = i, k: int = k) -> np.ndarray:
                        return (base & (teff >= GALAH_TEFF_EDGES[i]) & (teff < GALAH_TEFF_EDGES[i + 1])
                                & (feh >= GALAH_FEH_EDGES[k]) & (feh < GALAH_FEH_EDGES[k + 1]))
                    a = sel(real["teff"], real["feh"], dwarfs_real)
                    b = sel(t["teff"], t["feh"], dwarfs_syn)
                    if a.sum() >= min_stars and b.sum() >= min_stars:
                        mr[i, k] = np.median(vr[a])
                        ms[i, k] = np.median(vs[b])
            out[f"{name}_{key}"] = {"real": _nan_to_none(mr), "synthetic": _nan_to_none(ms),
                                    "difference": _nan_to_none(ms - mr)}
    return out


def _nan_to_none(a: np.ndarray) -> list:
    return np.where(np.isfinite(a), np.round(np.asarray(a, float), 4), None).tolist()
