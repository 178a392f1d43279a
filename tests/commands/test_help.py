"""``sos-vo COMMAND --help`` imports none of the heavy libraries, and its choices are the real ones."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from sos_vo.commands import COMMAND_MODULES, _choices

HEAVY = ("matplotlib", "mocpy", "astropy.table", "tensorflow", "dask")
"""Libraries that take seconds to import; a parser must not need them."""

_PROBE = """
import contextlib, io, json, sys
from sos_vo.cli import main
with contextlib.redirect_stdout(io.StringIO()) as out:
    try:
        main([sys.argv[1], "--help"])
        code = None
    except SystemExit as exc:
        code = exc.code
heavy = [m for m in json.loads(sys.argv[2]) if m in sys.modules]
print(json.dumps({"code": code, "usage": "usage: sos-vo" in out.getvalue(), "heavy": heavy}))
"""


@pytest.mark.parametrize("command", COMMAND_MODULES)
def test_help_imports_no_heavy_library(command):
    """Run in a fresh interpreter: sys.modules after ``--help`` holds none of :data:`HEAVY`."""
    run = subprocess.run([sys.executable, "-c", _PROBE, command.replace("_", "-"), json.dumps(HEAVY)],
                         capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert result == {"code": 0, "usage": True, "heavy": []}


def test_help_choices_equal_their_sources():
    from sos_vo import api
    from sos_vo.archives.query import SURVEY_CHOICES
    from sos_vo.publish import samp
    from sos_vo.publish.plots import PLOTS
    from sos_vo.publish.writers import FORMATS

    assert _choices.CATALOGUE_FORMATS == FORMATS
    assert _choices.QUERY_SURVEYS == SURVEY_CHOICES
    assert _choices.PLOT_KINDS == tuple(sorted(PLOTS))
    from sos_vo.homogenise import METHODS
    from sos_vo.labels.build import DEFAULT_METHOD, DEFAULT_REFERENCE
    from sos_vo.labels.real_model import RECALIBRATIONS

    assert _choices.HOMOGENISE_METHODS == tuple(sorted(METHODS))
    assert _choices.LABEL_REFERENCE == tuple(DEFAULT_REFERENCE)
    assert _choices.HOMOGENISE_METHOD == DEFAULT_METHOD
    assert _choices.RECALIBRATIONS == tuple(RECALIBRATIONS)
    from sos_vo.ml.units import ENGINES as BUILD_ENGINES

    assert _choices.BUILD_ENGINES == BUILD_ENGINES
    from sos_vo.scale import plan as scale_plan

    assert (_choices.PLAN_BANDWIDTH_MB_S, _choices.PLAN_PREDICT_STARS_PER_S,
            _choices.PLAN_PREPARE_ROWS_PER_S, _choices.PLAN_REBUILD_EPOCHS) == (
        scale_plan.DEFAULT_BANDWIDTH_MB_S, scale_plan.DEFAULT_PREDICT_STARS_PER_S,
        scale_plan.DEFAULT_PREPARE_ROWS_PER_S, scale_plan.DEFAULT_REBUILD_EPOCHS)
    from sos_vo.scale import build_plan

    assert (_choices.PLAN_CLUSTER_NODES, _choices.PLAN_CORES_PER_NODE) == (
        build_plan.CLUSTER_NODES, build_plan.CORES_PER_NODE)
    assert _choices.SAMP_TIMEOUT_S == samp.DEFAULT_TIMEOUT_S
    assert (_choices.DEMO_RADIUS_DEG, _choices.DEMO_N_STARS, _choices.DEMO_N_MEMBERS,
            _choices.DEMO_EPOCHS) == (api.DEMO_RADIUS_DEG, api.DEMO_N_STARS,
                                      api.DEMO_N_MEMBERS, api.DEMO_EPOCHS)
