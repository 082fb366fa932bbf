#!/usr/bin/env bash
# Starts the websocketpp peer on 127.0.0.1:PORT. First run: installs Debian's libwebsocketpp-dev
# if missing and builds it with g++ -O2 into bench/build/.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
port=${1:?usage: run-websocketpp.sh PORT}
bin=$here/../build/websocketpp-peer
if [ ! -x "$bin" ] || [ "$here/websocketpp.cpp" -nt "$bin" ]; then
  if [ ! -f /usr/include/websocketpp/server.hpp ]; then
    as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libwebsocketpp-dev >&2
  fi
  mkdir -p "$here/../build"
  g++ -std=c++17 -O2 -DNDEBUG -o "$bin.tmp" "$here/websocketpp.cpp" -lboost_json -lpthread >&2
  mv "$bin.tmp" "$bin"
fi
exec "$bin" "$port"
