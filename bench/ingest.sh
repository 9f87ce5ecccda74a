#!/usr/bin/env bash
# The upload-ingest benchmark, one command: the same load (N concurrent clients PUTting a 1-minute
# mono WAV of 960 KB for S seconds) against a bare endpoint that only writes, fsyncs and answers
# 201 — the floor for "receive and store" here — and against the vault encrypting to a customer
# key, recording metadata and sending callbacks. Then one 2 GiB upload while the vault's memory is
# sampled. Each load run starts with WARMUP seconds of the same load that are not measured.
# The same load then runs against the vault on PostgreSQL (a throwaway cluster from
# scripts/postgres.sh): PostgreSQL vs SQLite, with transactions per upload from pg_stat_database.
# Results: bench/out/ingest.md.  Options: CLIENTS=32 DURATION=60 WARMUP=10 BIG_GIB=2 POSTGRES=1
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
require_dotnet
CLIENTS=${CLIENTS:-32}; SECONDS_=${DURATION:-60}; WARMUP=${WARMUP:-10}; BIG_GIB=${BIG_GIB:-2}; POSTGRES=${POSTGRES:-1}
out=bench/out/ingest; rm -rf "$out"; mkdir -p "$out"
. bench/lib.sh
build src/VoiceVault.Server bench/Ingest.Bare bench/Ingest.Load

dotnet bench/Ingest.Bare/bin/Release/net10.0/Ingest.Bare.dll --urls http://127.0.0.1:5090 --Dir "$out/bare-data" & bare=$!; pids+=($bare)
AC=AC$(openssl rand -hex 16); TOKEN=$(openssl rand -hex 16)
dotnet src/VoiceVault.Server/bin/Release/net10.0/VoiceVault.Server.dll --urls http://127.0.0.1:5091 --VoiceVault:DataDir "$out/vault-data" \
  --VoiceVault:Bootstrap:AccountSid "$AC" --VoiceVault:Bootstrap:AuthToken "$TOKEN" --Logging:LogLevel:Default Warning > "$out/vault.log" 2>&1 & vault=$!; pids+=($vault)
wait_http http://127.0.0.1:5090/; wait_http http://127.0.0.1:5091/healthz
enable_encryption http://127.0.0.1:5091 "$AC" "$TOKEN" "$out"
load=bench/Ingest.Load/bin/Release/net10.0/Ingest.Load.dll
say "bare endpoint: $CLIENTS clients for ${SECONDS_} s"
dotnet $load --url http://127.0.0.1:5090 --clients "$CLIENTS" --seconds "$SECONDS_" --warmup "$WARMUP" --pid "$bare" | tee "$out/bare.json"
rm -rf "$out/bare-data"
say "vault (customer-key encryption, metadata, callbacks): $CLIENTS clients for ${SECONDS_} s"
dotnet $load --url http://127.0.0.1:5091 --user "$AC" --password "$TOKEN" --clients "$CLIENTS" --seconds "$SECONDS_" --warmup "$WARMUP" --callbacks --metrics --pid "$vault" | tee "$out/vault.json"
curl -s http://127.0.0.1:5091/metrics > "$out/vault-metrics.txt"
say "one ${BIG_GIB} GiB upload to the vault, memory sampled"
dotnet $load --url http://127.0.0.1:5091 --user "$AC" --password "$TOKEN" --clients 0 --seconds 0 --big-gib "$BIG_GIB" --pid "$vault" | tee "$out/big.json"
kill "$vault"; wait "$vault" 2>/dev/null || true
if [ "$POSTGRES" = 1 ]; then
  pg_dir=$(mktemp -u /tmp/voicevault-bench-pg.XXXXXX)
  trap 'cleanup; scripts/postgres.sh down "$pg_dir"' EXIT
  connection=$(scripts/postgres.sh up "$pg_dir")
  . "$pg_dir/env.sh"
  dotnet src/VoiceVault.Server/bin/Release/net10.0/VoiceVault.Server.dll --urls http://127.0.0.1:5092 --VoiceVault:DataDir "$out/vault-pg-data" \
    --VoiceVault:Database postgres --ConnectionStrings:VoiceVault "$connection" \
    --VoiceVault:Bootstrap:AccountSid "$AC" --VoiceVault:Bootstrap:AuthToken "$TOKEN" --Logging:LogLevel:Default Warning > "$out/vault-pg.log" 2>&1 & vault_pg=$!; pids+=($vault_pg)
  wait_http http://127.0.0.1:5092/healthz
  enable_encryption http://127.0.0.1:5092 "$AC" "$TOKEN" "$out"
  xacts() { psql -Atc "SELECT xact_commit FROM pg_stat_database WHERE datname = 'voicevault'"; }
  pg_cpu() { awk '{ s += $14 + $15 } END { print s }' $(pgrep -u postgres -f "postgres" | sed 's|.*|/proc/&/stat|') 2>/dev/null || echo 0; }
  say "vault on PostgreSQL: $CLIENTS clients for ${SECONDS_} s"
  x0=$(xacts); c0=$(pg_cpu)
  dotnet $load --url http://127.0.0.1:5092 --user "$AC" --password "$TOKEN" --clients "$CLIENTS" --seconds "$SECONDS_" --warmup "$WARMUP" --callbacks --metrics --pid "$vault_pg" | tee "$out/vault-pg.json"
  x1=$(xacts); c1=$(pg_cpu)
  curl -s http://127.0.0.1:5092/metrics > "$out/vault-pg-metrics.txt"
  done_=$(awk '/^voicevault_uploads_total\{.*status="completed"/ { print $2 }' "$out/vault-pg-metrics.txt")
  commands=$(awk '/^db_client_operation_duration_seconds_count\{/ { s += $2 } END { print s + 0 }' "$out/vault-pg-metrics.txt")
  echo "{\"xacts\": $((x1 - x0)), \"postgres_cpu_ticks\": $((c1 - c0)), \"ticks_per_s\": $(getconf CLK_TCK), \"uploads_total\": $done_, \"commands\": $commands}" > "$out/postgres.json"
fi
"${VOICEVAULT_PYTHON:-python3}" - "$out" <<'PY'
import json, sys
out = sys.argv[1]
bare, vault, big = (json.load(open(f"{out}/{n}.json")) for n in ("bare", "vault", "big"))
lines = ["| endpoint | uploads/s | MB/s | p50 ms | p99 ms | server CPU ms/upload |", "|---|---|---|---|---|---|"]
for name, r in (("bare (write+fsync)", bare), ("vault", vault)):
    lines.append(f"| {name} | {r['uploads_per_s']} | {r['mb_per_s']} | {r['p50_ms']} | {r['p99_ms']} | {r.get('server_cpu_ms_per_upload')} |")
lines.append(f"\nvault / bare uploads/s: {vault['uploads_per_s'] / bare['uploads_per_s']:.2f} (target >= 0.70)")
lines.append(f"upload end -> completed callback: p50 {vault['callback_p50_ms']} ms, p99 {vault['callback_p99_ms']} ms ({vault['callbacks']} callbacks, {vault['callbacks_missing']} missing; target p99 < 100 ms)")
lines.append(f"state change -> completed callback leaving the server (server's histogram): p50 {vault.get('server_callback_queue_p50_ms')} ms, p99 {vault.get('server_callback_queue_p99_ms')} ms ({vault.get('server_callbacks')} callbacks)")
lines.append(f"vault RSS under load: {vault['server_rss_mib_min']}-{vault['server_rss_mib_max']} MiB")
if "big_upload_bytes" in big:
    lines.append(f"{big['big_upload_bytes'] / 2**30:.2f} GiB upload: HTTP {big['big_upload_status']} in {big['big_upload_seconds']} s; vault RSS {big['server_rss_mib_min']}-{big['server_rss_mib_max']} MiB")
import os
if os.path.exists(f"{out}/vault-pg.json"):
    pg, stats = json.load(open(f"{out}/vault-pg.json")), json.load(open(f"{out}/postgres.json"))
    # Uploads in the whole run, warm-up included: pg_stat_database counts from before the warm-up.
    uploads = stats["uploads_total"]
    lines.append("")
    lines.append("| metadata | uploads/s | p50 ms | p99 ms | callback p99 ms | vault CPU ms/upload |")
    lines.append("|---|---|---|---|---|---|")
    for name, r in (("SQLite", vault), ("PostgreSQL", pg)):
        lines.append(f"| {name} | {r['uploads_per_s']} | {r['p50_ms']} | {r['p99_ms']} | {r['callback_p99_ms']} | {r.get('server_cpu_ms_per_upload')} |")
    lines.append(f"\nPostgreSQL / SQLite uploads/s: {pg['uploads_per_s'] / vault['uploads_per_s']:.2f} (target >= 0.8)")
    lines.append(f"Npgsql commands per upload (its db.client.operation.duration count, whole run): {stats['commands'] / uploads:.1f}; "
                 f"PostgreSQL transactions per upload (pg_stat_database, warm-up included; each autocommit statement counts): {stats['xacts'] / uploads:.1f}; "
                 f"PostgreSQL server CPU ms per upload: {1000 * stats['postgres_cpu_ticks'] / stats['ticks_per_s'] / uploads:.2f}")
open(f"{out}/../ingest.md", "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
PY
