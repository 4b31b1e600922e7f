#!/usr/bin/env bash
# Mutation testing of the maths and verdict code (mixing, losses, cache codec, audit judge) with
# Stryker.NET against tests/MultiTeacher.Maths.Tests (stryker-config.json). Not part of
# scripts/test.sh: it rebuilds the library with every mutant in it once per run.
# Prints the set-up and testing times, then per file and overall the mutants killed, timed out,
# survived and not covered, and the mutation score; the HTML and JSON reports and Stryker's log
# land in StrykerOutput/latest/.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
dotnet tool restore >/dev/null
out="$repo/StrykerOutput/latest"
mkdir -p "$out"
start=$(date +%s)
# Run from the maths test project: at the repository root Stryker would take the solution and every test project in it.
(cd tests/MultiTeacher.Maths.Tests && dotnet stryker --config-file "$repo/stryker-config.json" --output "$out" "$@") | tee "$out/stryker.log"
elapsed=$(( $(date +%s) - start ))

report="$out/reports/mutation-report.json"
[ -f "$report" ] || { echo "mutation: no report written" >&2; exit 1; }
python3 - "$report" "$elapsed" "$out/stryker.log" <<'PY'
import json, re, sys
report, elapsed, log = json.load(open(sys.argv[1])), int(sys.argv[2]), open(sys.argv[3], errors="replace").read()

# Stryker's log lines carry the time of day; set-up ends when it announces the mutants to test.
def seconds(stamp):
    h, m, s = map(int, stamp.split(":"))
    return h * 3600 + m * 60 + s
stamps = [(seconds(t), line) for t, line in re.findall(r"\[(\d\d:\d\d:\d\d) \w+\] (.*)", log)]
testing_from = next((t for t, line in stamps if "total mutants will be tested" in line), None)
if stamps and testing_from is not None:
    setup = (testing_from - stamps[0][0]) % 86400
    print(f"set-up {setup // 60} min {setup % 60:02d} s, mutants tested in {(stamps[-1][0] - testing_from) % 86400 // 60} min {(stamps[-1][0] - testing_from) % 86400 % 60:02d} s")

kinds = ["Killed", "Timeout", "Survived", "NoCoverage"]
totals = dict.fromkeys(kinds, 0)
print(f"{'file':32s} {'score':>7s} {'killed':>7s} {'timeout':>8s} {'survived':>9s} {'no cov.':>8s}")
for path, f in sorted(report["files"].items()):
    states = [m["status"] for m in f["mutants"]]
    counts = {k: states.count(k) for k in kinds}
    if not any(counts.values()):
        continue
    for k in kinds:
        totals[k] += counts[k]
    detected = counts["Killed"] + counts["Timeout"]
    name = path.split("src/MultiTeacher/")[-1]
    print(f"{name:32s} {100 * detected / sum(counts.values()):6.1f}% {counts['Killed']:7d} {counts['Timeout']:8d} {counts['Survived']:9d} {counts['NoCoverage']:8d}")
detected, decided = totals["Killed"] + totals["Timeout"], sum(totals.values())
print(f"mutation score {100 * detected / max(1, decided):.1f}% ({detected} of {decided} detected: "
      f"{totals['Killed']} killed, {totals['Timeout']} timed out; {totals['Survived']} survived, "
      f"{totals['NoCoverage']} not covered) in {elapsed // 60} min {elapsed % 60:02d} s")
PY
