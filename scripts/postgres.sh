#!/usr/bin/env bash
# A throwaway PostgreSQL cluster on loopback, for the tests and for trying the vault on PostgreSQL.
#   scripts/postgres.sh up   [DIR]   initdb + start on a free port (or $PG_PORT); prints the connection string
#   scripts/postgres.sh down [DIR]   stop it and delete DIR
# DIR defaults to /tmp/voicevault-pg; it (and every folder above it) must be enterable by the
# postgres user, which runs the server when this is started as root. Installs Debian's postgresql
# if no server is installed. fsync is off: the data is for tests and trials, not to keep.
# DIR/env.sh exports VOICEVAULT_POSTGRES (the Npgsql connection string) and PG* for psql.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh

cmd=${1:-}
D=${2:-${PG_DIR:-/tmp/voicevault-pg}}
as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
pg_bin() {
  local bin
  bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
  if [ -z "$bin" ]; then
    apt_install postgresql >&2
    bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
  fi
  echo "$bin"
}

case "$cmd" in
  up)
    BIN=$(pg_bin)
    [ -e "$D/data" ] && { echo "postgres.sh: $D is in use; run: scripts/postgres.sh down $D" >&2; exit 1; }
    PORT=${PG_PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
    mkdir -p "$D"
    chmod 755 "$D"
    [ "$(id -u)" = 0 ] && chown postgres: "$D"
    as_postgres "$BIN/initdb" -D "$D/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 --no-sync >"$D/initdb.log"
    as_postgres "$BIN/pg_ctl" -D "$D/data" -l "$D/server.log" -w -t 30 start -o \
      "-p $PORT -k $D -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" >/dev/null
    as_postgres "$BIN/createdb" -h 127.0.0.1 -p "$PORT" -U postgres voicevault
    cat > "$D/env.sh" <<ENV
export PGHOST=127.0.0.1 PGPORT=$PORT PGUSER=postgres PGDATABASE=voicevault
export VOICEVAULT_POSTGRES="Host=127.0.0.1;Port=$PORT;Username=postgres;Database=voicevault"
ENV
    echo "PostgreSQL on 127.0.0.1:$PORT (throwaway, in $D); connection string:" >&2
    echo "Host=127.0.0.1;Port=$PORT;Username=postgres;Database=voicevault"
    ;;
  down)
    if [ -d "$D/data" ]; then
      BIN=$(pg_bin)
      # immediate: no checkpoint on the way down, the data is thrown away
      as_postgres "$BIN/pg_ctl" -D "$D/data" -m immediate -w -t 30 stop >/dev/null 2>&1 || true
    fi
    rm -rf "$D"
    ;;
  *)
    echo "usage: scripts/postgres.sh up|down [DIR]" >&2
    exit 2
    ;;
esac
