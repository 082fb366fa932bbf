#!/usr/bin/env bash
# bench/tls.sh: what TLS costs coropush. In one run, against the same release binary, the server
# once plain (ws://) and once with --tls-cert/--tls-key (wss://), and per server, in order:
# idle RSS per connection (`conns` holding CONNS), `echo` 100x1 and 1000x4 (64-byte texts, 10 s),
# and `churn` (8 workers for 5 s; over TLS every cycle is a full handshake: the tool resumes no
# sessions). Writes a small table with the ratio TLS/plain.
#
#   bench/tls.sh                 (about 3 minutes, most of it the two servers' 10 000 handshakes)
#   QUICK=1 bench/tls.sh         reduced sizes, to check the harness
#
# As bench/run.sh: server pinned to CPU 0 (--threads 1, bench/peers/run-coropush.sh), coropush-bench
# to CPU 1. The certificate is a throwaway self-signed ECDSA P-256 one (KEY=rsa: RSA 2048) for
# 127.0.0.1, made in a private temporary directory and removed at the end; the load tool verifies
# it (--tls-ca), as a real client would.
# Env: CONNS ECHO_SECONDS CHURN_SECONDS SIZE BASE_PORT KEY OUT
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
stamp=$(date +%F-%H%M%S)

CONNS=${CONNS:-10000}; ECHO_SECONDS=${ECHO_SECONDS:-10}; CHURN_SECONDS=${CHURN_SECONDS:-5}; SIZE=${SIZE:-64}
BASE_PORT=${BASE_PORT:-19600}; KEY=${KEY:-ec}; HOLD=8
if [ "${QUICK:-0}" = 1 ]; then
  CONNS=1000; ECHO_SECONDS=2; CHURN_SECONDS=2; HOLD=2
fi
mkdir -p "$here/results"
OUT=${OUT:-$here/results/tls-$stamp.md}
LOGDIR=$here/results/logs-tls-$stamp
mkdir -p "$LOGDIR"

(cd "$root" && cmake --preset release >/dev/null && cmake --build --preset release --target coropush coropush-bench) \
  || { echo "tls.sh: build failed" >&2; exit 2; }
LOAD=$root/build/release/bench/coropush-bench
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
[ "$(ulimit -n)" -ge $((CONNS + 1000)) ] || echo "tls.sh: warning: ulimit -n is only $(ulimit -n)" >&2

# The certificate and its key, in a directory only this user can enter; the key 0600 (the server
# refuses a key every user may read).
CERTS=$(mktemp -d)
trap 'rm -rf "$CERTS"' EXIT
case $KEY in
  ec) key_args=(-newkey ec -pkeyopt ec_paramgen_curve:P-256) ;;
  rsa) key_args=(-newkey rsa:2048) ;;
  *) echo "tls.sh: KEY is ec or rsa" >&2; exit 2 ;;
esac
(umask 077 && openssl req -x509 "${key_args[@]}" -nodes -days 1 -subj /CN=localhost \
  -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" -keyout "$CERTS/key.pem" -out "$CERTS/cert.pem") \
  >"$LOGDIR/openssl.log" 2>&1 || { echo "tls.sh: openssl req failed, see $LOGDIR/openssl.log" >&2; exit 2; }
chmod 600 "$CERTS/key.pem"

# shellcheck source=bench/lib.sh
. "$here/lib.sh"
declare -A R

# measure plain|tls: one server lifetime, every workload.
measure() {
  local srv=$1 server_args=() tls_args=()
  if [ "$srv" = tls ]; then
    server_args=(--tls-cert "$CERTS/cert.pem" --tls-key "$CERTS/key.pem")
    tls_args=(--tls --tls-ca "$CERTS/cert.pem")
  fi
  start_server "$srv" "$BASE_PORT" "$here/peers/run-coropush.sh" "${server_args[@]}" || return
  # What a client of the same OpenSSL negotiates with it, as the load tool will.
  [ "$srv" = tls ] && R[tls.session]=$(openssl s_client -connect "127.0.0.1:$PORT" -CAfile "$CERTS/cert.pem" \
    </dev/null 2>/dev/null | sed -n 's/^New, \(.*\)$/\1/p' | head -1)
  idle_rss "$srv" "$CONNS" "$HOLD" "${tls_args[@]}"
  load "$srv" echo100 echo --conns 100 --depth 1 --seconds "$ECHO_SECONDS" --size "$SIZE" "${tls_args[@]}"
  load "$srv" echo1000 echo --conns 1000 --depth 4 --seconds "$ECHO_SECONDS" --size "$SIZE" "${tls_args[@]}"
  load "$srv" churn churn --workers 8 --seconds "$CHURN_SECONDS" "${tls_args[@]}"
  R[$srv.hwm]=$(status_kb "$SPID" VmHWM)
  R[$srv.alive]=$(kill -0 "$SPID" 2>/dev/null && echo yes || echo no)
  stop_server
}

LOADAVG_START=$(cut -d' ' -f1-3 /proc/loadavg)
measure plain
measure tls
LOADAVG_END=$(cut -d' ' -f1-3 /proc/loadavg)

# A row: the figure for plain, for TLS, and TLS/plain.
row() { echo "| $1 | $2 | $3 | $(ratio "$4" "$5") |"; }
echo_cell() { echo "$(k "$(v "$1" "$2" msgs_per_s)") ($(v "$1" "$2" p50_us)/$(v "$1" "$2" p99_us))$(flag "$1" "$2")"; }
cpu_cell() { echo "${R[$1.$2.srvcpu]:-?}/$(v "$1" "$2" cpu_pct)/${R[$1.$2.machine]:-?}"; }
{
  echo "# coropush plain against TLS, $stamp"
  echo
  echo "Machine: $(nproc) CPUs ($(awk -F': ' '/model name/{print $2; exit}' /proc/cpuinfo)), $(uname -r), $(openssl version | cut -d' ' -f1-2)."
  echo "Server (--threads 1) on CPU 0, coropush-bench on CPU 1. Texts of $SIZE bytes. Certificate: self-signed, $KEY"
  echo "($([ "$KEY" = ec ] && echo "ECDSA P-256" || echo "RSA 2048")), verified by the load tool. Negotiated (openssl s_client): ${R[tls.session]:-?}."
  echo "Load average (1, 5, 15 min) before: $LOADAVG_START; after: $LOADAVG_END."
  [ "${QUICK:-0}" = 1 ] && echo "**QUICK mode: reduced sizes, not comparable figures.**"
  echo
  echo "| figure | plain (ws://) | TLS (wss://) | TLS/plain |"
  echo "|---|---|---|---|"
  for s in plain tls; do [ -n "${R[$s.failed]:-}" ] && echo "| $s server | did not start | | |"; done
  row "idle RSS per connection, KiB ($CONNS asked)" \
    "${R[plain.per_conn]:--} (${R[plain.upgraded]:-0} up)$(flag plain conns)" \
    "${R[tls.per_conn]:--} (${R[tls.upgraded]:-0} up)$(flag tls conns)" "${R[tls.per_conn]:--}" "${R[plain.per_conn]:--}"
  row "ramp to $CONNS connections, s" "$(v plain conns ramp_s)" "$(v tls conns ramp_s)" \
    "$(v tls conns ramp_s)" "$(v plain conns ramp_s)"
  row "echo 100x1, msg/s (p50/p99 µs)" "$(echo_cell plain echo100)" "$(echo_cell tls echo100)" \
    "$(v tls echo100 msgs_per_s)" "$(v plain echo100 msgs_per_s)"
  row "echo 1000x4, msg/s (p50/p99 µs)" "$(echo_cell plain echo1000)" "$(echo_cell tls echo1000)" \
    "$(v tls echo1000 msgs_per_s)" "$(v plain echo1000 msgs_per_s)"
  row "churn, cycles/s (TLS: full handshakes/s)" "$(v plain churn cycles_per_s)$(flag plain churn)" \
    "$(v tls churn cycles_per_s)$(flag tls churn)" "$(v tls churn cycles_per_s)" "$(v plain churn cycles_per_s)"
  row "peak RSS, MiB" "$(awk -v h="${R[plain.hwm]:-0}" 'BEGIN{printf "%.1f", h/1024}')" \
    "$(awk -v h="${R[tls.hwm]:-0}" 'BEGIN{printf "%.1f", h/1024}')" "${R[tls.hwm]:--}" "${R[plain.hwm]:--}"
  echo
  echo "CPU share during each run, server / load tool / whole machine (of $(nproc)00 %; above the first two is"
  echo "other work); the server alive at the end:"
  echo
  echo "| server | echo100 | echo1000 | churn | alive |"
  echo "|---|---|---|---|---|"
  for s in plain tls; do
    echo "| $s | $(cpu_cell "$s" echo100) | $(cpu_cell "$s" echo1000) | $(cpu_cell "$s" churn) | ${R[$s.alive]:-?} |"
  done
  echo
  echo "The server's VmRSS before \`conns\` and while holding: plain ${R[plain.rss0]:-?} and ${R[plain.rss1]:-?} KiB,"
  echo "TLS ${R[tls.rss0]:-?} and ${R[tls.rss1]:-?} KiB."
  echo
  raw_lines "plain tls" "conns echo100 echo1000 churn"
} >"$OUT"
echo "wrote $OUT" >&2
cat "$OUT"
