#!/usr/bin/env bash
# Runs every test of VoiceVault on a fresh machine, installing what the tests need first:
# openssl and Python's `cryptography` (independent implementations of the format).
# The Crypto suite runs twice: once on OpenSSL's AES-GCM, once on the portable BouncyCastle one.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

require_dotnet
ensure_openssl
ensure_python_cryptography   # exports VOICEVAULT_PYTHON

say "restoring and building"
dotnet build VoiceVault.slnx -c Release --nologo -v quiet

say "all tests (AES-GCM on OpenSSL)"
VOICEVAULT_GCM=openssl dotnet test VoiceVault.slnx -c Release --no-build --nologo

say "crypto tests again on the portable engine (VOICEVAULT_GCM=managed)"
VOICEVAULT_GCM=managed dotnet test tests/VoiceVault.Crypto.Tests -c Release --no-build --nologo

say "all tests passed"
