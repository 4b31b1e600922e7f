#!/usr/bin/env bash
# Regenerates every benchmark (or the ones named) and rewrites their sections of docs/benchmarks.md.
# Each benchmark runs in its own process, so none measures a heap shaped by another.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
bash scripts/bootstrap.sh
(cd tools/reference && [ -d node_modules/tokenizers ] || npm ci --no-audit --no-fund --silent)
dotnet build benchmarks/MultiTeacher.Benchmarks -c Release -v quiet -nologo
names=("$@")
[ ${#names[@]} -gt 0 ] || names=(tokenize alignment model distillation alm lineage jobs dashboard merge logits scaleout)
for name in "${names[@]}"; do
  dotnet run --project benchmarks/MultiTeacher.Benchmarks -c Release --no-build -- "$name"
done
