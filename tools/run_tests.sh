#!/usr/bin/env bash
# Install everything the test-suite needs on a fresh Debian bookworm machine (root), start the
# real services the tests talk to (GAVO DaCHS TAP server, Xvfb for TOPCAT/Aladin), run pytest.
# This is the test command of README.md; .ci/run calls it.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
export DEBIAN_FRONTEND=noninteractive

# 1. Python environment (a venv, so the system Python stays clean)
VENV=${SOS_VO_VENV:-.venv}
[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
"$VENV/bin/pip" install -q --upgrade pip
"$VENV/bin/pip" install -q -e ".[test]"

# 1b. The core install alone (no extra) in a second venv: --help, simulate, predict
if [ "${SOS_VO_SKIP_CORE_CHECK:-0}" != "1" ]; then
  PYTHON="$PY" bash tools/check_core_install.sh "${SOS_VO_CORE_VENV:-.venv-core}"
fi

# 2. Real services from Debian's packages (each script is idempotent)
if [ "${SOS_VO_SKIP_SERVICES:-0}" != "1" ]; then
  apt-get update -q >/dev/null
  for s in tools/setup_dachs.sh tools/setup_vo_tools.sh; do
    if [ -f "$s" ]; then bash "$s"; fi
  done
  # In CI every service-backed test must run: a missing service is a failure, not a skip.
  export SOS_VO_REQUIRE_SERVICES=1
fi

# 3. Lint and tests
"$VENV/bin/ruff" check sos_vo tests benchmarks tools
"$VENV/bin/python" -m pytest "$@"
