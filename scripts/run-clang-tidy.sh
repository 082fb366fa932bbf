#!/usr/bin/env bash
# clang-tidy on the project's own sources (src/, tests/, bench/, examples/; not the Boost
# implementation units), with the checks in .clang-tidy. It configures its own build dir (nothing
# is built) and checks:
#   - every source of the library, the executables, the load tool, the ladder and the test support
#     code as a file of its own;
#   - the test suites in the batches their unity build compiles (six test files a batch). Most of
#     clang-tidy's time per file is parsing and matching Boost's and GoogleTest's headers, so
#     this checks the 60-odd test files in a sixth of the time. Every check still reports in every
#     test file (the header filter names .cpp files too); only the static analyzer's checks
#     (clang-analyzer-*), which analyze the functions of the main file only, do not look inside
#     the test files.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/tidy}
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_EXPORT_COMPILE_COMMANDS=ON \
  -DCOROPUSH_UNITY_BUILD=ON -DCOROPUSH_USE_PCH=OFF >/dev/null

# The ci build uses g++ with a precompiled header clang cannot read: give clang-tidy the same
# commands without the PCH flags. Then split the library's unity batches back into their sources
# (one command each), and keep the test suites' batches whole.
tidy_dir=$(mktemp -d)
trap 'rm -rf "$tidy_dir"' EXIT
mapfile -t units < <(python3 - "$build/compile_commands.json" "$tidy_dir/compile_commands.json" <<'PY'
import json, os, re, subprocess, sys

tracked = {os.path.realpath(f) for f in subprocess.run(
    ["git", "ls-files", "src/*.cpp", "tests/*.cpp", "bench/*.cpp", "examples/*.cpp"],
    capture_output=True, text=True, check=True).stdout.split() if not f.startswith("src/impl/")}

def is_test_suite(path):
    rel = os.path.relpath(path)
    return rel.startswith("tests/") and not rel.startswith("tests/support/") or "/tests/" in rel[len("examples/"):]

out, units = [], []
for c in json.load(open(sys.argv[1])):
    cmd = c["command"]
    cmd = re.sub(r"-include \S*cmake_pch\.hxx", "", cmd)
    cmd = re.sub(r"-Winvalid-pch", "", cmd)
    cmd = re.sub(r"-Wno-(array-bounds|restrict|stringop-overflow|stringop-overread|mismatched-new-delete|useless-cast|duplicated-cond|logical-op)|-Wduplicated-cond|-Wlogical-op|-Wuseless-cast", "", cmd)
    c["command"] = cmd
    batch = c["file"]
    if "/Unity/unity_" not in batch:
        out.append(c)
        if os.path.realpath(batch) in tracked:
            units.append(os.path.relpath(os.path.realpath(batch)))
        continue
    members = re.findall(r'#include "([^"]+)"', open(batch).read())
    if members and all(is_test_suite(m) for m in members):
        out.append(c)
        if any(os.path.realpath(m) in tracked for m in members):
            units.append(batch)
        continue
    for m in members:  # the library's own batches: each source on its own
        entry = dict(c, file=m, command=cmd.replace(batch, m))
        if "output" in entry:
            del entry["output"]
        out.append(entry)
        if os.path.realpath(m) in tracked:
            units.append(os.path.relpath(os.path.realpath(m)))
json.dump(out, open(sys.argv[2], "w"))
print("\n".join(units))
PY
)
# A batch is CMake's generated file of #include "….cpp" lines, which bugprone-suspicious-include
# reports: not in a batch. A batch's configuration is named, not looked up: clang-tidy looks for
# .clang-tidy beside the file it checks, and a batch lives in the build dir, which may be outside
# the tree (/tmp/...), where it would find none and report nothing in the test files. (Every
# other file finds its own, bench/micro/'s included.)
tidy_one() {
  local extra=()
  [[ $2 == */Unity/unity_* ]] && extra=(--config-file="$root/.clang-tidy" --checks=-bugprone-suspicious-include)
  clang-tidy -p "$1" --quiet --warnings-as-errors='*' "${extra[@]}" "$2"
}
root=$(pwd)
export root
export -f tidy_one
jobs=$(nproc)
printf '%s\n' "${units[@]}" | xargs -P "$jobs" -I{} bash -c 'tidy_one "$0" "$1"' "$tidy_dir" {} 2> "$tidy_dir/stderr.log" | tee "$tidy_dir/out.log"
if grep -q "warning:\|error:" "$tidy_dir/out.log"; then
  echo "run-clang-tidy: findings above" >&2
  exit 1
fi
echo "run-clang-tidy: ${#units[@]} files and test batches clean"
