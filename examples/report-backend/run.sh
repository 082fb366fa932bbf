#!/usr/bin/env bash
# The report example in one command: builds coropush if needed (as scripts/run.sh does), makes an
# API key once, starts coropush and the example backend, prints the URL to open, and stops both on
# Ctrl-C (the backend first, so that a report it is building can still say so through coropush).
#
#   examples/report-backend/run.sh [backend options]     e.g. --port 8081 --step-time 0.2; --help
#
# Environment:
#   COROPUSH_BIN       a coropush executable to use instead of building the release preset
#   COROPUSH_PORT      coropush's port (default 0: any free one; the page learns it from the backend)
#   COROPUSH_API_KEY   the API key; without it, the key in build/report-example/api-key (mode 600),
#                      made on the first run
#
# On stdout: one line, "open http://HOST:PORT/". The two servers' logs go to stderr, each line
# tagged with [coropush] or [backend].
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root"

for arg in "$@"; do
  case $arg in -h | --help) exec python3 "$here/backend.py" --help ;; esac
done

if [ -z "${COROPUSH_BIN:-}" ]; then
  scripts/install-deps.sh build >&2
  cmake --preset release >/dev/null
  cmake --build --preset release --target coropush >&2
  COROPUSH_BIN=$root/build/release/src/coropush
fi

# Both programs read the key the same way: COROPUSH_API_KEY, or a file named on the command line
# (never the key itself on a command line, where any local user can read it in /proc).
key_args=()
if [ -z "${COROPUSH_API_KEY:-}" ]; then
  key_file=$root/build/report-example/api-key
  if [ ! -s "$key_file" ]; then
    mkdir -p "$(dirname "$key_file")"
    (umask 077 && python3 -c 'import secrets; print(secrets.token_hex(32))' >"$key_file")
  fi
  key_args=(--api-key-file "$key_file")
fi

# Each server runs in a session of its own (setsid), so that Ctrl-C reaches this script only,
# which then stops them one at a time, in order. Their output comes through a FIFO: this script
# reads the first lines to learn where they listen, then passes the rest on, tagged.
fifos=$(mktemp -d)
coropush_pid=""
backend_pid=""
trap 'rm -rf "$fifos"; stop_servers' EXIT
trap 'exit 130' INT TERM

stop_servers() {
  trap - INT TERM
  for pid in "$backend_pid" "$coropush_pid"; do
    if [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null; then wait "$pid" || true; fi
  done
  backend_pid=""
  coropush_pid=""
}

# start NAME COMMAND...: runs COMMAND, sets $started_pid, and opens its output on fd $started_fd.
start() {
  local name=$1
  shift
  mkfifo "$fifos/$name"
  setsid "$@" >"$fifos/$name" 2>&1 &
  started_pid=$!
  exec {started_fd}<"$fifos/$name"
}

# wait_for FD NAME REGEX: passes lines on until one matches REGEX (its first group is then in
# $matched), then keeps passing the rest on in the background; fails if the output ends first.
wait_for() {
  local fd=$1 name=$2 regex=$3 line
  while IFS= read -r line <&"$fd"; do
    printf '[%s] %s\n' "$name" "$line" >&2
    if [[ $line =~ $regex ]]; then
      matched=${BASH_REMATCH[1]}
      # The tagger ignores Ctrl-C: it must outlive the server, to pass on its last words.
      (trap '' INT TERM && exec sed -u "s/^/[$name] /") <&"$fd" >&2 &
      return 0
    fi
  done
  echo "run.sh: $name exited before it was ready" >&2
  return 1
}

start coropush "$COROPUSH_BIN" --port "${COROPUSH_PORT:-0}" "${key_args[@]}"
coropush_pid=$started_pid
wait_for "$started_fd" coropush 'listening on [^ ]*:([0-9]+)'
coropush_port=$matched

start backend python3 -u "$here/backend.py" --coropush-url "http://127.0.0.1:$coropush_port" "${key_args[@]}" "$@"
backend_pid=$started_pid
wait_for "$started_fd" backend '^listening on (http://[^ ]+)'

# From here on, Ctrl-C is the way to stop, not an interruption: both servers are up.
trap 'stop_servers; exit 0' INT TERM
echo "open $matched"
echo "run.sh: Ctrl-C stops both" >&2

# Until Ctrl-C, or until one of the two exits on its own (then the other is stopped too).
wait -n "$coropush_pid" "$backend_pid" || true
echo "run.sh: a server exited; stopping the other" >&2
exit 1
