#!/usr/bin/env bash
# Builds the `voicevault` dotnet tool from this checkout and installs it for the current user
# (~/.dotnet/tools), then runs it once. Run again to upgrade.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

require_dotnet
say "packing the voicevault tool"
./scripts/pack-cli.sh >/dev/null
say "installing it"
dotnet tool uninstall --global voicevault >/dev/null 2>&1 || true
# A rebuilt package keeps its version number: drop NuGet's cached copies so this build is the one installed.
cache=$(dotnet nuget locals global-packages --list | sed 's/^global-packages: //')
rm -rf "$cache/voicevault" "$cache/voicevault.any" "$cache/voicevault.linux-x64"
dotnet tool install --global --add-source artifacts/packages voicevault
tools="$HOME/.dotnet/tools"
"$tools/voicevault" --help
case ":$PATH:" in
  *":$tools:"*) ;;
  *) echo; echo "add the tool folder to your PATH:  export PATH=\"\$PATH:$tools\"" ;;
esac
