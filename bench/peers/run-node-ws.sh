#!/usr/bin/env bash
# Starts the Node `ws` peer on 127.0.0.1:PORT (installs its npm dependencies on first run).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
port=${1:?usage: run-node-ws.sh PORT}
[ -f "$here/node_modules/ws/package.json" ] || (cd "$here" && npm ci --no-audit --no-fund --loglevel=error >&2)
exec node "$here/node-ws.mjs" "$port"
