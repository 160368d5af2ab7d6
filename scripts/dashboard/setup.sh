#!/usr/bin/env bash
# Installs what the dashboard's browser test (examples/standalone/tests/dashboard.rs) needs
# when it is absent: Debian's `chromium` (apt) and the pinned playwright-core from
# tests/dashboard/package-lock.json (npm ci) under ${RELAY_DASHBOARD_DIR:-/var/tmp/relay-dashboard}.
# Installer output goes to stderr; stdout is the variables to export:
#
#   eval "$(scripts/dashboard/setup.sh)"
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
lock_dir="$here/../../tests/dashboard"
dir="${RELAY_DASHBOARD_DIR:-/var/tmp/relay-dashboard}"
chromium="${RELAY_CHROMIUM:-/usr/bin/chromium}"

if [[ ! -x "$chromium" ]]; then
    echo "Installing chromium with apt…" >&2
    as_root=()
    if [[ "$(id -u)" != 0 ]]; then
        as_root=(sudo)
    fi
    "${as_root[@]}" apt-get update >&2
    DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y --no-install-recommends chromium >&2
fi

# Reinstall only when the lock file changed since the last install.
stamp="$(sha256sum "$lock_dir/package-lock.json" | cut -d' ' -f1)"
if [[ ! -f "$dir/.stamp" || "$(cat "$dir/.stamp")" != "$stamp" ]]; then
    echo "Installing playwright-core into $dir…" >&2
    mkdir -p "$dir"
    cp "$lock_dir/package.json" "$lock_dir/package-lock.json" "$dir/"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error) >&2
    echo "$stamp" >"$dir/.stamp"
fi

echo "export RELAY_CHROMIUM=$chromium"
echo "export RELAY_DASHBOARD_NODE_MODULES=$dir/node_modules"
