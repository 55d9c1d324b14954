#!/usr/bin/env bash
# A local Zipkin server (in-memory storage) that the services send their spans to.
#
#   scripts/zipkin.sh start    start it unless it is running; returns once GET /health is UP
#   scripts/zipkin.sh stop     SIGTERM, then SIGKILL after 20 s
#   scripts/zipkin.sh status   exit 0 when a Zipkin answers on the port
#   scripts/zipkin.sh url      print the UI URL
#
# The server is Zipkin's self-contained `exec` jar from Maven Central (io.zipkin:zipkin-server,
# the version is in scripts/zipkin/pom.xml): Maven fetches it into ~/.m2 once and copies it
# under the Zipkin run folder, so later starts do no Maven work at all.
#
# Environment: ORDERFLOW_ZIPKIN_PORT (9411), ORDERFLOW_ZIPKIN_DIR (<run dir>/zipkin),
# ORDERFLOW_ZIPKIN_HEAP (256m), ORDERFLOW_ZIPKIN_WAIT_S (90).
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ZIPKIN_PORT="${ORDERFLOW_ZIPKIN_PORT:-9411}"
ZIPKIN_DIR="${ORDERFLOW_ZIPKIN_DIR:-$RUN_DIR/zipkin}"
HEAP="${ORDERFLOW_ZIPKIN_HEAP:-256m}"
WAIT_S="${ORDERFLOW_ZIPKIN_WAIT_S:-90}"
POM="$ORDERFLOW_ROOT/scripts/zipkin/pom.xml"
PID_FILE="$ZIPKIN_DIR/zipkin.pid"
LOG_FILE="$ZIPKIN_DIR/zipkin.log"
BASE_URL="http://127.0.0.1:$ZIPKIN_PORT"

zipkin_version() { sed -n 's:.*<zipkin.version>\(.*\)</zipkin.version>.*:\1:p' "$POM"; }

answers() { [ "$(http_code "$BASE_URL/health")" = 200 ]; }

ours_running() { pid_alive "$PID_FILE" zipkin-server; }

# Print the path of the server jar, fetching it with Maven the first time.
server_jar() {
  local version jar tmp
  version="$(zipkin_version)"
  jar="$ZIPKIN_DIR/zipkin-server-$version-exec.jar"
  if [ -s "$jar" ]; then
    echo "$jar"
    return
  fi
  info "fetching Zipkin $version from Maven Central (once; cached in ~/.m2)" >&2
  command -v mvn >/dev/null || die "mvn not found: run 'make deps' (or scripts/deps.sh)"
  mkdir -p "$ZIPKIN_DIR"
  tmp="$(mktemp -d "$ZIPKIN_DIR/fetch.XXXXXX")"
  if ! (cd "$ORDERFLOW_ROOT/scripts/zipkin" &&
        mvn -B -q -f "$POM" dependency:copy \
          -Dartifact="io.zipkin:zipkin-server:$version:jar:exec" \
          -DoutputDirectory="$tmp" >"$ZIPKIN_DIR/maven.log" 2>&1); then
    rm -rf "$tmp"
    log_tail "$ZIPKIN_DIR/maven.log"
    die "Maven could not fetch the Zipkin server (log: $ZIPKIN_DIR/maven.log)"
  fi
  mv "$tmp/zipkin-server-$version-exec.jar" "$jar"
  rm -rf "$tmp"
  echo "$jar"
}

wait_ready() { await_ready Zipkin "${1:-}" answers; }

cmd_start() {
  command -v java >/dev/null || die "java not found: run 'make deps' (or scripts/deps.sh)"
  if ours_running; then
    wait_ready "$(cat "$PID_FILE")"
    ok "Zipkin already running at $BASE_URL (pid $(cat "$PID_FILE"))"
    return
  fi
  if answers; then
    ok "a Zipkin not started by this script already answers at $BASE_URL; using it"
    return
  fi
  local jar pid
  jar="$(server_jar)"
  if [ -f "$LOG_FILE" ]; then mv -f "$LOG_FILE" "$LOG_FILE.1"; fi
  info "starting Zipkin $(zipkin_version) (in-memory storage) at $BASE_URL"
  # setsid: its own session, so a Ctrl-C meant for `make run` reaches it only through
  # an orderly `zipkin.sh stop`.
  STORAGE_TYPE=mem QUERY_PORT="$ZIPKIN_PORT" MEM_MAX_SPANS="${ORDERFLOW_ZIPKIN_MAX_SPANS:-500000}" \
    setsid java "-Xms64m" "-Xmx$HEAP" -Djava.awt.headless=true -jar "$jar" \
    </dev/null >>"$LOG_FILE" 2>&1 &
  pid=$!
  echo "$pid" >"$PID_FILE"
  wait_ready "$pid"
  ok "Zipkin $(zipkin_version) ready at $BASE_URL (pid $pid, log $LOG_FILE)"
}

cmd_stop() {
  if ! ours_running; then
    rm -f "$PID_FILE"
    ok "Zipkin not running (nothing started by this script)"
    return
  fi
  info "stopping Zipkin (pid $(cat "$PID_FILE"))"
  stop_pid "$PID_FILE" zipkin 20
  ok "Zipkin stopped"
}

cmd_status() {
  if answers; then
    if ours_running; then
      echo "zipkin: running at $BASE_URL (pid $(cat "$PID_FILE"), log $LOG_FILE)"
    else
      echo "zipkin: a Zipkin not started by this script answers at $BASE_URL"
    fi
    return 0
  fi
  if ours_running; then
    echo "zipkin: starting (pid $(cat "$PID_FILE")), not answering yet at $BASE_URL"
  else
    echo "zipkin: stopped"
  fi
  return 3
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  url) echo "$BASE_URL" ;;
  *) echo "usage: $0 start|stop|status|url" >&2; exit 2 ;;
esac
