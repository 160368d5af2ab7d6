#!/usr/bin/env bash
# Installs the official client libraries for the interop test, pinned, outside the repository:
# a Python venv and node_modules under ${RELAY_INTEROP_DIR:-/var/tmp/relay-interop}.
# Then prints the two variables the interop tests (tests/tests/interop_*.rs) read.
#
#   scripts/interop/setup.sh && eval "$(scripts/interop/setup.sh --print-env)"
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
dir="${RELAY_INTEROP_DIR:-/var/tmp/relay-interop}"

print_env() {
    echo "export RELAY_INTEROP_PYTHON=$dir/venv/bin/python"
    echo "export RELAY_INTEROP_NODE_MODULES=$dir/node_modules"
}

if [[ "${1:-}" == "--print-env" ]]; then
    print_env
    exit 0
fi

# Skip the install when the pinned files have not changed since the last one.
stamp="$(cat "$here/requirements.txt" "$here/constraints.txt" "$here/package-lock.json" | sha256sum | cut -d' ' -f1)"
if [[ -f "$dir/.stamp" && "$(cat "$dir/.stamp")" == "$stamp" ]]; then
    echo "Interop libraries already installed in $dir." >&2
    print_env
    exit 0
fi

mkdir -p "$dir"
python3 -m venv "$dir/venv"
"$dir/venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    -r "$here/requirements.txt" -c "$here/constraints.txt" >&2

cp "$here/package.json" "$here/package-lock.json" "$dir/"
(cd "$dir" && npm ci --no-audit --no-fund --loglevel=error) >&2  # stdout is eval-ed by callers
echo "$stamp" >"$dir/.stamp"

echo "Interop libraries installed in $dir. Export:" >&2
print_env
