"""sos-vo: Survey of Surveys stellar parameters over the Virtual Observatory.

Reproduces the SoS-ML method of Turchi et al. (2025, A&A, "Survey of Surveys II"):
Gaia DR3 + Bailer-Jones distances + Andrae et al. (2023) metallicities + SDSS or
SkyMapper photometry -> quality cuts -> an ensemble of multi-layer perceptrons trained on
PASTEL-recalibrated SoS-Spectro labels -> Teff, log g, [Fe/H] with per-star errors.
"""

from .version import __version__

__all__ = ["__version__"]
