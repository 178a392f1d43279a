"""The benchmark tests import ``benchmarks`` (beside ``sos_vo`` at the repository root), which
``pytest`` (not ``python -m pytest``) does not put on ``sys.path``: put it there once."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
