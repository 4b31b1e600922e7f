#!/usr/bin/env bash
# The whole test suite: bootstrap (system packages, assets), then every test project.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
bash scripts/bootstrap.sh --with-browser

log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
dotnet test MultiTeacher.sln -c Release 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e

# One plain closing line summing every test assembly.
awk '/(Passed|Failed)! +- +Failed: / {
       for (i = 1; i <= NF; i++) { if ($i == "Failed:") f += $(i+1); if ($i == "Passed:") p += $(i+1); if ($i == "Skipped:") s += $(i+1) }
     }
     END { gsub(",", "", p); printf "tests: %d passed, %d failed, %d skipped\n", p, f, s }' "$log"
exit "$status"
