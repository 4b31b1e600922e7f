#!/usr/bin/env bash
# The main job end to end on the embedded defaults: bootstrap, then `mt demo`.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
bash scripts/bootstrap.sh
dotnet run --project src/MultiTeacher.Cli -c Release -- demo "$@"
