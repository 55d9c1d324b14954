#!/usr/bin/env bash
# `make run`: bring everything up, run the demo, then keep running until Ctrl-C (or
# SIGTERM) and stop what this run started (a broker or services that were already running
# before are left alone).
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ORDERFLOW_ROOT"

kafka_was_running=false
scripts/kafka.sh status >/dev/null 2>&1 && kafka_was_running=true
prometheus_was_running=false
alertmanager_was_running=false
zipkin_was_running=false
scripts/zipkin.sh status >/dev/null 2>&1 && zipkin_was_running=true
scripts/prometheus.sh status >/dev/null 2>&1 && prometheus_was_running=true
scripts/alertmanager.sh status >/dev/null 2>&1 && alertmanager_was_running=true
mapfile -t services_before < <(scripts/stack.sh running)

stopping=false
cleanup() {
  $stopping && return
  stopping=true
  trap '' INT TERM
  echo
  info "stopping what 'make run' started"
  local started=() svc
  for svc in "${SERVICES[@]}"; do
    [[ " ${services_before[*]} " == *" $svc "* ]] || started+=("$svc")
  done
  if [ ${#started[@]} -gt 0 ]; then scripts/stack.sh down "${started[@]}" || true; fi
  $prometheus_was_running || scripts/prometheus.sh stop || true
  $alertmanager_was_running || scripts/alertmanager.sh stop || true
  $zipkin_was_running || scripts/zipkin.sh stop || true
  $kafka_was_running || scripts/kafka.sh stop || true
}
trap cleanup EXIT
# Ctrl-C and SIGTERM are the normal way to end `make run`.
trap 'exit 0' INT TERM

scripts/kafka.sh start
# Before the services, so they send it their spans (stack.sh finds it on its port).
scripts/zipkin.sh start || err "Zipkin did not start (see above); continuing without traces"
scripts/stack.sh up
# Monitoring is a convenience here: the stack runs without it.
scripts/alertmanager.sh start || err "Alertmanager did not start (see above); alerts reach no one"
scripts/prometheus.sh start || err "Prometheus did not start (see above); continuing without it"
echo
scripts/demo.sh || err "the demo did not end as expected (see above); the stack keeps running for a look"
echo
info "orderflow is running: Ctrl-C stops it"
if scripts/zipkin.sh status >/dev/null 2>&1; then
  info "traces: $(scripts/zipkin.sh url)/zipkin/ (search by traceId: the traceparent response header)"
fi
# Wake up now and then to notice a service that died.
while :; do
  sleep 5 &
  wait $! || true
  for svc in "${SERVICES[@]}"; do
    if ! pid_alive "$RUN_DIR/pids/$svc.pid"; then
      err "$svc is no longer running (log: ${RUN_DIR#"$ORDERFLOW_ROOT/"}/logs/$svc.log)"
      exit 1
    fi
  done
done
