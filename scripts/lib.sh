# shellcheck shell=bash
# Shared helpers for the scripts in this folder. Source it; don't run it.
#
# Every path and port here can be overridden by environment variable, so tests can run
# a second, isolated copy of the stack (ORDERFLOW_RUN_DIR and the per-service ports).

ORDERFLOW_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RUN_DIR="${ORDERFLOW_RUN_DIR:-$ORDERFLOW_ROOT/.run}"
case "$RUN_DIR" in /*) ;; *) RUN_DIR="$ORDERFLOW_ROOT/$RUN_DIR" ;; esac

KAFKA_PORT="${ORDERFLOW_KAFKA_PORT:-9092}"
# The broker's JMX exporter (Prometheus metrics): 7071 next to 9092, and for another broker
# port the same distance below it, so two local brokers never fight over it. 0 = none.
KAFKA_JMX_PORT="${ORDERFLOW_KAFKA_JMX_PORT:-$((KAFKA_PORT - 2021))}"
# Alertmanager (scripts/alertmanager.sh; Prometheus sends its alerts there): not its usual
# 9093, which is the local broker's controller port (Kafka port + 1).
ALERTMANAGER_PORT="${ORDERFLOW_ALERTMANAGER_PORT:-9098}"
# Services get the broker at the address Kafka advertises (not "localhost", which may
# resolve to ::1 first and cost a failed connect).
export ORDERFLOW_KAFKA_BOOTSTRAP="${ORDERFLOW_KAFKA_BOOTSTRAP:-127.0.0.1:$KAFKA_PORT}"

# The five services and the operator console, in start order; `down` stops them in reverse.
# ORDERFLOW_CONSOLE=off leaves the console out (a benchmark measures the five alone).
SERVICES=(payment-gateway payment-service order-service notification-service alerting-service)
[ "${ORDERFLOW_CONSOLE:-on}" = off ] || SERVICES+=(console)

# The variable that overrides a service's port, and its SPEC default.
service_port_var() {
  case "$1" in
    order-service)        echo ORDERFLOW_ORDER_HTTP_PORT ;;
    payment-service)      echo ORDERFLOW_PAYMENT_HTTP_PORT ;;
    notification-service) echo ORDERFLOW_NOTIFICATION_HTTP_PORT ;;
    alerting-service)     echo ORDERFLOW_ALERTING_HTTP_PORT ;;
    payment-gateway)      echo ORDERFLOW_GATEWAY_HTTP_PORT ;;
    console)              echo ORDERFLOW_CONSOLE_PORT ;;
    *) echo "unknown service '$1' (one of: ${SERVICES[*]})" >&2; return 1 ;;
  esac
}
service_default_port() {
  case "$1" in
    order-service) echo 8081 ;; payment-service) echo 8087 ;; notification-service) echo 8082 ;;
    alerting-service) echo 8083 ;; payment-gateway) echo 8090 ;; console) echo 8080 ;;
  esac
}
service_port() {
  local var
  var="$(service_port_var "$1")" || return 1
  echo "${!var:-$(service_default_port "$1")}"
}

service_url() { echo "http://127.0.0.1:$(service_port "$1")"; }

# Mail folders used when no SMTP server is configured.
mail_dir() { echo "${ORDERFLOW_MAIL_DIR:-$RUN_DIR/mail}/$1"; }

if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then
  _c_info=$'\e[1;34m' _c_ok=$'\e[1;32m' _c_err=$'\e[1;31m' _c_off=$'\e[0m'
else
  _c_info='' _c_ok='' _c_err='' _c_off=''
fi
info() { printf '%s==>%s %s\n' "$_c_info" "$_c_off" "$*"; }
ok()   { printf '%s ok%s %s\n' "$_c_ok" "$_c_off" "$*"; }
err()  { printf '%serror:%s %s\n' "$_c_err" "$_c_off" "$*" >&2; }
die()  { err "$*"; exit 1; }

# pid_alive PIDFILE [CMDLINE-SUBSTRING]: the pid in the file is a live process (and, when
# given, its command line contains the substring: guards against a recycled pid).
pid_alive() {
  local file="$1" want="${2:-}" pid
  [ -s "$file" ] || return 1
  pid="$(cat "$file" 2>/dev/null)" || return 1
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  if [ -n "$want" ]; then
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$want" || return 1
  fi
}

# stop_pid PIDFILE NAME TIMEOUT_S: SIGTERM, wait up to TIMEOUT_S, then SIGKILL.
stop_pid() {
  local file="$1" name="$2" timeout="$3" pid deadline
  pid="$(cat "$file")"
  kill -TERM "$pid" 2>/dev/null || true
  deadline=$((SECONDS + timeout))
  while kill -0 "$pid" 2>/dev/null && [ $SECONDS -lt "$deadline" ]; do sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then
    err "$name (pid $pid) did not exit ${timeout}s after SIGTERM; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  fi
  rm -f "$file"
}

# HTTP status code of a GET (000 when nothing answers).
http_code() { curl -s -o /dev/null -m "${2:-2}" -w '%{http_code}' "$1" 2>/dev/null || true; }

# await_ready NAME PID CHECK-FN: polls CHECK-FN until it succeeds; fails with the tail of
# $LOG_FILE when process PID (if given) exits or $WAIT_S seconds pass. Uses the caller's
# LOG_FILE, PID_FILE and WAIT_S.
await_ready() {
  local name="$1" pid="$2" check="$3" deadline=$((SECONDS + WAIT_S))
  until "$check"; do
    if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
      log_tail "$LOG_FILE" 60
      rm -f "$PID_FILE"
      die "$name exited during start-up (log: $LOG_FILE)"
    fi
    if [ $SECONDS -ge "$deadline" ]; then
      log_tail "$LOG_FILE" 60
      die "$name did not get ready within ${WAIT_S}s (log: $LOG_FILE)"
    fi
    sleep 0.3
  done
}

log_tail() {
  local file="$1" n="${2:-40}"
  if [ -s "$file" ]; then
    echo "----- last $n lines of $file -----" >&2
    tail -n "$n" "$file" >&2
    echo "-----" >&2
  else
    echo "(no log at $file)" >&2
  fi
}
