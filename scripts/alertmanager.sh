#!/usr/bin/env bash
# A local Alertmanager (Debian's prometheus-alertmanager): where Prometheus sends the alerts of
# deploy/prometheus/alerts.yml; it mails them and posts them to alerting-service, which opens
# an incident through the same webhook as its DLQ alerts.
#
#   scripts/alertmanager.sh start    start it unless it is running; returns once /-/ready answers
#   scripts/alertmanager.sh stop     SIGTERM, then SIGKILL after 20 s
#   scripts/alertmanager.sh status   exit 0 when it is ready
#   scripts/alertmanager.sh url      print its URL
#
# The configuration is deploy/alertmanager/alertmanager.yml with this stack's values filled
# in, written to the run folder on every start (and checked with amtool):
#   mail      through ORDERFLOW_SMTP_URL (smtp://[user:password@]host:port), from
#             ORDERFLOW_MAIL_FROM (orderflow@localhost) to ORDERFLOW_ALERT_EMAIL_TO
#             (ops@orderflow.local) — the SMTP server and addresses of the services. Without an
#             SMTP URL the stack's mail is a folder, which Alertmanager cannot write:
#             alerting-service then writes the email into its mail folder (?email=true).
#   incidents POST to alerting-service's /api/v1/alertmanager (ORDERFLOW_ALERTING_HTTP_PORT),
#             which posts a ServiceNow incident body to ORDERFLOW_ALERT_WEBHOOK_URL.
#   timing    ORDERFLOW_ALERTMANAGER_GROUP_WAIT (30s), _GROUP_INTERVAL (5m), _REPEAT_INTERVAL (4h).
#
# Environment: ORDERFLOW_ALERTMANAGER_PORT (9098: 9093, Alertmanager's usual port, is the
# local broker's controller port), ORDERFLOW_ALERTMANAGER_DIR (<run dir>/alertmanager),
# ORDERFLOW_ALERTMANAGER_WAIT_S (30).
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

AM_PORT="$ALERTMANAGER_PORT"
AM_DIR="${ORDERFLOW_ALERTMANAGER_DIR:-$RUN_DIR/alertmanager}"
WAIT_S="${ORDERFLOW_ALERTMANAGER_WAIT_S:-30}"
GROUP_WAIT="${ORDERFLOW_ALERTMANAGER_GROUP_WAIT:-30s}"
GROUP_INTERVAL="${ORDERFLOW_ALERTMANAGER_GROUP_INTERVAL:-5m}"
REPEAT_INTERVAL="${ORDERFLOW_ALERTMANAGER_REPEAT_INTERVAL:-4h}"
TEMPLATE="$ORDERFLOW_ROOT/deploy/alertmanager/alertmanager.yml"
PID_FILE="$AM_DIR/alertmanager.pid"
LOG_FILE="$AM_DIR/alertmanager.log"
CONFIG="$AM_DIR/alertmanager.yml"
URL="http://127.0.0.1:$AM_PORT"
BIN=prometheus-alertmanager

ours_running() { pid_alive "$PID_FILE" "$BIN"; }
ready() { [ "$(http_code "$URL/-/ready")" = 200 ]; }

# A YAML single-quoted scalar, escaped for the replacement side of a sed s|||.
yq() {
  local q="'" v
  v="${1//$q/$q$q}"
  printf '%s' "$q$v$q" | sed -e 's/[\\&|]/\\&/g'
}

write_config() {
  local smtp="${ORDERFLOW_SMTP_URL:-}" hostport auth="" user="" pass="" tls=false relay
  relay="$(service_url alerting-service)/api/v1/alertmanager"
  local args=(
    -e "s|^\(  *group_wait:\) .*|\1 $GROUP_WAIT|"
    -e "s|^\(  *group_interval:\) .*|\1 $GROUP_INTERVAL|"
    -e "s|^\(  *repeat_interval:\) .*|\1 $REPEAT_INTERVAL|"
    -e "1i # Written by scripts/alertmanager.sh from $TEMPLATE on every start."
  )
  if [ -n "$smtp" ]; then
    case "$smtp" in
      smtp://*) hostport="${smtp#smtp://}" ;;
      smtps://*) hostport="${smtp#smtps://}"; tls=true ;;  # Alertmanager: implicit TLS on port 465
      *) die "ORDERFLOW_SMTP_URL must be smtp:// or smtps://, got '$smtp'" ;;
    esac
    hostport="${hostport%%/*}"
    if [[ "$hostport" == *@* ]]; then
      auth="${hostport%@*}"
      hostport="${hostport##*@}"
      user="${auth%%:*}"
      pass="${auth#*:}"
      # URL-decoded, as libcurl does for the services (%40 -> @).
      user="$(printf '%b' "${user//%/\\x}")"
      pass="$(printf '%b' "${pass//%/\\x}")"
    fi
    args+=(
      -e "s|^\(  smtp_smarthost:\) .*|\1 $(yq "$hostport")|"
      -e "s|^\(  smtp_from:\) .*|\1 $(yq "${ORDERFLOW_MAIL_FROM:-orderflow@localhost}")|"
      -e "s|^\(  smtp_require_tls:\) .*|\1 $tls|"
      -e "s|^\(      - to:\) .*|\1 $(yq "${ORDERFLOW_ALERT_EMAIL_TO:-ops@orderflow.local}")|"
      -e "s|^\(      - url:\) .*|\1 $(yq "$relay")|"
    )
  else
    args+=(-e '/# smtp$/d' -e "s|^\(      - url:\) .*|\1 $(yq "$relay?email=true")|")
  fi
  mkdir -p "$AM_DIR"
  umask 077  # the copy may hold SMTP credentials
  sed "${args[@]}" "$TEMPLATE" >"$CONFIG"
  if [ -n "$user" ]; then
    sed -i "/^  smtp_require_tls:/a\\  smtp_auth_username: $(yq "$user")\n  smtp_auth_password: $(yq "$pass")" "$CONFIG"
  fi
}

wait_ready() { await_ready Alertmanager "${1:-}" ready; }

cmd_start() {
  command -v "$BIN" >/dev/null || die "$BIN not found: run 'make deps' (or scripts/deps.sh)"
  if ours_running; then
    wait_ready "$(cat "$PID_FILE")"
    ok "Alertmanager already running at $URL (pid $(cat "$PID_FILE"))"
    return
  fi
  if [ "$(http_code "$URL/-/ready")" != 000 ]; then
    die "port $AM_PORT is taken by a process not started by this script: set ORDERFLOW_ALERTMANAGER_PORT" \
        "(or stop it: systemctl disable --now prometheus-alertmanager)"
  fi
  write_config
  amtool check-config "$CONFIG" >"$AM_DIR/check.log" 2>&1 ||
    { log_tail "$AM_DIR/check.log"; die "invalid Alertmanager configuration $CONFIG"; }
  info "starting Alertmanager at $URL"
  # --cluster.listen-address= : a single instance, no gossip port (9094 by default: the
  # local broker's host listener in the compose file, and nothing to gossip with here).
  setsid "$BIN" --config.file="$CONFIG" --storage.path="$AM_DIR/data" \
    --web.listen-address="127.0.0.1:$AM_PORT" --web.external-url="$URL" --cluster.listen-address= \
    </dev/null >>"$LOG_FILE" 2>&1 &
  echo $! >"$PID_FILE"
  wait_ready "$(cat "$PID_FILE")"
  local mail="through alerting-service into its mail folder"
  if [ -n "${ORDERFLOW_SMTP_URL:-}" ]; then mail="over SMTP to ${ORDERFLOW_SMTP_URL##*@}"; fi
  ok "Alertmanager ready at $URL (mail $mail; incidents through alerting-service)"
}

cmd_stop() {
  if ! ours_running; then
    rm -f "$PID_FILE"
    ok "Alertmanager not running"
    return
  fi
  stop_pid "$PID_FILE" "$BIN" 20
  ok "Alertmanager stopped"
}

cmd_status() {
  if ours_running && ready; then
    echo "alertmanager: running at $URL (pid $(cat "$PID_FILE"), log $LOG_FILE)"
    return 0
  fi
  if ours_running; then echo "alertmanager: starting (pid $(cat "$PID_FILE"))"; else echo "alertmanager: stopped"; fi
  return 3
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  url) echo "$URL" ;;
  *) echo "usage: $0 start|stop|status|url" >&2; exit 2 ;;
esac
