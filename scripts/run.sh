#!/usr/bin/env bash
# Installs what is needed, builds the release preset and runs the server: open http://localhost:1337/
# Extra arguments go to the server (try --help).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh build
cmake --preset release >/dev/null
cmake --build --preset release --target coropush
exec build/release/src/coropush "$@"
