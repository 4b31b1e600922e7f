#!/usr/bin/env bash
# Installs `mt` as a command: a small launcher at DEST (default /usr/local/bin/mt) that runs the CLI
# built from this checkout, building it first when any source is newer than the last build.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dest=${1:-/usr/local/bin/mt}
marker="# mt launcher for the MultiTeacher checkout at"

if [ -e "$dest" ] && ! grep -q "^$marker" "$dest" 2>/dev/null; then
  echo "[install-launcher] $dest exists and is not an mt launcher; left as it is" >&2
  exit 1
fi
mkdir -p "$(dirname "$dest")"
tmp=$(mktemp "$(dirname "$dest")/.mt.XXXXXX")
cat > "$tmp" <<LAUNCHER
#!/usr/bin/env bash
$marker $repo
set -euo pipefail
repo='$repo'
out="\$repo/src/MultiTeacher.Cli/bin/Release/net10.0"
stamp="\$out/.launcher-built"
if [ ! -x "\$out/mt" ] || [ ! -f "\$stamp" ] || [ -n "\$(find "\$repo/src" "\$repo/migrations" "\$repo/Directory.Build.props" "\$repo/Directory.Packages.props" \\
     -newer "\$stamp" -type f \\( -name '*.cs' -o -name '*.csproj' -o -name '*.props' -o -name '*.json' -o -name '*.sql' \\) \\
     -not -path '*/bin/*' -not -path '*/obj/*' -print -quit 2>/dev/null)" ]; then
  echo "mt: building the CLI of \$repo" >&2
  dotnet build "\$repo/src/MultiTeacher.Cli/MultiTeacher.Cli.csproj" -c Release -nologo -v quiet >&2
  touch "\$stamp"
fi
exec "\$out/mt" "\$@"
LAUNCHER
chmod 755 "$tmp"
mv -f "$tmp" "$dest"
echo "[install-launcher] $dest runs the CLI of $repo"
