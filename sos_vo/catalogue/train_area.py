"""Training-area flag: is a star's input inside the 99% region of the training density?

T25 = Turchi et al. (2025), Sect. 5.2: "We computed a Probability Density Function (PDF)
with the treeKDE algorithm (Scaldelai et al. 2024) ... over the full dimensionality of the
training parameter spaces (SDSS and SM), and we added a boolean flag ("SDSS_train_area" or
"SM_train_area") set to "true" if the input features fall into the 99% threshold of the
region defined by the respective PDF."

treeKDE is not on PyPI.  **Our choice**: a Gaussian mixture model
(:class:`sklearn.mixture.GaussianMixture`, full covariances, :data:`DEFAULT_N_COMPONENTS`
components, fixed seed) fitted to the *standardised* network input matrix (the zero-filled
values and the 0/1 present flags of :func:`sos_vo.prepare.features.feature_matrix`, i.e. the
full feature space).  Why: it is a maintained, deterministic density estimator whose
evaluation cost does not grow with the training-set size (a KDE costs O(n_train) per star;
the mixture costs O(K * D^2)), so flagging ~10 million stars per survey is a single
matrix product per chunk; and its parameters are a few arrays that save to ``.npz`` without
pickles.  A mixture is smoother than a KDE in the tails, so the 99% region is slightly more
generous around isolated training stars.

The region: ``threshold`` = the (1 - coverage) quantile of the log density of the training
rows themselves, so the region ``log p(x) >= threshold`` encloses :data:`COVERAGE` = 99% of
the training points (the density level set of T25).  A flag or value never seen in training
(e.g. a feature missing for a star but present for every training star) falls far outside.

Evaluation (:meth:`TrainingAreaModel.log_density`) is numpy only: standardise, one matrix
product with all K Cholesky precision factors stacked, log-sum-exp; chunked, optional tqdm.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from ..exceptions import EmptyInputError, ModelFormatError, SchemaError
from ..extras import require
from ..io import atomic_path

COVERAGE = 0.99
"""T25 Sect. 5.2: the flag is true inside the region holding 99% of the training density."""
DEFAULT_N_COMPONENTS = 16
"""Mixture components (our choice: enough for the dwarf/giant/metal-poor and missing-band
sub-populations; more gives a tighter region and a slower flag)."""
REG_COVAR = 1e-3
"""Added to the covariance diagonals, in standardised units (sklearn ``reg_covar``): keeps
constant columns (a flag always 1 in training) from making the covariance singular, while
still putting any deviation in such a column far outside the region."""
MAX_FIT_ROWS = 200_000
"""Rows used to fit the mixture (random subsample above this; the threshold is computed on
every training row)."""
CHUNK_ROWS = 16_384
"""Rows per chunk when evaluating the density (16k rows x 16 components x 54 columns of
float64 intermediates is ~110 MB)."""
FORMAT_VERSION = 1
"""Version of the saved ``.npz`` layout."""
RANDOM_STATE = 0


def _check_matrix(x: np.ndarray, n_columns: int | None, what: str) -> np.ndarray:
    x = np.asarray(x)
    if x.ndim != 2:
        raise SchemaError(f"{what}: expected a 2-D feature matrix, got shape {x.shape}")
    if x.shape[0] == 0:
        raise EmptyInputError(f"{what}: feature matrix has no rows")
    if n_columns is not None and x.shape[1] != n_columns:
        raise SchemaError(f"{what}: feature matrix has {x.shape[1]} columns, the model was "
                          f"fitted on {n_columns}")
    bad = ~np.isfinite(x)
    if bad.any():
        raise SchemaError(f"{what}: {int(bad.any(axis=1).sum())} row(s) with NaN/inf; use the "
                          "zero-filled matrix of sos_vo.prepare.features.feature_matrix")
    return x


def _column_mean_std(x: np.ndarray, chunk_rows: int = CHUNK_ROWS
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Float64 mean and (population) standard deviation of each column, two passes over
    ``chunk_rows``-row chunks (the two-pass formula, as ``numpy.std``; equal to it to rounding)."""
    n = len(x)
    total = np.zeros(x.shape[1], dtype=np.float64)
    for s in range(0, n, chunk_rows):
        total += np.asarray(x[s:s + chunk_rows], dtype=np.float64).sum(axis=0)
    mean = total / n
    squares = np.zeros(x.shape[1], dtype=np.float64)
    for s in range(0, n, chunk_rows):
        squares += ((np.asarray(x[s:s + chunk_rows], dtype=np.float64) - mean) ** 2).sum(axis=0)
    return mean, np.sqrt(squares / n)


@dataclass
class TrainingAreaModel:
    """A fitted density of the training inputs and its 99% threshold.

    Attributes are plain arrays (see :meth:`save`); build one with :meth:`fit` or :meth:`load`.
    """

    center: np.ndarray          # (D,) standardisation offsets
    scale: np.ndarray           # (D,) standardisation scales
    log_weights: np.ndarray     # (K,)
    means: np.ndarray           # (K, D) in standardised units
    precisions_cholesky: np.ndarray  # (K, D, D) sklearn's precisions_cholesky_
    threshold: float
    coverage: float = COVERAGE
    feature_names: list[str] = field(default_factory=list)
    survey: str = ""
    info: dict = field(default_factory=dict)

    # ---------------------------------------------------------------- fit
    @classmethod
    def fit(cls, x_train: np.ndarray, *, feature_names: list[str] | None = None,
            survey: str = "", n_components: int = DEFAULT_N_COMPONENTS,
            coverage: float = COVERAGE, max_fit_rows: int = MAX_FIT_ROWS,
            random_state: int = RANDOM_STATE) -> TrainingAreaModel:
        """Fit the mixture to the training matrix and set the ``coverage`` threshold.

        Parameters
        ----------
        x_train
            Training inputs, shape (n, D), finite (the network input matrix).
        feature_names
            Names of the D columns (stored, checked by :meth:`flag` when given there).
        survey
            Survey name stored with the model.
        n_components, coverage, max_fit_rows, random_state
            See the module constants.
        """
        GaussianMixture = require("sklearn.mixture", "fitting the train_area density",  # noqa: N806
                                  "train").GaussianMixture

        # the matrix is kept in its own dtype (float32 from the preparation): the float64
        # statistics are accumulated CHUNK_ROWS rows at a time and only the fitted rows are
        # standardised, so the fit holds no full-size float64 copy of the training matrix
        x = _check_matrix(x_train, len(feature_names) if feature_names else None,
                          "train_area fit")
        if not 0.0 < coverage < 1.0:
            raise ValueError(f"coverage must be in (0, 1), got {coverage}")
        if x.shape[0] < 2 * n_components:
            raise EmptyInputError(f"train_area fit: {x.shape[0]} training rows for "
                                  f"{n_components} components (need >= {2 * n_components})")
        center, scale = _column_mean_std(x)
        scale[scale == 0] = 1.0
        rng = np.random.default_rng(random_state)
        picked = slice(None) if len(x) <= max_fit_rows else \
            rng.choice(len(x), max_fit_rows, False)
        fit_rows = (np.asarray(x[picked], dtype=np.float64) - center) / scale
        gmm = GaussianMixture(n_components=n_components, covariance_type="full",
                              reg_covar=REG_COVAR, random_state=random_state, max_iter=200)
        t0 = time.perf_counter()
        gmm.fit(fit_rows)
        model = cls(center=center, scale=scale, log_weights=np.log(gmm.weights_),
                    means=gmm.means_, precisions_cholesky=gmm.precisions_cholesky_,
                    threshold=np.nan, coverage=coverage,
                    feature_names=list(feature_names or []), survey=survey,
                    info={"n_train": int(len(x)), "n_fit": int(len(fit_rows)),
                          "n_components": n_components, "converged": bool(gmm.converged_),
                          "fit_seconds": round(time.perf_counter() - t0, 2),
                          "method": "sklearn GaussianMixture (full) on standardised inputs"})
        model.threshold = float(np.quantile(model.log_density(x), 1.0 - coverage))
        return model

    # ---------------------------------------------------------------- evaluate
    @property
    def n_features(self) -> int:
        return int(self.center.size)

    def _log_density_chunk(self, x: np.ndarray) -> np.ndarray:
        k, d = self.means.shape
        z = (x - self.center) / self.scale
        # y_k = z @ P_k - mu_k @ P_k for all k in one product: (n, D) @ (D, K*D)
        p_all = np.transpose(self.precisions_cholesky, (1, 0, 2)).reshape(d, k * d)
        shift = np.einsum("kd,kde->ke", self.means, self.precisions_cholesky).reshape(k * d)
        y = z @ p_all - shift
        sq = np.einsum("nkd,nkd->nk", y.reshape(-1, k, d), y.reshape(-1, k, d))
        log_det = np.log(np.diagonal(self.precisions_cholesky, axis1=1, axis2=2)).sum(axis=1)
        log_prob = -0.5 * (d * np.log(2 * np.pi) + sq) + log_det + self.log_weights
        top = log_prob.max(axis=1, keepdims=True)
        return (top + np.log(np.exp(log_prob - top).sum(axis=1, keepdims=True)))[:, 0]

    def log_density(self, x: np.ndarray, *, chunk_rows: int = CHUNK_ROWS,
                    progress: bool = False) -> np.ndarray:
        """Log of the mixture density (in standardised units) of each row of ``x``."""
        x = _check_matrix(x, self.n_features, "train_area")
        out = np.empty(len(x), dtype=np.float64)
        starts = range(0, len(x), chunk_rows)
        for s in tqdm(starts, desc="train_area", unit="chunk", disable=not progress):
            out[s:s + chunk_rows] = self._log_density_chunk(
                np.asarray(x[s:s + chunk_rows], dtype=np.float64))
        return out

    def flag(self, x: np.ndarray, *, feature_names: list[str] | None = None,
             chunk_rows: int = CHUNK_ROWS, progress: bool = False) -> np.ndarray:
        """True where a row lies inside the ``coverage`` region of the training density.

        ``feature_names``, when given, must equal the names the model was fitted with.
        """
        if feature_names is not None and self.feature_names and \
                list(feature_names) != self.feature_names:
            raise SchemaError("train_area: feature names differ from the fitted model's "
                              f"(first difference at {_first_difference(feature_names, self.feature_names)})")
        return self.log_density(x, chunk_rows=chunk_rows, progress=progress) >= self.threshold

    def contains(self, x: np.ndarray) -> np.ndarray:
        """:meth:`flag` under the name of :class:`sos_vo.domain.ApplicabilityDomain`."""
        return self.flag(x)

    # ---------------------------------------------------------------- persistence
    def save(self, path: str | os.PathLike, *, overwrite: bool = False) -> Path:
        """Write the model to ``path`` (``.npz``, no pickles), atomically."""
        meta = {"format_version": FORMAT_VERSION, "kind": "sos_vo.train_area",
                "threshold": self.threshold, "coverage": self.coverage,
                "feature_names": self.feature_names, "survey": self.survey, "info": self.info}
        with atomic_path(path, overwrite=overwrite) as tmp, open(tmp, "wb") as fh:
            np.savez(fh, center=self.center, scale=self.scale, log_weights=self.log_weights,
                     means=self.means, precisions_cholesky=self.precisions_cholesky,
                     meta_json=np.array(json.dumps(meta)))
        return Path(path)

    @classmethod
    def load(cls, path: str | os.PathLike) -> TrainingAreaModel:
        """Read a model written by :meth:`save`."""
        path = Path(path)
        try:
            with np.load(path, allow_pickle=False) as npz:
                arrays = {k: npz[k] for k in npz.files}
        except (OSError, ValueError) as exc:
            raise ModelFormatError(f"{path}: not a train_area .npz file ({exc})") from exc
        needed = {"center", "scale", "log_weights", "means", "precisions_cholesky", "meta_json"}
        if not needed <= set(arrays):
            raise ModelFormatError(f"{path}: missing array(s) {sorted(needed - set(arrays))}")
        meta = json.loads(str(arrays.pop("meta_json")))
        if meta.get("kind") != "sos_vo.train_area" or meta.get("format_version") != FORMAT_VERSION:
            raise ModelFormatError(f"{path}: format {meta.get('kind')} v{meta.get('format_version')},"
                                   f" expected sos_vo.train_area v{FORMAT_VERSION}")
        return cls(**arrays, threshold=float(meta["threshold"]), coverage=float(meta["coverage"]),
                   feature_names=list(meta["feature_names"]), survey=meta["survey"],
                   info=dict(meta["info"]))


def _first_difference(a: list[str], b: list[str]) -> str:
    for i, (x, y) in enumerate(zip(a, b, strict=False)):
        if x != y:
            return f"column {i}: {x!r} vs {y!r}"
    return f"lengths {len(a)} vs {len(b)}"


def benchmark(model: TrainingAreaModel, n_rows: int = 1_000_000, seed: int = 0) -> float:
    """Flag ``n_rows`` random rows drawn around the training centre; return stars per second."""
    rng = np.random.default_rng(seed)
    x = model.center + model.scale * rng.standard_normal((n_rows, model.n_features))
    t0 = time.perf_counter()
    model.flag(x)
    return n_rows / (time.perf_counter() - t0)
