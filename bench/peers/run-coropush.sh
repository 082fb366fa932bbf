#!/usr/bin/env bash
# Starts coropush (the release build) on 127.0.0.1:PORT with one io thread, as the bench runs it;
# further arguments go to coropush (bench/run.sh passes the server API's key file this way).
# --rate-messages 0: the echo runs send thousands of messages a second per connection, far past
# the default per-connection limit (100/s), which is there for hostile clients, not for a load test.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
port=${1:?usage: run-coropush.sh PORT [COROPUSH-OPTIONS...]}
shift
exec "$here/../../build/release/src/coropush" --port "$port" --threads 1 --log-level warn \
  --max-connections 100000 --ping-interval 0 --rate-messages 0 "$@"
