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
  $kafka_was_running || scripts/kafka.sh stop || true
}
trap cleanup EXIT
# Ctrl-C and SIGTERM are the normal way to end `make run`.
trap 'exit 0' INT TERM

scripts/kafka.sh start
scripts/stack.sh up
echo
scripts/demo.sh || err "the demo did not end as expected (see above); the stack keeps running for a look"
echo
info "orderflow is running: Ctrl-C stops it"
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
