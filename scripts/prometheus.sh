#!/usr/bin/env bash
# A local Prometheus (Debian's /usr/bin/prometheus) scraping the stack and the broker.
#
#   scripts/prometheus.sh start    start it unless it is running; returns once /-/ready answers
#   scripts/prometheus.sh stop     SIGTERM, then SIGKILL after 20 s
#   scripts/prometheus.sh status   exit 0 when it is ready
#
# The configuration is deploy/prometheus/prometheus.yml with the ports of this stack
# (ORDERFLOW_*_HTTP_PORT, ORDERFLOW_KAFKA_JMX_PORT, ORDERFLOW_ALERTMANAGER_PORT) and the
# intervals filled in, written to the run folder on every start, with
# deploy/prometheus/alerts.yml as its rules; alerts go to the Alertmanager of
# scripts/alertmanager.sh.
#
# Environment: ORDERFLOW_PROMETHEUS_PORT (9090), ORDERFLOW_PROMETHEUS_DIR (<run dir>/prometheus),
# ORDERFLOW_PROMETHEUS_SCRAPE_INTERVAL (15s; also the rule evaluation interval),
# ORDERFLOW_KAFKA_JMX_PORT (see lib.sh: 7071), ORDERFLOW_ALERTMANAGER_PORT (9098),
# ORDERFLOW_PROMETHEUS_RULES (deploy/prometheus/alerts.yml; a test may shorten a rule's
# `for` in a copy), ORDERFLOW_PROMETHEUS_WAIT_S (30).
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PROM_PORT="${ORDERFLOW_PROMETHEUS_PORT:-9090}"
PROM_DIR="${ORDERFLOW_PROMETHEUS_DIR:-$RUN_DIR/prometheus}"
INTERVAL="${ORDERFLOW_PROMETHEUS_SCRAPE_INTERVAL:-15s}"
JMX_PORT="$KAFKA_JMX_PORT"
WAIT_S="${ORDERFLOW_PROMETHEUS_WAIT_S:-30}"
DEPLOY="$ORDERFLOW_ROOT/deploy/prometheus"
RULES="${ORDERFLOW_PROMETHEUS_RULES:-$DEPLOY/alerts.yml}"
PID_FILE="$PROM_DIR/prometheus.pid"
LOG_FILE="$PROM_DIR/prometheus.log"
CONFIG="$PROM_DIR/prometheus.yml"
URL="http://127.0.0.1:$PROM_PORT"

ours_running() { pid_alive "$PID_FILE" prometheus; }
ready() { [ "$(http_code "$URL/-/ready")" = 200 ]; }

write_config() {
  local args=() s
  for s in "${SERVICES[@]}"; do
    args+=(-e "s|127\.0\.0\.1:$(service_default_port "$s")\"|127.0.0.1:$(service_port "$s")\"|")
  done
  # Without the console (ORDERFLOW_CONSOLE=off) its job would only ever say ServiceDown.
  [[ " ${SERVICES[*]} " == *" console "* ]] || args+=(-e '/^  # The operator console/d' -e '/^  - job_name: console$/,+1d')
  mkdir -p "$PROM_DIR"
  sed "${args[@]}" \
      -e "s|127\.0\.0\.1:7071\"|127.0.0.1:$JMX_PORT\"|" \
      -e "s|127\.0\.0\.1:9098\"|127.0.0.1:$ALERTMANAGER_PORT\"|" \
      -e "s#^\(  *\)\(scrape\|evaluation\)_interval: .*#\1\2_interval: $INTERVAL#" \
      -e "s|^  - alerts\.yml$|  - $RULES|" \
      -e "1i # Written by scripts/prometheus.sh from $DEPLOY/prometheus.yml on every start." \
      "$DEPLOY/prometheus.yml" >"$CONFIG"
}

wait_ready() { await_ready Prometheus "${1:-}" ready; }

cmd_start() {
  command -v prometheus >/dev/null || die "prometheus not found: run 'make deps' (or scripts/deps.sh)"
  if ours_running; then
    wait_ready "$(cat "$PID_FILE")"
    ok "Prometheus already running at $URL (pid $(cat "$PID_FILE"))"
    return
  fi
  if [ "$(http_code "$URL/-/ready")" != 000 ]; then
    # E.g. Debian's prometheus.service, which the package enables on a host with systemd.
    die "port $PROM_PORT is taken by a process not started by this script: set ORDERFLOW_PROMETHEUS_PORT" \
        "(or stop it: systemctl disable --now prometheus)"
  fi
  write_config
  promtool check config "$CONFIG" >"$PROM_DIR/check.log" 2>&1 ||
    { log_tail "$PROM_DIR/check.log"; die "invalid Prometheus configuration $CONFIG"; }
  info "starting Prometheus at $URL"
  setsid prometheus --config.file="$CONFIG" --storage.tsdb.path="$PROM_DIR/data" \
    --web.listen-address="127.0.0.1:$PROM_PORT" --storage.tsdb.retention.time=2d \
    </dev/null >>"$LOG_FILE" 2>&1 &
  echo $! >"$PID_FILE"
  wait_ready "$(cat "$PID_FILE")"
  ok "Prometheus ready at $URL (targets: $URL/targets, alerts: $URL/alerts)"
}

cmd_stop() {
  if ! ours_running; then
    rm -f "$PID_FILE"
    ok "Prometheus not running"
    return
  fi
  stop_pid "$PID_FILE" prometheus 20
  ok "Prometheus stopped"
}

cmd_status() {
  if ours_running && ready; then
    echo "prometheus: running at $URL (pid $(cat "$PID_FILE"), log $LOG_FILE)"
    return 0
  fi
  if ours_running; then echo "prometheus: starting (pid $(cat "$PID_FILE"))"; else echo "prometheus: stopped"; fi
  return 3
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
