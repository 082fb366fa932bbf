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
#   - the library's sources that its unity build batches, in two runs: every check but the static
#     analyzer's on the batch (the AST matchers, which report in every file of it, matching the
#     shared headers once a batch instead of once a file), and the static analyzer alone on each
#     source (it analyzes the main file's functions only). Every check still sees every source,
#     in less time than the full set on each source (measured while the analyzer still followed
#     templates: the first batch of net/ 41 s instead of 49, the whole run 6 % less CPU time).
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

out, units = [], []  # units: "KIND PATH"; KIND: all, tests (a test batch), match (a library batch), analyze
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
            units.append("all " + os.path.relpath(os.path.realpath(batch)))
        continue
    members = re.findall(r'#include "([^"]+)"', open(batch).read())
    if not any(os.path.realpath(m) in tracked for m in members):
        continue
    out.append(c)
    if all(is_test_suite(m) for m in members):
        units.append("tests " + batch)
        continue
    units.append("match " + batch)
    for m in members:  # the library's own batches: the analyzer on each source alone
        entry = dict(c, file=m, command=cmd.replace(batch, m))
        if "output" in entry:
            del entry["output"]
        out.append(entry)
        if os.path.realpath(m) in tracked:
            units.append("analyze " + os.path.relpath(os.path.realpath(m)))
# The costliest first (the batches), so that the two workers end together.
order = {"tests": 0, "match": 1, "all": 2, "analyze": 3}
units.sort(key=lambda u: order[u.split(" ", 1)[0]])
json.dump(out, open(sys.argv[2], "w"))
print("\n".join(units))
PY
)
# A batch is CMake's generated file of #include "….cpp" lines, which bugprone-suspicious-include
# reports: not in a batch. A batch's configuration is named, not looked up: clang-tidy looks for
# .clang-tidy beside the file it checks, and a batch lives in the build dir, which may be outside
# the tree (/tmp/...), where it would find none and report nothing in the test files. (Every
# other file finds its own, bench/micro/'s included.) The analyzer's checks, as .clang-tidy
# chooses them, for the "analyze" units: --checks is read after the file's own, so -* first.
analyzer_checks="-*,$(python3 - "$PWD/.clang-tidy" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
checks = re.search(r"^Checks: >\n((?:  .*\n)+)", text, re.M).group(1)
names = [c.strip() for c in checks.replace("\n", "").split(",") if c.strip()]
print(",".join(n for n in names if n.lstrip("-").startswith("clang-analyzer-")))
PY
)"
tidy_one() {
  local kind=${2%% *} file=${2#* } extra=()
  case $kind in
    tests)
      extra=(--config-file="$root/.clang-tidy" --checks=-bugprone-suspicious-include)
      # The ladder's tests, with what examples/.clang-tidy adds (the root's file is named here).
      if [[ $file == */examples/* ]]; then extra[1]+=,bugprone-reserved-identifier; fi ;;
    match) extra=(--config-file="$root/.clang-tidy" --checks=-bugprone-suspicious-include,-clang-analyzer-*) ;;
    analyze) extra=(--checks="$analyzer_checks") ;;
  esac
  clang-tidy -p "$1" --quiet --warnings-as-errors='*' "${extra[@]}" "$file"
}
root=$(pwd)
export root analyzer_checks
export -f tidy_one
jobs=$(nproc)
printf '%s\n' "${units[@]}" | xargs -P "$jobs" -I{} bash -c 'tidy_one "$0" "$1"' "$tidy_dir" {} 2> "$tidy_dir/stderr.log" | tee "$tidy_dir/out.log"
if grep -q "warning:\|error:" "$tidy_dir/out.log"; then
  echo "run-clang-tidy: findings above" >&2
  exit 1
fi
echo "run-clang-tidy: ${#units[@]} files and test batches clean"
