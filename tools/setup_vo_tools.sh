#!/usr/bin/env bash
# Install the Debian tools the publishing tests use (tests/publish): fitsverify, STILTS, TOPCAT,
# Aladin, Xvfb and a Java runtime.  Idempotent: packages already installed are not touched.
# Run as root on Debian bookworm after `apt-get update` (tools/run_tests.sh does both).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

# command -> Debian package providing it
declare -A PACKAGES=(
  [fitsverify]=fitsverify
  [stilts]=stilts
  [topcat]=topcat
  [aladin]=aladin
  [Xvfb]=xvfb
  [xauth]=xauth
  [java]=default-jre-headless
)

missing=()
for cmd in "${!PACKAGES[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("${PACKAGES[$cmd]}")
done

if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup_vo_tools: installing ${missing[*]}"
  apt-get install -y -q "${missing[@]}" >/dev/null
else
  echo "setup_vo_tools: fitsverify, stilts, topcat, aladin, Xvfb and java already installed"
fi

for cmd in "${!PACKAGES[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || { echo "setup_vo_tools: $cmd still missing" >&2; exit 1; }
done
