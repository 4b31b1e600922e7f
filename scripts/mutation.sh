#!/usr/bin/env bash
# Mutation testing of the maths and verdict code (mixing, losses, cache codec, audit judge) with
# Stryker.NET against the unit tests that cover it (stryker-config.json). Not part of
# scripts/test.sh: it rebuilds the code once per run and takes tens of minutes on two cores.
# Prints the mutation score per file and overall; the HTML and JSON reports land in
# StrykerOutput/latest/reports/.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
dotnet tool restore >/dev/null
start=$(date +%s)
# Run from the test project: at the repository root Stryker would take the solution and every test project in it.
(cd tests/MultiTeacher.Tests && dotnet stryker --config-file "$repo/stryker-config.json" --output "$repo/StrykerOutput/latest" "$@")
elapsed=$(( $(date +%s) - start ))

report=StrykerOutput/latest/reports/mutation-report.json
[ -f "$report" ] || report=
[ -n "$report" ] || { echo "mutation: no report written" >&2; exit 1; }
python3 - "$report" "$elapsed" <<'PY'
import json, sys
report, elapsed = json.load(open(sys.argv[1])), int(sys.argv[2])
detected_states = {"Killed", "Timeout"}
undetected_states = {"Survived", "NoCoverage"}
rows, total_d, total_u = [], 0, 0
for path, f in sorted(report["files"].items()):
    states = [m["status"] for m in f["mutants"]]
    d = sum(s in detected_states for s in states)
    u = sum(s in undetected_states for s in states)
    total_d, total_u = total_d + d, total_u + u
    if d + u == 0:
        continue
    name = path.split("src/MultiTeacher/")[-1]
    score = 100 * d / (d + u) if d + u else 100
    rows.append(f"{name:32s} {score:6.1f}%  detected {d:4d} (timeouts {states.count('Timeout'):3d})  undetected {u:4d}  ignored/compile errors {len(states) - d - u}")
print("\n".join(rows))
print(f"mutation score {100 * total_d / max(1, total_d + total_u):.1f}% ({total_d} of {total_d + total_u} mutants detected) in {elapsed // 60} min {elapsed % 60} s")
PY
