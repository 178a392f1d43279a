"""Synthetic spectroscopic labels: SoS-Spectro (``sos_spectro.main``) and PASTEL (``B/pastel/pastel``).

SoS-Spectro values are the truth shifted by the SoS-minus-PASTEL trend of T25 Table 1 (Eq. 2),
plus SoS-like noise; PASTEL values are the truth plus literature-like noise.  So the PASTEL
recalibration of :mod:`sos_vo.labels` should recover Table 1 and bring the SoS labels back onto
the truth.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from astropy.table import Table

from . import archive_tables as at

RECALIBRATION = {
    "teff": (112.0, -6.66e-3, -28.1, -40.7),
    "logg": (0.159, -2.21e-5, -0.00242, -0.0689),
    "feh": (0.0769, -3.84e-7, -0.0186, -0.0262),
}
"""Delta f = a + b Teff + c logg + d [Fe/H] = SoS - PASTEL (T25 Table 1, Eq. 2)."""

SOS_NOISE = {"teff": 35.0, "logg": 0.06, "feh": 0.05}
"""SoS-Spectro label scatter.  T25 Table 4: the ML reproduces SoS to a MAD of ~47 K / 0.07 / 0.07
dex, which bounds the label noise from above; *synthetic choice* of values somewhat below."""
PASTEL_NOISE = {"teff": 80.0, "logg": 0.15, "feh": 0.08}
"""PASTEL entry-to-entry scatter (*synthetic choice*; with SoS_NOISE it gives a PASTEL-SoS MAD
near the paper's 143 K / 0.21 / 0.11 dex, T25 Sect. 3)."""
SOS_G_LIMIT = 17.0
SOS_FRACTION = 0.3
SOS_HALO_FRACTION = 0.6
"""A star with G < 17 has SoS labels with probability 0.3 (0.6 for halo stars, which
spectroscopic surveys over-target); *synthetic choice*."""
PASTEL_G_LIMIT = 13.0
PASTEL_FRACTION = 0.05
PASTEL_METAL_POOR_G_LIMIT = 16.0
PASTEL_METAL_POOR_FRACTION = 0.3
"""PASTEL: bright stars (G < 13, 5 %) and metal-poor stars ([Fe/H] < -1, G < 16, 30 %),
like the real compilation's bias towards bright and metal-poor targets (*synthetic choice*)."""
PASTEL_MEAN_EXTRA_ENTRIES = 0.6
"""Mean number of additional bibliographic entries per PASTEL star (Poisson; PASTEL has
64 082 entries for 31 401 stars, Soubiran et al. 2016)."""
PASTEL_TEFF_ONLY_FRACTION = 0.1
"""Entries with Teff only (PASTEL also lists Teff-only determinations)."""
PASTEL_NO_ERROR_FRACTION = 0.3
"""Entries without quoted errors (*synthetic choice*)."""


def recalibration_offset(param: str, teff: np.ndarray, logg: np.ndarray, feh: np.ndarray) -> np.ndarray:
    """T25 Eq. 2 trend Delta f for ``param``."""
    a, b, c, d = RECALIBRATION[param]
    return a + b * teff + c * logg + d * feh


def sos_table(rng: np.random.Generator, s: Mapping[str, np.ndarray], gmag: np.ndarray) -> Table:
    """SoS-Spectro labels of a random subset of the bright stars."""
    n = len(gmag)
    halo = np.char.startswith(s["population"].astype(str), "metal_poor_halo")
    p = np.where(halo, SOS_HALO_FRACTION, SOS_FRACTION)
    sel = (gmag < SOS_G_LIMIT) & (rng.random(n) < p)
    truth = {k: s[k][sel] for k in ("teff", "logg", "feh")}
    noisy = {k: truth[k] + rng.normal(0, SOS_NOISE[k], sel.sum()) for k in truth}
    # SoS = truth + Delta(SoS): solve the fixed point (converges in a few steps, |dDelta/df| << 1)
    sos = dict(noisy)
    for _ in range(5):
        sos = {k: noisy[k] + recalibration_offset(k, sos["teff"], sos["logg"], sos["feh"]) for k in noisy}
    values = {"source_id": s["source_id"][sel], "n_surveys": rng.integers(1, 4, sel.sum())}
    for k in ("teff", "logg", "feh"):
        values[k] = sos[k]
        values[f"e_{k}"] = SOS_NOISE[k] * np.exp(rng.normal(0, 0.2, sel.sum()))
    return at.build_table(at.SOS_SPECTRO, values)


def pastel_table(rng: np.random.Generator, s: Mapping[str, np.ndarray], gmag: np.ndarray,
                 pmra: np.ndarray, pmdec: np.ndarray) -> Table:
    """PASTEL entries (several per star) at J2000 positions of the chosen stars."""
    n = len(gmag)
    sel = ((gmag < PASTEL_G_LIMIT) & (rng.random(n) < PASTEL_FRACTION)) | (
        (gmag < PASTEL_METAL_POOR_G_LIMIT) & (s["feh"] < -1.0) & (rng.random(n) < PASTEL_METAL_POOR_FRACTION))
    stars = np.flatnonzero(sel)
    reps = 1 + rng.poisson(PASTEL_MEAN_EXTRA_ENTRIES, stars.size)
    idx = np.repeat(stars, reps)
    m = idx.size
    dt = 2000.0 - 2016.0
    dec = s["dec"][idx] + pmdec[idx] * dt / 3.6e6
    ra = (s["ra"][idx] + pmra[idx] * dt / 3.6e6 / np.cos(np.deg2rad(s["dec"][idx]))) % 360.0
    values: dict[str, np.ndarray] = {
        "ID": np.char.add("SYNTH-PASTEL ", idx.astype(str)),
        "RAJ2000": ra, "DEJ2000": dec,
        "bibcode": np.char.add("2099Synth.", np.char.zfill(rng.integers(0, 10**9, m).astype(str), 9)),
    }
    masks: dict[str, np.ndarray] = {}
    teff_only = rng.random(m) < PASTEL_TEFF_ONLY_FRACTION
    no_err = rng.random(m) < PASTEL_NO_ERROR_FRACTION
    for k, col in (("teff", "Teff"), ("logg", "logg"), ("feh", "[Fe/H]")):
        values[col] = s[k][idx] + rng.normal(0, PASTEL_NOISE[k], m)
        values[f"e_{col}"] = PASTEL_NOISE[k] * np.exp(rng.normal(0, 0.3, m))
        masks[col] = teff_only if k != "teff" else np.zeros(m, bool)
        masks[f"e_{col}"] = no_err | masks[col]
    return at.build_table(at.PASTEL, values, masks)
