#!/usr/bin/env bash
# `make test` after deps and build: every test tier against real servers.
#   1. a Kafka broker: the one already running, else one started here (and stopped at the end);
#      Zipkin and PostgreSQL likewise (port ORDERFLOW_PG_PORT, here 25432 unless set: 5432 is
#      where Debian's postgresql package starts its own cluster, and a port outside the
#      ephemeral range 32768-60999 cannot be taken by some client connection's local end);
#   2. unit + integration tests: ctest --preset release; the storage and repository tests
#      run on SQLite and, label "postgres", on a fresh database of that server;
#   3. deployment files: pytest tests/deploy (Dockerfile, docker-compose config; no engine),
#      and the bench's report rendered from a saved result (pytest bench/tests);
#   4. end-to-end tests: pytest tests/e2e, which runs its own copy of the five services
#      (own run folder, free ports, an in-process SMTP server) on SQLite;
#   5. the same stack on PostgreSQL (ORDERFLOW_DATABASE_URL, a fresh database): the order
#      flow, idempotency, and two order- and payment-service replicas sharing it.
#   6. the Spring Boot peer of the bench (pytest tests/peer): it starts against the same broker,
#      with topics of its own, and takes an order to CONFIRMED, FAILED and its DLT (needs Java
#      and Maven; the peer's build is cached in ~/.m2 after the first run).
#   7. fuzzing: scripts/fuzz.sh, each libFuzzer target for ORDERFLOW_FUZZ_SECONDS (20 here).
# Each tier runs even when an earlier one failed; the exit status is non-zero when any did.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ORDERFLOW_ROOT"

started_kafka=false
started_zipkin=false
started_postgres=false
cleanup() {
  if $started_postgres; then scripts/postgres.sh stop || true; fi
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

export ORDERFLOW_PG_PORT="${ORDERFLOW_PG_PORT:-25432}"
if scripts/postgres.sh status >/dev/null 2>&1; then
  ok "using the PostgreSQL already running on port $ORDERFLOW_PG_PORT"
else
  started_postgres=true
  scripts/postgres.sh start
fi

# Fresh databases: one for the storage/repository tests (each test makes its own schema),
# one for the end-to-end stack on PostgreSQL.
test_db_url="$(scripts/postgres.sh recreate-db orderflow_test)"
e2e_db_url="$(scripts/postgres.sh recreate-db orderflow_e2e)"

failed=()
info "unit + integration tests (ctest --preset release)"
ORDERFLOW_TEST_DATABASE_URL="$test_db_url" ctest --preset release --output-on-failure || failed+=(ctest)

info "deployment files (pytest tests/deploy: Dockerfile, docker-compose config) and the bench's report"
.venv/bin/pytest tests/deploy bench/tests -v || failed+=(deploy)

export ORDERFLOW_BUILD_DIR="${ORDERFLOW_BUILD_DIR:-$ORDERFLOW_ROOT/build/release}"
info "end-to-end tests (pytest tests/e2e; SQLite)"
# ORDERFLOW_TEST_DATABASE_URL: test_damaged_state.py makes a database of its own on that server.
(unset ORDERFLOW_DATABASE_URL; ORDERFLOW_TEST_DATABASE_URL="$test_db_url" .venv/bin/pytest tests/e2e -v) || failed+=(e2e)

info "end-to-end tests on PostgreSQL (order flow, idempotency, replicas)"
ORDERFLOW_DATABASE_URL="$e2e_db_url" .venv/bin/pytest tests/e2e/test_order_flow.py tests/e2e/test_idempotency.py \
  tests/e2e/test_postgres_replicas.py -v || failed+=(e2e-postgres)

info "the Spring Boot peer's smoke test (pytest tests/peer)"
.venv/bin/pytest tests/peer -v || failed+=(peer)

info "fuzzing (scripts/fuzz.sh)"
ORDERFLOW_FUZZ_SECONDS="${ORDERFLOW_FUZZ_SECONDS:-20}" scripts/fuzz.sh || failed+=(fuzz)

if [ ${#failed[@]} -gt 0 ]; then
  err "failed: ${failed[*]}"
  exit 1
fi
ok "all test tiers passed"
