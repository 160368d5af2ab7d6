#!/usr/bin/env bash
# Makes sure the servers the test suite uses are installed and running on loopback:
#   PostgreSQL on 127.0.0.1:5432 (user postgres, trust auth) and Redis on 127.0.0.1:6379;
#   and Prometheus's promtool (Debian's prometheus package), which checks the deploy kit.
# Installs the Debian packages when missing, starts the servers when down. Idempotent.
# Prints the environment the tests read, for `eval "$(scripts/services.sh)"`.
set -euo pipefail

log() { echo "services: $*" >&2; }

missing=()
ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || missing+=(postgresql)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
if ((${#missing[@]})); then
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq "${missing[@]}" >&2
fi

# PostgreSQL: one cluster, trust auth on loopback, running.
version=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
if ! pg_lsclusters -h 2>/dev/null | awk '{print $1" "$2}' | grep -q "^$version main$"; then
  log "creating PostgreSQL $version cluster"
  pg_createcluster "$version" main >&2
fi
hba="/etc/postgresql/$version/main/pg_hba.conf"
if ! head -n 1 "$hba" | grep -q "relay-trust"; then
  { echo "# relay-trust: tests connect as postgres without a password on loopback only"
    echo "local all all trust"
    echo "host all all 127.0.0.1/32 trust"
    echo "host all all ::1/128 trust"
    cat "$hba"; } > "$hba.new"
  mv "$hba.new" "$hba"
  chown postgres:postgres "$hba"
  pg_ctlcluster "$version" main reload >&2 2>/dev/null || true
fi
if ! pg_isready -q -h 127.0.0.1 -p 5432; then
  log "starting PostgreSQL $version"
  pg_ctlcluster "$version" main start >&2
fi
for _ in $(seq 1 50); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 0.2; done
pg_isready -q -h 127.0.0.1 -p 5432 || { log "PostgreSQL did not come up"; exit 1; }

# Redis: an ephemeral, loopback-only server without persistence.
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  log "starting Redis"
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save '' --appendonly no >&2
  for _ in $(seq 1 50); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 0.1; done
fi
redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null || { log "Redis did not come up"; exit 1; }

echo "export RELAY_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres"
echo "export RELAY_TEST_REDIS_URL=redis://127.0.0.1:6379"
echo "export RELAY_PROMTOOL=$(command -v promtool)"
