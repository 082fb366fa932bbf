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

port_free() { ! ss -Hltn "sport = :$1" | grep -q .; }
listener_pid() { ss -Hltnp "sport = :$1" | sed -n 's/.*pid=\([0-9]*\).*/\1/p' | head -1; }
status_kb() { awk -v k="$2:" '$1==k {print $2}' "/proc/$1/status" 2>/dev/null; }
ticks() { awk '{print $14+$15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
busy() { awk '/^cpu /{print $2+$3+$4+$7+$8+$9}' /proc/stat; }  # every CPU's busy ticks, all processes
kv() { grep -E '^mode=' "$1" 2>/dev/null | tail -1 | tr ' ' '\n' | sed -n "s/^$2=//p"; }
HZ=$(getconf CLK_TCK)
declare -A R

# load SERVER TAG ARGS...: one load run; leaves LOGDIR/SERVER.TAG.out and the server's CPU share.
load() {
  local srv=$1 tag=$2; shift 2
  local out=$LOGDIR/$srv.$tag.out t0 t1 w0 w1 b0 b1
  t0=$(ticks "$SPID"); b0=$(busy); w0=$(date +%s%N)
  taskset -c 1 "$LOAD" "$@" --port "$PORT" >"$out" 2>"$LOGDIR/$srv.$tag.err"
  R[$srv.$tag.rc]=$?
  t1=$(ticks "$SPID"); b1=$(busy); w1=$(date +%s%N)
  R[$srv.$tag.srvcpu]=$(awk -v t=$((t1 - t0)) -v hz="$HZ" -v w=$((w1 - w0)) 'BEGIN{printf "%.0f", 100*t/hz/(w/1e9)}')
  # The whole machine's busy share (of $(nproc)00 %): beyond the server's and the tool's, other work.
  R[$srv.$tag.machine]=$(awk -v t=$((b1 - b0)) -v hz="$HZ" -v w=$((w1 - w0)) 'BEGIN{printf "%.0f", 100*t/hz/(w/1e9)}')
  echo "  $tag: $(tail -1 "$out" | cut -c1-160)" >&2
}

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
  PORT=$BASE_PORT; while ! port_free "$PORT"; do PORT=$((PORT + 1)); done
  echo "== $srv on port $PORT" >&2
  local server_args=()
  [ "$srv" = coropush ] && server_args=(--api-key-file "$API_KEY_FILE" --api-rate 0)  # no limit: a load test
  setsid taskset -c 0 "$here/peers/run-$srv.sh" "$PORT" "${server_args[@]}" >"$LOGDIR/$srv.server.log" 2>&1 &
  local group=$! i=0
  while port_free "$PORT"; do
    sleep 0.2; i=$((i + 1))
    if ! kill -0 "$group" 2>/dev/null || [ $i -gt 900 ]; then R[$srv.failed]=1; echo "  did not start" >&2; return; fi
  done
  SPID=$(listener_pid "$PORT"); sleep 1
  R[$srv.rss0]=$(status_kb "$SPID" VmRSS)

  local ready=$LOGDIR/$srv.ready
  load "$srv" conns conns --conns "$CONNS" --hold "$HOLD" --ready-file "$ready" &
  local holder=$!
  i=0; while [ ! -s "$ready" ] && kill -0 "$holder" 2>/dev/null && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
  sleep 2
  R[$srv.rss1]=$(status_kb "$SPID" VmRSS); R[$srv.upgraded]=$(cat "$ready" 2>/dev/null || echo 0)
  wait "$holder"
  R[$srv.per_conn]=$(awk -v a="${R[$srv.rss0]}" -v b="${R[$srv.rss1]}" -v n="${R[$srv.upgraded]}" \
                      'BEGIN{ if (n > 0) printf "%.1f", (b-a)/n; else print "-" }')
  sleep 1

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
  kill -TERM -- -"$group" 2>/dev/null
  for i in $(seq 1 50); do kill -0 "$group" 2>/dev/null || break; sleep 0.1; done
  kill -KILL -- -"$group" 2>/dev/null
  wait "$group" 2>/dev/null
}

LOADAVG_START=$(cut -d' ' -f1-3 /proc/loadavg)
for srv in "${servers[@]}"; do measure "$srv"; done
LOADAVG_END=$(cut -d' ' -f1-3 /proc/loadavg)

# The table.
v() { local x; x=$(kv "$LOGDIR/$1.$2.out" "$3"); echo "${x:--}"; }
k() { awk -v x="$1" 'BEGIN{ if (x == "-" || x == "") print "-"; else if (x >= 10000) printf "%.0fk", x/1000; else printf "%.0f", x }'; }
ms() { awk -v x="$1" 'BEGIN{ if (x == "-" || x == "") print "-"; else printf "%.1f", x/1000 }'; }
flag() { local rc; rc=$(kv "$LOGDIR/$1.$2.out" rc); [ "${rc:-x}" = 0 ] || echo " (rc=${rc:-none})"; }
{
  echo "# coropush bench results, $stamp"
  echo
  echo "Machine: $(nproc) CPUs ($(awk -F': ' '/model name/{print $2; exit}' /proc/cpuinfo)), $(awk '/MemTotal/{printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -r)."
  echo "Server on CPU 0, coropush-bench on CPU 1. Texts of $SIZE bytes. REPEAT=$REPEAT (median run; spread below)."
  echo "Load average (1, 5, 15 min) before the first server: $LOADAVG_START; after the last: $LOADAVG_END."
  [ "${QUICK:-0}" = 1 ] && echo "**QUICK mode: reduced sizes, not comparable figures.**"
  echo
  echo "| server | idle RSS/conn KiB ($CONNS held) | peak RSS MiB | echo 100x1 msg/s (p50/p99 µs) | echo 1000x4 msg/s (p50/p99 µs) | fanout 1000: p50/p99 ms, deliveries/s | fanout $FAN_BIG: p50/p99 ms, deliveries/s | churn cycles/s | seed $SEED_CLIENTS: notices, p50/p99 ms |"
  echo "|---|---|---|---|---|---|---|---|---|"
  for s in "${servers[@]}"; do
    if [ -n "${R[$s.failed]:-}" ]; then echo "| $s | did not start |||||||"; continue; fi
    echo "| $s | ${R[$s.per_conn]} ($(echo "${R[$s.upgraded]}" | tr -d '\n') up)$(flag "$s" conns) | $(awk -v h="${R[$s.hwm]:-0}" 'BEGIN{printf "%.1f", h/1024}') \
| $(k "$(v "$s" echo100 msgs_per_s)") ($(v "$s" echo100 p50_us)/$(v "$s" echo100 p99_us))$(flag "$s" echo100) \
| $(k "$(v "$s" echo1000 msgs_per_s)") ($(v "$s" echo1000 p50_us)/$(v "$s" echo1000 p99_us))$(flag "$s" echo1000) \
| $(ms "$(v "$s" fan1000 p50_us)")/$(ms "$(v "$s" fan1000 p99_us)"), $(k "$(v "$s" fan1000 deliveries_per_s)")$(flag "$s" fan1000) \
| $(ms "$(v "$s" fanbig p50_us)")/$(ms "$(v "$s" fanbig p99_us)"), $(k "$(v "$s" fanbig deliveries_per_s)")$(flag "$s" fanbig) \
| $(k "$(v "$s" churn cycles_per_s)")$(flag "$s" churn) \
| $(v "$s" seed notices), $(v "$s" seed notice_p50_ms)/$(v "$s" seed notice_p99_ms)$(flag "$s" seed) |"
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
    ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (a == "-" || b == "-" || b == 0) print "-"; else printf "%.2f", a/b }'; }
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
  echo "Raw lines:"
  echo
  echo '```'
  for s in "${servers[@]}"; do
    for t in conns echo100 echo1000 fan1000 fanbig apifan1000 apifanbig churn seed; do
      [ -f "$LOGDIR/$s.$t.out" ] && echo "$s $t: $(tail -1 "$LOGDIR/$s.$t.out")"
    done
  done
  echo '```'
} >"$OUT"
echo "wrote $OUT" >&2
cat "$OUT"
