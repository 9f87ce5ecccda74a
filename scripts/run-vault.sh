#!/usr/bin/env bash
# Starts the VoiceVault service with the embedded default: SQLite metadata and media files under
# ./data, listening on 127.0.0.1:5080. The first start creates the main account and prints its
# credentials once. Extra arguments go to the server (e.g. --urls http://0.0.0.0:8080,
# --VoiceVault:PublicBaseUrl https://vault.example.com, --VoiceVault:DataDir /var/lib/voicevault).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
require_dotnet
say "building the vault"
dotnet build src/VoiceVault.Server -c Release --nologo -v quiet
say "starting the vault (Ctrl-C stops it cleanly)"
exec dotnet src/VoiceVault.Server/bin/Release/net10.0/VoiceVault.Server.dll "$@"
