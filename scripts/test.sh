#!/usr/bin/env bash
# Runs every test of VoiceVault on a fresh machine, installing what the tests need first:
# openssl and Python's `cryptography` (independent implementations of the format), and a
# throwaway PostgreSQL (scripts/postgres.sh; Debian's postgresql if none is installed).
# The Crypto suite runs twice: once on OpenSSL's AES-GCM, once on the portable BouncyCastle one.
# The server suite runs twice: on the embedded SQLite and on PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

require_dotnet
ensure_openssl
ensure_python_cryptography   # exports VOICEVAULT_PYTHON

PG_DIR=$(mktemp -u /tmp/voicevault-test-pg.XXXXXX)
trap 'scripts/postgres.sh down "$PG_DIR" || true' EXIT
say "starting a throwaway PostgreSQL"
scripts/postgres.sh up "$PG_DIR" >/dev/null
. "$PG_DIR/env.sh"           # exports VOICEVAULT_POSTGRES

say "restoring and building"
dotnet build VoiceVault.slnx -c Release --nologo -v quiet

say "all tests: server on SQLite, AES-GCM on OpenSSL"
VOICEVAULT_TEST_DATABASE=sqlite VOICEVAULT_GCM=openssl dotnet test VoiceVault.slnx -c Release --no-build --nologo

say "server tests again on PostgreSQL"
VOICEVAULT_TEST_DATABASE=postgres VOICEVAULT_GCM=openssl dotnet test tests/VoiceVault.Server.Tests -c Release --no-build --nologo

say "crypto tests again on the portable engine (VOICEVAULT_GCM=managed)"
VOICEVAULT_GCM=managed dotnet test tests/VoiceVault.Crypto.Tests -c Release --no-build --nologo

say "all tests passed"
