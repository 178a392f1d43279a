"""Input layout checks and the input / label scalers of the SoS-ML networks (numpy only).

The network input (T25 Sect. 4.1) is every feature of Tables 2-3 with missing values replaced by
0, plus one 0/1 flag per feature telling whether the value is present, so the input width is
twice the number of features.  A flag column is recognised by its name: ``<feature>`` +
:data:`PRESENT_SUFFIX`.  Callers may give either the full list of input column names or only
the feature names (then the layout says where the flags are).

The papers do not say how inputs and labels were scaled; the choices are named in
:mod:`sos_vo.ml.options` (``input_scaling``, ``label_scaling``).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.stats import median_abs_deviation

from ..exceptions import EmptyInputError, SchemaError
from ..stats import MAD_SCALE
from .options import INPUT_COLOUR_CHOICES

PRESENT_SUFFIX = "_present"
"""Name suffix of the 0/1 presence flag of a feature (T25 Sect. 4.1: "we added a flag for each
parameter (thus doubling the input size)")."""

FLAG_LAYOUTS = ("interleaved", "blocked")
"""Where the flags sit when only feature names are given: ``interleaved`` = each feature followed
by its flag; ``blocked`` = all features, then all flags in the same order."""


COLOUR_SEQUENCES = (
    ("uabs", "vabs", "gabs", "rabs", "iabs", "zabs"),
    ("phot_bp_mean_mag", "phot_rp_mean_mag"),
)
"""Inputs whose adjacent differences are the colour inputs of ``input_colours="adjacent"``
(:data:`sos_vo.ml.options.INPUT_COLOURS`): the dereddened absolute magnitudes of the survey bands
in wavelength order (SkyMapper has v between u and g, SDSS has not) and Gaia BP, RP."""


def colour_pairs(names: Sequence[str]) -> np.ndarray:
    """Index quadruples ``(blue, red, blue_flag, red_flag)`` of the adjacent-band colours.

    For each sequence of :data:`COLOUR_SEQUENCES`, the inputs of ``names`` that exist (with
    their presence flags) are taken in order and each one is paired with the next.

    Returns
    -------
    numpy.ndarray
        int64, shape (n_colours, 4); empty when no colour can be formed.
    """
    index = {n: i for i, n in enumerate(names)}
    quads = []
    for seq in COLOUR_SEQUENCES:
        present = [b for b in seq if b in index and b + PRESENT_SUFFIX in index]
        for blue, red in zip(present[:-1], present[1:], strict=True):
            quads.append((index[blue], index[red], index[blue + PRESENT_SUFFIX],
                          index[red + PRESENT_SUFFIX]))
    return np.asarray(quads, dtype=np.int64).reshape(-1, 4)


def colour_names(names: Sequence[str], pairs: np.ndarray) -> tuple[str, ...]:
    """Names of the colour columns that :func:`append_colours` adds: ``"uabs-gabs"`` ... then
    their flags ``"uabs-gabs_present"`` ..."""
    values = [f"{names[b]}-{names[r]}" for b, r, _, _ in pairs]
    return (*values, *(v + PRESENT_SUFFIX for v in values))


def append_colours(X: np.ndarray, pairs: np.ndarray) -> np.ndarray:
    """``X`` with the colours of ``pairs`` (:func:`colour_pairs`) appended, then their flags.

    A colour is ``X[:, blue] - X[:, red]`` where both bands are present and 0 otherwise (the
    T25 zero-filling convention); its flag is the product of the two presence flags.
    """
    X = np.asarray(X, dtype=np.float32)
    if len(pairs) == 0:
        return X
    b, r, fb, fr = (pairs[:, k] for k in range(4))
    flags = X[:, fb] * X[:, fr]
    colours = (X[:, b] - X[:, r]) * flags
    return np.concatenate([X, colours, flags], axis=1)


TRANSFORM_CHUNK_ROWS = 65_536
"""Rows scaled at a time by :meth:`InputScaler.transform` (our choice: the intermediate copies
of a chunk of ~60 float32 inputs are ~16 MB each).  Measured by ``benchmarks/train_memory.py``
(10 members, 890 000 rows of 54 inputs, one epoch): the training added 1 307 MB with one pass
over the whole matrix, 737 MB in chunks (``benchmarks/results/train_memory*.json``)."""


class MissingFeatureWarning(UserWarning):
    """A feature is missing (presence flag 0) in every row of the input."""


def input_names(feature_names: Sequence[str], layout: str = "interleaved") -> tuple[str, ...]:
    """Full input column names (features and their presence flags) for ``feature_names``.

    Parameters
    ----------
    feature_names : sequence of str
        E.g. :func:`sos_vo.schema.feature_names`.
    layout : str
        One of :data:`FLAG_LAYOUTS`.
    """
    if layout not in FLAG_LAYOUTS:
        raise ValueError(f"layout {layout!r}: expected one of {FLAG_LAYOUTS}")
    flags = [f + PRESENT_SUFFIX for f in feature_names]
    if layout == "blocked":
        return (*feature_names, *flags)
    return tuple(n for pair in zip(feature_names, flags, strict=True) for n in pair)


def resolve_input_names(names: Sequence[str], n_columns: int,
                        layout: str = "interleaved") -> tuple[str, ...]:
    """Input column names for a matrix with ``n_columns`` columns.

    ``names`` is either the full list (length ``n_columns``) or the feature names only (length
    ``n_columns / 2``, expanded with :func:`input_names`).  Raises :class:`SchemaError` otherwise.
    """
    names = tuple(str(n) for n in names)
    if len(set(names)) != len(names):
        dup = sorted({n for n in names if names.count(n) > 1})
        raise SchemaError(f"duplicate input column names: {', '.join(dup)}")
    if len(names) == n_columns:
        return names
    if 2 * len(names) == n_columns:
        return input_names(names, layout)
    raise SchemaError(
        f"input matrix has {n_columns} columns but {len(names)} names were given "
        f"(expected {n_columns} input names or {n_columns // 2} feature names plus presence flags)"
    )


def flag_pairs(names: Sequence[str]) -> dict[int, int]:
    """Map the index of each value column to the index of its presence-flag column."""
    index = {n: i for i, n in enumerate(names)}
    return {i: index[n + PRESENT_SUFFIX] for i, n in enumerate(names) if n + PRESENT_SUFFIX in index}


def check_input_matrix(X: np.ndarray, names: Sequence[str], what: str = "input") -> np.ndarray:
    """Validate a network input matrix; return it as C-contiguous float32.

    Raises :class:`SchemaError` for a wrong shape or width or for NaN/inf values (missing values
    must already be zero-filled, T25 Sect. 4.1), naming the columns and row counts.  Warns with
    :class:`MissingFeatureWarning` for each feature whose presence flag is 0 in every row.
    """
    X = np.asarray(X)
    if X.ndim != 2:
        raise SchemaError(f"{what}: expected a 2-d matrix (rows x inputs), got shape {X.shape}")
    if X.shape[1] != len(names):
        raise SchemaError(f"{what}: matrix has {X.shape[1]} columns, the model expects {len(names)}")
    X = np.ascontiguousarray(X, dtype=np.float32)
    bad = ~np.isfinite(X)
    if bad.any():
        cols = np.flatnonzero(bad.any(axis=0))
        detail = ", ".join(f"{names[c]} ({int(bad[:, c].sum())} rows)" for c in cols[:10])
        raise SchemaError(
            f"{what}: NaN/inf in {len(cols)} column(s) of {X.shape[0]} rows: {detail}; missing "
            f"values must be replaced by 0 with the presence flag set to 0"
        )
    if X.shape[0]:
        for v, f in flag_pairs(names).items():
            if not X[:, f].any():
                warnings.warn(
                    f"{what}: feature {names[v]!r} is missing in all {X.shape[0]} rows "
                    f"({names[f]} is 0 everywhere)", MissingFeatureWarning, stacklevel=2,
                )
    return X


@dataclass
class InputScaler:
    """Per-column affine scaling of the network inputs that keeps missing values at 0.

    First, if :attr:`colours` is not empty, the colour inputs of
    :data:`sos_vo.ml.options.INPUT_COLOURS` are appended (:func:`append_colours`).  Then, for a
    value column ``j`` with presence flag ``k``: ``x' = (x - center_j * flag_k) / scale_j``, so
    a present value is standardised and a missing one stays 0.  Flag columns and other columns
    holding only 0/1 are left unchanged (center 0, scale 1).  Other columns without a flag are
    standardised over all rows.  The network therefore has :meth:`n_outputs` inputs.
    """

    method: str
    center: np.ndarray
    scale: np.ndarray
    flag_index: np.ndarray
    """For each (output) column, the index of its presence-flag column, or -1."""
    colours: np.ndarray = field(default_factory=lambda: np.zeros((0, 4), dtype=np.int64))
    """(n_colours, 4) index quadruples of :func:`colour_pairs` into the raw input."""

    @classmethod
    def fit(cls, X: np.ndarray, names: Sequence[str], method: str = "standard",
            colours: str = "none") -> InputScaler:
        """Fit on ``X`` (rows x inputs).  ``method``: ``standard`` (mean/std), ``robust``
        (median / 1.4826 MAD) or ``none``; ``colours``: ``"adjacent"`` or ``"none"`` (see
        :data:`sos_vo.ml.options.INPUT_COLOURS`)."""
        if colours not in INPUT_COLOUR_CHOICES:
            raise ValueError(f"input colours {colours!r}: expected one of {INPUT_COLOUR_CHOICES}")
        pairs = colour_pairs(names) if colours == "adjacent" else np.zeros((0, 4), np.int64)
        names = (*names, *colour_names(names, pairs))
        X = np.asarray(append_colours(X, pairs), dtype=np.float64)
        n_col = X.shape[1]
        center = np.zeros(n_col)
        scale = np.ones(n_col)
        flag_index = np.full(n_col, -1, dtype=np.int64)
        for v, f in flag_pairs(names).items():
            flag_index[v] = f
        if method not in ("standard", "robust", "none"):
            raise ValueError(f"input scaling {method!r}: expected standard, robust or none")
        if method != "none":
            for j in range(n_col):
                col = X[:, j]
                if flag_index[j] >= 0:
                    col = col[X[:, flag_index[j]] > 0.5]
                elif np.isin(col, (0.0, 1.0)).all():
                    continue  # a flag or another binary column: leave as it is
                if col.size == 0:
                    continue  # never present: stays 0 after scaling
                if method == "standard":
                    c, s = col.mean(), col.std()
                else:
                    c = np.median(col)
                    s = MAD_SCALE * median_abs_deviation(col)
                center[j] = c
                scale[j] = s if s > 0 and np.isfinite(s) else 1.0
        return cls(method, center, scale, flag_index, pairs)

    def n_outputs(self, n_inputs: int) -> int:
        """Width of the scaled matrix (the network input) for a raw input of ``n_inputs``."""
        return n_inputs + 2 * len(self.colours)

    def transform(self, X: np.ndarray, chunk_rows: int | None = None) -> np.ndarray:
        """Scaled copy of ``X`` (colours appended first, if any) as float32.

        Rows are scaled ``chunk_rows`` (default :data:`TRANSFORM_CHUNK_ROWS`) at a time into
        one output array, so the intermediate copies (the colours appended, the shift, the
        difference) are those of one chunk; every value is computed by the same element-wise
        operations as in one pass, so the result is the same to the bit."""
        chunk_rows = TRANSFORM_CHUNK_ROWS if chunk_rows is None else int(chunk_rows)
        X = np.asarray(X)
        n = X.shape[0]
        out = np.empty((n, self.n_outputs(X.shape[1])), dtype=np.float32)
        for start in range(0, n, chunk_rows):
            out[start:start + chunk_rows] = self._transform(X[start:start + chunk_rows])
        return out

    def _transform(self, X: np.ndarray) -> np.ndarray:
        X = append_colours(X, self.colours)
        shift = np.broadcast_to(self.center.astype(np.float32), X.shape).copy()
        has_flag = self.flag_index >= 0
        shift[:, has_flag] *= X[:, self.flag_index[has_flag]]
        return ((X - shift) / self.scale.astype(np.float32)).astype(np.float32, copy=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {"method": self.method, "center": self.center.tolist(), "scale": self.scale.tolist(),
                "flag_index": self.flag_index.tolist(), "colours": self.colours.tolist()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> InputScaler:
        """Inverse of :meth:`to_dict` (a dict without ``colours``, from before colour inputs
        existed, means none)."""
        return cls(data["method"], np.asarray(data["center"], dtype=np.float64),
                   np.asarray(data["scale"], dtype=np.float64),
                   np.asarray(data["flag_index"], dtype=np.int64),
                   np.asarray(data.get("colours", []), dtype=np.int64).reshape(-1, 4))


@dataclass
class LabelScaler:
    """Affine label scaling ``y' = (y - center) / scale + offset`` (see ``label_scaling``).

    ``offset``: maps [min, max] of the fitted labels onto [1, 2] (center = min, scale =
    max - min, offset = 1); ``standard``: mean / std, offset 0; ``physical``: identity.
    """

    method: str
    center: float
    scale: float
    offset: float

    @classmethod
    def fit(cls, y: np.ndarray, method: str = "offset") -> LabelScaler:
        """Fit on the finite values of ``y``."""
        y = np.asarray(y, dtype=np.float64)
        y = y[np.isfinite(y)]
        if method == "physical":
            return cls(method, 0.0, 1.0, 0.0)
        if y.size == 0:
            raise EmptyInputError("cannot fit a label scaler: no finite label value")
        if method == "offset":
            lo, hi = float(y.min()), float(y.max())
            return cls(method, lo, (hi - lo) if hi > lo else 1.0, 1.0)
        if method == "standard":
            s = float(y.std())
            return cls(method, float(y.mean()), s if s > 0 else 1.0, 0.0)
        raise ValueError(f"label scaling {method!r}: expected offset, physical or standard")

    def transform(self, y: np.ndarray) -> np.ndarray:
        """Physical -> network units (float32)."""
        return ((np.asarray(y, dtype=np.float64) - self.center) / self.scale
                + self.offset).astype(np.float32)

    def inverse(self, y: np.ndarray) -> np.ndarray:
        """Network -> physical units (float32)."""
        return ((np.asarray(y, dtype=np.float64) - self.offset) * self.scale
                + self.center).astype(np.float32)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {"method": self.method, "center": self.center, "scale": self.scale,
                "offset": self.offset}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LabelScaler:
        """Inverse of :meth:`to_dict`."""
        return cls(data["method"], float(data["center"]), float(data["scale"]),
                   float(data["offset"]))
