#!/usr/bin/env bash
# Breaks the vault's guarantees one at a time (scripts/hand_mutations.py lists them), runs the
# tests that should notice each, and reports caught / not caught; exits 1 if any is missed.
# Works in a throwaway copy of the tree; the report goes to mutation/hand-mutations.md.
# About 20 minutes on two cores. Not part of CI.   scripts/hand-mutations.sh [NAME-PART...]
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
require_dotnet
ensure_openssl
root=$(pwd)
work=$(mktemp -d /tmp/voicevault-hand-mutations.XXXXXX)
trap 'rm -rf "$work"' EXIT
copy_tree "$work"
cd "$work"
say "building the tests once"
dotnet build tests/VoiceVault.Server.Tests -c Release --nologo -v quiet >/dev/null
dotnet build tests/VoiceVault.Crypto.Tests -c Release --nologo -v quiet >/dev/null
mkdir -p "$root/mutation"
status=0
"${VOICEVAULT_PYTHON:-python3}" scripts/hand_mutations.py "$@" || status=$?
cp hand-mutations.md "$root/mutation/hand-mutations.md"
exit $status
