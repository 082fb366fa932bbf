#!/usr/bin/env bash
# scripts/check-removable.sh [FEATURE...]: proves that a feature can be dropped the way
# docs/template.md says, by doing it to a copy of the tree (its tracked files): delete the folder
# src/FEATURE/ and the lines of src/server/ marked "(src/FEATURE/)", then build the server, start it
# on a free port, and check that /healthz answers, that the JSON dialect still upgrades, and that
# nothing answers where the feature did, while the rest still does (for demo: --echo-path is
# refused at start; for jobs: job_start is an unknown_type and /api/jobs a 404; for topics: the same
# for subscribe and /api/publish). Default: every removable feature (demo, jobs, topics).
# Run by the GitHub workflow (.github/workflows/ci.yml); takes a few minutes per feature.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
features=("$@")
[ ${#features[@]} -gt 0 ] || features=(demo jobs topics)
api_key=check-removable-key-0123456789abcdef

# json_answers PORT: sends job_start, subscribe and echo over the JSON dialect (a WebSocket client in a page of
# Python, so that the check needs nothing installed) and prints the type (or error code) of each answer.
json_answers() {
  python3 - "$1" <<'PY'
import base64, json, os, socket, struct, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
key = base64.b64encode(os.urandom(16)).decode()
s.sendall(("GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: coropush.v1\r\n"
           f"Sec-WebSocket-Key: {key}\r\n\r\n").encode())
buffer = b""
while b"\r\n\r\n" not in buffer:
    buffer += s.recv(4096)
head, buffer = buffer.split(b"\r\n\r\n", 1)
assert head.startswith(b"HTTP/1.1 101"), head
def send(text):
    data, mask = text.encode(), os.urandom(4)
    s.sendall(bytes([0x81, 0x80 | len(data)]) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))
def need(n):
    global buffer
    while len(buffer) < n:
        buffer += s.recv(4096)
    out, buffer = buffer[:n], buffer[n:]
    return out
def receive():
    first, length = need(2)
    length &= 0x7f
    if length == 126:
        length = struct.unpack(">H", need(2))[0]
    return json.loads(need(length))
send('{"type":"job_start","id":1,"data":{"steps":1,"step_ms":100}}')
send('{"type":"subscribe","id":2,"data":{"topic":"news"}}')
send('{"type":"echo","id":3,"data":{"text":"x"}}')
answers = {}
while len(answers) < 3:  # the answers to ids 1 to 3 (a started job's events may come between)
    answer = receive()
    if answer.get("id") in (1, 2, 3):
        answers[answer["id"]] = answer["data"]["code"] if answer["type"] == "error" else answer["type"]
print(answers[1], answers[2], answers[3])
PY
}

# api_status PORT PATH BODY: the status code of a POST to the server API.
api_status() {
  curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H "Authorization: Bearer $api_key" \
    -H 'Content-Type: application/json' -d "$3" "http://127.0.0.1:$1$2" || true
}

upgrade_status() {  # upgrade_status PORT PATH [SUBPROTOCOL]: the status code of a WebSocket upgrade
  local headers=(-H "Connection: Upgrade" -H "Upgrade: websocket" -H "Sec-WebSocket-Version: 13"
                 -H "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==")
  [ -z "${3:-}" ] || headers+=(-H "Sec-WebSocket-Protocol: $3")
  # A 101 keeps the connection open: --max-time ends it, and the status is already written.
  curl -s -o /dev/null -w '%{http_code}' --max-time 2 "${headers[@]}" "http://127.0.0.1:$1$2" || true
}

check() {  # check FEATURE
  local feature=$1 work
  work=$(mktemp -d)
  trap 'kill "${server:-0}" 2>/dev/null || true; rm -rf "$work"' RETURN
  git -C "$root" ls-files -z | (cd "$root" && tar --null -T - -cf -) | tar -xf - -C "$work"
  [ -d "$work/src/$feature" ] || { echo "check-removable: no folder src/$feature/" >&2; return 1; }
  rm -rf "${work:?}/src/$feature"
  local marked
  marked=$(grep -rl "(src/$feature/)" "$work/src/server" || true)
  [ -n "$marked" ] || { echo "check-removable: no line of src/server/ is marked (src/$feature/)" >&2; return 1; }
  local lines
  # shellcheck disable=SC2086
  lines=$(cat $marked | grep -c "(src/$feature/)")
  # shellcheck disable=SC2086
  sed -i "\\#(src/$feature/)#d" $marked
  echo "==> $feature: removed src/$feature/ and the $lines lines marked (src/$feature/) in ${marked//$work\//}"
  if grep -rn "\"$feature/" "$work/src"; then
    echo "check-removable: src/ still includes $feature/ (above)" >&2
    return 1
  fi

  cmake -S "$work" -B "$work/build" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCOROPUSH_BUILD_TESTS=OFF \
    -DCOROPUSH_BUILD_BENCH=OFF -DCOROPUSH_BUILD_LADDER=OFF -DCOROPUSH_WARNINGS_AS_ERRORS=ON >/dev/null
  cmake --build "$work/build" --target coropush

  local echo_args=(--echo-path /echo)
  if [ "$feature" = demo ]; then  # the option of the removed echo endpoint stops the server, with the reason
    echo_args=()
    if timeout 10 "$work/build/src/coropush" --port 0 --address 127.0.0.1 --echo-path /echo >"$work/refused.log" 2>&1 ||
      ! grep -q "this build has no echo endpoint" "$work/refused.log"; then
      cat "$work/refused.log" >&2
      echo "check-removable: --echo-path without src/demo/ was not refused with its reason" >&2
      return 1
    fi
    echo "    --echo-path refused: $(grep -o 'this build has no echo endpoint.*' "$work/refused.log")"
  fi
  printf '%s' "$api_key" >"$work/api.key"
  "$work/build/src/coropush" --port 0 --address 127.0.0.1 --api-key-file "$work/api.key" "${echo_args[@]}" \
    >"$work/server.log" 2>&1 &
  server=$!
  local port=""
  for _ in $(seq 100); do
    port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$work/server.log" | head -1)
    [ -z "$port" ] || break
    sleep 0.1
  done
  [ -n "$port" ] || { cat "$work/server.log" >&2; echo "check-removable: the server did not start" >&2; return 1; }
  local health json plain echo answers jobs publish
  health=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$port/healthz" || true)
  json=$(upgrade_status "$port" /ws coropush.v1)
  plain=$(upgrade_status "$port" /ws)
  echo=$(upgrade_status "$port" /echo)
  answers=$(json_answers "$port" || true)
  jobs=$(api_status "$port" /api/jobs '{"label":"l"}')
  publish=$(api_status "$port" /api/publish '{"topic":"t","data":{}}')
  kill -TERM "$server"
  wait "$server" || { cat "$work/server.log" >&2; echo "check-removable: the server did not exit cleanly" >&2; return 1; }
  echo "    /healthz $health, coropush.v1 on /ws $json, no subprotocol on /ws $plain, /echo $echo"
  echo "    job_start, subscribe, echo answered: ${answers}; POST /api/jobs $jobs, POST /api/publish $publish"
  local expected_plain=101 expected_echo=101 expected_jobs=201 expected_publish=200
  local job=job_started subscribe=subscribed
  [ "$feature" != demo ] || { expected_plain=400; expected_echo=404; }
  [ "$feature" != jobs ] || { job=unknown_type; expected_jobs=404; }
  [ "$feature" != topics ] || { subscribe=unknown_type; expected_publish=404; }
  local expected_answers="$job $subscribe echo"
  if [ "$health" != 200 ] || [ "$json" != 101 ] || [ "$plain" != "$expected_plain" ] || [ "$echo" != "$expected_echo" ] ||
    [ "$answers" != "$expected_answers" ] || [ "$jobs" != "$expected_jobs" ] || [ "$publish" != "$expected_publish" ]; then
    echo "check-removable: expected /healthz 200, coropush.v1 101, no subprotocol $expected_plain, /echo $expected_echo," \
      "answers '${expected_answers}', /api/jobs $expected_jobs, /api/publish $expected_publish" >&2
    return 1
  fi
  echo "==> $feature: removable"
}

for feature in "${features[@]}"; do
  check "$feature"
done
