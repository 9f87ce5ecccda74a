#!/usr/bin/env bash
# An older build of the vault against this one, under the loads of bench/ingest.sh (N clients
# PUTting a 960 KB WAV) and bench/stream.sh (real-time two-track calls), in the same run: OLD (a
# commit, built in a throwaway git worktree) and this checkout alternate, round after round, first
# one then the other, each on a fresh vault (SQLite, files, a customer key); each round also
# measures the floors (the bare write+fsync endpoint, the do-nothing WebSocket sink). Reported:
# per round and as medians, new/old for uploads/s, server CPU per upload and per call-second, and
# each build against its floor. Same load programs for both builds (this checkout's).
# Results: bench/out/compare.md.  Options: OLD=<commit> ROUNDS=3 CLIENTS=32 DURATION=20 WARMUP=5 CALLS=200 CALL_SECONDS=30
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
require_dotnet
OLD=${OLD:?name the older build: OLD=<commit>}; ROUNDS=${ROUNDS:-3}; CLIENTS=${CLIENTS:-32}; DURATION=${DURATION:-20}; WARMUP=${WARMUP:-5}
CALLS=${CALLS:-200}; CALL_SECONDS=${CALL_SECONDS:-30}
out=bench/out/compare; rm -rf "$out"; mkdir -p "$out"
. bench/lib.sh
build src/VoiceVault.Server bench/Ingest.Bare bench/Ingest.Load bench/Stream.Sink bench/Stream.Load

old_tree=$(mktemp -u /tmp/voicevault-bench-old.XXXXXX)
git worktree add --detach "$old_tree" "$OLD" >/dev/null
trap 'cleanup; git worktree remove --force "$old_tree"' EXIT
say "building $OLD in $old_tree"
dotnet build "$old_tree/src/VoiceVault.Server" -c Release --nologo -v quiet >/dev/null
declare -A server=([old]="$old_tree/src/VoiceVault.Server/bin/Release/net10.0/VoiceVault.Server.dll" [new]=src/VoiceVault.Server/bin/Release/net10.0/VoiceVault.Server.dll)

AC=AC$(openssl rand -hex 16); TOKEN=$(openssl rand -hex 16)
ingest=bench/Ingest.Load/bin/Release/net10.0/Ingest.Load.dll
stream=bench/Stream.Load/bin/Release/net10.0/Stream.Load.dll

# start BUILD: a fresh vault of that build on :5091 with the account's key configured; sets $vault.
start() {
  rm -rf "$out/data"
  dotnet "${server[$1]}" --urls http://127.0.0.1:5091 --VoiceVault:DataDir "$out/data" \
    --VoiceVault:Bootstrap:AccountSid "$AC" --VoiceVault:Bootstrap:AuthToken "$TOKEN" --VoiceVault:Webhooks:AllowedNetworks 127.0.0.0/8 \
    --Logging:LogLevel:Default Warning > "$out/$1.log" 2>&1 & vault=$!; pids+=($vault)
  wait_http http://127.0.0.1:5091/healthz
  enable_encryption http://127.0.0.1:5091 "$AC" "$TOKEN" "$out"
}
stop() { kill "$vault"; wait "$vault" 2>/dev/null || true; rm -rf "$out/data"; }

for round in $(seq 1 "$ROUNDS"); do
  if [ $((round % 2)) = 1 ]; then order="old new"; else order="new old"; fi
  say "round $round: bare endpoint, $CLIENTS clients for $DURATION s"
  dotnet bench/Ingest.Bare/bin/Release/net10.0/Ingest.Bare.dll --urls http://127.0.0.1:5090 --Dir "$out/bare-data" & bare=$!; pids+=($bare)
  wait_http http://127.0.0.1:5090/
  dotnet $ingest --url http://127.0.0.1:5090 --clients "$CLIENTS" --seconds "$DURATION" --warmup "$WARMUP" --pid "$bare" > "$out/ingest-bare-$round.json"
  kill "$bare"; wait "$bare" 2>/dev/null || true; rm -rf "$out/bare-data"
  say "round $round: sink, $CALLS calls for $CALL_SECONDS s"
  dotnet bench/Stream.Sink/bin/Release/net10.0/Stream.Sink.dll --urls http://127.0.0.1:5092 > "$out/sink.log" 2>&1 & sink=$!; pids+=($sink)
  wait_http http://127.0.0.1:5092/frames
  dotnet $stream --url http://127.0.0.1:5092 --sink --pid "$sink" --calls 50 --seconds 5 > /dev/null
  dotnet $stream --url http://127.0.0.1:5092 --sink --pid "$sink" --calls "$CALLS" --seconds "$CALL_SECONDS" > "$out/stream-sink-$round.json"
  kill "$sink"; wait "$sink" 2>/dev/null || true
  for build in $order; do
    say "round $round: $build vault, uploads ($CLIENTS clients, $DURATION s) then calls ($CALLS for $CALL_SECONDS s)"
    start "$build"
    dotnet $ingest --url http://127.0.0.1:5091 --user "$AC" --password "$TOKEN" --clients "$CLIENTS" --seconds "$DURATION" --warmup "$WARMUP" \
      --callbacks --pid "$vault" > "$out/ingest-$build-$round.json"
    stop
    start "$build"
    dotnet $stream --url http://127.0.0.1:5091 --user "$AC" --password "$TOKEN" --pid "$vault" --calls 50 --seconds 5 > /dev/null
    dotnet $stream --url http://127.0.0.1:5091 --user "$AC" --password "$TOKEN" --pid "$vault" --calls "$CALLS" --seconds "$CALL_SECONDS" > "$out/stream-$build-$round.json"
    stop
  done
done

"${VOICEVAULT_PYTHON:-python3}" - "$out" "$ROUNDS" "$OLD" "$(git rev-parse --short HEAD)" <<'PY'
import json, statistics, sys
out, rounds, old, new = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
load = lambda name: json.load(open(f"{out}/{name}.json"))
med = lambda xs: round(statistics.median(xs), 3)
rows, ratios = [], {k: [] for k in ("ups", "cpu_up", "cpu_call", "old_floor", "new_floor", "old_sink", "new_sink", "lost")}
for r in range(1, rounds + 1):
    bare, sink = load(f"ingest-bare-{r}"), load(f"stream-sink-{r}")
    i = {b: load(f"ingest-{b}-{r}") for b in ("old", "new")}
    s = {b: load(f"stream-{b}-{r}") for b in ("old", "new")}
    ratios["ups"].append(i["new"]["uploads_per_s"] / i["old"]["uploads_per_s"])
    ratios["cpu_up"].append(i["new"]["server_cpu_ms_per_upload"] / i["old"]["server_cpu_ms_per_upload"])
    ratios["cpu_call"].append(s["new"]["server_cpu_ms_per_call_second"] / s["old"]["server_cpu_ms_per_call_second"])
    for b in ("old", "new"):
        ratios[f"{b}_floor"].append(i[b]["uploads_per_s"] / bare["uploads_per_s"])
        ratios[f"{b}_sink"].append(s[b]["server_cpu_ms_per_call_second"] / sink["server_cpu_ms_per_call_second"])
    ratios["lost"].append(s["new"]["frames_lost"] + s["old"]["frames_lost"])
    rows.append(f"| {r} | {bare['uploads_per_s']} | {i['old']['uploads_per_s']} / {i['new']['uploads_per_s']} | {i['old']['server_cpu_ms_per_upload']} / {i['new']['server_cpu_ms_per_upload']} "
                f"| {sink['server_cpu_ms_per_call_second']} | {s['old']['server_cpu_ms_per_call_second']} / {s['new']['server_cpu_ms_per_call_second']} | {s['old']['frames_lost']:.0f} / {s['new']['frames_lost']:.0f} |")
lines = [f"## {old} (old) against {new} (new), {rounds} rounds, alternating", "",
         "| round | bare uploads/s | vault uploads/s old / new | CPU ms per upload old / new | sink CPU ms per call·s | vault CPU ms per call·s old / new | frames lost old / new |",
         "|---|---|---|---|---|---|---|", *rows, "",
         f"new / old, medians: uploads/s {med(ratios['ups'])}; CPU per upload {med(ratios['cpu_up'])}; CPU per call-second {med(ratios['cpu_call'])}",
         f"against the floors, medians: uploads/s vault/bare old {med(ratios['old_floor'])}, new {med(ratios['new_floor'])}; "
         f"CPU per call-second vault/sink old {med(ratios['old_sink'])}, new {med(ratios['new_sink'])}"]
open(f"{out}/../compare.md", "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
PY
