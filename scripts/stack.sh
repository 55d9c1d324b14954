#!/usr/bin/env bash
# The five orderflow services and the operator console as background processes.
#
#   scripts/stack.sh up [service...]     start what is not running; return once every
#                                        service's /actuator/health is 200 (or fail with
#                                        the log of the one that is not)
#   scripts/stack.sh down [service...]   SIGTERM, SIGKILL after 10 s
#   scripts/stack.sh status              one line per service; exit 0 when all are UP
#   scripts/stack.sh running             names of the services running now
#
# Layout under the run folder (ORDERFLOW_RUN_DIR, default .run/):
#   logs/<service>.log   pids/<service>.pid   data/<service>/ (SQLite)
#   mail/<service>/      (.eml files when ORDERFLOW_SMTP_URL is not set)
#
# Environment: ORDERFLOW_BUILD_DIR (build/release), ORDERFLOW_RUN_DIR, ORDERFLOW_KAFKA_BOOTSTRAP,
# ORDERFLOW_{ORDER,PAYMENT,NOTIFICATION,ALERTING,GATEWAY}_HTTP_PORT, ORDERFLOW_CONSOLE_PORT (8080;
# ORDERFLOW_CONSOLE=off: no console), ORDERFLOW_STACK_WAIT_S (60);
# any other ORDERFLOW_* variable (SMTP URL, gateway timeout, log level…) passes through.
# ORDERFLOW_ZIPKIN_URL (spans go there) defaults to the local Zipkin of scripts/zipkin.sh
# when one answers on ORDERFLOW_ZIPKIN_PORT (9411); set it empty to export no spans.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

BUILD_DIR="${ORDERFLOW_BUILD_DIR:-$ORDERFLOW_ROOT/build/release}"
case "$BUILD_DIR" in /*) ;; *) BUILD_DIR="$ORDERFLOW_ROOT/$BUILD_DIR" ;; esac
BIN_DIR="$BUILD_DIR/bin"
WAIT_S="${ORDERFLOW_STACK_WAIT_S:-60}"
# alerting-service's DLQ operations (browse, replay) are off without an admin token; a
# local stack gets a well-known development token unless ORDERFLOW_ADMIN_TOKEN is set
# (set it empty to keep them off). Never use this default outside a laptop.
export ORDERFLOW_ADMIN_TOKEN="${ORDERFLOW_ADMIN_TOKEN-dev-admin-token}"
# The order API requires credentials by default (API keys or JWT, see the README). A local
# stack with none configured runs in demo mode: no authentication, no rate limit.
if [ -z "${ORDERFLOW_AUTH_MODE+set}" ] &&
   [ -z "${ORDERFLOW_API_KEYS:-}${ORDERFLOW_API_KEYS_FILE:-}${ORDERFLOW_JWT_HS256_SECRET:-}${ORDERFLOW_JWT_RS256_PUBLIC_KEY_FILE:-}" ]; then
  export ORDERFLOW_AUTH_MODE=none
  export ORDERFLOW_RATE_LIMIT_RPS="${ORDERFLOW_RATE_LIMIT_RPS-0}"
  # ... and the console signs its visitors in without asking (and says so on screen).
  export ORDERFLOW_CONSOLE_DEMO_SIGN_IN="${ORDERFLOW_CONSOLE_DEMO_SIGN_IN-true}"
fi
LOG_DIR="$RUN_DIR/logs"
PID_DIR="$RUN_DIR/pids"

pid_file() { echo "$PID_DIR/$1.pid"; }
log_file() { echo "$LOG_DIR/$1.log"; }
running() { pid_alive "$(pid_file "$1")" "$BIN_DIR/$1"; }
health_url() { echo "$(service_url "$1")/actuator/health"; }

# Sets TODO to the named services (all when none are named), rejecting unknown names.
select_services() {
  TODO=()
  if [ $# -eq 0 ]; then
    TODO=("${SERVICES[@]}")
    return
  fi
  local s
  for s in "$@"; do
    service_port_var "$s" >/dev/null || exit 2
    TODO+=("$s")
  done
}

start_service() {
  local svc="$1" bin="$BIN_DIR/$1" port data mail log
  port="$(service_port "$svc")"
  data="${ORDERFLOW_DATA_DIR:-$RUN_DIR/data}/$svc"
  mail="$(mail_dir "$svc")"
  log="$(log_file "$svc")"
  mkdir -p "$data" "$LOG_DIR" "$PID_DIR"
  case "$svc" in notification-service | alerting-service) mkdir -p "$mail" ;; esac
  if [ "$(http_code "$(health_url "$svc")" 1)" != 000 ]; then
    die "port $port of $svc is taken by a process this script did not start (stack.sh status; or set $(service_port_var "$svc"))"
  fi
  if [ -f "$log" ]; then mv -f "$log" "$log.1"; fi
  # The console calls the other services, Prometheus and Zipkin server-side.
  local extra=()
  if [ "$svc" = console ]; then
    extra=(ORDERFLOW_ORDER_URL="$(service_url order-service)"
           ORDERFLOW_PAYMENT_URL="$(service_url payment-service)"
           ORDERFLOW_NOTIFICATION_URL="$(service_url notification-service)"
           ORDERFLOW_ALERTING_URL="$(service_url alerting-service)"
           ORDERFLOW_PROMETHEUS_URL="${ORDERFLOW_PROMETHEUS_URL:-http://127.0.0.1:${ORDERFLOW_PROMETHEUS_PORT:-9090}}")
  fi
  # setsid: its own session, so a Ctrl-C meant for `make run` reaches the service only
  # through an orderly `stack.sh down`.
  env ORDERFLOW_HTTP_PORT="$port" \
      ORDERFLOW_DATA_DIR="$data" \
      ORDERFLOW_MAIL_DIR="$mail" \
      ORDERFLOW_GATEWAY_URL="${ORDERFLOW_GATEWAY_URL:-$(service_url payment-gateway)}" \
      ${extra[@]+"${extra[@]}"} \
      setsid "$bin" </dev/null >>"$log" 2>&1 &
  echo $! >"$(pid_file "$svc")"
  info "started $svc (pid $!, port $port, log ${log#"$ORDERFLOW_ROOT/"})"
}

cmd_up() {
  local svc todo missing=()
  select_services "$@"
  if [ -z "${ORDERFLOW_ZIPKIN_URL+set}" ] &&
     [ "$(http_code "http://127.0.0.1:${ORDERFLOW_ZIPKIN_PORT:-9411}/health" 1)" = 200 ]; then
    export ORDERFLOW_ZIPKIN_URL="http://127.0.0.1:${ORDERFLOW_ZIPKIN_PORT:-9411}/api/v2/spans"
  fi
  [ -n "${ORDERFLOW_ZIPKIN_URL:-}" ] && info "spans go to $ORDERFLOW_ZIPKIN_URL"
  todo=("${TODO[@]}")
  for svc in "${todo[@]}"; do
    [ -x "$BIN_DIR/$svc" ] || missing+=("$svc")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    die "not built: ${missing[*]} (looked in ${BIN_DIR#"$ORDERFLOW_ROOT/"}; run 'make build')"
  fi
  for svc in "${todo[@]}"; do
    if running "$svc"; then
      ok "$svc already running (pid $(cat "$(pid_file "$svc")"))"
    else
      start_service "$svc"
    fi
  done

  # Wait for every service to report UP; fail early when one exits.
  local deadline=$((SECONDS + WAIT_S)) pending=("${todo[@]}") still code
  while [ ${#pending[@]} -gt 0 ]; do
    still=()
    for svc in "${pending[@]}"; do
      # Only "is the process there": its command line names the binary only once the
      # forked shell has exec'ed it, and a check that early would see the shell's.
      if ! pid_alive "$(pid_file "$svc")"; then
        log_tail "$(log_file "$svc")" 60
        die "$svc exited during start-up (log: $(log_file "$svc"))"
      fi
      code="$(http_code "$(health_url "$svc")" 2)"
      if [ "$code" = 200 ]; then
        ok "$svc UP at $(service_url "$svc")"
      else
        still+=("$svc")
      fi
    done
    pending=(${still[@]+"${still[@]}"})
    [ ${#pending[@]} -eq 0 ] && break
    if [ $SECONDS -ge "$deadline" ]; then
      for svc in "${pending[@]}"; do
        err "$svc is not UP after ${WAIT_S}s: GET $(health_url "$svc") -> $(http_code "$(health_url "$svc")" 2)"
        curl -s -m 2 "$(health_url "$svc")" >&2 || true
        echo >&2
        log_tail "$(log_file "$svc")" 60
      done
      exit 1
    fi
    sleep 0.25
  done
  ok "all services UP"
}

cmd_down() {
  local svc todo stopping=() pid deadline
  select_services "$@"
  todo=("${TODO[@]}")
  # Reverse start order, all signalled at once so the 10 s grace periods overlap.
  for ((i = ${#todo[@]} - 1; i >= 0; i--)); do
    svc="${todo[i]}"
    if running "$svc"; then
      pid="$(cat "$(pid_file "$svc")")"
      kill -TERM "$pid" 2>/dev/null || true
      stopping+=("$svc")
      info "stopping $svc (pid $pid)"
    else
      rm -f "$(pid_file "$svc")"
    fi
  done
  deadline=$((SECONDS + 10))
  for svc in ${stopping[@]+"${stopping[@]}"}; do
    pid="$(cat "$(pid_file "$svc")")"
    while kill -0 "$pid" 2>/dev/null && [ $SECONDS -lt "$deadline" ]; do sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
      err "$svc (pid $pid) did not exit within 10 s of SIGTERM; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$(pid_file "$svc")"
  done
  ok "services stopped"
}

cmd_status() {
  local svc code all_up=0
  for svc in "${SERVICES[@]}"; do
    code="$(http_code "$(health_url "$svc")" 2)"
    if running "$svc"; then
      printf '%-22s running  pid %-8s %-28s health %s\n' "$svc" "$(cat "$(pid_file "$svc")")" \
        "$(service_url "$svc")" "$code"
    else
      printf '%-22s stopped  %-41s health %s\n' "$svc" "" "$code"
      all_up=3
    fi
    [ "$code" = 200 ] || all_up=3
  done
  return $all_up
}

cmd_running() {
  local svc
  for svc in "${SERVICES[@]}"; do
    if running "$svc"; then echo "$svc"; fi
  done
}

case "${1:-}" in
  up) shift; cmd_up "$@" ;;
  down) shift; cmd_down "$@" ;;
  status) cmd_status ;;
  running) cmd_running ;;
  *) echo "usage: $0 up|down [service...] | status | running" >&2; exit 2 ;;
esac
