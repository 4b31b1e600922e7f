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
[ ${#names[@]} -gt 0 ] || names=(tokenize alignment model distillation alm lineage jobs dashboard merge logits precision scaleout)
# "scale": the real-shape teacher and student figures (bf16 1B and 8B teachers, chunked logits, the bfloat16 student, caching on
# 1 against 2 workers); the teachers write
# about 19 GB of random weights under ~/.cache/multiteacher/bench once, and are not part of the default list.
expanded=()
for name in "${names[@]}"; do
  if [ "$name" = scale ]; then expanded+=(teacher-bf16 teacher-8b logits precision scaleout); else expanded+=("$name"); fi
done
names=("${expanded[@]}")
for name in "${names[@]}"; do
  dotnet run --project benchmarks/MultiTeacher.Benchmarks -c Release --no-build -- "$name"
done
