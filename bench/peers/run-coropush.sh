#!/usr/bin/env bash
# Starts coropush (the release build) on 127.0.0.1:PORT with one io thread, as the bench runs it.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
port=${1:?usage: run-coropush.sh PORT}
exec "$here/../../build/release/src/coropush" --port "$port" --threads 1 --log-level warn \
  --max-connections 100000 --ping-interval 0
