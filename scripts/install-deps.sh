#!/usr/bin/env bash
# Installs what coropush needs on Debian 12 or Ubuntu 24.04, from the distribution's packages and
# the npm registry only. Idempotent: packages already present are not reinstalled.
#
#   scripts/install-deps.sh build   compiler, CMake, Ninja, Boost, hiredis, Python (enough to build
#                                   and run, the report example included)
#   scripts/install-deps.sh test    all of the above, plus what the whole test suite uses
#                                   (GoogleTest, clang tools, Redis, promtool, nginx, Chromium, Node)
set -euo pipefail

what=${1:-test}
cd "$(dirname "$0")/.."

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# Boost: Debian 12 ships 1.81 beside its default 1.74, Ubuntu 24.04 ships 1.83.
boost_version=""
for v in 1.83 1.81; do
  if apt-cache show "libboost$v-dev" >/dev/null 2>&1; then boost_version=$v; break; fi
done
if [ -z "$boost_version" ] && ! dpkg -s libboost1.81-dev libboost1.83-dev >/dev/null 2>&1; then
  as_root apt-get update -qq
  for v in 1.83 1.81; do
    if apt-cache show "libboost$v-dev" >/dev/null 2>&1; then boost_version=$v; break; fi
  done
fi
[ -n "$boost_version" ] || { echo "install-deps: no Boost >= 1.81 package found" >&2; exit 1; }

packages=(ca-certificates git g++ make cmake ninja-build pkg-config
          "libboost$boost_version-dev" "libboost-json$boost_version-dev" "libboost-url$boost_version-dev"
          libhiredis-dev libssl-dev libjwt-dev
          python3)  # the report example's backend (examples/report-backend/), check-removable.sh's client
if [ "$what" = test ]; then
  packages+=(libgtest-dev libgmock-dev libbenchmark-dev
             clang clang-format clang-tidy libclang-rt-dev
             redis-server prometheus nginx
             fonts-wqy-zenhei curl procps psmisc)
  # Node.js for the browser test's driver (playwright-core): the distribution's is recent enough.
  command -v node >/dev/null 2>&1 || packages+=(nodejs)
  command -v npm >/dev/null 2>&1 || packages+=(npm)
  # Chromium: Debian's package; Ubuntu's is a snap stub, so there a preinstalled Chrome is used.
  if ! command -v chromium >/dev/null && ! command -v google-chrome >/dev/null && ! command -v chromium-browser >/dev/null; then
    packages+=(chromium)
  fi
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Services the tests start themselves: keep the packaged daemons from holding their ports.
if [ "$what" = test ]; then
  for service in redis-server nginx prometheus; do
    if command -v systemctl >/dev/null && systemctl is-active --quiet "$service" 2>/dev/null; then
      as_root systemctl stop "$service" || true
      as_root systemctl disable "$service" >/dev/null 2>&1 || true
    fi
  done
  if [ -f tests/browser/package-lock.json ]; then
    (cd tests/browser && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  fi
fi
echo "install-deps: ready ($what, Boost $boost_version)"
