#!/usr/bin/env bash
# Held-out bits per byte of a demo teacher before and after `mt transplant` into each other demo
# teacher's vocabulary, by mean and by OMP (the teacher that owns that vocabulary as OMP's donor).
# Usage: scripts/transplant-bpb.sh DEMO MODEL [K] [TARGET...]
#   DEMO   the demo's working directory (data/heldout-all.txt, runs/teacher-*/student)
#   MODEL  the teacher to transplant: teacher-press, teacher-learned or teacher-fiction
#   K      OMP's anchors per new token (default 8)
#   TARGET the teachers whose vocabularies to transplant into (default: the other two)
# RUNS (default DEMO/runs) is where the teachers' runs are, OUT (default DEMO/transplants) where the
# transplanted models go, MT the mt command (default: dotnet run of this repository's CLI), METHODS the
# transplants to make (default "mean omp"; METHOD:HEAD sets --head, e.g. mean:approximate).
# Prints one line per model: name, bits per byte, difference from the original; per target first the
# original model on the text as the target's tokenizer cuts it (`mt eval --segment-as`), what the
# new segmentation alone costs with every row the model's own.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
demo=$1 model=$2 k=${3:-8}
shift $(( $# < 3 ? $# : 3 ))
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(teacher-press teacher-learned teacher-fiction)
mt=${MT:-"dotnet run --project $repo/src/MultiTeacher.Cli -c Release --no-build --"}
out=${OUT:-$demo/transplants}
runs=${RUNS:-$demo/runs}
mkdir -p "$out"
bpb() { $mt eval --model "$@" --data "$demo/data/heldout-all.txt" --window 64 --max-bytes 40000 --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["result"]["bits_per_byte"])'; }
base=$(bpb "$runs/$model/student")
printf '%-40s %s\n' "$model (original)" "$base"
for target in "${targets[@]}"; do
  [ "$target" = "$model" ] && continue
  value=$(bpb "$runs/$model/student" --segment-as "$runs/$target/student")
  printf '%-40s %s %+.4f\n' "$model cut as ${target#teacher-}" "$value" "$(python3 -c "print($value - $base)")"
  for item in ${METHODS:-mean omp}; do
    method=${item%%:*}
    head=(); [ "$item" = "$method" ] || head=(--head "${item#*:}")
    dir="$out/$model-to-${target#teacher-}-${item/:/-}"
    rm -rf "$dir"
    $mt transplant --model "$runs/$model/student" --tokenizer "$runs/$target/student" --out "$dir" --method "$method" --k "$k" "${head[@]}" >&2
    value=$(bpb "$dir")
    printf '%-40s %s %+.4f\n' "$model -> ${target#teacher-} ($item)" "$value" "$(python3 -c "print($value - $base)")"
  done
done
