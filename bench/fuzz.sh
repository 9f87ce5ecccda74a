#!/usr/bin/env bash
# Fuzzing: COUNT inputs (default 10^6) for every parser that sees outside bytes — PEM/DER keys,
# encrypted PKCS#8 with passphrases, encryption details JSON, WAV headers, Media Streams messages,
# form bodies, query strings, Range headers, PKCS#11 URIs — made by CsCheck from valid examples
# (mutated) and random bytes (tests/VoiceVault.Fuzz). Reports unhandled exceptions (with the
# shortest input for each), hangs (over 1 s), inputs allocating over 64 MiB and the slowest input.
# Results: bench/out/fuzz.md; exit code 1 when anything was found.   Options: COUNT=1000000 TARGETS="…"
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
require_dotnet
COUNT=${COUNT:-1000000}
mkdir -p bench/out
say "building"
dotnet build tests/VoiceVault.Fuzz -c Release --nologo -v quiet
say "$COUNT inputs per parser"
# shellcheck disable=SC2086
{ echo "# Fuzzing, $(date -u +%Y-%m-%d): $COUNT inputs per parser"; echo; dotnet tests/VoiceVault.Fuzz/bin/Release/net10.0/VoiceVault.Fuzz.dll "$COUNT" ${TARGETS:-}; } | tee bench/out/fuzz.md
