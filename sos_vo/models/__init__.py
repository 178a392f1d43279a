"""Trained SoS-ML ensembles shipped with sos-vo (data only; see each folder's README.md card)."""
