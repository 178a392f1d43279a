#!/usr/bin/env bash
# Install and start GAVO DaCHS (Debian bookworm's gavodachs2-server) as a local TAP server on
# 127.0.0.1:8080 and publish the sos-vo fixture tables (synthetic sky under the real archive schema
# and table names), for the tests marked `dachs`.  Run as root after `apt-get update`.
# Idempotent: re-running it re-generates and re-imports the fixtures and (re)starts the server.
#
# Pitfalls handled here:
#  * PostgreSQL must be running before gavodachs2-server is configured (its postinst runs `dachs init`).
#  * Debian's pgsphere 1.1.1 ships two legacy `@ (bigint|spoint, smoc)` operators that PostgreSQL
#    >= 15.20 rejects ("commutator operator @> is already the commutator of operator <@"), which
#    breaks `CREATE EXTENSION pg_sphere`; upstream removed them (postgrespro/pgsphere#92), so we do too.
#  * DaCHS's default serverURL is http://localhost:8080; async job and capability URLs use it, so we
#    advertise http://127.0.0.1:8080.
#  * `dachs imp` takes the inputs-relative RD id (`sosvo_gaiadr3/q`), never a bare `q`.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
ROOT=$(cd "$(dirname "$0")/.." && pwd)
VENV=${SOS_VO_VENV:-$ROOT/.venv}
PY=${SOS_VO_PYTHON:-$VENV/bin/python}
[ -x "$PY" ] || PY=python3
FIXTURES=${SOS_VO_DACHS_FIXTURES:-$ROOT/build/dachs}   # git-ignored (build/)
PGVER=15

# 1. PostgreSQL + pgsphere + q3c, running
apt-get install -y -q postgresql-$PGVER postgresql-$PGVER-pgsphere postgresql-$PGVER-q3c curl >/dev/null
pg_lsclusters | grep -q "^$PGVER *main" || pg_createcluster $PGVER main
pg_lsclusters | grep -q "^$PGVER *main.*online" || pg_ctlcluster $PGVER main start

# 1b. pgsphere fix (idempotent: the pattern no longer matches once removed)
perl -0pi -e 's/-- a minimal set of backwards-compatible operators for GAVO DaCHS,.*?spoint_subset_smoc,.*?\);\n//s' \
    /usr/share/postgresql/$PGVER/extension/pg_sphere--1.2.0.sql

# 2. DaCHS configuration: loopback only, advertise 127.0.0.1
cat > /etc/gavo.rc <<'RC'
[web]
serverURL: http://127.0.0.1:8080
bindAddress: 127.0.0.1
serverPort: 8080
RC
if ! dpkg -s gavodachs2-server 2>/dev/null | grep -q '^Status: install ok installed'; then
  apt-get install -y -q gavodachs2-server >/dev/null || dpkg --configure -a
fi

# 3. Fixture tables from the synthetic sky -> one RD per schema under $FIXTURES, then imported
rm -rf "$FIXTURES"
"$PY" "$ROOT/tools/make_dachs_fixtures.py" "$FIXTURES"
for rd_dir in "$FIXTURES"/rd/*/; do
  name=$(basename "$rd_dir")
  rm -rf "/var/gavo/inputs/$name"
  cp -r "$rd_dir" "/var/gavo/inputs/$name"
  chown -R gavo:gavo "/var/gavo/inputs/$name" 2>/dev/null || true
  dachs imp "$name/q" > "$FIXTURES/imp_$name.log" 2>&1 || { cat "$FIXTURES/imp_$name.log"; exit 1; }
done

# 4. Serve (restart so a changed RD set is picked up) and wait for TAP
dachs serve stop >/dev/null 2>&1 || true
dachs serve start
for _ in $(seq 1 240); do
  curl -sf -o /dev/null http://127.0.0.1:8080/tap/capabilities && break
  sleep 0.25
done
curl -sf -o /dev/null http://127.0.0.1:8080/tap/capabilities
echo "DaCHS TAP ready at http://127.0.0.1:8080/tap (fixtures in $FIXTURES)"
