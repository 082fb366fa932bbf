#!/usr/bin/env bash
# bench/tls.sh: what TLS costs coropush. In one run, the same release binary twice side by side,
# plain (ws://) and with --tls-cert/--tls-key (wss://), and each workload against plain and then
# TLS, back to back: idle RSS per connection (`conns` holding CONNS), `echo` 100x1 and 1000x4
# (64-byte texts, 10 s), `fanout` to 1 000 and 10 000 subscribers (FAN_MSGS publishes each), and
# `churn` (8 workers for 5 s; over TLS every cycle is a full handshake: the tool resumes no
# sessions). Writes a small table with the ratio TLS/plain, and the server's
# CPU time per reply and per cycle, which a shared machine disturbs less than the rates.
#
#   bench/tls.sh                 (about 3 minutes; 10 000 TLS handshakes take 20-25 s, twice)
#   QUICK=1 bench/tls.sh         reduced sizes, to check the harness
#
# As bench/run.sh: the servers pinned to CPU 0 (--threads 1, bench/peers/run-coropush.sh; the one
# not measured is idle), coropush-bench to CPU 1. The certificate is a throwaway self-signed ECDSA P-256 one (KEY=rsa: RSA 2048) for
# 127.0.0.1, made in a private temporary directory and removed at the end; the load tool verifies
# it (--tls-ca), as a real client would.
# Env: CONNS ECHO_SECONDS FAN_MSGS CHURN_SECONDS SIZE BASE_PORT KEY OUT
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
stamp=$(date +%F-%H%M%S)

CONNS=${CONNS:-10000}; ECHO_SECONDS=${ECHO_SECONDS:-10}; CHURN_SECONDS=${CHURN_SECONDS:-5}; SIZE=${SIZE:-64}
FAN_MSGS=${FAN_MSGS:-200}; BASE_PORT=${BASE_PORT:-19600}; KEY=${KEY:-ec}; HOLD=8; FAN_BIG=10000
if [ "${QUICK:-0}" = 1 ]; then
  CONNS=1000; ECHO_SECONDS=2; CHURN_SECONDS=2; HOLD=2; FAN_MSGS=20; FAN_BIG=2000
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
trap 'rm -rf "$CERTS"' EXIT  # and, once they run, stop the servers (below)
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

# Both servers run side by side on CPU 0 (the idle one costs nothing: no pings, no timers), and
# each workload runs against plain and then TLS, back to back, so that both see the same machine.
# on SERVER: the next load runs go to it.
on() { PORT=${R[$1.port]}; SPID=${R[$1.spid]}; GROUP=${R[$1.group]}; }
stop_both() { local s; for s in plain tls; do [ -n "${R[$s.group]:-}" ] && on "$s" && stop_server; done; }
trap 'stop_both; rm -rf "$CERTS"' EXIT
start_server plain "$BASE_PORT" "$here/peers/run-coropush.sh" || exit 3
R[plain.port]=$PORT; R[plain.spid]=$SPID; R[plain.group]=$GROUP
start_server tls $((PORT + 1)) "$here/peers/run-coropush.sh" --tls-cert "$CERTS/cert.pem" --tls-key "$CERTS/key.pem" \
  || exit 3
R[tls.port]=$PORT; R[tls.spid]=$SPID; R[tls.group]=$GROUP
# What a client of the same OpenSSL negotiates with it, as the load tool will.
R[tls.session]=$(openssl s_client -connect "127.0.0.1:$PORT" -CAfile "$CERTS/cert.pem" </dev/null 2>/dev/null \
  | sed -n 's/^New, \(.*\)$/\1/p' | head -1)
tls_args=(--tls --tls-ca "$CERTS/cert.pem")

LOADAVG_START=$(cut -d' ' -f1-3 /proc/loadavg)
for srv in plain tls; do
  extra=(); [ "$srv" = tls ] && extra=("${tls_args[@]}")
  on "$srv"; idle_rss "$srv" "$CONNS" "$HOLD" "${extra[@]}"
done
for run in "echo100 echo --conns 100 --depth 1 --seconds $ECHO_SECONDS --size $SIZE" \
           "echo1000 echo --conns 1000 --depth 4 --seconds $ECHO_SECONDS --size $SIZE" \
           "fan1000 fanout --subs 1000 --msgs $FAN_MSGS --size $SIZE" \
           "fanbig fanout --subs $FAN_BIG --msgs $FAN_MSGS --size $SIZE" \
           "churn churn --workers 8 --seconds $CHURN_SECONDS"; do
  for srv in plain tls; do
    extra=(); [ "$srv" = tls ] && extra=("${tls_args[@]}")
    on "$srv"
    # shellcheck disable=SC2086 # $run is the tag and the tool's arguments, split on purpose
    load "$srv" $run "${extra[@]}"
  done
done
for srv in plain tls; do
  on "$srv"
  R[$srv.hwm]=$(status_kb "$SPID" VmHWM)
  R[$srv.alive]=$(kill -0 "$SPID" 2>/dev/null && echo yes || echo no)
done
LOADAVG_END=$(cut -d' ' -f1-3 /proc/loadavg)

# A row: the figure for plain, for TLS, and TLS/plain. cpu_row LABEL TAG RATE: the server's CPU
# time per event (its CPU share / the rate, in µs), which the machine's other work disturbs less
# than the rate itself.
row() { echo "| $1 | $2 | $3 | $(ratio "$4" "$5") |"; }
per() { awk -v r="$(v "$1" "$2" "$3")" -v c="${R[$1.$2.srvcpu]:-}" 'BEGIN{ if (r == "-" || r == 0 || c == "") print "-"; else printf "%.1f", c/100/r*1e6 }'; }
cpu_row() { local p t; p=$(per plain "$2" "$3"); t=$(per tls "$2" "$3"); row "$1" "$p" "$t" "$t" "$p"; }
echo_cell() { echo "$(k "$(v "$1" "$2" msgs_per_s)") ($(v "$1" "$2" p50_us)/$(v "$1" "$2" p99_us))$(flag "$1" "$2")"; }
fan_cell() {
  echo "$(ms "$(v "$1" "$2" p50_us)")/$(ms "$(v "$1" "$2" p99_us)"), $(k "$(v "$1" "$2" deliveries_per_s)")$(flag "$1" "$2")"
}
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
  row "fan-out to 1000: p50/p99 ms, deliveries/s (ratio: p99)" "$(fan_cell plain fan1000)" "$(fan_cell tls fan1000)" \
    "$(v tls fan1000 p99_us)" "$(v plain fan1000 p99_us)"
  row "fan-out to $FAN_BIG: p50/p99 ms, deliveries/s (ratio: p99)" "$(fan_cell plain fanbig)" "$(fan_cell tls fanbig)" \
    "$(v tls fanbig p99_us)" "$(v plain fanbig p99_us)"
  row "churn, cycles/s (TLS: full handshakes/s)" "$(v plain churn cycles_per_s)$(flag plain churn)" \
    "$(v tls churn cycles_per_s)$(flag tls churn)" "$(v tls churn cycles_per_s)" "$(v plain churn cycles_per_s)"
  cpu_row "server CPU per echo 100x1 reply, µs" echo100 msgs_per_s
  cpu_row "server CPU per echo 1000x4 reply, µs" echo1000 msgs_per_s
  cpu_row "server CPU per delivery, fan-out to $FAN_BIG, µs" fanbig deliveries_per_s
  cpu_row "server CPU per churn cycle, µs" churn cycles_per_s
  row "peak RSS, MiB" "$(awk -v h="${R[plain.hwm]:-0}" 'BEGIN{printf "%.1f", h/1024}')" \
    "$(awk -v h="${R[tls.hwm]:-0}" 'BEGIN{printf "%.1f", h/1024}')" "${R[tls.hwm]:--}" "${R[plain.hwm]:--}"
  echo
  echo "CPU share during each run, server / load tool / whole machine (of $(nproc)00 %; above the first two is"
  echo "other work); the server alive at the end:"
  echo
  echo "| server | echo100 | echo1000 | fan1000 | fan$FAN_BIG | churn | alive |"
  echo "|---|---|---|---|---|---|---|"
  for s in plain tls; do
    echo "| $s | $(cpu_cell "$s" echo100) | $(cpu_cell "$s" echo1000) | $(cpu_cell "$s" fan1000) | $(cpu_cell "$s" fanbig) | $(cpu_cell "$s" churn) | ${R[$s.alive]:-?} |"
  done
  echo
  echo "The server's VmRSS before \`conns\` and while holding: plain ${R[plain.rss0]:-?} and ${R[plain.rss1]:-?} KiB,"
  echo "TLS ${R[tls.rss0]:-?} and ${R[tls.rss1]:-?} KiB."
  echo
  raw_lines "plain tls" "conns echo100 echo1000 fan1000 fanbig churn"
} >"$OUT"
echo "wrote $OUT" >&2
cat "$OUT"
