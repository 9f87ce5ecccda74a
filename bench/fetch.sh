#!/usr/bin/env bash
# voicevault fetch against the plain download it has to beat: COUNT one-minute recordings,
# encrypted to a customer key, in a local vault (SQLite + files); then, ROUNDS times alternating,
# `curl --parallel` of every media URL (JOBS at once, to files) and `voicevault fetch --jobs JOBS`
# (list, download, verify, decrypt, write WAV + JSON atomically), each into an empty folder.
# Results: bench/out/fetch.md.   Options: COUNT=500 JOBS=4 ROUNDS=3
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
require_dotnet
ensure_openssl
COUNT=${COUNT:-500}; JOBS=${JOBS:-4}; ROUNDS=${ROUNDS:-3}
out=bench/out/fetch; rm -rf "$out"; mkdir -p "$out"
. bench/lib.sh
build src/VoiceVault.Server
say "packing and installing voicevault as users get it (native AOT)"
tool=$(install_tool)
sid=AC$(openssl rand -hex 16); token=$(openssl rand -hex 16)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base=http://127.0.0.1:$port
dotnet src/VoiceVault.Server/bin/Release/net10.0/VoiceVault.Server.dll --urls "$base" --VoiceVault:DataDir "$out/vault" \
  --VoiceVault:Bootstrap:AccountSid "$sid" --VoiceVault:Bootstrap:AuthToken "$token" >"$out/vault.log" 2>&1 & pids+=($!)
wait_http "$base/healthz"
enable_encryption "$base" "$sid" "$token" "$out"
say "uploading $COUNT one-minute recordings"
python3 - "$out/call.wav" <<'PY'
import os, struct, sys
data = 60 * 8000 * 2
with open(sys.argv[1], "wb") as f:
    f.write(b"RIFF" + struct.pack("<I", 36 + data) + b"WAVEfmt " + struct.pack("<IHHIIHH", 16, 1, 1, 8000, 16000, 2, 16) + b"data" + struct.pack("<I", data) + os.urandom(data))
PY
seq 1 "$COUNT" | xargs -P 4 -I{} sh -c 'curl -sf -u "$1:$2" -X PUT --data-binary "@$3" "$4/v1/Ingest/Calls/CA$(openssl rand -hex 16)/Recording" -o /dev/null' _ "$sid" "$token" "$out/call.wav" "$base"
# The media URLs, as curl's config: one url + output per recording.
curl -sf -u "$sid:$token" "$base/2010-04-01/Accounts/$sid/Recordings.json?PageSize=1000" -o "$out/list.json"
python3 - "$base" "$out" > "$out/curl.cfg" <<'PY'
import json, sys
base, out = sys.argv[1], sys.argv[2]
for r in json.load(open(f"{out}/list.json"))["recordings"]:
    account, sid = r["account_sid"], r["sid"]
    print(f'url = "{base}/2010-04-01/Accounts/{account}/Recordings/{sid}"')
    print(f'output = "{out}/curl/{sid}.enc"')
PY
[ "$(grep -c '^url' "$out/curl.cfg")" = "$COUNT" ] || { echo "expected $COUNT recordings" >&2; exit 1; }
: > "$out/times.txt"
for round in $(seq 1 "$ROUNDS"); do
  rm -rf "$out/curl" "$out/fetched"; mkdir -p "$out/curl"; sync
  s=$(date +%s.%N); curl -sf -u "$sid:$token" --parallel --parallel-max "$JOBS" -K "$out/curl.cfg"; e=$(date +%s.%N)
  echo "curl $(python3 -c "print($e - $s)")" >> "$out/times.txt"
  s=$(date +%s.%N)
  TWILIO_ACCOUNT_SID=$sid TWILIO_AUTH_TOKEN=$token "$tool" fetch --base-url "$base" --out "$out/fetched" --key "$out/key.pem" --jobs "$JOBS" --quiet
  e=$(date +%s.%N)
  echo "fetch $(python3 -c "print($e - $s)")" >> "$out/times.txt"
  [ "$(find "$out/fetched" -name '*.wav' | wc -l)" = "$COUNT" ] || { echo "fetch wrote the wrong number of files" >&2; exit 1; }
done
python3 - "$out" "$COUNT" "$JOBS" <<'PY'
import sys
from statistics import median
out, count, jobs = sys.argv[1], int(sys.argv[2]), sys.argv[3]
runs = {}
for line in open(f"{out}/times.txt"):
    kind, seconds = line.split()
    runs.setdefault(kind, []).append(float(seconds))
mb = count * (60 * 8000 * 2 + 44 + 16) / 1e6
lines = [f"# fetch vs curl --parallel: {count} one-minute encrypted recordings ({mb:.0f} MB), {jobs} at once\n",
         "| round | curl --parallel s | voicevault fetch s (list + download + verify + decrypt + write) | ratio (curl time / fetch time) |", "|---|---|---|---|"]
for i, (c, f) in enumerate(zip(runs["curl"], runs["fetch"]), 1):
    lines.append(f"| {i} | {c:.2f} | {f:.2f} | {c / f:.2f} |")
ratio = median(runs["curl"]) / median(runs["fetch"])
lines.append(f"\nthroughput, fetch / plain parallel download (medians): {ratio:.2f} (target >= 0.8); fetch {count / median(runs['fetch']):.0f} recordings/s, {mb / median(runs['fetch']):.0f} MB/s")
text = "\n".join(lines) + "\n"
open(f"{out}/../fetch.md", "w").write(text)
print(text)
PY
