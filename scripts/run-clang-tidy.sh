#!/usr/bin/env bash
# clang-tidy on the project's own sources (src/, tests/, bench/, examples/; not the Boost
# implementation units), with the checks in .clang-tidy. It configures its own build dir (nothing
# is built): without the unity build, whose compile commands name batches instead of the sources.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/tidy}
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_EXPORT_COMPILE_COMMANDS=ON \
  -DCOROPUSH_UNITY_BUILD=OFF -DCOROPUSH_USE_PCH=OFF >/dev/null

# The ci build uses g++ with a precompiled header clang cannot read: give clang-tidy the same
# commands without the PCH flags.
tidy_dir=$(mktemp -d)
trap 'rm -rf "$tidy_dir"' EXIT
python3 - "$build/compile_commands.json" "$tidy_dir/compile_commands.json" <<'PY'
import json, re, sys
commands = json.load(open(sys.argv[1]))
for c in commands:
    cmd = c["command"]
    cmd = re.sub(r"-include \S*cmake_pch\.hxx", "", cmd)
    cmd = re.sub(r"-Winvalid-pch", "", cmd)
    cmd = re.sub(r"-Wno-(array-bounds|restrict|stringop-overflow|stringop-overread|mismatched-new-delete|useless-cast|duplicated-cond|logical-op)|-Wduplicated-cond|-Wlogical-op|-Wuseless-cast", "", cmd)
    c["command"] = cmd
json.dump(commands, open(sys.argv[2], "w"))
PY

# The project's own sources that this build compiles (the fuzzers only exist in the asan build).
mapfile -t files < <(python3 - "$tidy_dir/compile_commands.json" <<'PY'
import json, os, subprocess, sys
compiled = {os.path.realpath(c["file"]) for c in json.load(open(sys.argv[1]))}
tracked = subprocess.run(["git", "ls-files", "src/*.cpp", "tests/*.cpp", "bench/*.cpp", "examples/*.cpp"],
                         capture_output=True, text=True, check=True).stdout.split()
for f in tracked:
    if not f.startswith("src/impl/") and os.path.realpath(f) in compiled:
        print(f)
PY
)
jobs=$(nproc)
printf '%s\n' "${files[@]}" | xargs -P "$jobs" -n 1 clang-tidy -p "$tidy_dir" --quiet --warnings-as-errors='*' 2> "$tidy_dir/stderr.log" | tee "$tidy_dir/out.log"
if grep -q "warning:\|error:" "$tidy_dir/out.log"; then
  echo "run-clang-tidy: findings above" >&2
  exit 1
fi
echo "run-clang-tidy: ${#files[@]} files clean"
