"""Calibration by symbolic regression with PySR (optional extra).

The homogenisation talk (Avdeeva et al. 2025, AI in Astronomy Workshop, Catania; "Test case of FeH: symbolic regression (PySR)") finds PySR similar to
the 4th-order polynomial, failing at the edges (log g < 1, Teff > 7000 K, [Fe/H] < -2 or > 0.2)
and slow to converge; its merit is an interpretable formula.  PySR needs a Julia runtime, which
sos-vo does not install: ``pip install pysr`` (the ``pysr`` extra) and let PySR set Julia up.

The fitted model is saved as its best equation (a SymPy expression string in the variables
``x0 = Teff/5040``, ``x1 = log g``, ``x2 = [Fe/H]``) and evaluated with SymPy on loading, so a
saved PySR calibration is applied without Julia.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from ..exceptions import MissingExtraError, ModelFormatError
from .base import DEFAULT_OUTSIDE, Calibration
from .coverage import CoverageModel

PYSR_PARAMS: dict[str, Any] = {
    "niterations": 40,
    "binary_operators": ["+", "-", "*", "/"],
    "unary_operators": ["exp", "log", "square", "cube"],
    "maxsize": 30,
    "model_selection": "best",
    "progress": True,
}
"""Our default PySR search (the talk gives none): arithmetic plus a few smooth unary operators."""

PYSR_FILE = "pysr.json"
PYSR_VARIABLES = ("x0", "x1", "x2")
"""Variable names of the saved equation: Teff/5040, log g, [Fe/H]."""

INSTALL_HINT = ("the symbolic-regression calibration needs the optional extra PySR, which is "
                "not installed: pip install 'sos-vo[pysr]' (or pip install pysr; PySR then "
                "installs its own Julia runtime on first use)")




def _import_pysr() -> Any:
    try:
        import pysr
    except ImportError as exc:
        raise MissingExtraError(INSTALL_HINT) from exc
    return pysr


def _import_sympy() -> Any:
    try:
        import sympy
    except ImportError as exc:
        raise MissingExtraError("evaluating a saved PySR calibration needs sympy: "
                                'pip install "sos-vo[pysr]"') from exc
    return sympy


class PySRCalibration(Calibration):
    """Offset = the best PySR equation in (Teff/5040, log g, [Fe/H]).

    Parameters
    ----------
    target, coverage, outside
        See :class:`~sos_vo.homogenise.base.Calibration`.
    params : dict, optional
        Overrides of :data:`PYSR_PARAMS`, passed to ``pysr.PySRRegressor``.
    """

    method = "pysr"

    def __init__(self, target: str = "feh", coverage: CoverageModel | None = None,
                 outside: str = DEFAULT_OUTSIDE, params: dict[str, Any] | None = None) -> None:
        super().__init__(target, coverage, outside)
        self.params = PYSR_PARAMS | (params or {})
        self.equation: str | None = None
        self._function: Any = None

    def fit(self, teff: Any, logg: Any, feh: Any, delta: Any) -> PySRCalibration:
        """Fit (see :meth:`Calibration.fit`); raises :class:`MissingExtraError` without PySR."""
        _import_pysr()  # fail before the coverage model is built
        return super().fit(teff, logg, feh, delta)

    def _fit_model(self, x: np.ndarray, delta: np.ndarray) -> None:
        pysr = _import_pysr()
        model = pysr.PySRRegressor(**self.params)
        model.fit(x, delta, variable_names=list(PYSR_VARIABLES))
        self._set_equation(str(model.sympy()))

    def _set_equation(self, equation: str) -> None:
        sympy = _import_sympy()
        symbols = sympy.symbols(PYSR_VARIABLES)
        self.equation = equation
        self._function = sympy.lambdify(symbols, sympy.sympify(equation), modules="numpy")

    def _predict_model(self, x: np.ndarray) -> np.ndarray:
        value = self._function(x[:, 0], x[:, 1], x[:, 2])
        return np.broadcast_to(np.asarray(value, dtype=np.float64), (x.shape[0],)).copy()

    def _save_model(self, folder: Path) -> dict[str, Any]:
        (folder / PYSR_FILE).write_text(json.dumps(
            {"equation": self.equation, "variables": list(PYSR_VARIABLES),
             "meaning": ["teff/5040", "logg", "feh"]}, indent=1))
        return {"file": PYSR_FILE}

    def _load_model(self, folder: Path, state: dict[str, Any]) -> None:
        path = folder / state.get("file", PYSR_FILE)
        if not path.is_file():
            raise ModelFormatError(f"PySR calibration file {path} is missing")
        self._set_equation(json.loads(path.read_text())["equation"])
