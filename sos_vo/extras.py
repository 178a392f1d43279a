"""Optional dependencies, imported on first use, with a one-line hint naming the extra.

The core install (``pip install sos-vo``) queries the archives, prepares samples and predicts
with numpy.  Everything else is an extra:

=============  ======================================================  ===========================
extra          provides                                                for
=============  ======================================================  ===========================
``train``      tensorflow-cpu, keras >= 3, scikit-learn                training ensembles and the
                                                                       train_area density
``scale``      dask[distributed], pyarrow                              Parquet streaming, dask runs
``hats``       lsdb                                                    HATS catalogues
``homogenise`` xgboost, scikit-learn                                    survey calibration
``pysr``       pysr, sympy                                             symbolic calibration
``plot``       matplotlib                                              figures
``skyserver``  astroquery                                              SDSS SkyServer access
=============  ======================================================  ===========================
"""

from __future__ import annotations

import importlib
from types import ModuleType

from .exceptions import MissingExtraError

PROVIDED_BY = {
    "tensorflow": "train", "keras": "train",
    "pyarrow": "scale", "dask": "scale", "distributed": "scale",
    "lsdb": "hats",
    "xgboost": "homogenise",
    "pysr": "pysr", "sympy": "pysr",
    "matplotlib": "plot",
    "astroquery": "skyserver",
}
"""Top-level module -> the extra that installs it (``sklearn`` is in both ``train`` and
``homogenise``: callers name the one they need)."""


def install_hint(extra: str) -> str:
    """The pip command that installs ``extra``."""
    return f'pip install "sos-vo[{extra}]"'


def require(module: str, purpose: str, extra: str | None = None) -> ModuleType:
    """Import ``module`` (dotted names allowed) or raise :class:`MissingExtraError`.

    Parameters
    ----------
    module
        Module to import, e.g. ``"matplotlib.pyplot"``.
    purpose
        What needs it, for the message ("plots", "training").
    extra
        Extra that installs it (default: :data:`PROVIDED_BY` of the top-level name).

    Raises
    ------
    MissingExtraError
        One line: the missing module, what needs it, the pip command.
    """
    top = module.split(".")[0]
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        if exc.name is None or exc.name.split(".")[0] != top:
            raise  # the module is there but one of its own imports failed: not ours to hide
        extra = extra or PROVIDED_BY.get(top, "all")
        raise MissingExtraError(f"{purpose} needs {top}, which is not installed: "
                                f"{install_hint(extra)}") from exc
