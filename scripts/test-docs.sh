#!/usr/bin/env bash
# The commands README.md and docs/ tell a user to copy, run exactly as written (each block is read
# from the Markdown by scripts/docs-blocks.py, not repeated here): in a fresh copy of this checkout,
# so that ./data is a first start's, on 127.0.0.1:5080 as the README says. The story a new user
# follows: start the vault, the four requests, the toolkit on files; media files to S3 and the
# vault on S3; a trial PostgreSQL, the embedded data copied into it and the vault on it. Each step
# is checked by what the user would look at (the decrypted audio equals the original, the copied
# vault still serves the recording). Then every other command block must be marked with the
# reason it cannot run here. Needs port 5080 free. Called by scripts/test.sh; runs on its own too
# (it starts its own S3 server; the README's block starts the PostgreSQL at /tmp/voicevault-pg).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
repo=$PWD
ensure_openssl

work=$(mktemp -d /tmp/voicevault-docs.XXXXXX)
checkout=$work/checkout   # the user's clone
home=$work/user           # the user's own folder: keys, audio, downloads
mkdir -p "$checkout" "$home" "$work/bin"
ran=()
vault_pid=

# Stops the vault as Ctrl-C would, and waits until every process of its group has exited.
stop_vault() {
  if [ -n "$vault_pid" ]; then
    kill -TERM -- "-$vault_pid" 2>/dev/null || true
    wait "$vault_pid" 2>/dev/null || true
    local deadline=$((SECONDS + 60))
    while kill -0 -- "-$vault_pid" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.2; done
  fi
  vault_pid=
}
cleanup() {
  stop_vault
  scripts/postgres.sh down /tmp/voicevault-pg >/dev/null 2>&1 || true
  scripts/s3.sh down "$work/s3" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "test-docs: $*" >&2; exit 1; }

# A block, exactly as the Markdown has it, run by bash in DIR with errors stopping it.
block_file() { python3 "$repo/scripts/docs-blocks.py" get "$1" > "$work/$1.sh"; echo "$work/$1.sh"; }
run_block() {
  local name=$1 dir=$2 file
  file=$(block_file "$name")
  ran+=("$name")
  say "docs: $name"
  sed 's/^/    /' "$file" >&2
  local status=0
  (cd "$dir" && bash -euo pipefail "$file") || status=$?
  [ $status -eq 0 ] || fail "$name: the block stopped with exit code $status"
}
# A block that starts the vault: run in the background, in a process group of its own, until it answers.
start_block() {
  local name=$1 file
  file=$(block_file "$name")
  ran+=("$name")
  say "docs: $name"
  sed 's/^/    /' "$file" >&2
  (cd "$checkout" && exec setsid bash -euo pipefail "$file" > "$work/$name.log" 2>&1) &
  vault_pid=$!
  local deadline=$((SECONDS + 300))
  until curl -sf -o /dev/null http://127.0.0.1:5080/healthz; do
    kill -0 "$vault_pid" 2>/dev/null || { cat "$work/$name.log" >&2; fail "$name: the vault exited before it answered"; }
    [ $SECONDS -lt $deadline ] || { cat "$work/$name.log" >&2; fail "$name: no answer on 127.0.0.1:5080 within 300 s"; }
    sleep 0.5
  done
}

if curl -s -o /dev/null --max-time 2 http://127.0.0.1:5080/; then
  fail "something already listens on 127.0.0.1:5080, where the README's vault starts; stop it first"
fi
[ ! -e /tmp/voicevault-pg/data ] || fail "/tmp/voicevault-pg is in use (the README's trial PostgreSQL); run: scripts/postgres.sh down"

say "docs: a fresh copy of the checkout in $checkout"
copy_tree "$checkout"
# The toolkit as the README installs it (install-cli.sh puts the same build on PATH as a dotnet tool).
dotnet build src/VoiceVault.Cli -c Release --nologo -v quiet >/dev/null
printf '#!/bin/sh\nexec dotnet %s "$@"\n' "$repo/src/VoiceVault.Cli/bin/Release/net10.0/voicevault.dll" > "$work/bin/voicevault"
chmod +x "$work/bin/voicevault"
export PATH="$work/bin:$PATH"
# "any PCM WAV": three seconds of a 440 Hz tone, 8 kHz 16-bit mono.
python3 - "$home/call.wav" <<'PY'
import math, struct, sys, wave
with wave.open(sys.argv[1], "wb") as w:
    w.setnchannels(1); w.setsampwidth(2); w.setframerate(8000)
    w.writeframes(b"".join(struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * i / 8000))) for i in range(24000)))
PY
cp "$home/call.wav" "$work/original.wav"

# The embedded vault, first start: the credentials are printed once.
start_block start
AC=$(grep -o 'AccountSid: AC[0-9a-f]\{32\}' "$work/start.log" | head -1 | cut -d' ' -f2)
TOKEN=$(grep -o 'AuthToken:  [0-9a-f]\{32\}' "$work/start.log" | head -1 | awk '{print $2}')
[ -n "$AC" ] && [ -n "$TOKEN" ] || { cat "$work/start.log" >&2; fail "start: the first start printed no AccountSid and AuthToken"; }
export AC TOKEN

run_block four-requests "$home"
cmp "$work/original.wav" "$home/decrypted.wav" || fail "four-requests: decrypted.wav differs from call.wav"
RE=$(grep -o 'RE[0-9a-f]\{32\}' "$home/call.json" | head -1)

mkdir -p "$home/toolkit/recordings"
cp "$home/call.wav" "$home/toolkit/"
(cd "$home/toolkit"
 voicevault keygen --out setup.pem --public-out setup.pub >/dev/null
 voicevault encrypt call.wav --public-key setup.pub -o recordings/one.enc --details-out recordings/one.json >/dev/null
 voicevault keyring add --keyring keys/ setup.pem >/dev/null)
run_block toolkit "$home/toolkit"
cmp "$work/original.wav" "$home/toolkit/call.wav" || fail "toolkit: the decrypted call.wav differs from the original"
cmp "$work/original.wav" "$home/toolkit/decrypted/one.wav" || fail "toolkit: decrypt --batch gave a different one.wav"
stop_vault

# Media files to S3, and the vault on S3 serves the recording the four requests made.
if [ -z "${VOICEVAULT_S3_URL:-}" ]; then
  scripts/s3.sh up "$work/s3" >/dev/null
  . "$work/s3/env.sh"
fi
run_block copy-media-to-s3 "$checkout"
start_block s3-run
curl -sf -u "$AC:$TOKEN" -L "http://127.0.0.1:5080/2010-04-01/Accounts/$AC/Recordings/$RE" -o "$home/from-s3.enc" \
  || fail "s3-run: the recording's media is not served from S3"
voicevault decrypt "$home/from-s3.enc" --key "$home/my-key.pem" --details "$home/call.json" -o "$home/from-s3.wav" >/dev/null
cmp "$work/original.wav" "$home/from-s3.wav" || fail "s3-run: the media served from S3 does not decrypt to call.wav"
stop_vault

# A trial PostgreSQL (the README's block exports its connection string to the user's shell: here,
# to this one), the embedded metadata copied into it, and the vault on it knows the recording.
run_block postgres-up "$checkout"
. /tmp/voicevault-pg/env.sh
run_block copy-to-postgres "$checkout"
start_block postgres-run
curl -sf -u "$AC:$TOKEN" "http://127.0.0.1:5080/2010-04-01/Accounts/$AC/Recordings.json" | grep -q "\"sid\": *\"$RE\"" \
  || fail "postgres-run: the vault on PostgreSQL does not list $RE after copy-to-postgres"
# docs/audit.md: the account's trail, carried over from the embedded vault, exported and verified.
mkdir -p "$home/audit"
run_block audit-export "$home/audit"
grep -q '"action":"recording.media.read"' "$home/audit/events.jsonl" || fail "audit-export: the export lacks the media read of the four requests"
stop_vault

# docs/audit.md's first test vector by hand: its canonical text, as printed, into canonical.json.
grep -m1 '^    {"account_sid":"AC0123456789abcdef0123456789abcdef","action":"recording.media.read"' docs/audit.md | sed 's/^    //' | tr -d '\n' > "$home/audit/canonical.json"
run_block audit-vector "$home/audit" > "$work/audit-vector.out"
vector=$(grep -m1 '^    hash ' docs/audit.md | awk '{print $2}')
grep -q "$vector" "$work/audit-vector.out" || fail "audit-vector: openssl gave $(cat "$work/audit-vector.out"), docs/audit.md says $vector"

say "docs: every other command block is marked with its reason"
python3 scripts/docs-blocks.py check "${ran[@]}"
