#!/usr/bin/env bash
# The upload-ingest benchmark, one command: the same load (N concurrent clients PUTting a 1-minute
# mono WAV of 960 KB for S seconds) against a bare endpoint that only writes, fsyncs and answers
# 201 — the floor for "receive and store" here — and against the vault encrypting to a customer
# key, recording metadata and sending callbacks. Then one 2 GiB upload while the vault's memory is
# sampled. Each load run starts with WARMUP seconds of the same load that are not measured.
# The same load then runs against the vault on PostgreSQL (a throwaway cluster from
# scripts/postgres.sh), alternating with SQLite runs: PostgreSQL vs SQLite per round, with commands,
# transactions and PostgreSQL CPU per upload. With S3=1 (default), each round also runs the vault on
# PostgreSQL + S3 (a throwaway Ceph RGW from scripts/s3.sh, RAM-backed, so these runs last
# S3_DURATION s and the gateway is started afresh for each), against a bare endpoint that PUTs each
# body into the same RGW.
# Results: bench/out/ingest.md.  Options: CLIENTS=32 DURATION=60 WARMUP=10 BIG_GIB=2 POSTGRES=1 ROUNDS=2
#   S3=1 S3_DURATION=20
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
require_dotnet
CLIENTS=${CLIENTS:-32}; SECONDS_=${DURATION:-60}; WARMUP=${WARMUP:-10}; BIG_GIB=${BIG_GIB:-2}; POSTGRES=${POSTGRES:-1}; ROUNDS=${ROUNDS:-2}
S3=${S3:-1}; S3_SECONDS=${S3_DURATION:-20}; [ "$POSTGRES" = 1 ] || S3=0
out=bench/out/ingest; rm -rf "$out"; mkdir -p "$out"
. bench/lib.sh
build src/VoiceVault.Server bench/Ingest.Bare bench/Ingest.Load

dotnet bench/Ingest.Bare/bin/Release/net10.0/Ingest.Bare.dll --urls http://127.0.0.1:5090 --Dir "$out/bare-data" & bare=$!; pids+=($bare)
AC=AC$(openssl rand -hex 16); TOKEN=$(openssl rand -hex 16)
load=bench/Ingest.Load/bin/Release/net10.0/Ingest.Load.dll
wait_http http://127.0.0.1:5090/
say "bare endpoint: $CLIENTS clients for ${SECONDS_} s"
dotnet $load --url http://127.0.0.1:5090 --clients "$CLIENTS" --seconds "$SECONDS_" --warmup "$WARMUP" --pid "$bare" | tee "$out/bare.json"
kill "$bare"; wait "$bare" 2>/dev/null || true; rm -rf "$out/bare-data"

if [ "$POSTGRES" = 1 ]; then
  pg_dir=$(mktemp -u /tmp/voicevault-bench-pg.XXXXXX)
  s3_dir=$(mktemp -u /tmp/voicevault-bench-s3.XXXXXX)
  trap 'cleanup; scripts/postgres.sh down "$pg_dir"; scripts/s3.sh down "$s3_dir" >/dev/null 2>&1' EXIT
  connection=$(scripts/postgres.sh up "$pg_dir")
  . "$pg_dir/env.sh"
  xacts() { psql -Atc "SELECT xact_commit FROM pg_stat_database WHERE datname = 'voicevault'"; }
  pg_cpu() { awk '{ s += $14 + $15 } END { print s }' $(pgrep -u postgres -f "postgres" | sed 's|.*|/proc/&/stat|') 2>/dev/null || echo 0; }
fi

# s3_fresh: a new, empty RGW (its objects live in RAM).
# rgw_requests: the requests and PUTs the gateway has served (its perf counters, admin socket).
rgw_requests() { ceph --admin-daemon "$s3_dir/run/client.rgw.vault.asok" perf dump | python3 -c 'import json, sys; r = json.load(sys.stdin)["rgw"]; print(r["req"], r["put"])'; }
s3_fresh() { scripts/s3.sh down "$s3_dir" >/dev/null 2>&1 || true; S3_MEM_BYTES=$((14 << 30)) scripts/s3.sh up "$s3_dir" 2>/dev/null; . "$s3_dir/env.sh"; }
if [ "$S3" = 1 ]; then
  s3_fresh
  dotnet bench/Ingest.Bare/bin/Release/net10.0/Ingest.Bare.dll --urls http://127.0.0.1:5090 --S3Url "$VOICEVAULT_S3_URL" --Bucket bare & bare=$!; pids+=($bare)
  wait_http http://127.0.0.1:5090/
  say "bare endpoint into S3: $CLIENTS clients for ${S3_SECONDS} s"
  dotnet $load --url http://127.0.0.1:5090 --clients "$CLIENTS" --seconds "$S3_SECONDS" --warmup "$WARMUP" --pid "$bare" | tee "$out/bare-s3.json"
  kill "$bare"; wait "$bare" 2>/dev/null || true
fi

# start_vault NAME [ARGS...]: a fresh vault (empty data folder; on PostgreSQL an empty database) with
# the account's key configured; sets $vault.
start_vault() {
  local name=$1; shift
  rm -rf "$out/$name-data"
  dotnet src/VoiceVault.Server/bin/Release/net10.0/VoiceVault.Server.dll --urls http://127.0.0.1:5091 --VoiceVault:DataDir "$out/$name-data" \
    --VoiceVault:Bootstrap:AccountSid "$AC" --VoiceVault:Bootstrap:AuthToken "$TOKEN" --VoiceVault:Webhooks:AllowedNetworks 127.0.0.0/8 --Logging:LogLevel:Default Warning "$@" > "$out/$name.log" 2>&1 & vault=$!; pids+=($vault)
  wait_http http://127.0.0.1:5091/healthz
  enable_encryption http://127.0.0.1:5091 "$AC" "$TOKEN" "$out"
}
stop_vault() { kill "$vault"; wait "$vault" 2>/dev/null || true; rm -rf "$out/$1-data"; }
vault_load() { dotnet $load --url http://127.0.0.1:5091 --user "$AC" --password "$TOKEN" --clients "$CLIENTS" --seconds "${1:-$SECONDS_}" --warmup "$WARMUP" --callbacks --metrics --pid "$vault"; }

# SQLite and PostgreSQL runs alternate (ROUNDS of each), each on a fresh vault, so that neither
# gets a quieter machine or an emptier disk than the other; the ratio is taken per round.
for round in $(seq 1 "$ROUNDS"); do
  say "round $round: vault on SQLite (customer-key encryption, metadata, callbacks): $CLIENTS clients for ${SECONDS_} s"
  start_vault vault
  vault_load | tee "$out/vault-$round.json"
  curl -s http://127.0.0.1:5091/metrics > "$out/vault-metrics.txt"
  if [ "$round" = 1 ]; then
    say "one ${BIG_GIB} GiB upload to the vault, memory sampled"
    dotnet $load --url http://127.0.0.1:5091 --user "$AC" --password "$TOKEN" --clients 0 --seconds 0 --big-gib "$BIG_GIB" --pid "$vault" | tee "$out/big.json"
  fi
  stop_vault vault
  [ "$POSTGRES" = 1 ] || continue
  say "round $round: vault on PostgreSQL: $CLIENTS clients for ${SECONDS_} s"
  psql -qc "DROP SCHEMA public CASCADE; CREATE SCHEMA public"
  start_vault vault-pg --VoiceVault:Database postgres --ConnectionStrings:VoiceVault "$connection"
  x0=$(xacts); c0=$(pg_cpu)
  vault_load | tee "$out/vault-pg-$round.json"
  x1=$(xacts); c1=$(pg_cpu)
  curl -s http://127.0.0.1:5091/metrics > "$out/vault-pg-metrics.txt"
  done_=$(awk '/^voicevault_uploads_total\{.*status="completed"/ { print $2 }' "$out/vault-pg-metrics.txt")
  commands=$(awk '/^db_client_operation_duration_seconds_count\{/ { s += $2 } END { print s + 0 }' "$out/vault-pg-metrics.txt")
  echo "{\"xacts\": $((x1 - x0)), \"postgres_cpu_ticks\": $((c1 - c0)), \"ticks_per_s\": $(getconf CLK_TCK), \"uploads_total\": $done_, \"commands\": $commands}" > "$out/postgres-$round.json"
  stop_vault vault-pg
  [ "$S3" = 1 ] || continue
  say "round $round: vault on PostgreSQL and S3: $CLIENTS clients for ${S3_SECONDS} s"
  psql -qc "DROP SCHEMA public CASCADE; CREATE SCHEMA public"
  s3_fresh
  start_vault vault-s3 --VoiceVault:Database postgres --ConnectionStrings:VoiceVault "$connection" --VoiceVault:Media s3 \
    --VoiceVault:S3:ServiceUrl "$VOICEVAULT_S3_URL" --VoiceVault:S3:Bucket vault --VoiceVault:S3:ForcePathStyle true --VoiceVault:S3:CreateBucket true
  read -r q0 p0 < <(rgw_requests)
  vault_load "$S3_SECONDS" | tee "$out/vault-s3-$round.json"
  read -r q1 p1 < <(rgw_requests)
  curl -s http://127.0.0.1:5091/metrics > "$out/vault-s3-metrics.txt"
  done_=$(awk '/^voicevault_uploads_total\{.*status="completed"/ { print $2 }' "$out/vault-s3-metrics.txt")
  echo "{\"requests\": $((q1 - q0)), \"puts\": $((p1 - p0)), \"uploads_total\": $done_}" > "$out/s3-$round.json"
  stop_vault vault-s3
done
"${VOICEVAULT_PYTHON:-python3}" - "$out" "$ROUNDS" <<'PY'
import json, os, statistics, sys
out, rounds = sys.argv[1], int(sys.argv[2])
load = lambda n: json.load(open(f"{out}/{n}.json"))
bare, big = load("bare"), load("big")
vaults = [load(f"vault-{r}") for r in range(1, rounds + 1)]
pgs = [load(f"vault-pg-{r}") for r in range(1, rounds + 1) if os.path.exists(f"{out}/vault-pg-{r}.json")]
s3s = [load(f"vault-s3-{r}") for r in range(1, rounds + 1) if os.path.exists(f"{out}/vault-s3-{r}.json")]
bare_s3 = load("bare-s3") if os.path.exists(f"{out}/bare-s3.json") else None
median = lambda xs: round(statistics.median(xs), 2)
lines = ["| run | uploads/s | MB/s | p50 ms | p99 ms | callback p99 ms | server CPU ms/upload |", "|---|---|---|---|---|---|---|"]
row = lambda name, r: f"| {name} | {r['uploads_per_s']} | {r['mb_per_s']} | {r['p50_ms']} | {r['p99_ms']} | {r.get('callback_p99_ms', '')} | {r.get('server_cpu_ms_per_upload')} |"
lines.append(row("bare (write+fsync)", bare))
if bare_s3:
    lines.append(row("bare into S3 (PUT per body)", bare_s3))
for i, v in enumerate(vaults, 1):
    lines.append(row(f"vault, SQLite, round {i}", v))
    if i <= len(pgs):
        lines.append(row(f"vault, PostgreSQL, round {i}", pgs[i - 1]))
    if i <= len(s3s):
        lines.append(row(f"vault, PostgreSQL + S3, round {i}", s3s[i - 1]))
vault = vaults[0]
lines.append(f"\nvault (SQLite) / bare uploads/s: {median([v['uploads_per_s'] / bare['uploads_per_s'] for v in vaults])} (median of {rounds}; target >= 0.8)")
lines.append(f"upload end -> completed callback p99: {max(v['callback_p99_ms'] for v in vaults + pgs + s3s)} ms worst of all runs "
             f"({sum(v['callbacks'] for v in vaults + pgs + s3s)} callbacks, {sum(v['callbacks_missing'] for v in vaults + pgs + s3s)} missing; target p99 < 100 ms)")
lines.append(f"state change -> completed callback leaving the server (server's histogram, SQLite round 1): p50 {vault.get('server_callback_queue_p50_ms')} ms, p99 {vault.get('server_callback_queue_p99_ms')} ms")
lines.append(f"vault RSS under load: {min(v['server_rss_mib_min'] for v in vaults)}-{max(v['server_rss_mib_max'] for v in vaults)} MiB")
if "big_upload_bytes" in big:
    lines.append(f"{big['big_upload_bytes'] / 2**30:.2f} GiB upload: HTTP {big['big_upload_status']} in {big['big_upload_seconds']} s; vault RSS {big['server_rss_mib_min']}-{big['server_rss_mib_max']} MiB")
if pgs:
    ratios = [p['uploads_per_s'] / v['uploads_per_s'] for v, p in zip(vaults, pgs)]
    lines.append(f"\nPostgreSQL / SQLite uploads/s per round: {', '.join(f'{r:.2f}' for r in ratios)}; median {median(ratios)} (target >= 0.8)")
    for r in range(1, len(pgs) + 1):
        stats = load(f"postgres-{r}")
        # Uploads in the whole run, warm-up included: pg_stat_database counts from before the warm-up.
        uploads = stats["uploads_total"]
        lines.append(f"round {r}: Npgsql commands per upload (its db.client.operation.duration count): {stats['commands'] / uploads:.1f}; "
                     f"PostgreSQL transactions per upload (pg_stat_database; each autocommit statement counts): {stats['xacts'] / uploads:.1f}; "
                     f"PostgreSQL server CPU ms per upload: {1000 * stats['postgres_cpu_ticks'] / stats['ticks_per_s'] / uploads:.2f}")
if s3s:
    ratios = [s['uploads_per_s'] / v['uploads_per_s'] for v, s in zip(vaults, s3s)]
    lines.append(f"\nPostgreSQL + S3 / SQLite + files uploads/s per round: {', '.join(f'{r:.2f}' for r in ratios)}; median {median(ratios)} (target >= 0.7)")
    ratios = [s['uploads_per_s'] / bare_s3['uploads_per_s'] for s in s3s]
    lines.append(f"PostgreSQL + S3 / bare into S3 uploads/s per round: {', '.join(f'{r:.2f}' for r in ratios)}; median {median(ratios)} (target >= 0.8)")
    for r in range(1, len(s3s) + 1):
        stats = load(f"s3-{r}")
        lines.append(f"round {r}: S3 requests per upload (RGW's counters, warm-up included): {stats['requests'] / stats['uploads_total']:.2f}, of which PUTs {stats['puts'] / stats['uploads_total']:.2f}")
    lines.append(f"vault RSS under load on S3: {min(s['server_rss_mib_min'] for s in s3s)}-{max(s['server_rss_mib_max'] for s in s3s)} MiB")
open(f"{out}/../ingest.md", "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
PY
