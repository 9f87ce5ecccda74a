#!/usr/bin/env bash
# The console benchmarks, one command.
# 1. Decrypt and play in the browser: a one-hour dual-channel recording (8 kHz 16-bit, ~115 MB),
#    encrypted to a customer key, decrypted by the console in headless Chromium (from "Decrypt"
#    to an audio element that can play it; peak JS heap and ArrayBuffer memory sampled) against
#    `voicevault decrypt` (the packaged tool: native AOT) of the same ciphertext on the same
#    machine, RUNS times each.
# 2. The recordings page with 100,000 recordings in the account: the list request the page makes
#    (PageSize=50, newest first; and the last page reached by keyset, and a status filter),
#    timed at the client on loopback, on SQLite and on PostgreSQL.
# Results: bench/out/console.md.   Options: RUNS=3 MINUTES=60 ROWS=100000 (ROWS=0: part 1 only)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
require_dotnet
ensure_openssl
[ -n "${VOICEVAULT_CHROMIUM:-}" ] || command -v chromium >/dev/null || apt_install chromium
[ -x /usr/bin/time ] || apt_install time
command -v sqlite3 >/dev/null || apt_install sqlite3
RUNS=${RUNS:-3}; MINUTES=${MINUTES:-60}; ROWS=${ROWS:-100000}
out=bench/out/console; rm -rf "$out"; mkdir -p "$out"
. bench/lib.sh
build src/VoiceVault.Server bench/Console.Decrypt
server=src/VoiceVault.Server/bin/Release/net10.0/VoiceVault.Server.dll
say "packing and installing voicevault as users get it (native AOT)"
cli=$(install_tool)
sid=AC$(openssl rand -hex 16); token=$(openssl rand -hex 16)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base=http://127.0.0.1:$port

# start_vault DATA [ARGS...]: a vault on $port with the bench's account.
start_vault() {
  local data=$1; shift
  dotnet $server --urls "$base" --VoiceVault:DataDir "$data" --VoiceVault:Bootstrap:AccountSid "$sid" \
    --VoiceVault:Bootstrap:AuthToken "$token" "$@" >"$data.log" 2>&1 & vault=$!; pids+=($vault)
  wait_http "$base/healthz"
}
stop_vault() { kill "$vault"; wait "$vault" 2>/dev/null || true; }

say "1. decrypt and play: a $MINUTES-minute dual-channel recording"
mkdir -p "$out/vault"
start_vault "$out/vault"
enable_encryption "$base" "$sid" "$token" "$out"
python3 - "$out/call.wav" "$MINUTES" <<'PY'
import os, struct, sys
path, minutes = sys.argv[1], int(sys.argv[2])
data = minutes * 60 * 8000 * 2 * 2
with open(path, "wb") as f:
    f.write(b"RIFF" + struct.pack("<I", 36 + data) + b"WAVEfmt " + struct.pack("<IHHIIHH", 16, 1, 2, 8000, 32000, 4, 16) + b"data" + struct.pack("<I", data))
    for _ in range(data // (1 << 20)):
        f.write(os.urandom(1 << 20))
    f.write(os.urandom(data % (1 << 20)))
PY
call=CA$(openssl rand -hex 16)
re=$(curl -sf -u "$sid:$token" -X PUT --data-binary "@$out/call.wav" "$base/v1/Ingest/Calls/$call/Recording" | sed 's/.*"sid":"\(RE[0-9a-f]*\)".*/\1/')
curl -sf -u "$sid:$token" -o "$out/call.enc" "$base/2010-04-01/Accounts/$sid/Recordings/$re"
curl -sf -u "$sid:$token" -o "$out/call.json" "$base/2010-04-01/Accounts/$sid/Recordings/$re.json"
: > "$out/cli.txt"
for run in $(seq 1 "$RUNS"); do
  rm -f "$out/call.dec.wav"
  /usr/bin/env time -f "%e %M" -o "$out/cli-run.txt" "$cli" decrypt "$out/call.enc" --key "$out/key.pem" --details "$out/call.json" -o "$out/call.dec.wav" --quiet
  cat "$out/cli-run.txt" >> "$out/cli.txt"
done
cmp "$out/call.wav" "$out/call.dec.wav"
dotnet bench/Console.Decrypt/bin/Release/net10.0/Console.Decrypt.dll --url "$base" --user "$sid" --password "$token" --recording "$re" \
  --key "$out/key.pem" --runs "$RUNS" --chromium "${VOICEVAULT_CHROMIUM:-/usr/bin/chromium}" > "$out/browser.json"
stop_vault

# seed_sqlite DB RE / the same on PostgreSQL: ROWS copies of the recording (the media is shared;
# the rows are what the page pages through), new SIDs and call SIDs, in creation order.
list_times() { # NAME: 30 timed list requests of each kind
  local first
  first="$base/2010-04-01/Accounts/$sid/Recordings.json?PageSize=50"
  for _ in $(seq 1 5); do curl -sf -u "$sid:$token" -o /dev/null "$first"; done
  for _ in $(seq 1 30); do
    echo "$1 first $(curl -sf -u "$sid:$token" -o /dev/null -w '%{time_total}' "$first")" >> "$out/list.txt"
    echo "$1 deep $(curl -sf -u "$sid:$token" -o /dev/null -w '%{time_total}' "$first&Page=1999&PageToken=PA60")" >> "$out/list.txt"
    echo "$1 status $(curl -sf -u "$sid:$token" -o /dev/null -w '%{time_total}' "$first&Status=failed")" >> "$out/list.txt"
  done
}
: > "$out/list.txt"
if [ "$ROWS" -gt 0 ]; then
say "2. the recordings page's list with $ROWS recordings: SQLite"
cols_sqlite=$(sqlite3 "$out/vault/vault.db" "SELECT group_concat(name, ',') FROM pragma_table_info('recordings') WHERE name NOT IN ('seq', 'sid', 'call_sid')")
sqlite3 "$out/vault/vault.db" "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $ROWS)
  INSERT INTO recordings (sid, call_sid, $cols_sqlite) SELECT printf('RE%032x', i), printf('CA%032x', i), $cols_sqlite FROM n, recordings WHERE recordings.sid = '$re';"
start_vault "$out/vault"
list_times sqlite
stop_vault

say "the same on PostgreSQL"
pg=$(mktemp -u /tmp/voicevault-bench-pg.XXXXXX)
scripts/postgres.sh up "$pg" >/dev/null
trap 'cleanup; scripts/postgres.sh down "$pg" >/dev/null 2>&1 || true' EXIT
. "$pg/env.sh"
mkdir -p "$out/vault-pg"
start_vault "$out/vault-pg" --VoiceVault:Database postgres --ConnectionStrings:VoiceVault "$VOICEVAULT_POSTGRES"
enable_encryption "$base" "$sid" "$token" "$out"
curl -sf -u "$sid:$token" -X PUT --data-binary "@$out/call.wav" "$base/v1/Ingest/Calls/$call/Recording" >/dev/null
stop_vault
psql_() { psql -v ON_ERROR_STOP=1 -Atq "$@"; }   # PG* from env.sh
cols_pg=$(psql_ -c "SELECT string_agg(column_name, ',') FROM information_schema.columns WHERE table_name = 'recordings' AND table_schema = current_schema() AND column_name NOT IN ('seq', 'sid', 'call_sid')")
psql_ -c "INSERT INTO recordings (sid, call_sid, $cols_pg) SELECT 'RE' || lpad(to_hex(g), 32, '0'), 'CA' || lpad(to_hex(g), 32, '0'), $cols_pg
  FROM recordings, generate_series(1, $ROWS) g WHERE recordings.account_sid = '$sid' AND recordings.call_sid = '$call'; ANALYZE recordings;"
start_vault "$out/vault-pg" --VoiceVault:Database postgres --ConnectionStrings:VoiceVault "$VOICEVAULT_POSTGRES"
list_times postgres
stop_vault
fi
rm -f "$out/call.wav" "$out/call.dec.wav" "$out/call.enc"

python3 - "$out" "$MINUTES" "$ROWS" <<'PY'
import json, sys
from statistics import median, quantiles
out, minutes, rows = sys.argv[1], sys.argv[2], sys.argv[3]
cli = [tuple(map(float, line.split())) for line in open(f"{out}/cli.txt")]
browser = json.load(open(f"{out}/browser.json"))
media_mb = (int(minutes) * 60 * 8000 * 4 + 44 + 16) / 1e6
lines = ["# Console benchmarks\n", f"## Decrypt and play: {minutes}-minute dual-channel recording ({media_mb:.1f} MB ciphertext)\n",
         "| run | voicevault decrypt s (peak RSS MB) | console: Decrypt → canplay s (wall, with Playwright) | console peak JS heap MB | heap + ArrayBuffers MB | verified |", "|---|---|---|---|---|---|"]
for (seconds, rss), b in zip(cli, browser):
    lines.append(f"| {b['run']} | {seconds:.2f} ({rss / 1000:.0f}) | {b['seconds']} ({b['wall_seconds_with_playwright']}) | {b['peak_js_heap_mb']} | {b['peak_heap_and_buffers_mb']} | {b['verified']} |")
ratio = median(b["seconds"] for b in browser) / median(c[0] for c in cli)
heap = max(b["peak_js_heap_mb"] for b in browser) / media_mb
buffers = max(b["peak_heap_and_buffers_mb"] for b in browser) / media_mb
lines.append(f"\nconsole / voicevault decrypt (medians): {ratio:.2f}x (target <= 3x)")
lines.append(f"peak JS heap / file size: {heap:.2f}x (target <= 3x); with ArrayBuffer backing stores: {buffers:.2f}x")
runs = {}
for line in open(f"{out}/list.txt"):
    backend, kind, seconds = line.split()
    runs.setdefault((backend, kind), []).append(float(seconds) * 1000)
lines += [f"\n## Recordings page list with {rows} recordings (PageSize=50, ms at the client on loopback, 30 requests)\n",
          "| backend | request | median ms | p95 ms | max ms |", "|---|---|---|---|---|"]
for (backend, kind), values in runs.items():
    what = {"first": "first page", "deep": "a page 100k rows deep (keyset PageToken)", "status": "Status=failed (no match: scans the account)"}[kind]
    lines.append(f"| {backend} | {what} | {median(values):.1f} | {quantiles(values, n=20)[18]:.1f} | {max(values):.1f} |")
first = max((median(v) for (b, k), v in runs.items() if k == "first"), default=float("nan"))
lines.append(f"\nfirst page, worst backend median: {first:.1f} ms (target <= 300 ms)")
text = "\n".join(lines) + "\n"
open(f"{out}/../console.md", "w").write(text)
print(text)
PY
