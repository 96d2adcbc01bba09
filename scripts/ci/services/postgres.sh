#!/usr/bin/env bash
# A PostgreSQL server for the replicated control plane's store (JdbcMigrationStore on PostgreSQL):
# Debian's postgresql package, a fresh cluster under STATE_DIR owned by an unprivileged user,
# listening on 127.0.0.1 only, on a free port, with password authentication.
#
#   bash scripts/ci/services/postgres.sh up STATE_DIR     start it (stops an earlier one first) and
#                                                         write STATE_DIR/postgres.env
#                                                         (FLEET_TEST_PG_URL, _USER, _PASSWORD, ...)
#   bash scripts/ci/services/postgres.sh down STATE_DIR   stop it and remove what it made
#
# The server runs as the `postgres` user the package creates (initdb refuses root); when the
# script does not run as root it runs the server as the current user.
set -euo pipefail

cmd=${1:?usage: postgres.sh up|down STATE_DIR}
STATE_DIR=${2:?usage: postgres.sh up|down STATE_DIR}
mkdir -p "$STATE_DIR"
STATE_DIR=$(cd "$STATE_DIR" && pwd)
DIR="$STATE_DIR/postgres"
DATA="$DIR/data"
DB=fleet
DB_USER=fleet

pg_bin() {
  local v
  for v in $(ls -1 /usr/lib/postgresql 2>/dev/null | sort -rn); do
    if [ -x "/usr/lib/postgresql/$v/bin/pg_ctl" ]; then echo "/usr/lib/postgresql/$v/bin"; return 0; fi
  done
  return 1
}

# runs a command as the cluster's owner
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    # runuser keeps no root privileges; -- ends its options
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

stop() {
  local bin
  if [ -f "$DATA/postmaster.pid" ] && bin=$(pg_bin); then
    as_owner "$bin/pg_ctl" -D "$DATA" -m immediate -w -t 30 stop >/dev/null 2>&1 || true
    local pid
    pid=$(head -n 1 "$DATA/postmaster.pid" 2>/dev/null || true)
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  rm -rf "$DIR" "$STATE_DIR/postgres.env"
}

free_port() {
  python3 - 2>/dev/null <<'PY' || shuf -i 30000-39999 -n 1
import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()
PY
}

case "$cmd" in
  down)
    stop
    ;;
  up)
    stop
    BIN=$(pg_bin) || { echo "postgres.sh: PostgreSQL not found under /usr/lib/postgresql; run scripts/ci/install-packages.sh (package postgresql)" >&2; exit 1; }
    if [ "$(id -u)" -eq 0 ] && ! id postgres >/dev/null 2>&1; then
      echo "postgres.sh: the postgres user is missing; reinstall Debian's postgresql package" >&2
      exit 1
    fi
    mkdir -p "$DIR"
    PASSWORD="fleet-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
    printf '%s\n' "$PASSWORD" > "$DIR/pwfile"
    if [ "$(id -u)" -eq 0 ]; then
      chown -R postgres: "$DIR"
      # the cluster's owner must reach its directory through STATE_DIR
      chmod o+x "$STATE_DIR"
    fi
    chmod 700 "$DIR"
    as_owner "$BIN/initdb" -D "$DATA" -U "$DB_USER" --pwfile="$DIR/pwfile" -A scram-sha-256 \
      -E UTF8 --locale=C.UTF-8 >"$DIR/initdb.log" 2>&1 \
      || { cat "$DIR/initdb.log" >&2; exit 1; }
    rm -f "$DIR/pwfile"
    PORT=""
    for _ in 1 2 3 4 5; do
      PORT=$(free_port)
      # the socket directory is ours too: /var/run/postgresql may not exist or be writable
      if as_owner "$BIN/pg_ctl" -D "$DATA" -l "$DIR/server.log" -w -t 60 \
           -o "-c listen_addresses=127.0.0.1 -c port=$PORT -c unix_socket_directories=$DIR -c fsync=on -c max_connections=100" \
           start >/dev/null 2>&1; then
        break
      fi
      PORT=""
    done
    [ -n "$PORT" ] || { echo "postgres.sh: the server did not start; see $DIR/server.log" >&2; cat "$DIR/server.log" >&2 || true; exit 1; }
    export PGPASSWORD="$PASSWORD"
    "$BIN/psql" -h 127.0.0.1 -p "$PORT" -U "$DB_USER" -d postgres -v ON_ERROR_STOP=1 -qAt \
      -c "CREATE DATABASE $DB" >/dev/null
    cat > "$STATE_DIR/postgres.env" <<ENV
export FLEET_TEST_PG_URL=jdbc:postgresql://127.0.0.1:$PORT/$DB
export FLEET_TEST_PG_HOST=127.0.0.1
export FLEET_TEST_PG_PORT=$PORT
export FLEET_TEST_PG_DB=$DB
export FLEET_TEST_PG_USER=$DB_USER
export FLEET_TEST_PG_PASSWORD=$PASSWORD
export FLEET_TEST_PG_BIN=$BIN
ENV
    echo "postgres.sh: PostgreSQL $("$BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PORT, database $DB, user $DB_USER; variables in $STATE_DIR/postgres.env"
    ;;
  *)
    echo "usage: postgres.sh up|down STATE_DIR" >&2
    exit 2
    ;;
esac
