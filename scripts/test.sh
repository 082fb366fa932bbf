#!/usr/bin/env bash
# The whole test suite, exactly as CI runs it (.ci/run calls this): installs what is needed, then
#   1. checks the formatting of every C++ file,
#   2. builds the ci preset (warnings as errors) and runs every test (unit, integration,
#      browser, redis),
#   3. builds and runs the suite under AddressSanitizer + LeakSanitizer + UBSan, with the
#      fuzzers' bounded runs (not the ladder of examples, which step 2 runs),
#   4. builds and runs the suites that run the server on threads of its own (integration, redis,
#      browser) under ThreadSanitizer,
#   5. runs clang-tidy on the project's sources.
# Stops at the first failure. `scripts/test.sh quick` runs steps 1 and 2 only.
set -euo pipefail
cd "$(dirname "$0")/.."

stage() {
  local name=$1
  shift
  local start=$SECONDS
  echo "==> $name"
  "$@"
  echo "==> $name: passed in $((SECONDS - start)) s"
}

scripts/install-deps.sh test
stage "format" scripts/check-format.sh
stage "build + tests (ci preset)" cmake --workflow --preset ci
[ "${1:-}" = quick ] && exit 0
stage "AddressSanitizer + UBSan + fuzz smoke" cmake --workflow --preset asan
stage "ThreadSanitizer" cmake --workflow --preset tsan
stage "clang-tidy" scripts/run-clang-tidy.sh
echo "==> all checks passed in $SECONDS s"
