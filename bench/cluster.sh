#!/usr/bin/env bash
# The cluster benchmarks, one command. Every set-up is a fresh scripts/run-cluster.sh (PostgreSQL +
# Ceph RGW + N vault instances + HAProxy on loopback), so what is measured is what a user starts.
#
# 1. Balancer overhead: the same upload load (CLIENTS clients PUTting the 1-minute 960 KB WAV for
#    DURATION s after WARMUP s, encrypted to a customer key, completed callbacks timed at the
#    receiver) against one instance directly and against two instances behind HAProxy, in ROUNDS
#    alternating rounds (and the one instance through HAProxy too, to split the cost between the
#    balancer and the second instance). On a two-core machine both set-ups share the same cores with PostgreSQL
#    and RGW, so this measures what the balancer and a second process cost, not scale-up.
# 2. Download: one DOWNLOAD_GIB GiB recording uploaded, then fetched RUNS times with curl through
#    the vault's media URL and straight from RGW (a SigV4 GET of its object), alternating; the
#    bytes of both are compared once. Twice: with the vault relaying the bytes (the default), and
#    with VoiceVault:S3:MediaRedirectSeconds, where it answers 302 to a pre-signed URL as Twilio does.
# Results: bench/out/cluster.md.  Options: CLIENTS=32 DURATION=30 WARMUP=10 ROUNDS=2 DOWNLOAD_GIB=1 RUNS=5
# (ROUNDS=0 runs the downloads only)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
require_dotnet
CLIENTS=${CLIENTS:-32}; DURATION=${DURATION:-30}; WARMUP=${WARMUP:-10}; ROUNDS=${ROUNDS:-2}
DOWNLOAD_GIB=${DOWNLOAD_GIB:-1}; RUNS=${RUNS:-5}
out=bench/out/cluster; rm -rf "$out"; mkdir -p "$out"
. bench/lib.sh
build src/VoiceVault.Server bench/Ingest.Load
load=bench/Ingest.Load/bin/Release/net10.0/Ingest.Load.dll
dir=$(mktemp -u /tmp/voicevault-bench-cluster.XXXXXX)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

# start_cluster N NAME: a fresh cluster of N instances; sets balancer, direct (the first instance),
# instances (their pids, comma-separated), sid, token and the S3 settings; encryption on.
start_cluster() {
  # RGW keeps objects in RAM: room for the whole run.
  CLUSTER_DIR=$dir CLUSTER_PORT=$port S3_MEM_BYTES=$((14 << 30)) scripts/run-cluster.sh "$1" >"$out/$2.out" 2>"$out/$2.err" &
  cluster=$!; pids+=($cluster)
  for _ in $(seq 1 600); do
    grep -q '^AuthToken:' "$out/$2.out" 2>/dev/null && break
    kill -0 "$cluster" 2>/dev/null || { echo "run-cluster.sh failed:" >&2; cat "$out/$2.err" >&2; exit 1; }
    sleep 0.2
  done
  balancer=$(sed -n 's/^URL: *//p' "$out/$2.out")
  sid=$(sed -n 's/^AccountSid: *//p' "$out/$2.out"); token=$(sed -n 's/^AuthToken: *//p' "$out/$2.out")
  direct=http://$(sed -n 's/^vault1 on \([0-9.:]*\) .*/\1/p' "$out/$2.err")
  instances=$(pgrep -f "VoiceVault:DataDir $dir/vault" | paste -sd,)
  . "$dir/s3/env.sh"
  enable_encryption "$balancer" "$sid" "$token" "$out"
}
stop_cluster() { kill -TERM "$cluster"; wait "$cluster" 2>/dev/null || true; }
upload_load() { # URL NAME
  dotnet $load --url "$1" --user "$sid" --password "$token" --clients "$CLIENTS" --seconds "$DURATION" --warmup "$WARMUP" \
    --callbacks --pid "$instances" | tee "$out/$2.json"
}

for round in $(seq 1 "$ROUNDS"); do
  say "round $round: one instance, directly: $CLIENTS clients for $DURATION s"
  start_cluster 1 one-$round
  upload_load "$direct" one-$round
  say "round $round: the same instance behind HAProxy: $CLIENTS clients for $DURATION s"
  upload_load "$balancer" one-haproxy-$round
  stop_cluster
  say "round $round: two instances behind HAProxy: $CLIENTS clients for $DURATION s"
  start_cluster 2 two-$round
  upload_load "$balancer" two-$round
  echo "{\"haproxy_cpu_s\": $(awk '{ print ($14 + $15) / 100 }' /proc/$(pgrep -f "haproxy -db -f $dir/haproxy.cfg")/stat)}" > "$out/haproxy-$round.json"
  stop_cluster
done

# download MODE: a fresh one-instance cluster, one big recording, RUNS timed GETs of its media URL
# (curl follows the vault's redirect in the redirect mode) alternating with GETs of its object.
s3get() { curl -sf -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' --aws-sigv4 aws:amz:us-east-1:s3 -u "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" "$@"; }
download() {
  start_cluster 1 download-$1
  dotnet $load --url "$direct" --user "$sid" --password "$token" --clients 0 --seconds 0 --big-gib "$DOWNLOAD_GIB" | tee "$out/big-$1.json"
  local re key media
  re=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["big_upload_sid"])' "$out/big-$1.json")
  key=$(s3get "$VOICEVAULT_S3_URL/voicevault?list-type=2" | grep -o '<Key>[^<]*</Key>' | sed 's/<[^>]*>//g')
  [ "$(echo "$key" | wc -l)" = 1 ] || { echo "expected one object in the bucket, found: $key" >&2; exit 1; }
  media="$direct/2010-04-01/Accounts/$sid/Recordings/$re"
  [ "$(curl -sfL -u "$sid:$token" "$media" | sha256sum)" = "$(s3get "$VOICEVAULT_S3_URL/voicevault/$key" | sha256sum)" ] ||
    { echo "the vault's media and the S3 object differ" >&2; exit 1; }
  for run in $(seq 1 "$RUNS"); do
    echo "$1 $(curl -sfL -u "$sid:$token" -o /dev/null -w '%{size_download} %{time_total}' "$media")" >> "$out/download.txt"
    echo "s3-$1 $(s3get -o /dev/null -w '%{size_download} %{time_total}' "$VOICEVAULT_S3_URL/voicevault/$key")" >> "$out/download.txt"
  done
  stop_cluster
}
: > "$out/download.txt"
say "download of a $DOWNLOAD_GIB GiB recording, relayed by the vault and straight from S3, $RUNS times each"
download relay
say "the same with VoiceVault:S3:MediaRedirectSeconds (the vault answers 302 to a pre-signed URL)"
VoiceVault__S3__MediaRedirectSeconds=300 download redirect

"${VOICEVAULT_PYTHON:-python3}" - "$out" "$ROUNDS" "$CLIENTS" "$DURATION" <<'PY'
import json, os, sys
from statistics import median
out, rounds, clients, duration = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
load = lambda name: json.load(open(f"{out}/{name}.json"))
ones = [load(f"one-{r}") for r in range(1, rounds + 1)]
proxied = [load(f"one-haproxy-{r}") for r in range(1, rounds + 1)]
twos = [load(f"two-{r}") for r in range(1, rounds + 1)]
haproxy = [load(f"haproxy-{r}")["haproxy_cpu_s"] for r in range(1, rounds + 1)]
lines = [f"# Cluster benchmarks\n\n{clients} clients, {duration} s per run, PostgreSQL + Ceph RGW + the vault on the same two cores.\n",
         "| run | uploads/s | p99 ms | callback p50 / p99 ms | callbacks (missing) | vault CPU ms/upload | failures |",
         "|---|---|---|---|---|---|---|"]
for i in range(rounds):
    for name, r in ((f"one instance, direct, round {i + 1}", ones[i]), (f"one instance + HAProxy, round {i + 1}", proxied[i]),
                    (f"two instances + HAProxy, round {i + 1}", twos[i])):
        lines.append(f"| {name} | {r['uploads_per_s']} | {r['p99_ms']} | {r['callback_p50_ms']} / {r['callback_p99_ms']} | "
                     f"{r['callbacks']} ({r['callbacks_missing']}) | {r.get('server_cpu_ms_per_upload')} | {r['failures']} |")
ratios = [t["uploads_per_s"] / o["uploads_per_s"] for o, t in zip(ones, twos)] or [float("nan")]
lines.append(f"\ntwo behind HAProxy / one direct, uploads/s per round: {', '.join(f'{r:.2f}' for r in ratios)}; "
             f"median {median(ratios):.2f} (target >= 0.9)")
split = [p["uploads_per_s"] / o["uploads_per_s"] for o, p in zip(ones, proxied)]  # empty with ROUNDS=0
second = [t["uploads_per_s"] / p["uploads_per_s"] for p, t in zip(proxied, twos)]
lines.append(f"of which the balancer (one behind HAProxy / one direct): {', '.join(f'{r:.2f}' for r in split)}; "
             f"the second instance (two / one, both behind HAProxy): {', '.join(f'{r:.2f}' for r in second)}")
per_upload = [1000 * h / (t["uploads_per_s"] * t["seconds"]) for h, t in zip(haproxy, twos)]
lines.append(f"HAProxy CPU per upload: {', '.join(f'{c:.2f}' for c in per_upload)} ms "
             f"(its whole life, warm-up included, over the measured uploads)")
lines.append(f"callback p99, worst run: {max((r['callback_p99_ms'] for r in ones + proxied + twos), default=0)} ms (target < 100 ms); "
             f"missing callbacks: {sum(r['callbacks_missing'] for r in ones + proxied + twos)}")
runs = {}
for line in open(f"{out}/download.txt"):
    kind, size, seconds = line.split()
    runs.setdefault(kind, []).append(int(size) / float(seconds) / 1e6)
for mode, what in (("relay", "relayed by the vault (the default)"), ("redirect", "through the vault's 302 to a pre-signed URL (MediaRedirectSeconds)")):
    big = load(f"big-{mode}")
    vault, s3 = runs[mode], runs[f"s3-{mode}"]
    lines.append(f"\n{big['big_upload_bytes'] / 2**30:.2f} GiB recording (uploaded in {big['big_upload_seconds']} s), {what}, download MB/s per run:")
    lines.append(f"- through the vault's media URL: {', '.join(f'{v:.0f}' for v in vault)}; median {median(vault):.0f}")
    lines.append(f"- straight from S3: {', '.join(f'{v:.0f}' for v in s3)}; median {median(s3):.0f}")
    pairs = [v / s for v, s in zip(vault, s3)]
    lines.append(f"vault / S3 per run: {', '.join(f'{p:.2f}' for p in pairs)}; median {median(pairs):.2f} (target >= 0.8)")
text = "\n".join(lines) + "\n"
open(f"{out}/../cluster.md", "w").write(text)
print(text)
PY
