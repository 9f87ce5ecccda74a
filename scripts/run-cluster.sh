#!/usr/bin/env bash
# A VoiceVault cluster on this machine, in one command: a throwaway PostgreSQL (metadata), a
# throwaway Ceph RGW (S3 media), N vault instances sharing them and one master key, and HAProxy in
# front of them (round robin, no sticky sessions, health-checked) — the shape of a production
# deployment, on loopback. Prints the one URL to use and the main account's credentials.
#   scripts/run-cluster.sh [N]        N instances (default 3); Ctrl-C stops and removes everything
# Environment: CLUSTER_PORT (default 5080), CLUSTER_DIR (default /tmp/voicevault-cluster),
# CLUSTER_CALLBACK_NETWORKS (networks status callbacks may reach; default 127.0.0.0/8).
# Installs what is missing from Debian (postgresql, radosgw ceph-mon ceph-osd, haproxy).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
require_dotnet
N=${1:-3}
PORT=${CLUSTER_PORT:-5080}
D=${CLUSTER_DIR:-/tmp/voicevault-cluster}
# Everything here is on loopback, callback receivers included; a real deployment allows no more
# than the networks its receivers live in (docs/security.md).
CALLBACK_NETWORKS=${CLUSTER_CALLBACK_NETWORKS-127.0.0.0/8}
[ -e "$D" ] && { echo "run-cluster.sh: $D exists (another cluster running?); stop it or remove it" >&2; exit 1; }
command -v haproxy >/dev/null || apt_install haproxy >&2
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

pids=()
cleanup() {
  trap - EXIT INT TERM
  [ ${#pids[@]} -gt 0 ] && kill -TERM "${pids[@]}" 2>/dev/null || true
  [ ${#pids[@]} -gt 0 ] && wait "${pids[@]}" 2>/dev/null || true
  scripts/s3.sh down "$D/s3" >/dev/null 2>&1 || true
  scripts/postgres.sh down "$D/pg" >/dev/null 2>&1 || true
  rm -rf "$D"
}
trap cleanup EXIT
trap 'exit 0' INT TERM

mkdir -p "$D"
chmod 755 "$D"    # PostgreSQL's own user must enter it
say "building the vault"
dotnet build src/VoiceVault.Server -c Release --nologo -v quiet >&2
say "starting PostgreSQL and S3"
CONNECTION=$(scripts/postgres.sh up "$D/pg" 2>/dev/null)
scripts/s3.sh up "$D/s3" 2>/dev/null
. "$D/s3/env.sh"

# Shared by every instance: the database, the bucket, the master key, the main account.
export VoiceVault__MasterKey=$(head -c 32 /dev/urandom | base64)
export ConnectionStrings__VoiceVault=$CONNECTION
SID=AC$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
TOKEN=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
backends=""
for i in $(seq 1 "$N"); do
  port=$(free_port)
  dotnet src/VoiceVault.Server/bin/Release/net10.0/VoiceVault.Server.dll \
    --urls "http://127.0.0.1:$port" --VoiceVault:InstanceId "vault$i" --VoiceVault:DataDir "$D/vault$i" \
    --VoiceVault:Database postgres --VoiceVault:Media s3 --VoiceVault:S3:ServiceUrl "$VOICEVAULT_S3_URL" \
    --VoiceVault:S3:Bucket voicevault --VoiceVault:S3:ForcePathStyle true --VoiceVault:S3:CreateBucket true \
    --VoiceVault:PublicBaseUrl "http://127.0.0.1:$PORT" \
    --VoiceVault:Webhooks:AllowedNetworks "$CALLBACK_NETWORKS" \
    --VoiceVault:Bootstrap:AccountSid "$SID" --VoiceVault:Bootstrap:AuthToken "$TOKEN" >"$D/vault$i.log" 2>&1 &
  pids+=($!)
  # The first creates the schema, the bucket and the main account; the others then join.
  for _ in $(seq 1 240); do
    curl -sf -o /dev/null "http://127.0.0.1:$port/healthz" && break
    kill -0 "${pids[-1]}" 2>/dev/null || { echo "run-cluster.sh: vault$i did not start:" >&2; tail -20 "$D/vault$i.log" >&2; exit 1; }
    sleep 0.25
  done
  backends+="    server vault$i 127.0.0.1:$port check"$'\n'
  echo "vault$i on 127.0.0.1:$port (log: $D/vault$i.log)" >&2
done

cat > "$D/haproxy.cfg" <<CFG
global
    maxconn 4096
    # The admin socket: take an instance out of rotation before restarting it (docs/operations.md).
    stats socket $D/haproxy.sock mode 600 level admin
defaults
    mode http
    timeout connect 5s
    timeout client 1h
    timeout server 1h
    timeout tunnel 1h
    option forwardfor
frontend voicevault
    bind 127.0.0.1:$PORT
    default_backend vaults
backend vaults
    balance roundrobin
    option httpchk GET /healthz
    default-server inter 1s fall 2 rise 1
$backends
CFG
haproxy -db -f "$D/haproxy.cfg" >"$D/haproxy.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do
  curl -sf -o /dev/null "http://127.0.0.1:$PORT/healthz" && break
  sleep 0.1
done
curl -sf -o /dev/null "http://127.0.0.1:$PORT/healthz" || { echo "run-cluster.sh: HAProxy did not answer:" >&2; cat "$D/haproxy.log" >&2; exit 1; }

cat <<INFO
VoiceVault cluster: $N instances behind HAProxy, PostgreSQL and S3 (Ceph RGW) on loopback.
URL:        http://127.0.0.1:$PORT
AccountSid: $SID
AuthToken:  $TOKEN
Ctrl-C stops the cluster and removes its data ($D).
INFO
wait "${pids[@]}"
