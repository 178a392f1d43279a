"""Calibration by gradient-boosted trees (XGBoost).

The homogenisation talk (Avdeeva et al. 2025, AI in Astronomy Workshop, Catania; "Test case of FeH: XGBoost") finds XGBoost the best of the three methods:
"superior performance in correcting trends across the parameter space, including in regions
with extreme [Fe/H], low log g (< 1), and high Teff (> 7000 K)" -- the median is well
calibrated everywhere although the 16th-84th percentile band widens at the edges.

The talk gives no hyper-parameters; :data:`XGB_PARAMS` are our named defaults.  Trees are
piecewise constant, so outside the calibration sample an XGBoost model returns the value of its
outermost leaves: the coverage flag of :class:`~sos_vo.homogenise.base.Calibration` matters as
much here as for the polynomial.  xgboost is the ``baselines`` extra of sos-vo and is imported
when this calibration is fitted or loaded.  The model is saved in XGBoost's own JSON format.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..exceptions import ModelFormatError
from ..extras import require
from .base import DEFAULT_OUTSIDE, Calibration
from .coverage import CoverageModel

XGB_PARAMS: dict[str, Any] = {
    "n_estimators": 400,
    "max_depth": 6,
    "learning_rate": 0.05,
    "subsample": 0.8,
    "min_child_weight": 5,
    "objective": "reg:squarederror",
    "tree_method": "hist",
}
"""Our default XGBoost settings (the talk gives none): a few hundred shallow trees with a small
learning rate and row subsampling, which fit smooth trends and sharp edge features alike."""

XGB_SEED = 0
"""Random seed of the row subsampling (fixed so that a fit is reproducible)."""

XGB_FILE = "xgboost.json"


def _xgboost() -> Any:
    # the ``homogenise`` extra; imported on first use
    return require("xgboost", "the XGBoost calibration")


class XGBoostCalibration(Calibration):
    """Offset = XGBoost regression on (Teff/5040, log g, [Fe/H]).

    Parameters
    ----------
    target, coverage, outside
        See :class:`~sos_vo.homogenise.base.Calibration`.
    params : dict, optional
        Overrides of :data:`XGB_PARAMS`.
    seed : int
        Random seed (default :data:`XGB_SEED`).
    n_jobs : int, optional
        Threads (XGBoost's default when None).
    """

    method = "xgboost"

    def __init__(self, target: str = "feh", coverage: CoverageModel | None = None,
                 outside: str = DEFAULT_OUTSIDE, params: dict[str, Any] | None = None,
                 seed: int = XGB_SEED, n_jobs: int | None = None) -> None:
        super().__init__(target, coverage, outside)
        self.params = XGB_PARAMS | (params or {})
        self.seed = int(seed)
        self.n_jobs = n_jobs
        self.model: Any = None

    def _fit_model(self, x: np.ndarray, delta: np.ndarray) -> None:
        xgboost = _xgboost()
        self.model = xgboost.XGBRegressor(**self.params, random_state=self.seed, n_jobs=self.n_jobs)
        self.model.fit(x, delta)

    def _predict_model(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(self.model.predict(x), dtype=np.float64)

    def _save_model(self, folder: Path) -> dict[str, Any]:
        self.model.save_model(str(folder / XGB_FILE))
        return {"file": XGB_FILE, "params": self.params, "seed": self.seed}

    def _load_model(self, folder: Path, state: dict[str, Any]) -> None:
        path = folder / state.get("file", XGB_FILE)
        if not path.is_file():
            raise ModelFormatError(f"XGBoost calibration file {path} is missing")
        xgboost = _xgboost()
        self.params = dict(state.get("params", self.params))
        self.seed = int(state.get("seed", self.seed))
        self.model = xgboost.XGBRegressor()
        self.model.load_model(str(path))
