#!/usr/bin/env bash
# A local PostgreSQL 15 server (Debian's server binaries) for the services and the tests.
#
#   scripts/postgres.sh start           initdb on first use, start it unless it is running,
#                                       create the database; returns once it accepts connections
#   scripts/postgres.sh stop            pg_ctl stop -m fast (only a server this script started)
#   scripts/postgres.sh status          exit 0 when a server accepts connections on the port
#   scripts/postgres.sh url [DB]        print the database URL (ORDERFLOW_DATABASE_URL)
#   scripts/postgres.sh recreate-db DB  drop (if present) and create database DB: a clean slate
#
# The server listens on 127.0.0.1 only, with trust authentication for the superuser
# `orderflow` (a local development and test server; see README for production).
# PostgreSQL refuses to run as root: as root, the server runs as the unprivileged user
# `postgres` (from Debian's package; created if missing), which then owns the data folder.
#
# Environment: ORDERFLOW_PG_PORT (5432), ORDERFLOW_PG_DIR (<run dir>/postgres),
# ORDERFLOW_PG_DATABASE (orderflow), ORDERFLOW_PG_BIN (/usr/lib/postgresql/15/bin),
# ORDERFLOW_PG_WAIT_S (60).
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PG_PORT="${ORDERFLOW_PG_PORT:-5432}"
PG_BIN="${ORDERFLOW_PG_BIN:-/usr/lib/postgresql/15/bin}"  # not whatever pg_ctl is first on PATH
PG_DB="${ORDERFLOW_PG_DATABASE:-orderflow}"
PG_USER=orderflow
WAIT_S="${ORDERFLOW_PG_WAIT_S:-60}"
OS_USER=""  # who runs the server; empty: the caller

if [ "$(id -u)" = 0 ]; then OS_USER=postgres; fi

pg_dir_default() {
  local dir="$RUN_DIR/postgres"
  # The server user must reach the folder; a run folder under a private home may not be.
  if [ -n "$OS_USER" ] && id "$OS_USER" >/dev/null 2>&1 && [ ! -d "$dir" ] &&
     ! runuser -u "$OS_USER" -- test -x "$(dirname "$RUN_DIR")" 2>/dev/null; then
    dir="${TMPDIR:-/tmp}/orderflow-postgres-$PG_PORT"
  fi
  echo "$dir"
}
PG_DIR="${ORDERFLOW_PG_DIR:-$(pg_dir_default)}"
DATA="$PG_DIR/data"
LOG_FILE="$PG_DIR/postgres.log"
PID_FILE="$DATA/postmaster.pid"

as_server_user() {
  if [ -n "$OS_USER" ]; then runuser -u "$OS_USER" -- "$@"; else "$@"; fi
}

url() { echo "postgresql://$PG_USER@127.0.0.1:$PG_PORT/${1:-$PG_DB}"; }

answers() { "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" -t 2; }

ours_running() { [ -f "$PID_FILE" ] && as_server_user "$PG_BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; }

psql_admin() { PGOPTIONS="-c client_min_messages=warning" "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U "$PG_USER" -d postgres "$@"; }

ensure_os_user() {
  [ -n "$OS_USER" ] || return 0
  if ! id "$OS_USER" >/dev/null 2>&1; then
    info "creating the system user $OS_USER to run PostgreSQL (it refuses to run as root)"
    useradd --system --home-dir /var/lib/postgresql --shell /usr/sbin/nologin "$OS_USER"
  fi
}

ensure_database() {
  local db="$1"
  if [ -z "$(psql_admin -tAc "SELECT 1 FROM pg_database WHERE datname = '$db'")" ]; then
    psql_admin -c "CREATE DATABASE \"$db\""
  fi
}

cmd_start() {
  [ -x "$PG_BIN/postgres" ] || die "no PostgreSQL server in $PG_BIN: run 'make deps' (or scripts/deps.sh)"
  if ours_running; then
    WAIT_S=$WAIT_S await_ready PostgreSQL "" answers
    ensure_database "$PG_DB"
    ok "PostgreSQL already running at $(url)"
    return
  fi
  if answers; then
    psql_admin -tAc 'SELECT 1' >/dev/null 2>&1 ||
      die "a PostgreSQL not started by this script answers on port $PG_PORT and does not let user $PG_USER in; set ORDERFLOW_PG_PORT to a free port"
    ok "a PostgreSQL not started by this script already answers on port $PG_PORT; using it"
    ensure_database "$PG_DB"
    return
  fi
  ensure_os_user
  mkdir -p "$PG_DIR"
  [ -z "$OS_USER" ] || chown "$OS_USER" "$PG_DIR"
  if [ ! -s "$DATA/PG_VERSION" ]; then
    info "initdb: a new PostgreSQL cluster in $DATA"
    rm -rf "$DATA"
    as_server_user "$PG_BIN/initdb" -D "$DATA" -U "$PG_USER" --auth=trust --encoding=UTF8 --no-locale \
      --no-sync >"$PG_DIR/initdb.log" 2>&1 || { log_tail "$PG_DIR/initdb.log"; die "initdb failed"; }
    # Loopback only; no Unix socket outside the data folder's parent.
    cat >>"$DATA/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$PG_DIR'
max_connections = 200
CONF
  fi
  sed -i "s/^port = .*/port = $PG_PORT/" "$DATA/postgresql.conf"
  if [ -f "$LOG_FILE" ]; then mv -f "$LOG_FILE" "$LOG_FILE.1"; fi
  info "starting PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') at 127.0.0.1:$PG_PORT (data: $DATA)"
  # setsid: its own session, so a Ctrl-C meant for `make run` reaches it only through stop.
  as_server_user setsid "$PG_BIN/pg_ctl" -D "$DATA" -l "$LOG_FILE" -w -t "$WAIT_S" start >/dev/null ||
    { log_tail "$LOG_FILE"; die "PostgreSQL did not start (log: $LOG_FILE)"; }
  await_ready PostgreSQL "" answers
  ensure_database "$PG_DB"
  ok "PostgreSQL ready: $(url)"
}

cmd_stop() {
  if ! ours_running; then
    ok "PostgreSQL (data $DATA) is not running"
    return
  fi
  as_server_user "$PG_BIN/pg_ctl" -D "$DATA" -m fast -w -t 60 stop >/dev/null
  ok "PostgreSQL stopped"
}

cmd_status() {
  if answers; then
    ok "PostgreSQL accepts connections at 127.0.0.1:$PG_PORT"
  else
    err "no PostgreSQL at 127.0.0.1:$PG_PORT"
    return 1
  fi
}

cmd_recreate_db() {
  local db="${1:?usage: postgres.sh recreate-db NAME}"
  [[ "$db" =~ ^[a-z_][a-z0-9_]*$ ]] || die "database names here are lower case letters, digits and _"
  psql_admin -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" -c "CREATE DATABASE \"$db\""
  url "$db"
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  url) url "${2:-}" ;;
  recreate-db) cmd_recreate_db "${2:-}" ;;
  *) die "usage: $0 start|stop|status|url [DB]|recreate-db DB" ;;
esac
