#!/usr/bin/env bash
# Media downloads with the audit trail against the build before it (docs/audit.md: every download
# is an event committed before its bytes leave; concurrent ones are group-committed): CLIENTS
# clients GET the ~1 MB ciphertext of random recordings of ONE account for DURATION seconds, on
# SQLite and on PostgreSQL (a throwaway cluster from scripts/postgres.sh, on this machine), media
# in files. OLD (a commit, built in a throwaway git worktree) and this checkout alternate, round
# after round, each on a fresh vault (and a fresh schema). Reported: downloads/s new/old and server
# CPU per download new/old, per round and as medians, per backend. Results: bench/out/download.md.
# Options: OLD=<commit> ROUNDS=3 CLIENTS=32 DURATION=20 WARMUP=5 RECORDINGS=50
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
require_dotnet
OLD=${OLD:?name the older build: OLD=<commit>}; ROUNDS=${ROUNDS:-3}; CLIENTS=${CLIENTS:-32}; DURATION=${DURATION:-20}; WARMUP=${WARMUP:-5}
RECORDINGS=${RECORDINGS:-50}
out=bench/out/download; rm -rf "$out"; mkdir -p "$out"
. bench/lib.sh
build src/VoiceVault.Server bench/Ingest.Load
pg_dir=$(mktemp -u /tmp/voicevault-bench-pg.XXXXXX)
old_tree=$(mktemp -u /tmp/voicevault-bench-old.XXXXXX)
git worktree add --detach "$old_tree" "$OLD" >/dev/null
trap 'cleanup; git worktree remove --force "$old_tree"; scripts/postgres.sh down "$pg_dir" >/dev/null 2>&1 || true' EXIT
say "building $OLD in $old_tree"
dotnet build "$old_tree/src/VoiceVault.Server" -c Release --nologo -v quiet >/dev/null
declare -A server=([old]="$old_tree/src/VoiceVault.Server/bin/Release/net10.0/VoiceVault.Server.dll" [new]=src/VoiceVault.Server/bin/Release/net10.0/VoiceVault.Server.dll)
connection=$(scripts/postgres.sh up "$pg_dir")
. "$pg_dir/env.sh"

AC=AC$(openssl rand -hex 16); TOKEN=$(openssl rand -hex 16)
load=bench/Ingest.Load/bin/Release/net10.0/Ingest.Load.dll

# run BUILD BACKEND ROUND: a fresh vault of that build on that backend, its recordings uploaded, then the downloads.
run() {
  local build=$1 backend=$2 round=$3 extra=()
  rm -rf "$out/data"
  if [ "$backend" = postgres ]; then
    psql -qc "DROP SCHEMA public CASCADE; CREATE SCHEMA public"
    extra=(--VoiceVault:Database postgres --ConnectionStrings:VoiceVault "$connection")
  fi
  dotnet "${server[$build]}" --urls http://127.0.0.1:5091 --VoiceVault:DataDir "$out/data" "${extra[@]}" \
    --VoiceVault:Bootstrap:AccountSid "$AC" --VoiceVault:Bootstrap:AuthToken "$TOKEN" --Logging:LogLevel:Default Warning > "$out/$build.log" 2>&1 & vault=$!; pids+=($vault)
  wait_http http://127.0.0.1:5091/healthz
  enable_encryption http://127.0.0.1:5091 "$AC" "$TOKEN" "$out"
  dotnet $load --url http://127.0.0.1:5091 --user "$AC" --password "$TOKEN" --download "$RECORDINGS" --clients "$CLIENTS" --seconds "$DURATION" \
    --warmup "$WARMUP" --pid "$vault" > "$out/$backend-$build-$round.json"
  if [ "$build" = new ]; then
    # The trail kept up: as many media reads as downloads, in one unbroken chain.
    curl -s -u "$AC:$TOKEN" "http://127.0.0.1:5091/v1/Accounts/$AC/AuditEvents?PageSize=1" | grep -o '"sequence": *[0-9]*' | head -1 > "$out/$backend-$round-sequence.txt"
  fi
  kill "$vault"; wait "$vault" 2>/dev/null || true; rm -rf "$out/data"
}

for round in $(seq 1 "$ROUNDS"); do
  if [ $((round % 2)) = 1 ]; then order="old new"; else order="new old"; fi
  for backend in sqlite postgres; do
    for build in $order; do
      say "round $round: $build vault on $backend, $CLIENTS clients downloading for $DURATION s"
      run "$build" "$backend" "$round"
    done
  done
done

"${VOICEVAULT_PYTHON:-python3}" - "$out" "$ROUNDS" "$OLD" "$(git rev-parse --short HEAD)" "$CLIENTS" <<'PY'
import json, statistics, sys
out, rounds, old, new, clients = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
load = lambda name: json.load(open(f"{out}/{name}.json"))
med = lambda xs: round(statistics.median(xs), 3)
lines = [f"## Downloads, {old} (before the audit trail) against {new}, {clients} clients on one account, {rounds} rounds alternating", ""]
for backend in ("sqlite", "postgres"):
    rows, ups, cpu = [], [], []
    for r in range(1, rounds + 1):
        o, n = load(f"{backend}-old-{r}"), load(f"{backend}-new-{r}")
        ups.append(n["downloads_per_s"] / o["downloads_per_s"])
        cpu.append(n["server_cpu_ms_per_request"] / o["server_cpu_ms_per_request"])
        rows.append(f"| {r} | {o['downloads_per_s']} / {n['downloads_per_s']} | {o['server_cpu_ms_per_request']} / {n['server_cpu_ms_per_request']} "
                    f"| {o['p99_ms']} / {n['p99_ms']} | {o['failures']} / {n['failures']} |")
    lines += [f"### {backend}", "", "| round | downloads/s old / new | server CPU ms per download old / new | p99 ms old / new | failures old / new |",
              "|---|---|---|---|---|", *rows, "", f"new / old, medians: downloads/s **{med(ups)}**; CPU per download {med(cpu)}", ""]
open(f"{out}/../download.md", "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
PY
