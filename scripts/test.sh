#!/usr/bin/env bash
# Runs every test of VoiceVault on a fresh machine, installing what the tests need first:
# openssl and Python's `cryptography` (independent implementations of the format), and a
# throwaway PostgreSQL (scripts/postgres.sh; Debian's postgresql if none is installed) and a
# throwaway S3 server (scripts/s3.sh: Ceph's RADOS Gateway from Debian, installed if missing).
# The Crypto suite runs twice: once on OpenSSL's AES-GCM, once on the portable BouncyCastle one.
# The server suite runs twice: embedded (SQLite + media files), then as a cluster runs it
# (PostgreSQL + S3); then its Twilio SDK suites a third time through HAProxy in front of three
# instances (VOICEVAULT_TEST_CLUSTER=3; HAProxy from Debian, installed if missing), with the
# console's browser journeys (headless Chromium from Debian, installed if missing). PKCS#11 tests
# use throwaway SoftHSM2 tokens and openCryptoki's software token (Debian's softhsm2, opencryptoki
# and opensc, installed if missing; openCryptoki's slot daemon started). The command blocks of
# README.md and docs/ run as written against a vault started as the README says (scripts/test-docs.sh).
#
# ./scripts/test.sh --quick is the inner loop (a few minutes): the embedded backend only, once,
# without the browser journeys, the cluster and crash tests, or the second passes.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

QUICK=false
case "${1:-}" in
  --quick) QUICK=true ;;
  "") ;;
  *) echo "usage: $0 [--quick]" >&2; exit 2 ;;
esac

require_dotnet
ensure_openssl
ensure_python_cryptography   # exports VOICEVAULT_PYTHON
command -v haproxy >/dev/null || apt_install haproxy
# Keys in a PKCS#11 token: SoftHSM2 is the token, OpenSC's pkcs11-tool a second client that reads it.
command -v softhsm2-util >/dev/null || apt_install softhsm2
command -v pkcs11-tool >/dev/null || apt_install opensc
ensure_opencryptoki          # a token with OAEP-SHA256 inside it (SoftHSM2 2.6 has SHA-1 only)
# The console's tests drive Debian's headless Chromium (VOICEVAULT_CHROMIUM names another).
[ -n "${VOICEVAULT_CHROMIUM:-}" ] || command -v chromium >/dev/null || apt_install chromium

PG_DIR=$(mktemp -u /tmp/voicevault-test-pg.XXXXXX)
S3_DIR=$(mktemp -u /tmp/voicevault-test-s3.XXXXXX)
trap 'scripts/postgres.sh down "$PG_DIR" || true; scripts/s3.sh down "$S3_DIR" || true' EXIT
say "starting a throwaway PostgreSQL and S3 server"
scripts/postgres.sh up "$PG_DIR" >/dev/null
. "$PG_DIR/env.sh"           # exports VOICEVAULT_POSTGRES
scripts/s3.sh up "$S3_DIR"
. "$S3_DIR/env.sh"           # exports VOICEVAULT_S3_URL and its credentials

say "restoring and building"
dotnet build VoiceVault.slnx -c Release --nologo -v quiet

if $QUICK; then
  say "quick: every project once, server on SQLite and media files, no browser, cluster or crash tests"
  VOICEVAULT_TEST_DATABASE=sqlite VOICEVAULT_TEST_MEDIA=files VOICEVAULT_GCM=openssl dotnet test VoiceVault.slnx -c Release --no-build --nologo \
    --filter "FullyQualifiedName!~.Console.&FullyQualifiedName!~.Cluster&FullyQualifiedName!~CrashTests"
  say "quick tests passed (the whole suite: ./scripts/test.sh)"
  exit 0
fi

say "all tests: server on SQLite and media files, AES-GCM on OpenSSL"
VOICEVAULT_TEST_DATABASE=sqlite VOICEVAULT_TEST_MEDIA=files VOICEVAULT_GCM=openssl dotnet test VoiceVault.slnx -c Release --no-build --nologo

say "server tests again on PostgreSQL and S3"
VOICEVAULT_TEST_DATABASE=postgres VOICEVAULT_TEST_MEDIA=s3 VOICEVAULT_GCM=openssl dotnet test tests/VoiceVault.Server.Tests -c Release --no-build --nologo

say "the commands of README.md and docs/, as written (scripts/test-docs.sh)"
scripts/test-docs.sh

say "the Twilio SDK suites through HAProxy in front of three instances"
VOICEVAULT_TEST_DATABASE=postgres VOICEVAULT_TEST_MEDIA=s3 VOICEVAULT_TEST_CLUSTER=3 VOICEVAULT_GCM=openssl dotnet test tests/VoiceVault.Server.Tests -c Release --no-build --nologo \
  --filter "(FullyQualifiedName~.AccountTests|FullyQualifiedName~.PublicKeyTests|FullyQualifiedName~.RecordingTests|FullyQualifiedName~.TenantIsolationTests|FullyQualifiedName~.FailureTests|FullyQualifiedName~.GuaranteeTests|FullyQualifiedName~.TwilioLinkTests|FullyQualifiedName~.LiveRecordingTests|FullyQualifiedName~.LiveRecordingControlTests|FullyQualifiedName~.ConsoleJourneyTests|FullyQualifiedName~.ConsolePagesTests|FullyQualifiedName~.AuditTrailTests|FullyQualifiedName~.AuditExportTests)&FullyQualifiedName!~Failed_authentications_are_counted_per_credential"

say "crypto tests again on the portable engine (VOICEVAULT_GCM=managed)"
VOICEVAULT_GCM=managed dotnet test tests/VoiceVault.Crypto.Tests -c Release --no-build --nologo

say "all tests passed"
