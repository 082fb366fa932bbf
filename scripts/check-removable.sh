#!/usr/bin/env bash
# scripts/check-removable.sh [FEATURE...]: proves that a feature can be dropped the way
# docs/template.md says, by doing it to a copy of the tree (its tracked files): delete the folder
# src/FEATURE/ and the lines of src/server/ marked "(src/FEATURE/)", then build the server, start it
# on a free port, and check that /healthz answers, that the JSON dialect still upgrades, and that
# nothing answers where the feature did (for demo: that --echo-path is refused at start).
# Default: every feature that is removable so far (demo).
# Run by the GitHub workflow (.github/workflows/ci.yml); takes a few minutes per feature.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
features=("$@")
[ ${#features[@]} -gt 0 ] || features=(demo)

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
  "$work/build/src/coropush" --port 0 --address 127.0.0.1 "${echo_args[@]}" >"$work/server.log" 2>&1 &
  server=$!
  local port=""
  for _ in $(seq 100); do
    port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$work/server.log" | head -1)
    [ -z "$port" ] || break
    sleep 0.1
  done
  [ -n "$port" ] || { cat "$work/server.log" >&2; echo "check-removable: the server did not start" >&2; return 1; }
  local health json plain echo
  health=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$port/healthz" || true)
  json=$(upgrade_status "$port" /ws coropush.v1)
  plain=$(upgrade_status "$port" /ws)
  echo=$(upgrade_status "$port" /echo)
  kill -TERM "$server"
  wait "$server" || { cat "$work/server.log" >&2; echo "check-removable: the server did not exit cleanly" >&2; return 1; }
  echo "    /healthz $health, coropush.v1 on /ws $json, no subprotocol on /ws $plain, /echo $echo"
  local expected_plain=101 expected_echo=101
  [ "$feature" != demo ] || { expected_plain=400; expected_echo=404; }
  if [ "$health" != 200 ] || [ "$json" != 101 ] || [ "$plain" != "$expected_plain" ] || [ "$echo" != "$expected_echo" ]; then
    echo "check-removable: expected /healthz 200, coropush.v1 101, no subprotocol $expected_plain, /echo $expected_echo" >&2
    return 1
  fi
  echo "==> $feature: removable"
}

for feature in "${features[@]}"; do
  check "$feature"
done
