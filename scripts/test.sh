#!/usr/bin/env bash
# `make test` after deps and build: every test tier against real servers.
#   1. a Kafka broker: the one already running, else one started here (and stopped at the end);
#      Zipkin likewise (the tracing e2e test reads traces from its API);
#   2. unit + integration tests: ctest --preset release;
#   3. end-to-end tests: pytest tests/e2e, which runs its own copy of the five services
#      (own run folder, free ports, an in-process SMTP server);
#   4. fuzzing: scripts/fuzz.sh, each libFuzzer target for ORDERFLOW_FUZZ_SECONDS (20 here).
# Each tier runs even when an earlier one failed; the exit status is non-zero when any did.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ORDERFLOW_ROOT"

started_kafka=false
started_zipkin=false
cleanup() {
  if $started_zipkin; then scripts/zipkin.sh stop || true; fi
  if $started_kafka; then scripts/kafka.sh stop || true; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if scripts/kafka.sh status >/dev/null 2>&1; then
  ok "using the Kafka broker already running at $ORDERFLOW_KAFKA_BOOTSTRAP"
else
  started_kafka=true
  scripts/kafka.sh start
fi

if scripts/zipkin.sh status >/dev/null 2>&1; then
  ok "using the Zipkin already running at $(scripts/zipkin.sh url)"
else
  started_zipkin=true
  scripts/zipkin.sh start
fi

failed=()
info "unit + integration tests (ctest --preset release)"
ctest --preset release --output-on-failure || failed+=(ctest)

info "end-to-end tests (pytest tests/e2e)"
ORDERFLOW_BUILD_DIR="${ORDERFLOW_BUILD_DIR:-$ORDERFLOW_ROOT/build/release}" \
  .venv/bin/pytest tests/e2e -v || failed+=(e2e)

info "fuzzing (scripts/fuzz.sh)"
ORDERFLOW_FUZZ_SECONDS="${ORDERFLOW_FUZZ_SECONDS:-20}" scripts/fuzz.sh || failed+=(fuzz)

if [ ${#failed[@]} -gt 0 ]; then
  err "failed: ${failed[*]}"
  exit 1
fi
ok "all test tiers passed"
