#!/usr/bin/env bash
# voicevault receive under a steady stream of recordings: RATE recordings a second for DURATION
# seconds (SECONDS_-long mono WAVs, encrypted to a customer key) are uploaded to a local vault with
# RecordingStatusCallback pointing at `voicevault receive`; for each, the time from the upload's 201
# (the recording is stored; its callback is on its way) to its decrypted WAV renamed into place
# under the receiver's output (the file's ctime). Results: bench/out/receive.md.
# Options: RATE=20 DURATION=30 SECONDS_=30 JOBS=4
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
require_dotnet
ensure_openssl
RATE=${RATE:-20}; DURATION=${DURATION:-30}; SECONDS_=${SECONDS_:-30}; JOBS=${JOBS:-4}
out=bench/out/receive; rm -rf "$out"; mkdir -p "$out"
. bench/lib.sh
build src/VoiceVault.Server
say "packing and installing voicevault as users get it (native AOT)"
tool=$(install_tool)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
sid=AC$(openssl rand -hex 16); token=$(openssl rand -hex 16)
base=http://127.0.0.1:$(free_port); rport=$(free_port)
dotnet src/VoiceVault.Server/bin/Release/net10.0/VoiceVault.Server.dll --urls "$base" --VoiceVault:DataDir "$out/vault" \
  --VoiceVault:Bootstrap:AccountSid "$sid" --VoiceVault:Bootstrap:AuthToken "$token" --VoiceVault:Webhooks:AllowedNetworks 127.0.0.0/8 >"$out/vault.log" 2>&1 & pids+=($!)
wait_http "$base/healthz"
enable_encryption "$base" "$sid" "$token" "$out"
hook=http://127.0.0.1:$rport/hooks/recordings
TWILIO_ACCOUNT_SID=$sid TWILIO_AUTH_TOKEN=$token "$tool" receive --listen "127.0.0.1:$rport" --public-url "$hook" --key "$out/key.pem" \
  --out "$out/received" --base-url "$base" --jobs "$JOBS" >"$out/receive.log" 2>&1 & pids+=($!)
wait_http "http://127.0.0.1:$rport/healthz"
say "uploading $RATE recordings/s for $DURATION s, callbacks to voicevault receive"
python3 - "$base" "$sid" "$token" "$hook" "$out" "$RATE" "$DURATION" "$SECONDS_" <<'PY'
import base64, json, os, struct, sys, threading, time, urllib.parse, urllib.request
from concurrent.futures import ThreadPoolExecutor
from statistics import median, quantiles
base, sid, token, hook, out, rate, duration, seconds = sys.argv[1:5] + [sys.argv[5], int(sys.argv[6]), int(sys.argv[7]), int(sys.argv[8])]
data = seconds * 8000 * 2
wav = b"RIFF" + struct.pack("<I", 36 + data) + b"WAVEfmt " + struct.pack("<IHHIIHH", 16, 1, 1, 8000, 16000, 2, 16) + b"data" + struct.pack("<I", data) + os.urandom(data)
auth = "Basic " + base64.b64encode(f"{sid}:{token}".encode()).decode()
stored = {}
lock = threading.Lock()
def upload(i):
    call = "CA" + os.urandom(16).hex()
    url = f"{base}/v1/Ingest/Calls/{call}/Recording?RecordingStatusCallback={urllib.parse.quote(hook, safe='')}"
    request = urllib.request.Request(url, data=wav, method="PUT", headers={"Authorization": auth})
    with urllib.request.urlopen(request) as response:
        body = json.load(response)
    done = time.time()
    with lock:
        stored[body["sid"]] = done
start = time.time()
with ThreadPoolExecutor(max_workers=16) as pool:
    for i in range(rate * duration):
        delay = start + i / rate - time.time()
        if delay > 0:
            time.sleep(delay)
        pool.submit(upload, i)
sent = time.time() - start
deadline = time.time() + 120
arrived = {}
while len(arrived) < len(stored) and time.time() < deadline:
    for root, _, files in os.walk(f"{out}/received"):
        for name in files:
            if name.endswith(".wav") and name[:-4] not in arrived:
                arrived[name[:-4]] = os.stat(os.path.join(root, name)).st_ctime
    time.sleep(0.05)
latencies = sorted((arrived[s] - stored[s]) * 1000 for s in stored if s in arrived)
q = quantiles(latencies, n=100)
lines = [f"# voicevault receive: {len(stored)} recordings of {seconds} s at {len(stored) / sent:.1f}/s (target rate {rate}/s)\n",
         f"arrived decrypted: {len(latencies)} of {len(stored)}",
         f"upload 201 → decrypted WAV in place: p50 {median(latencies):.0f} ms, p99 {q[98]:.0f} ms, max {max(latencies):.0f} ms (target p99 < 1000 ms)"]
text = "\n".join(lines) + "\n"
open(f"{out}/../receive.md", "w").write(text)
print(text)
PY
