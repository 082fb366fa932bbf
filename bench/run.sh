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
# publishes); `churn` with 8 workers for 5 s; `seed` with 10000 clients; then the peak RSS.
# REPEAT=N (odd) repeats echo, fanout and churn and keeps the median run (with the spread).
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
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
[ "$(ulimit -n)" -ge $((CONNS + 1000)) ] || echo "run.sh: warning: ulimit -n is only $(ulimit -n)" >&2

port_free() { ! ss -Hltn "sport = :$1" | grep -q .; }
listener_pid() { ss -Hltnp "sport = :$1" | sed -n 's/.*pid=\([0-9]*\).*/\1/p' | head -1; }
status_kb() { awk -v k="$2:" '$1==k {print $2}' "/proc/$1/status" 2>/dev/null; }
ticks() { awk '{print $14+$15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
kv() { grep -E '^mode=' "$1" 2>/dev/null | tail -1 | tr ' ' '\n' | sed -n "s/^$2=//p"; }
HZ=$(getconf CLK_TCK)
declare -A R

# load SERVER TAG ARGS...: one load run; leaves LOGDIR/SERVER.TAG.out and the server's CPU share.
load() {
  local srv=$1 tag=$2; shift 2
  local out=$LOGDIR/$srv.$tag.out t0 t1 w0 w1
  t0=$(ticks "$SPID"); w0=$(date +%s%N)
  taskset -c 1 "$LOAD" "$@" --port "$PORT" >"$out" 2>"$LOGDIR/$srv.$tag.err"
  R[$srv.$tag.rc]=$?
  t1=$(ticks "$SPID"); w1=$(date +%s%N)
  R[$srv.$tag.srvcpu]=$(awk -v t=$((t1 - t0)) -v hz="$HZ" -v w=$((w1 - w0)) 'BEGIN{printf "%.0f", 100*t/hz/(w/1e9)}')
  echo "  $tag: $(tail -1 "$out" | cut -c1-160)" >&2
}

# repeated SERVER TAG METRIC ARGS...: REPEAT runs; the median by METRIC becomes TAG.
repeated() {
  local srv=$1 tag=$2 metric=$3; shift 3
  local k list=""
  for k in $(seq 1 "$REPEAT"); do
    load "$srv" "$tag.$k" "$@"
    list+="$(kv "$LOGDIR/$srv.$tag.$k.out" "$metric") $k"$'\n'
  done
  local sorted mid
  sorted=$(printf '%s' "$list" | sort -g -k1,1)
  mid=$(printf '%s\n' "$sorted" | sed -n "$(( (REPEAT + 1) / 2 ))p" | cut -d' ' -f2)
  cp "$LOGDIR/$srv.$tag.$mid.out" "$LOGDIR/$srv.$tag.out"
  R[$srv.$tag.srvcpu]=${R[$srv.$tag.$mid.srvcpu]}
  R[$srv.$tag.spread]="$(printf '%s\n' "$sorted" | head -1 | cut -d' ' -f1)-$(printf '%s\n' "$sorted" | tail -1 | cut -d' ' -f1)"
}

measure() {
  local srv=$1
  PORT=$BASE_PORT; while ! port_free "$PORT"; do PORT=$((PORT + 1)); done
  echo "== $srv on port $PORT" >&2
  setsid taskset -c 0 "$here/peers/run-$srv.sh" "$PORT" >"$LOGDIR/$srv.server.log" 2>&1 &
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
  repeated "$srv" fan1000 p99_us fanout --subs 1000 --msgs "$FAN_MSGS" --size "$SIZE"
  repeated "$srv" fanbig p99_us fanout --subs "$FAN_BIG" --msgs "$FAN_MSGS" --size "$SIZE"
  repeated "$srv" churn cycles_per_s churn --workers 8 --seconds "$CHURN_SECONDS"
  load "$srv" seed seed --conns "$SEED_CLIENTS"
  R[$srv.hwm]=$(status_kb "$SPID" VmHWM)
  R[$srv.alive]=$(kill -0 "$SPID" 2>/dev/null && echo yes || echo no)
  kill -TERM -- -"$group" 2>/dev/null
  for i in $(seq 1 50); do kill -0 "$group" 2>/dev/null || break; sleep 0.1; done
  kill -KILL -- -"$group" 2>/dev/null
  wait "$group" 2>/dev/null
}

for srv in "${servers[@]}"; do measure "$srv"; done

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
  echo
  echo "Raw lines:"
  echo
  echo '```'
  for s in "${servers[@]}"; do
    for t in conns echo100 echo1000 fan1000 fanbig churn seed; do
      [ -f "$LOGDIR/$s.$t.out" ] && echo "$s $t: $(tail -1 "$LOGDIR/$s.$t.out")"
    done
  done
  echo '```'
} >"$OUT"
echo "wrote $OUT" >&2
cat "$OUT"
