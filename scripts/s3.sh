#!/usr/bin/env bash
# A throwaway S3 server on loopback: Ceph's RADOS Gateway (a production S3 implementation) on a
# one-node Ceph cluster — one monitor, one RAM-backed OSD (memstore), radosgw — for the tests and
# for trying the vault on S3. Starts in a few seconds; the data lives in RAM and goes with `down`.
#   scripts/s3.sh up   [DIR]   install (Debian: radosgw ceph-mon ceph-osd) if missing, start on free ports
#   scripts/s3.sh down [DIR]   stop it and delete DIR
# DIR defaults to /tmp/voicevault-s3. DIR/env.sh exports VOICEVAULT_S3_URL and the AWS SDK's
# credential variables for a user this script creates (with S3_ACCESS_KEY / S3_SECRET_KEY as its
# keys when given, fresh random ones otherwise).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

cmd=${1:-}
D=${2:-${S3_DIR:-/tmp/voicevault-s3}}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_for() { # tries, what, command...
  local tries=$1 what=$2; shift 2
  for _ in $(seq 1 "$tries"); do "$@" >/dev/null 2>&1 && return 0; sleep 0.25; done
  echo "s3.sh: $what did not come up; logs in $D/log" >&2; exit 1
}

case "$cmd" in
  up)
    command -v radosgw >/dev/null && command -v ceph-mon >/dev/null && command -v ceph-osd >/dev/null ||
      apt_install radosgw ceph-mon ceph-osd >&2
    [ -e "$D/ceph.conf" ] && { echo "s3.sh: $D is in use; run: scripts/s3.sh down $D" >&2; exit 1; }
    RGW_PORT=${RGW_PORT:-$(free_port)}
    MON_PORT=${MON_PORT:-$(free_port)}
    ACCESS=${S3_ACCESS_KEY:-vv$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')}
    SECRET=${S3_SECRET_KEY:-$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')}
    mkdir -p "$D"/{mon,osd,run,log,rgw}
    FSID=$(cat /proc/sys/kernel/random/uuid)
    # Loopback only, no authentication between the daemons (then the messenger must use crc mode),
    # one replica, few placement groups, and a monitor that commits map changes at once instead of
    # once a second (radosgw creates its pools one by one at first start).
    cat > "$D/ceph.conf" <<CONF
[global]
fsid = $FSID
mon_host = [v2:127.0.0.1:$MON_PORT]
public_addr = 127.0.0.1
cluster_addr = 127.0.0.1
ms_bind_msgr1 = false
auth_cluster_required = none
auth_service_required = none
auth_client_required = none
ms_mon_client_mode = crc
keyring = /dev/null
run_dir = $D/run
admin_socket = $D/run/\$name.asok
pid_file = $D/run/\$name.pid
log_file = $D/log/\$name.log
osd_pool_default_size = 1
osd_pool_default_min_size = 1
osd_pool_default_pg_num = 8
osd_pool_default_pgp_num = 8
osd_pool_default_pg_autoscale_mode = off
mon_allow_pool_size_one = true
mon_warn_on_pool_no_redundancy = false
mon_max_pg_per_osd = 1000
osd_crush_chooseleaf_type = 0
[mon]
mon_data = $D/mon/\$id
mon_data_avail_crit = 0
mon_data_avail_warn = 0
paxos_propose_interval = 0.05
paxos_min_wait = 0.01
public_addr = v2:127.0.0.1:$MON_PORT
[osd]
osd_data = $D/osd/\$id
osd_objectstore = memstore
memstore_device_bytes = ${S3_MEM_BYTES:-8589934592}
[client.rgw.vault]
rgw_frontends = beast endpoint=127.0.0.1:$RGW_PORT
rgw_data = $D/rgw
CONF
    C=(-c "$D/ceph.conf")
    ceph-mon "${C[@]}" --mkfs -i a --fsid "$FSID"
    ceph-mon "${C[@]}" -i a
    wait_for 60 "the Ceph monitor" timeout 5 ceph "${C[@]}" --connect-timeout 3 health
    OSD_UUID=$(cat /proc/sys/kernel/random/uuid)
    OSD_ID=$(ceph "${C[@]}" osd new "$OSD_UUID")
    mkdir -p "$D/osd/$OSD_ID"
    ceph-osd "${C[@]}" -i "$OSD_ID" --mkfs --osd-uuid "$OSD_UUID" 2>>"$D/log/osd-mkfs.log"
    ceph-osd "${C[@]}" -i "$OSD_ID" 2>>"$D/log/osd-start.log"
    wait_for 120 "the Ceph OSD" sh -c "ceph -c '$D/ceph.conf' osd stat | grep -q ' 1 up'"
    radosgw "${C[@]}" -n client.rgw.vault
    wait_for 240 "radosgw" curl -sf -o /dev/null "http://127.0.0.1:$RGW_PORT/"
    radosgw-admin "${C[@]}" user create --uid=voicevault --display-name="VoiceVault" --access-key="$ACCESS" --secret-key="$SECRET" >/dev/null
    cat > "$D/env.sh" <<ENV
export VOICEVAULT_S3_URL=http://127.0.0.1:$RGW_PORT
export AWS_ACCESS_KEY_ID=$ACCESS
export AWS_SECRET_ACCESS_KEY=$SECRET
ENV
    echo "S3 (Ceph RGW) on http://127.0.0.1:$RGW_PORT (throwaway, in $D); credentials in $D/env.sh" >&2
    ;;
  down)
    if [ -d "$D/run" ]; then
      pids=$(cat "$D"/run/*.pid 2>/dev/null || true)
      # The data is thrown away: no orderly shutdown (which costs seconds per daemon).
      [ -n "$pids" ] && kill -KILL $pids 2>/dev/null || true
      for p in $pids; do
        for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
      done
    fi
    rm -rf "$D"
    ;;
  *)
    echo "usage: scripts/s3.sh up|down [DIR]" >&2
    exit 2
    ;;
esac
