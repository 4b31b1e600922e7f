#!/usr/bin/env bash
# Prepares a Debian/Ubuntu machine for MultiTeacher: system packages, the C++ runtime TorchSharp
# needs, and the pinned assets (tokenizers, corpora, the dashboard's chart and graph libraries). Idempotent: with everything present it only
# checks, in a few seconds. Without root it prints the commands to run instead of failing halfway.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"

is_root() { [ "$(id -u)" -eq 0 ]; }
need=()    # commands a non-root user must run by hand

say() { printf '[bootstrap] %s\n' "$*"; }

apt_updated=0
apt_install() {
  if ! is_root; then need+=("apt-get install -y $*"); return; fi
  if [ "$apt_updated" -eq 0 ]; then apt-get update -qq; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# dotnet: Debian ships no .NET 10 SDK and only the package registries are reachable, so the SDK
# must already be on the machine.
# Readers in these pipelines take all their input: under pipefail one that stops early (grep -q,
# awk's exit) kills the writer with SIGPIPE, and the whole script ends with status 141.
if ! command -v dotnet >/dev/null 2>&1 || ! dotnet --list-sdks 2>/dev/null | grep '^10\.' >/dev/null; then
  say "the .NET 10 SDK is required (dotnet on PATH); install it, then run this again."
  exit 1
fi

# TorchSharp 0.107's libtorch wrapper is linked against GLIBCXX_3.4.32 (GCC 13). Debian 12 ships
# GCC 12's libstdc++ (3.4.30), so torch fails to load there. Debian 13's libstdc++6, pinned at low
# priority so nothing else is pulled from trixie, provides the symbol (and upgrades libc6 with it).
libstdcxx=$(ldconfig -p 2>/dev/null | awk '/libstdc\+\+\.so\.6 .*x86-64/ && !found {print $NF; found = 1}')
if [ -z "$libstdcxx" ] || ! grep -qa 'GLIBCXX_3\.4\.32' "$libstdcxx"; then
  if is_root; then
    say "libstdc++ lacks GLIBCXX_3.4.32; installing libstdc++6 from Debian 13 (trixie), pinned at priority 100"
    if [ ! -f /etc/apt/sources.list.d/trixie.list ]; then
      echo 'deb http://deb.debian.org/debian trixie main' > /etc/apt/sources.list.d/trixie.list
      printf 'Package: *\nPin: release n=trixie\nPin-Priority: 100\n' > /etc/apt/preferences.d/trixie-pin
      apt_updated=0
    fi
    if [ "$apt_updated" -eq 0 ]; then apt-get update -qq; apt_updated=1; fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -t trixie libstdc++6 >/dev/null
  else
    need+=("echo 'deb http://deb.debian.org/debian trixie main' > /etc/apt/sources.list.d/trixie.list"
           "printf 'Package: *\\nPin: release n=trixie\\nPin-Priority: 100\\n' > /etc/apt/preferences.d/trixie-pin"
           "apt-get update && apt-get install -y -t trixie libstdc++6")
  fi
fi

# PostgreSQL: lineage and Hangfire storage; the tool starts its own private instance.
if ! compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then
  say "installing PostgreSQL"
  apt_install postgresql
fi

# Node.js + npm: assets arrive as npm packages, and the reference tokenizers are the Node binding.
if ! command -v npm >/dev/null 2>&1; then
  say "installing Node.js and npm"
  apt_install nodejs npm
fi

# Debian's Chromium: the dashboard's browser tests drive it with Playwright (scripts/test.sh asks for it).
if [ "${1:-}" = "--with-browser" ] && ! command -v chromium >/dev/null 2>&1; then
  say "installing Chromium for the dashboard's browser tests"
  apt_install chromium
fi

if [ "${#need[@]}" -gt 0 ]; then
  say "not running as root; run these as root, then run this script again:"
  for c in "${need[@]}"; do printf '    %s\n' "$c"; done
  exit 1
fi

# Pinned assets: skip the CLI entirely when the asset cache already matches the manifest.
assets_dir=${MT_ASSETS:-${XDG_CACHE_HOME:-$HOME/.cache}/multiteacher/assets}
manifest=src/MultiTeacher/Assets/assets.json
want=$(sha256sum "$manifest" | cut -d' ' -f1)
have=$(cat "$assets_dir/.manifest-sha256" 2>/dev/null || true)
if [ "$want" != "$have" ]; then
  say "fetching pinned assets into $assets_dir"
  dotnet run --project src/MultiTeacher.Cli -c Release -- assets fetch --dir "$assets_dir"
fi

# `mt` as a command from any directory: a launcher that runs this checkout's CLI (built on first use).
if is_root; then
  bash scripts/install-launcher.sh /usr/local/bin/mt || true
elif [[ ":$PATH:" == *":$HOME/.local/bin:"* ]]; then
  bash scripts/install-launcher.sh "$HOME/.local/bin/mt" || true
else
  say "for \`mt\` as a command, run as root: bash $repo/scripts/install-launcher.sh /usr/local/bin/mt"
fi
