#!/usr/bin/env bash
# What --deflate costs (bench/README.md, "permessage-deflate"): RSS per idle connection and echo
# rate, with deflate compiled out (BASE, a build of the commit before it), off, on but not
# negotiated, and negotiated. Server pinned to CPU 0 with one thread, clients to CPU 1. The C load
# generator (LG, ../shared/bench/loadgen.c) does not offer deflate; the Node ws clients
# (peers/deflate-clients.mjs, after npm ci in peers/) do.
#
#   bench/deflate.sh BIN [BASE]      CONNS=10000 HOLD=8 ECHO_SECONDS=10 LG=/tmp/loadgen
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=${1:?usage: deflate.sh BIN [BASE]}
base=${2:-}
CONNS=${CONNS:-10000} HOLD=${HOLD:-8} ECHO_SECONDS=${ECHO_SECONDS:-10} LG=${LG:-/tmp/loadgen} PORT=${PORT:-9310}
clients=(node "$here/peers/deflate-clients.mjs")
ready=$(mktemp -u)

rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }

start() {  # start BIN ARGS...: the server on $PORT, its pid in $server
  local b=$1; shift
  taskset -c 0 "$b" --port "$PORT" --threads 1 --log-level warn --max-connections 100000 --ping-interval 0 \
    --rate-messages 0 --echo-path /echo "$@" &
  server=$!
  until (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; do sleep 0.2; done
  sleep 1
}

stop() { kill "$server"; wait "$server" || true; }

# hold LABEL BIN SERVER-ARGS -- CLIENT...: RSS per idle connection while the client holds them
hold() {
  local label=$1 b=$2; shift 2
  local args=(); while [ "$1" != -- ]; do args+=("$1"); shift; done; shift
  start "$b" "${args[@]}"
  local before; before=$(rss_kb "$server"); rm -f "$ready"
  taskset -c 1 "$@" --ready-file "$ready" >/dev/null 2>&1 &
  local client=$!
  until [ -f "$ready" ]; do sleep 0.2; done
  sleep 2
  local during up; during=$(rss_kb "$server"); up=$(cat "$ready")
  wait "$client" || true
  stop
  awk -v l="$label" -v a="$before" -v b="$during" -v n="$up" \
    'BEGIN {printf "| %s | %d | %.1f | %.1f | %.2f |\n", l, n, a / 1024, b / 1024, (b - a) / n}'
}

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }  # utime + stime, 100 a second

# echo LABEL BIN SERVER-ARGS -- CLIENT...: the client's last line, the server's CPU share over the
# run (handshakes included) and its CPU time per reply
echo_rate() {
  local label=$1 b=$2; shift 2
  local args=(); while [ "$1" != -- ]; do args+=("$1"); shift; done; shift
  start "$b" "${args[@]}"
  local t0 s0 line; t0=$(cpu_ticks "$server"); s0=$(date +%s.%N)
  line=$(taskset -c 1 "$@" | tail -1)
  local ticks seconds; ticks=$(($(cpu_ticks "$server") - t0)); seconds=$(awk -v a="$s0" -v b="$(date +%s.%N)" 'BEGIN {print b - a}')
  stop
  echo "$label: $line server_cpu=$(awk -v t="$ticks" -v s="$seconds" 'BEGIN {printf "%d%%", t / s}')" \
    "server_us_per_reply=$(awk -v t="$ticks" -v l="$line" -v e="$ECHO_SECONDS" 'BEGIN {
      match(l, /msgs_per_s=[0-9.]+/); r = substr(l, RSTART + 11, RLENGTH - 11); printf "%.1f", t * 10000 / (r * e)}')"
}

echo "| server | connections | RSS before MiB | RSS holding MiB | KiB per connection |"
echo "|---|---|---|---|---|"
lg_conns=("$LG" conns --port "$PORT" --conns "$CONNS" --hold "$HOLD")
node_conns=("${clients[@]}" conns --port "$PORT" --conns "$CONNS" --hold "$HOLD")
[ -n "$base" ] && hold "deflate compiled out (base), loadgen" "$base" -- "${lg_conns[@]}"
hold "no --deflate, loadgen" "$bin" -- "${lg_conns[@]}"
hold "--deflate, loadgen (no offer)" "$bin" --deflate -- "${lg_conns[@]}"
hold "no --deflate, ws offering it (declined)" "$bin" -- "${node_conns[@]}" --deflate
hold "--deflate, ws offering it (negotiated)" "$bin" --deflate -- "${node_conns[@]}" --deflate
hold "no --deflate, ws, one 1 KiB echo each" "$bin" -- "${node_conns[@]}" --deflate --path /echo --warm 1024
hold "--deflate, ws, one 1 KiB echo each" "$bin" --deflate -- "${node_conns[@]}" --deflate --path /echo --warm 1024
hold "--deflate --deflate-context-takeover, ws, one 1 KiB echo each" "$bin" --deflate --deflate-context-takeover -- \
  "${node_conns[@]}" --deflate --path /echo --warm 1024

# Echo 100x1: loadgen (64-byte texts, no deflate) for the plain path, then the Node ws client with
# and without deflate, 64 bytes (under the threshold: never compressed) and 1 KiB (compressed).
[ -n "$base" ] && echo_rate "base, loadgen 64 B" "$base" -- "$LG" echo --port "$PORT" --conns 100 --depth 1 \
  --seconds "$ECHO_SECONDS" --size 64 --protocol coropush.v1
echo_rate "no --deflate, loadgen 64 B" "$bin" -- "$LG" echo --port "$PORT" --conns 100 --depth 1 \
  --seconds "$ECHO_SECONDS" --size 64 --protocol coropush.v1
for size in 64 1024; do
  node_echo=("${clients[@]}" echo --port "$PORT" --conns 100 --depth 1 --seconds "$ECHO_SECONDS" --size "$size")
  echo_rate "no --deflate, ws $size B" "$bin" -- "${node_echo[@]}"
  echo_rate "--deflate, ws $size B" "$bin" --deflate -- "${node_echo[@]}" --deflate
done
