# shellcheck shell=bash
# bench/lib.sh: what the bench scripts share, sourced by bench/run.sh and bench/tls.sh: free
# ports, a process's memory and CPU, one load run, a server's start and stop, the idle RSS per
# connection, and reading and formatting the load tool's key=value lines.
# The caller sets LOAD (coropush-bench), LOGDIR, and declares the associative array R; a started
# server leaves PORT, SPID (the listening process) and GROUP (its process group).

port_free() { ! ss -Hltn "sport = :$1" | grep -q .; }
listener_pid() { ss -Hltnp "sport = :$1" | sed -n 's/.*pid=\([0-9]*\).*/\1/p' | head -1; }
status_kb() { awk -v k="$2:" '$1==k {print $2}' "/proc/$1/status" 2>/dev/null; }
ticks() { awk '{print $14+$15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
busy() { awk '/^cpu /{print $2+$3+$4+$7+$8+$9}' /proc/stat; }  # every CPU's busy ticks, all processes
kv() { grep -E '^mode=' "$1" 2>/dev/null | tail -1 | tr ' ' '\n' | sed -n "s/^$2=//p"; }
HZ=$(getconf CLK_TCK)

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

# start_server SERVER BASE_PORT COMMAND...: runs COMMAND PORT on CPU 0, in a process group of its
# own, on the first free port from BASE_PORT; returns 1 (and sets R[SERVER.failed]) if it never
# listens. The server's output goes to LOGDIR/SERVER.server.log.
start_server() {
  local srv=$1 i=0; PORT=$2; shift 2
  while ! port_free "$PORT"; do PORT=$((PORT + 1)); done
  echo "== $srv on port $PORT" >&2
  setsid taskset -c 0 "$1" "$PORT" "${@:2}" >"$LOGDIR/$srv.server.log" 2>&1 &
  GROUP=$!
  while port_free "$PORT"; do
    sleep 0.2; i=$((i + 1))
    if ! kill -0 "$GROUP" 2>/dev/null || [ $i -gt 900 ]; then R[$srv.failed]=1; echo "  did not start" >&2; return 1; fi
  done
  SPID=$(listener_pid "$PORT"); sleep 1
}

# stop_server: SIGTERM to the server's group, SIGKILL after 5 s.
stop_server() {
  local i
  kill -TERM -- -"$GROUP" 2>/dev/null
  for i in $(seq 1 50); do kill -0 "$GROUP" 2>/dev/null || break; sleep 0.1; done
  kill -KILL -- -"$GROUP" 2>/dev/null
  wait "$GROUP" 2>/dev/null
}

# idle_rss SERVER CONNS HOLD [LOAD-ARGS...]: RSS per idle connection = (VmRSS while `conns` holds
# CONNS connections - VmRSS before) / connections upgraded, into R[SERVER.per_conn] (and rss0,
# rss1, upgraded). LOAD-ARGS go to the load tool (--tls ...).
idle_rss() {
  local srv=$1 conns=$2 hold=$3 i=0; shift 3
  local ready=$LOGDIR/$srv.ready
  R[$srv.rss0]=$(status_kb "$SPID" VmRSS)
  load "$srv" conns conns --conns "$conns" --hold "$hold" --ready-file "$ready" "$@" &
  local holder=$!
  # Until every connection is up (the tool writes the file then) or the tool has given up.
  while [ ! -s "$ready" ] && kill -0 "$holder" 2>/dev/null && [ $i -lt 3000 ]; do sleep 0.1; i=$((i + 1)); done
  sleep 2
  R[$srv.rss1]=$(status_kb "$SPID" VmRSS); R[$srv.upgraded]=$(cat "$ready" 2>/dev/null || echo 0)
  wait "$holder"
  R[$srv.per_conn]=$(awk -v a="${R[$srv.rss0]}" -v b="${R[$srv.rss1]}" -v n="${R[$srv.upgraded]}" \
                      'BEGIN{ if (n > 0) printf "%.1f", (b-a)/n; else print "-" }')
  sleep 1
}

# Reading the results: v SERVER TAG KEY is a value of the run's final line ("-" if none); k, ms
# format a count (74k) and microseconds as milliseconds; flag SERVER TAG says " (rc=N)" unless 0.
v() { local x; x=$(kv "$LOGDIR/$1.$2.out" "$3"); echo "${x:--}"; }
k() { awk -v x="$1" 'BEGIN{ if (x == "-" || x == "") print "-"; else if (x >= 10000) printf "%.0fk", x/1000; else printf "%.0f", x }'; }
ms() { awk -v x="$1" 'BEGIN{ if (x == "-" || x == "") print "-"; else printf "%.1f", x/1000 }'; }
flag() { local rc; rc=$(kv "$LOGDIR/$1.$2.out" rc); [ "${rc:-x}" = 0 ] || echo " (rc=${rc:-none})"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (a == "-" || b == "-" || b == 0) print "-"; else printf "%.2f", a/b }'; }

# raw_lines "SERVER..." "TAG...": every run's final line, as "SERVER TAG: line", in a code block.
raw_lines() {
  local s t
  echo "Raw lines:"
  echo
  echo '```'
  for s in $1; do
    for t in $2; do
      [ -f "$LOGDIR/$s.$t.out" ] && echo "$s $t: $(tail -1 "$LOGDIR/$s.$t.out")"
    done
  done
  echo '```'
}
