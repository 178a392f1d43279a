"""Quality cuts of T25 Sect. 2.1-2.3, each named, cited and counted.

T25 = Turchi et al. (2025), Survey of Surveys II; SPIE = the earlier SkyMapper-only paper
(Turchi et al. 2024, SPIE).  Every threshold below is a module constant with its source.

:func:`apply_cuts` applies, in this order: the Gaia cuts (Sect. 2.1), the one-to-one
best-neighbour rule (Sects. 2.2-2.3), then the SDSS (Sect. 2.2) or SkyMapper (Sect. 2.3)
cuts.  It returns the kept rows and a :class:`CutReport` listing for each cut its name, its
source, and the rows before, removed and after (cuts are sequential, so a row failing two
cuts is counted by the first).

The cuts are pure row-wise predicates, so a table can be processed in chunks and the
reports added (:meth:`CutReport.combine`).

Units are checked by :func:`sos_vo.prepare.columns.float_values`: a column without a unit is
taken in the contract's unit (mag, mas, km/s, K, pc), a convertible unit is converted
(``arcsec`` -> ``mas``, ``kpc`` -> ``pc``), anything else (a magnitude in ``Jy``) raises
:class:`~sos_vo.exceptions.SchemaError` naming the column and both units.

Choices the papers leave open (named here so users can see them):

* Missing values.  ``vbroad`` is cut "when this parameter was available" (T25), so a missing
  ``vbroad`` passes; likewise a missing ``teff_gspphot`` passes the 9000 K cut (the cut is
  on stars *with* a photometric temperature; the feature is then flagged missing) and a
  missing A_g passes the A_g <= 10 mag cut.  Every other missing value fails its cut (no
  distance, no parallax_error, ...), see :data:`MISSING_PASSES`.
* SDSS "type=6".  T25 writes "We removed galaxies from SDSS DR13 with type=6", but in SDSS
  ``type`` 6 is STAR and 3 is GALAXY (SDSS PhotoType); removing type 6 would remove every
  star.  This is a slip in the paper: we *keep* ``type == 6`` (:data:`SDSS_STAR_TYPE`).
* Magnitudes.  SDSS writes non-detections as -9999 or very faint values, SkyMapper as NULL.
  A magnitude outside 0-25 mag is set to missing (masked, with its error) and a row needs at
  least two valid magnitudes (T25 Sect. 2.2).  T25 Sect. 2.3 says for SkyMapper "Similarly
  to the SDSS case, we removed stars outside of the range 0-25 mag": we apply the same rule
  to both surveys (the alternative, dropping every SkyMapper row with one out-of-range band,
  would remove most stars lacking a shallow u or v measurement).
* SkyMapper "flagPSF".  SkyMapper DR2 ``master`` (and its Gaia-archive copy
  ``external.skymapperdr2_master``) *does* have a ``flags_psf`` column, "Bitmask indicating
  whether photometry is likely biased by neighbours at >1%; bits 0-5 correspond to filters
  z-u" (archive column description), so T25's "flagPSF=0" is ``flags_psf == 0`` (default,
  ``sm_psf_flags="flags_psf"``; the column travels as an extra of
  :func:`sos_vo.prepare.crossmatch.join_survey`).  The docstring of
  :data:`sos_vo.schema.SKYMAPPER_COLUMNS`, which reads flagPSF as the per-band SExtractor
  ``{b}_flags``, is superseded here; that reading is kept as ``sm_psf_flags="band_flags"``
  (``{b}_flags == 0`` for every band with a magnitude).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import astropy.units as u
import numpy as np
from astropy.table import MaskedColumn, Table

# The Gaia DR3 thresholds (T25 Sect. 2.1) live in sos_vo.gaia_dr3, shared with the ADQL of the
# archive layer; they are re-exported here under their names.
from ..gaia_dr3 import (  # noqa: F401
    MAX_ASTROMETRIC_SIGMA5D_MAX,
    MAX_G_MAG,
    MAX_IPD_FRAC_MULTI_PEAK,
    MAX_IPD_FRAC_ODD_WIN,
    MAX_PARALLAX_ERROR,
    MAX_RUWE,
    MAX_TEFF_GSPPHOT,
    MAX_TEFF_GSPPHOT_SPIE,
    MAX_VBROAD,
    VARIABLE_FLAG,
)
from ..schema import BANDS, NEIGHBOUR_COLUMNS, check_survey
from .columns import float_values, require_columns, require_rows
from .features import (
    SKYMAPPER_EBV_COLUMN,
    extinction,
    magnitude_column,
    magnitude_error_column,
)

# T25 Sects. 2.2-2.3: one-to-one best neighbours (Marrese et al. 2017, 2019)
REQUIRED_NUMBER_OF_NEIGHBOURS = 1
"""T25 Sect. 2.2: "We dropped all stars in each catalog that corresponded to more than one
star in the other catalog": exactly one neighbour in the Gaia best-neighbour table ..."""
REQUIRED_NUMBER_OF_MATES = 0
"""... and no other Gaia source sharing the same survey object (``number_of_mates == 0``)."""

# T25 Sect. 2.2: SDSS DR13
SDSS_STAR_TYPE = 6
"""SDSS PhotoType 6 = STAR (3 = GALAXY).  T25 Sect. 2.2's "removed galaxies ... with type=6"
is a slip: we keep type 6."""
SDSS_CLEAN = 1
"""T25 Sect. 2.2: "only well measured stars with clean=1"."""
MAG_RANGE = (0.0, 25.0)
"""T25 Sects. 2.2-2.3: magnitudes outside 0-25 mag are invalid (inclusive bounds)."""
MIN_VALID_MAGS = 2
"""T25 Sect. 2.2: "We excluded stars having less than two valid magnitude measurements";
applied to SkyMapper too ("Similarly to the SDSS case", T25 Sect. 2.3)."""
MAX_A_G = 10.0 * u.mag
"""T25 Sects. 2.2-2.3: "reddening greater than 10 mag in the g band" removed (A_g)."""

# T25 Sect. 2.3: SkyMapper DR2
MIN_CLASS_STAR = 0.8
"""T25 Sect. 2.3: "classStar > 0.8" (strict)."""
SM_FLAGS = 0
"""T25 Sect. 2.3: "flag=0"."""
SM_FLAGS_PSF = 0
"""T25 Sect. 2.3: "flagPSF=0": SkyMapper DR2 ``flags_psf == 0``."""
SM_BAND_FLAGS = 0
"""Alternative reading of "flagPSF=0" (option ``sm_psf_flags="band_flags"``): ``{b}_flags == 0``."""
SM_PSF_FLAG_RULES = ("flags_psf", "band_flags")
"""Readings of T25's "flagPSF=0" (see the module docstring); the first is the default."""

MISSING_PASSES = ("vbroad", "teff_gspphot", "A_g")
"""Quantities whose cut lets a missing value pass (see the module docstring)."""

T25_21 = "T25 Sect. 2.1"
T25_22 = "T25 Sect. 2.2"
T25_23 = "T25 Sect. 2.3"
T25_NB = "T25 Sects. 2.2-2.3 (Marrese et al. 2017, 2019 best neighbours)"


# --------------------------------------------------------------------------------------
# Predicates: each returns a boolean "keep" mask of len(table)
# --------------------------------------------------------------------------------------
def _le(values: np.ndarray, limit: float, missing_passes: bool = False) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        keep = values <= limit
    if missing_passes:
        keep |= np.isnan(values)
    return keep


def _flag_true(table: Table, name: str) -> np.ndarray:
    """Boolean column as bool array; masked entries count as False (flag not set)."""
    col = table[name]
    data = np.ma.getdata(col)
    if data.dtype.kind in "SU":
        values = np.char.lower(np.char.strip(data.astype(str))) == "true"
    else:
        values = data.astype(bool)
    return values & ~np.ma.getmaskarray(col)


def has_bp_and_rp(t: Table) -> np.ndarray:
    """Both phot_bp_mean_mag and phot_rp_mean_mag present (T25 Sect. 2.1)."""
    return (np.isfinite(float_values(t, "phot_bp_mean_mag", u.mag))
            & np.isfinite(float_values(t, "phot_rp_mean_mag", u.mag)))


def ipd_frac_multi_peak_ok(t: Table) -> np.ndarray:
    """ipd_frac_multi_peak <= :data:`MAX_IPD_FRAC_MULTI_PEAK`."""
    return _le(float_values(t, "ipd_frac_multi_peak"), MAX_IPD_FRAC_MULTI_PEAK)


def ipd_frac_odd_win_ok(t: Table) -> np.ndarray:
    """ipd_frac_odd_win <= :data:`MAX_IPD_FRAC_ODD_WIN`."""
    return _le(float_values(t, "ipd_frac_odd_win"), MAX_IPD_FRAC_ODD_WIN)


def ruwe_ok(t: Table) -> np.ndarray:
    """ruwe <= :data:`MAX_RUWE`."""
    return _le(float_values(t, "ruwe"), MAX_RUWE)


def single_star(t: Table) -> np.ndarray:
    """non_single_star == 0 (Gaia DR3 NSS bit field; masked counts as single)."""
    col = t["non_single_star"]
    return (np.ma.filled(col, 0) == 0)


def not_variable(t: Table) -> np.ndarray:
    """phot_variable_flag is not ``VARIABLE`` (``NOT_AVAILABLE`` and masked pass)."""
    col = t["phot_variable_flag"]
    data = np.ma.getdata(col)
    if data.dtype.kind == "S":
        data = np.char.decode(data, "ascii")
    values = np.char.upper(np.char.strip(data.astype(str)))
    return (values != VARIABLE_FLAG) | np.ma.getmaskarray(col)


def not_qso_candidate(t: Table) -> np.ndarray:
    """in_qso_candidates is not set."""
    return ~_flag_true(t, "in_qso_candidates")


def not_galaxy_candidate(t: Table) -> np.ndarray:
    """in_galaxy_candidates is not set."""
    return ~_flag_true(t, "in_galaxy_candidates")


def has_distance(t: Table) -> np.ndarray:
    """r_med_geo (Bailer-Jones et al. 2021 geometric distance) present and > 0."""
    d = float_values(t, "r_med_geo", u.pc)
    with np.errstate(invalid="ignore"):
        return d > 0


def vbroad_ok(t: Table) -> np.ndarray:
    """vbroad <= :data:`MAX_VBROAD` where given (missing passes)."""
    return _le(float_values(t, "vbroad", u.km / u.s), MAX_VBROAD.value, missing_passes=True)


def teff_gspphot_ok(max_teff: u.Quantity) -> Callable[[Table], np.ndarray]:
    """teff_gspphot <= ``max_teff`` where given (missing passes)."""
    limit = u.Quantity(max_teff, u.K).value

    def predicate(t: Table) -> np.ndarray:
        return _le(float_values(t, "teff_gspphot", u.K), limit, missing_passes=True)

    predicate.__doc__ = f"teff_gspphot <= {limit:g} K where given"
    return predicate


def g_mag_ok(t: Table) -> np.ndarray:
    """phot_g_mean_mag <= :data:`MAX_G_MAG`."""
    return _le(float_values(t, "phot_g_mean_mag", u.mag), MAX_G_MAG.value)


def parallax_error_ok(t: Table) -> np.ndarray:
    """parallax_error <= :data:`MAX_PARALLAX_ERROR`."""
    return _le(float_values(t, "parallax_error", u.mas), MAX_PARALLAX_ERROR.value)


def sigma5d_ok(t: Table) -> np.ndarray:
    """astrometric_sigma5d_max <= :data:`MAX_ASTROMETRIC_SIGMA5D_MAX`."""
    return _le(float_values(t, "astrometric_sigma5d_max", u.mas),
               MAX_ASTROMETRIC_SIGMA5D_MAX.value)


def one_to_one_neighbour(t: Table) -> np.ndarray:
    """number_of_neighbours == 1 and number_of_mates == 0."""
    n = float_values(t, "number_of_neighbours")
    m = float_values(t, "number_of_mates")
    return (n == REQUIRED_NUMBER_OF_NEIGHBOURS) & (m == REQUIRED_NUMBER_OF_MATES)


def sdss_is_star(t: Table) -> np.ndarray:
    """SDSS type == :data:`SDSS_STAR_TYPE` (STAR)."""
    return float_values(t, "type") == SDSS_STAR_TYPE


def sdss_clean(t: Table) -> np.ndarray:
    """SDSS clean == 1."""
    return float_values(t, "clean") == SDSS_CLEAN


def magnitude_in_range(t: Table, survey: str, band: str) -> np.ndarray:
    """True where the PSF magnitude in ``band`` is present and within :data:`MAG_RANGE`."""
    m = float_values(t, magnitude_column(survey, band), u.mag)
    with np.errstate(invalid="ignore"):
        return (m >= MAG_RANGE[0]) & (m <= MAG_RANGE[1])


def enough_valid_magnitudes(survey: str) -> Callable[[Table], np.ndarray]:
    """At least :data:`MIN_VALID_MAGS` magnitudes of ``survey`` within 0-25 mag."""
    def predicate(t: Table) -> np.ndarray:
        n_valid = sum(magnitude_in_range(t, survey, b).astype(int) for b in BANDS[survey])
        return n_valid >= MIN_VALID_MAGS

    predicate.__doc__ = enough_valid_magnitudes.__doc__
    return predicate


def a_g_ok(survey: str) -> Callable[[Table], np.ndarray]:
    """A_g <= :data:`MAX_A_G` (SDSS extinction_g; SkyMapper R_g * ebmv_sfd); missing passes."""
    def predicate(t: Table) -> np.ndarray:
        return _le(extinction(t, survey, "g"), MAX_A_G.value, missing_passes=True)

    predicate.__doc__ = a_g_ok.__doc__
    return predicate


def sm_class_star_ok(t: Table) -> np.ndarray:
    """SkyMapper class_star > :data:`MIN_CLASS_STAR`."""
    with np.errstate(invalid="ignore"):
        return float_values(t, "class_star") > MIN_CLASS_STAR


def sm_flags_ok(t: Table) -> np.ndarray:
    """SkyMapper flags == 0."""
    return float_values(t, "flags") == SM_FLAGS


def sm_flags_psf_ok(t: Table) -> np.ndarray:
    """SkyMapper flags_psf == 0 (no band biased by neighbours)."""
    return float_values(t, "flags_psf") == SM_FLAGS_PSF


def sm_band_flags_ok(t: Table) -> np.ndarray:
    """SkyMapper {b}_flags == 0 for every band with a magnitude."""
    keep = np.ones(len(t), dtype=bool)
    for b in BANDS["skymapper"]:
        has_mag = np.isfinite(float_values(t, magnitude_column("skymapper", b), u.mag))
        keep &= ~has_mag | (float_values(t, f"{b}_flags") == SM_BAND_FLAGS)
    return keep


# --------------------------------------------------------------------------------------
# Cut definitions
# --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Cut:
    """One named quality cut: ``predicate(table)`` is True for the rows it keeps."""

    name: str
    source: str
    columns: tuple[str, ...]
    predicate: Callable[[Table], np.ndarray]


def gaia_cuts(max_teff: u.Quantity = MAX_TEFF_GSPPHOT) -> list[Cut]:
    """The Gaia DR3 cuts of T25 Sect. 2.1, in the paper's order."""
    teff = u.Quantity(max_teff, u.K)
    return [
        Cut("bp_rp_present", T25_21, ("phot_bp_mean_mag", "phot_rp_mean_mag"), has_bp_and_rp),
        Cut(f"ipd_frac_multi_peak<={MAX_IPD_FRAC_MULTI_PEAK}", T25_21, ("ipd_frac_multi_peak",),
            ipd_frac_multi_peak_ok),
        Cut(f"ipd_frac_odd_win<={MAX_IPD_FRAC_ODD_WIN}", T25_21, ("ipd_frac_odd_win",),
            ipd_frac_odd_win_ok),
        Cut(f"ruwe<={MAX_RUWE}", T25_21, ("ruwe",), ruwe_ok),
        Cut("not_non_single_star", T25_21, ("non_single_star",), single_star),
        Cut("not_variable", T25_21, ("phot_variable_flag",), not_variable),
        Cut("not_in_qso_candidates", T25_21, ("in_qso_candidates",), not_qso_candidate),
        Cut("not_in_galaxy_candidates", T25_21, ("in_galaxy_candidates",), not_galaxy_candidate),
        Cut("has_r_med_geo", T25_21, ("r_med_geo",), has_distance),
        Cut(f"vbroad<={MAX_VBROAD.value:g}km/s_where_given", T25_21, ("vbroad",), vbroad_ok),
        Cut(f"teff_gspphot<={teff.value:g}K_where_given",
            T25_21 if teff == MAX_TEFF_GSPPHOT else "SPIE paper Sect. 2 (option)",
            ("teff_gspphot",), teff_gspphot_ok(teff)),
        Cut(f"G<={MAX_G_MAG.value:g}", T25_21, ("phot_g_mean_mag",), g_mag_ok),
        Cut(f"parallax_error<={MAX_PARALLAX_ERROR.value:g}mas", T25_21, ("parallax_error",),
            parallax_error_ok),
        Cut(f"astrometric_sigma5d_max<={MAX_ASTROMETRIC_SIGMA5D_MAX.value:g}mas", T25_21,
            ("astrometric_sigma5d_max",), sigma5d_ok),
    ]


def neighbour_cuts() -> list[Cut]:
    """The one-to-one best-neighbour rule (T25 Sects. 2.2-2.3)."""
    return [Cut("one_to_one_best_neighbour", T25_NB, NEIGHBOUR_COLUMNS, one_to_one_neighbour)]


def sdss_cuts() -> list[Cut]:
    """SDSS DR13 cuts of T25 Sect. 2.2."""
    mags = tuple(magnitude_column("sdss", b) for b in BANDS["sdss"])
    return [
        Cut("sdss_type==6_STAR", T25_22 + " (type=6 is STAR; the paper's wording is a slip)",
            ("type",), sdss_is_star),
        Cut("sdss_clean==1", T25_22, ("clean",), sdss_clean),
        Cut(f">={MIN_VALID_MAGS}_valid_mags_in_0-25", T25_22, mags,
            enough_valid_magnitudes("sdss")),
        Cut(f"A_g<={MAX_A_G.value:g}mag", T25_22, ("extinction_g",), a_g_ok("sdss")),
    ]


def skymapper_cuts(sm_psf_flags: str = SM_PSF_FLAG_RULES[0]) -> list[Cut]:
    """SkyMapper DR2 cuts of T25 Sect. 2.3 (SPIE paper Sect. 2).

    ``sm_psf_flags`` selects the reading of "flagPSF=0" (:data:`SM_PSF_FLAG_RULES`).
    """
    if sm_psf_flags not in SM_PSF_FLAG_RULES:
        raise ValueError(f"sm_psf_flags must be one of {SM_PSF_FLAG_RULES}, not {sm_psf_flags!r}")
    mags = tuple(magnitude_column("skymapper", b) for b in BANDS["skymapper"])
    band_flags = tuple(f"{b}_flags" for b in BANDS["skymapper"])
    psf_cut = (Cut("flags_psf==0", T25_23, ("flags_psf",), sm_flags_psf_ok)
               if sm_psf_flags == "flags_psf" else
               Cut("band_flags==0", T25_23 + " (flagPSF read as per-band {b}_flags)",
                   mags + band_flags, sm_band_flags_ok))
    return [
        Cut(f"class_star>{MIN_CLASS_STAR}", T25_23, ("class_star",), sm_class_star_ok),
        Cut("flags==0", T25_23, ("flags",), sm_flags_ok),
        psf_cut,
        Cut(f">={MIN_VALID_MAGS}_valid_mags_in_0-25", T25_23 + " (as SDSS, T25 Sect. 2.2)", mags,
            enough_valid_magnitudes("skymapper")),
        Cut(f"A_g<={MAX_A_G.value:g}mag", T25_23 + f" (A_g = R_g * {SKYMAPPER_EBV_COLUMN})",
            (SKYMAPPER_EBV_COLUMN,), a_g_ok("skymapper")),
    ]


def cuts_for(survey: str, max_teff: u.Quantity = MAX_TEFF_GSPPHOT,
             sm_psf_flags: str = SM_PSF_FLAG_RULES[0]) -> list[Cut]:
    """All cuts applied to a joined table of ``survey``, in order."""
    survey_cuts = (sdss_cuts() if check_survey(survey) == "sdss"
                   else skymapper_cuts(sm_psf_flags))
    return gaia_cuts(max_teff) + neighbour_cuts() + survey_cuts


# --------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------
@dataclass
class CutStep:
    """Counts of one cut: rows before it, removed by it, after it.

    ``server_side`` marks a cut that already ran in the ADQL of the archive query: the rows it
    removed never arrived, so ``n_removed`` (0) is not a count of what it removed.
    """

    name: str
    source: str
    n_before: int
    n_removed: int
    server_side: bool = False

    @property
    def n_after(self) -> int:
        return self.n_before - self.n_removed


@dataclass
class CutReport:
    """Sequential counts of every cut, printable and convertible to an astropy Table.

    ``masked_values`` counts the values set to missing without removing rows (SDSS
    magnitudes outside 0-25 mag), per column.
    """

    survey: str
    steps: list[CutStep] = field(default_factory=list)
    masked_values: dict[str, int] = field(default_factory=dict)

    @property
    def n_input(self) -> int:
        return self.steps[0].n_before if self.steps else 0

    @property
    def n_kept(self) -> int:
        return self.steps[-1].n_after if self.steps else 0

    @property
    def server_side(self) -> list[str]:
        """Names of the cuts that ran in the ADQL (:meth:`mark_server_side`)."""
        return [s.name for s in self.steps if s.server_side]

    def mark_server_side(self, names: Iterable[str]) -> None:
        """Mark the cuts ``names`` as applied by the archive in the ADQL of the query.

        Their rows never reached the local cuts, which therefore count 0 for them; the report
        says "server-side" instead of that 0 (and masks the counts in :meth:`to_table`).

        Raises
        ------
        ValueError
            A name is not a step of this report.
        """
        names = set(names)
        unknown = names - {s.name for s in self.steps}
        if unknown:
            raise ValueError(f"no cut named {', '.join(sorted(unknown))} in this report")
        for step in self.steps:
            if step.name in names:
                step.server_side = True

    def to_table(self) -> Table:
        """One row per cut: name, source, n_before, n_removed, n_after.

        When cuts ran server-side, an ``applied`` column says ``server`` or ``local``, and the
        counts of a server-side cut that removed nothing locally are masked (unknown: what it
        removed on the server is not known here).
        """
        server = np.array([s.server_side for s in self.steps], dtype=bool)
        unknown = server & np.array([s.n_removed == 0 for s in self.steps], dtype=bool)
        columns = {"cut": [s.name for s in self.steps], "source": [s.source for s in self.steps]}
        if server.any():
            columns["applied"] = np.where(server, "server", "local")
        for key in ("n_before", "n_removed", "n_after"):
            values = np.array([getattr(s, key) for s in self.steps], dtype=np.int64)
            columns[key] = MaskedColumn(values, mask=unknown) if server.any() else values
        return Table(columns, meta={"survey": self.survey,
                                    "masked_values": dict(self.masked_values)})

    def __str__(self) -> str:
        width = max([len(s.name) for s in self.steps] + [3])
        lines = [f"Quality cuts ({self.survey}): {self.n_input} -> {self.n_kept} rows"]
        n_server = len(self.server_side)
        if n_server:
            it = "them" if n_server > 1 else "it"
            lines.append(f"({n_server} cut{'s' if n_server > 1 else ''} ran server-side in the "
                         f"ADQL: the archive sent only the {self.n_input} rows passing {it}, so "
                         f"what {'they' if n_server > 1 else 'it'} removed is not counted)")
        lines.append(f"{'cut':<{width}} {'before':>10} {'removed':>11} {'after':>10}  source")
        for s in self.steps:
            if s.server_side and s.n_removed == 0:
                lines.append(f"{s.name:<{width}} {'-':>10} {'server-side':>11} {'-':>10}  "
                             f"{s.source}")
            else:  # a server-side cut that still removes rows locally shows that count
                lines.append(f"{s.name:<{width}} {s.n_before:>10} {s.n_removed:>11} "
                             f"{s.n_after:>10}  {s.source}"
                             f"{' (also server-side)' if s.server_side else ''}")
        lines += [f"(masked, row kept) {name}: {n}" for name, n in self.masked_values.items() if n]
        return "\n".join(lines)

    @classmethod
    def combine(cls, reports: Sequence[CutReport]) -> CutReport:
        """Sum the reports of chunks processed with the same cuts."""
        if not reports:
            raise ValueError("no reports to combine")
        first = reports[0]
        names = [s.name for s in first.steps]
        for r in reports[1:]:
            if [s.name for s in r.steps] != names or r.survey != first.survey:
                raise ValueError("cannot combine reports of different cuts or surveys")
        steps = [CutStep(s.name, s.source, sum(r.steps[i].n_before for r in reports),
                         sum(r.steps[i].n_removed for r in reports), s.server_side)
                 for i, s in enumerate(first.steps)]
        masked: dict[str, int] = {}
        for r in reports:
            for k, v in r.masked_values.items():
                masked[k] = masked.get(k, 0) + v
        return cls(first.survey, steps, masked)


# --------------------------------------------------------------------------------------
# Apply
# --------------------------------------------------------------------------------------
def required_columns(cuts: Iterable[Cut]) -> tuple[str, ...]:
    """Union of the columns the cuts read, in first-use order."""
    seen: dict[str, None] = {}
    for cut in cuts:
        for c in cut.columns:
            seen.setdefault(c, None)
    return tuple(seen)


def mask_out_of_range_magnitudes(table: Table, survey: str) -> dict[str, int]:
    """Set magnitudes outside :data:`MAG_RANGE` (and their errors) to missing, in place.

    Returns, per magnitude column, the number of present values that were masked.
    """
    counts = {}
    for b in BANDS[survey]:
        present = np.isfinite(float_values(table, magnitude_column(survey, b), u.mag))
        bad = ~magnitude_in_range(table, survey, b)
        counts[magnitude_column(survey, b)] = int((bad & present).sum())
        for name in (magnitude_column(survey, b), magnitude_error_column(survey, b)):
            if name in table.colnames and bad.any():
                col = table[name]
                if not isinstance(col, MaskedColumn):
                    table[name] = col = MaskedColumn(col, mask=np.zeros(len(col), bool))
                col.mask |= bad
    return counts


def apply_cuts(joined: Table, survey: str, *, max_teff: u.Quantity = MAX_TEFF_GSPPHOT,
               sm_psf_flags: str = SM_PSF_FLAG_RULES[0]) -> tuple[Table, CutReport]:
    """Apply the quality cuts of T25 Sect. 2 to a joined table.

    Parameters
    ----------
    joined
        Joined Gaia + distance + Andrae + best-neighbour + survey table
        (:func:`sos_vo.schema.joined_columns`).
    survey
        ``"sdss"`` or ``"skymapper"``.
    max_teff
        Upper limit on teff_gspphot: :data:`MAX_TEFF_GSPPHOT` (T25, default) or
        :data:`MAX_TEFF_GSPPHOT_SPIE` (7500 K, SPIE paper).
    sm_psf_flags
        SkyMapper only: ``"flags_psf"`` (default; needs the DR2 ``flags_psf`` column) or
        ``"band_flags"`` (per-band ``{b}_flags``), see the module docstring.

    Returns
    -------
    kept : astropy.table.Table
        The rows passing every cut (a new table; the input is not modified), with
        magnitudes outside 0-25 mag and their errors masked (treated as missing).
    report : CutReport
        Sequential counts per cut.

    Raises
    ------
    SchemaError
        A column the cuts need is missing, or has a unit that cannot be converted.
    EmptyInputError
        ``joined`` has no rows.
    """
    cuts = cuts_for(survey, max_teff, sm_psf_flags)
    required = required_columns(cuts)
    required += tuple(magnitude_error_column(survey, b) for b in BANDS[check_survey(survey)])
    require_columns(joined, required, f"quality cuts ({survey})")
    require_rows(joined, f"quality cuts ({survey})")
    keep = np.ones(len(joined), dtype=bool)
    report = CutReport(survey)
    for cut in cuts:
        passed = np.asarray(cut.predicate(joined), dtype=bool)
        n_before = int(keep.sum())
        keep &= passed
        report.steps.append(CutStep(cut.name, cut.source, n_before, n_before - int(keep.sum())))
    kept = joined[keep]
    if len(kept):
        report.masked_values = mask_out_of_range_magnitudes(kept, survey)
    return kept, report


def server_side_cuts(server_cuts: bool = True) -> tuple[str, ...]:
    """Names of the cuts that :func:`sos_vo.archives.gaia.joined_query` runs in the ADQL.

    The one-to-one best-neighbour rule is always in the WHERE clause; the Gaia cuts of T25
    Sect. 2.1 are there unless ``server_cuts`` is False.  The local cuts then find nothing to
    remove for these, and the cut report marks them as server-side
    (:meth:`CutReport.mark_server_side`).
    """
    names = [c.name for c in neighbour_cuts()]
    if server_cuts:
        names = [c.name for c in gaia_cuts()] + names
    return tuple(names)
