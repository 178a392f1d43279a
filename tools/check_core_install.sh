#!/usr/bin/env bash
# The core install alone (no extra): `pip install .` into its own venv, then the three things a
# user without TensorFlow, matplotlib, XGBoost or dask does: --help, simulate, predict with a
# shipped ensemble.  Fails if any of those modules got installed or imported on the way.
# Usage: tools/check_core_install.sh [VENV]   (default .venv-core; PYTHON picks the interpreter)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
VENV=${1:-.venv-core}
[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
"$VENV/bin/pip" install -q --upgrade pip
"$VENV/bin/pip" install -q .
for heavy in tensorflow keras matplotlib xgboost dask distributed sklearn pyarrow; do
  if "$VENV/bin/python" -c "import importlib.util, sys; sys.exit(importlib.util.find_spec('$heavy') is None)"; then
    echo "core install pulled in $heavy" >&2
    exit 1
  fi
done
VENV_ABS=$(cd "$VENV" && pwd)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
(
  cd "$WORK"  # run the installed package, not the source tree
  "$VENV_ABS/bin/sos-vo" --help >/dev/null
  "$VENV_ABS/bin/sos-vo" simulate --center 180 0 --radius 0.7 --n-stars 1500 --seed 3 \
    --out sky --format ecsv >/dev/null
  MODELS=$("$VENV_ABS/bin/python" -c "from sos_vo.ml.registry import installed_models_dir as d; print(d())")
  "$VENV_ABS/bin/sos-vo" predict sky --model "$MODELS/demo_sdss" --model "$MODELS/demo_skymapper" \
    --out cat.fits --no-progress
  "$VENV_ABS/bin/python" - <<'PY'
from astropy.table import Table

t = Table.read("cat.fits")
assert len(t) > 0, "empty catalogue"
print(f"core install: {len(t)} catalogue rows predicted without any extra")
PY
  # a command that needs an extra says so in one line and exits 2
  set +e
  "$VENV_ABS/bin/sos-vo" plot kiel cat.fits --out kiel.png 2>err.txt
  rc=$?
  set -e
  if [ "$rc" != 2 ] || ! grep -q 'sos-vo\[plot\]' err.txt || [ "$(wc -l <err.txt)" != 1 ]; then
    echo "sos-vo plot without matplotlib: exit $rc, expected 2 and one line naming sos-vo[plot]:" >&2
    cat err.txt >&2
    exit 1
  fi
)
