#!/usr/bin/env bash
# Runs the reliability suite (hostile inputs through the real CLI, fuzzed tokenizers and recipes,
# hostile dashboard requests) and prints "category: N tried, M clean" per category.
# Usage: scripts/torture.sh [extra dotnet test arguments]
set -uo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
report=$(mktemp)
data=$(mktemp -d)
trap 'rm -rf "$report" "$data"' EXIT
MT_DATA="$data" MT_TORTURE_REPORT="$report" dotnet test tests/MultiTeacher.Tests -c Release \
  --filter "FullyQualifiedName~MultiTeacher.Tests.Reliability" --logger "console;verbosity=normal" "$@" > "$data/test.log" 2>&1
status=$?
grep -E "^\s*(Passed|Failed) " "$data/test.log" | sed 's/^\s*/  /'
echo "per category:"
sort "$report" | sed 's/^hostile /  /'
[ $status -eq 0 ] && echo "reliability suite: all clean" || { echo "reliability suite: FAILED (log: kept below)"; tail -40 "$data/test.log"; }
exit $status
