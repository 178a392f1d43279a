"""Choices and defaults shown by ``sos-vo COMMAND --help``, copied from the modules that own them.

The parsers are built from these copies so that ``--help`` (and a usage error) does not import
astropy.table, matplotlib, mocpy, TensorFlow or dask; ``tests/commands/test_help.py``
checks that every copy equals its source, so they cannot drift apart.
"""

from __future__ import annotations

CATALOGUE_FORMATS: tuple[str, ...] = ("votable", "votable-tabledata", "fits", "cds")
"""Copy of :data:`sos_vo.publish.writers.FORMATS`."""

QUERY_SURVEYS: tuple[str, ...] = ("sdss", "skymapper", "both")
"""Copy of :data:`sos_vo.archives.query.SURVEY_CHOICES`."""

PLOT_KINDS: tuple[str, ...] = ("errors", "kiel", "one-to-one")
"""Copy of ``sorted(sos_vo.publish.plots.PLOTS)``."""

SAMP_TIMEOUT_S = 30
"""Copy of :data:`sos_vo.publish.samp.DEFAULT_TIMEOUT_S`."""

DEMO_RADIUS_DEG = 4.0
"""Copy of :data:`sos_vo.api.DEMO_RADIUS_DEG`."""
DEMO_N_STARS = 40_000
"""Copy of :data:`sos_vo.api.DEMO_N_STARS`."""
DEMO_N_MEMBERS = 3
"""Copy of :data:`sos_vo.api.DEMO_N_MEMBERS`."""
DEMO_EPOCHS = 40
"""Copy of :data:`sos_vo.api.DEMO_EPOCHS`."""

HOMOGENISE_METHODS: tuple[str, ...] = ("linear", "polynomial", "pysr", "xgboost")
"""Copy of ``sorted(sos_vo.homogenise.METHODS)``."""
LABEL_REFERENCE: tuple[str, ...] = ("apogee-dr17", "galah-dr3")
"""Copy of :data:`sos_vo.labels.build.DEFAULT_REFERENCE`."""
HOMOGENISE_METHOD = "polynomial"
"""Copy of :data:`sos_vo.labels.build.DEFAULT_METHOD`."""
RECALIBRATIONS: tuple[str, ...] = ("refit", "t25", "none")
"""Copy of :data:`sos_vo.labels.real_model.RECALIBRATIONS`."""
BUILD_ENGINES: tuple[str, ...] = ("fused", "per-network")
"""Copy of :data:`sos_vo.ml.units.ENGINES` (the first is build-model's default)."""

PLAN_BANDWIDTH_MB_S = 10.0
"""Copy of :data:`sos_vo.scale.plan.DEFAULT_BANDWIDTH_MB_S`."""
PLAN_PREDICT_STARS_PER_S = 8000.0
"""Copy of :data:`sos_vo.scale.plan.DEFAULT_PREDICT_STARS_PER_S`."""
PLAN_PREPARE_ROWS_PER_S = 100000.0
"""Copy of :data:`sos_vo.scale.plan.DEFAULT_PREPARE_ROWS_PER_S`."""
PLAN_REBUILD_EPOCHS = 60
"""Copy of :data:`sos_vo.scale.plan.DEFAULT_REBUILD_EPOCHS`."""
PLAN_CLUSTER_NODES = 10
"""Copy of :data:`sos_vo.scale.build_plan.CLUSTER_NODES`."""
PLAN_CORES_PER_NODE = 8
"""Copy of :data:`sos_vo.scale.build_plan.CORES_PER_NODE`."""
