#!/usr/bin/env bash
# bench/run.sh: measures coropush and its peers (Node ws, Node websocket 1.0.35 = the seed's
# library, websocketpp) with coropush-bench, in one run, and writes a results table.
#
#   bench/run.sh                      all four servers (about 12 minutes with REPEAT=3)
#   bench/run.sh coropush node-ws     some of them
#   QUICK=1 bench/run.sh              reduced sizes, to check the harness (about 2 minutes)
#
# Each server runs pinned to CPU 0 and the load tool to CPU 1 (taskset). Per server, in order:
# idle RSS; `conns` 10000 held (RSS per idle connection = (RSS holding - RSS before) / upgraded);
# `echo` 100x1 and 1000x4 (64-byte texts, 10 s); `fanout` to 1000 and 10000 subscribers (200
# publishes); for coropush only, `apifanout` to the same sizes (the same fan-out, published with
# POST /api/publish: the peers have no server API), alternating with `fanout` run by run so the
# two see the same machine; `churn` with 8 workers for 5 s; `seed` with 10000 clients; then the
# peak RSS. REPEAT=N (odd) repeats echo, fanout and churn and keeps the median run (with the spread).
# Env: REPEAT CONNS SEED_CLIENTS ECHO_SECONDS FAN_MSGS CHURN_SECONDS SIZE BASE_PORT OUT
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
stamp=$(date +%F-%H%M%S)

REPEAT=${REPEAT:-3}; CONNS=${CONNS:-10000}; SEED_CLIENTS=${SEED_CLIENTS:-10000}; ECHO_SECONDS=${ECHO_SECONDS:-10}
FAN_MSGS=${FAN_MSGS:-200}; CHURN_SECONDS=${CHURN_SECONDS:-5}; SIZE=${SIZE:-64}; BASE_PORT=${BASE_PORT:-19500}
FAN_BIG=10000; HOLD=8
if [ "${QUICK:-0}" = 1 ]; then
  REPEAT=1; CONNS=1000; SEED_CLIENTS=1000; ECHO_SECONDS=2; FAN_MSGS=20; CHURN_SECONDS=2; FAN_BIG=2000; HOLD=2
fi
mkdir -p "$here/results"
OUT=${OUT:-$here/results/results-$stamp.md}
LOGDIR=$here/results/logs-$stamp
mkdir -p "$LOGDIR"

servers=("$@")
[ ${#servers[@]} -gt 0 ] || servers=(coropush node-ws node-websocket websocketpp)

# The tools: coropush and coropush-bench from the release preset.
(cd "$root" && cmake --preset release >/dev/null && cmake --build --preset release --target coropush coropush-bench) \
  || { echo "run.sh: build failed" >&2; exit 2; }
LOAD=$root/build/release/bench/coropush-bench
# The server API's key for the apifanout runs: random, in a file only this user reads, passed to
# coropush and the load tool by file (--api-key-file), never on a command line.
API_KEY_FILE=$(mktemp)
trap 'rm -f "$API_KEY_FILE"' EXIT
od -An -N32 -tx1 /dev/urandom | tr -d ' \n' >"$API_KEY_FILE"
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
[ "$(ulimit -n)" -ge $((CONNS + 1000)) ] || echo "run.sh: warning: ulimit -n is only $(ulimit -n)" >&2

# shellcheck source=bench/lib.sh
. "$here/lib.sh"
declare -A R

# median_of SERVER TAG METRIC: of the runs TAG.1 .. TAG.REPEAT, the median by METRIC becomes TAG.
median_of() {
  local srv=$1 tag=$2 metric=$3
  local k list=""
  for k in $(seq 1 "$REPEAT"); do
    list+="$(kv "$LOGDIR/$srv.$tag.$k.out" "$metric") $k"$'\n'
  done
  local sorted mid
  sorted=$(printf '%s' "$list" | sort -g -k1,1)
  mid=$(printf '%s\n' "$sorted" | sed -n "$(( (REPEAT + 1) / 2 ))p" | cut -d' ' -f2)
  cp "$LOGDIR/$srv.$tag.$mid.out" "$LOGDIR/$srv.$tag.out"
  R[$srv.$tag.srvcpu]=${R[$srv.$tag.$mid.srvcpu]}
  R[$srv.$tag.machine]=${R[$srv.$tag.$mid.machine]}
  R[$srv.$tag.spread]="$(printf '%s\n' "$sorted" | head -1 | cut -d' ' -f1)-$(printf '%s\n' "$sorted" | tail -1 | cut -d' ' -f1)"
}

# repeated SERVER TAG METRIC ARGS...: REPEAT runs; the median by METRIC becomes TAG.
repeated() {
  local srv=$1 tag=$2 metric=$3; shift 3
  local k
  for k in $(seq 1 "$REPEAT"); do load "$srv" "$tag.$k" "$@"; done
  median_of "$srv" "$tag" "$metric"
}

# fan_pair SERVER TAG SUBS: the WebSocket fan-out (TAG) and the same through the server API
# (apiTAG), alternating run by run so that both see the same machine; the median of each by p99.
fan_pair() {
  local srv=$1 tag=$2 subs=$3 k
  for k in $(seq 1 "$REPEAT"); do
    load "$srv" "$tag.$k" fanout --subs "$subs" --msgs "$FAN_MSGS" --size "$SIZE"
    load "$srv" "api$tag.$k" apifanout --subs "$subs" --msgs "$FAN_MSGS" --size "$SIZE" --api-key-file "$API_KEY_FILE"
  done
  median_of "$srv" "$tag" p99_us
  median_of "$srv" "api$tag" p99_us
}

measure() {
  local srv=$1
  local server_args=()
  [ "$srv" = coropush ] && server_args=(--api-key-file "$API_KEY_FILE" --api-rate 0)  # no limit: a load test
  start_server "$srv" "$BASE_PORT" "$here/peers/run-$srv.sh" "${server_args[@]}" || return
  idle_rss "$srv" "$CONNS" "$HOLD"

  repeated "$srv" echo100 msgs_per_s echo --conns 100 --depth 1 --seconds "$ECHO_SECONDS" --size "$SIZE"
  repeated "$srv" echo1000 msgs_per_s echo --conns 1000 --depth 4 --seconds "$ECHO_SECONDS" --size "$SIZE"
  if [ "$srv" = coropush ]; then
    fan_pair "$srv" fan1000 1000
    fan_pair "$srv" fanbig "$FAN_BIG"
  else
    repeated "$srv" fan1000 p99_us fanout --subs 1000 --msgs "$FAN_MSGS" --size "$SIZE"
    repeated "$srv" fanbig p99_us fanout --subs "$FAN_BIG" --msgs "$FAN_MSGS" --size "$SIZE"
  fi
  repeated "$srv" churn cycles_per_s churn --workers 8 --seconds "$CHURN_SECONDS"
  load "$srv" seed seed --conns "$SEED_CLIENTS"
  R[$srv.hwm]=$(status_kb "$SPID" VmHWM)
  R[$srv.alive]=$(kill -0 "$SPID" 2>/dev/null && echo yes || echo no)
  stop_server
}

LOADAVG_START=$(cut -d' ' -f1-3 /proc/loadavg)
for srv in "${servers[@]}"; do measure "$srv"; done
LOADAVG_END=$(cut -d' ' -f1-3 /proc/loadavg)

# The table (v, k, ms, flag and ratio are in lib.sh).
{
  echo "# coropush bench results, $stamp"
  echo
  echo "Machine: $(nproc) CPUs ($(awk -F': ' '/model name/{print $2; exit}' /proc/cpuinfo)), $(awk '/MemTotal/{printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -r)."
  echo "Server on CPU 0, coropush-bench on CPU 1. Texts of $SIZE bytes. REPEAT=$REPEAT (median run; spread below)."
  echo "Load average (1, 5, 15 min) before the first server: $LOADAVG_START; after the last: $LOADAVG_END."
  [ "${QUICK:-0}" = 1 ] && echo "**QUICK mode: reduced sizes, not comparable figures.**"
  echo
  echo "| server | idle RSS/conn KiB ($CONNS held) | peak RSS MiB | echo 100x1 msg/s (p50/p99 µs) | echo 1000x4 msg/s (p50/p99 µs) | fanout 1000: p50/p99 ms, deliveries/s | fanout $FAN_BIG: p50/p99 ms, deliveries/s | churn cycles/s | seed $SEED_CLIENTS: notices, p50/p99 ms from the greeting, p99 from the welcome |"
  echo "|---|---|---|---|---|---|---|---|---|"
  for s in "${servers[@]}"; do
    if [ -n "${R[$s.failed]:-}" ]; then echo "| $s | did not start |||||||"; continue; fi
    echo "| $s | ${R[$s.per_conn]} ($(echo "${R[$s.upgraded]}" | tr -d '\n') up)$(flag "$s" conns) | $(awk -v h="${R[$s.hwm]:-0}" 'BEGIN{printf "%.1f", h/1024}') \
| $(k "$(v "$s" echo100 msgs_per_s)") ($(v "$s" echo100 p50_us)/$(v "$s" echo100 p99_us))$(flag "$s" echo100) \
| $(k "$(v "$s" echo1000 msgs_per_s)") ($(v "$s" echo1000 p50_us)/$(v "$s" echo1000 p99_us))$(flag "$s" echo1000) \
| $(ms "$(v "$s" fan1000 p50_us)")/$(ms "$(v "$s" fan1000 p99_us)"), $(k "$(v "$s" fan1000 deliveries_per_s)")$(flag "$s" fan1000) \
| $(ms "$(v "$s" fanbig p50_us)")/$(ms "$(v "$s" fanbig p99_us)"), $(k "$(v "$s" fanbig deliveries_per_s)")$(flag "$s" fanbig) \
| $(k "$(v "$s" churn cycles_per_s)")$(flag "$s" churn) \
| $(v "$s" seed notices), $(v "$s" seed notice_p50_ms)/$(v "$s" seed notice_p99_ms), $(v "$s" seed gap_p99_ms)$(flag "$s" seed) |"
  done
  echo
  echo "CPU share of one core, server / load tool (the load tool must stay well below 100 %):"
  echo
  echo "| server | echo100 | echo1000 | fan1000 | fan$FAN_BIG | churn | seed | alive at end |"
  echo "|---|---|---|---|---|---|---|---|"
  for s in "${servers[@]}"; do
    [ -n "${R[$s.failed]:-}" ] && continue
    c() { echo "${R[$s.$1.srvcpu]:-?}/$(v "$s" "$1" cpu_pct)"; }
    echo "| $s | $(c echo100) | $(c echo1000) | $(c fan1000) | $(c fanbig) | $(c churn) | $(c seed) | ${R[$s.alive]:-?} |"
  done
  if [ "$REPEAT" -gt 1 ]; then
    echo
    echo "Spread over $REPEAT runs (min-max): echo msgs/s, fanout p99 µs, churn cycles/s:"
    echo
    echo "| server | echo100 | echo1000 | fan1000 p99 | fan$FAN_BIG p99 | churn |"
    echo "|---|---|---|---|---|---|"
    for s in "${servers[@]}"; do
      [ -n "${R[$s.failed]:-}" ] && continue
      echo "| $s | ${R[$s.echo100.spread]} | ${R[$s.echo1000.spread]} | ${R[$s.fan1000.spread]} | ${R[$s.fanbig.spread]} | ${R[$s.churn.spread]} |"
    done
  fi
  if [ -f "$LOGDIR/coropush.apifan1000.out" ]; then
    fan() { echo "$(ms "$(v coropush "$1" p50_us)")/$(ms "$(v coropush "$1" p99_us)"), $(k "$(v coropush "$1" deliveries_per_s)")$(flag coropush "$1")"; }
    echo
    echo "coropush, WebSocket \`publish\` against the server API's \`POST /api/publish\` (one keep-alive"
    echo "connection) to the same subscribers; the two runs alternate. API/WS above 1 for latency, or below 1"
    echo "for deliveries/s, means the API is slower per delivery:"
    echo
    echo "| subscribers | WS publish: p50/p99 ms, deliveries/s | POST /api/publish: p50/p99 ms, deliveries/s | API/WS p50 | API/WS p99 | API/WS deliveries/s |"
    echo "|---|---|---|---|---|---|"
    for t in fan1000 fanbig; do
      echo "| $(v coropush "$t" subs) | $(fan "$t") | $(fan "api$t") \
| $(ratio "$(v coropush "api$t" p50_us)" "$(v coropush "$t" p50_us)") \
| $(ratio "$(v coropush "api$t" p99_us)" "$(v coropush "$t" p99_us)") \
| $(ratio "$(v coropush "api$t" deliveries_per_s)" "$(v coropush "$t" deliveries_per_s)") |"
    done
    echo
    echo "CPU share, server / load tool / whole machine (of $(nproc)00 %; what is above the first two is other work),"
    echo "and the spread of p99 µs over $REPEAT runs (min-max):"
    echo
    echo "| subscribers | WS CPU | API CPU | WS p99 spread | API p99 spread |"
    echo "|---|---|---|---|---|"
    for t in fan1000 fanbig; do
      m() { echo "${R[coropush.$1.srvcpu]:-?}/$(v coropush "$1" cpu_pct)/${R[coropush.$1.machine]:-?}"; }
      echo "| $(v coropush "$t" subs) | $(m "$t") | $(m "api$t") | ${R[coropush.$t.spread]:--} | ${R[coropush.api$t.spread]:--} |"
    done
  fi
  echo
  raw_lines "${servers[*]}" "conns echo100 echo1000 fan1000 fanbig apifan1000 apifanbig churn seed"
} >"$OUT"
echo "wrote $OUT" >&2
cat "$OUT"
