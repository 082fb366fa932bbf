#!/usr/bin/env bash
# Starts the Node `websocket` (WebSocket-Node 1.0.35, the seed's library) peer on 127.0.0.1:PORT.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
port=${1:?usage: run-node-websocket.sh PORT}
[ -f "$here/node_modules/websocket/package.json" ] || (cd "$here" && npm ci --no-audit --no-fund --loglevel=error >&2)
exec node "$here/node-websocket.js" "$port"
