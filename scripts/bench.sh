#!/usr/bin/env bash
# Regenerates every benchmark and rewrites docs/benchmarks.md (machine details and date included).
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
bash scripts/bootstrap.sh
(cd tools/reference && [ -d node_modules/tokenizers ] || npm ci --no-audit --no-fund --silent)
dotnet run --project benchmarks/MultiTeacher.Benchmarks -c Release -- "$@"
