#!/usr/bin/env bash
# `make test-cluster`: the broker-failure tests on a 3-broker KRaft cluster on loopback
# (tests/e2e/test_cluster.py): starts the cluster in a folder of its own (fresh data), runs
# the tests marked `cluster` against it, stops it.
#   ORDERFLOW_CLUSTER_PORT (9192): first broker port; brokers at +0, +2, +4, controllers one above.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ORDERFLOW_ROOT"

export ORDERFLOW_KAFKA_NODES=3
export ORDERFLOW_KAFKA_PORT="${ORDERFLOW_CLUSTER_PORT:-9192}"
export ORDERFLOW_KAFKA_DIR="$RUN_DIR/kafka-cluster"
export ORDERFLOW_KAFKA_JMX_PORT=0
# Topics of the services get 3 replicas (the brokers' min.insync.replicas is 2).
export ORDERFLOW_TOPIC_REPLICATION_FACTOR=3
# The services' own consumer session timeout (10 s), not the e2e suite's 6 s: a member whose
# group coordinator dies must reach the new one within it (README.md "Broker failover").
export ORDERFLOW_KAFKA_PROP_SESSION_TIMEOUT_MS="${ORDERFLOW_KAFKA_PROP_SESSION_TIMEOUT_MS:-10000}"
unset ORDERFLOW_KAFKA_BOOTSTRAP
ORDERFLOW_KAFKA_BOOTSTRAP="$(scripts/kafka.sh bootstrap)"
export ORDERFLOW_KAFKA_BOOTSTRAP

cleanup() { scripts/kafka.sh stop || true; }
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

scripts/kafka.sh stop >/dev/null 2>&1 || true
rm -rf "$ORDERFLOW_KAFKA_DIR"/node-*
scripts/kafka.sh start

info "cluster tests (pytest tests/e2e -m cluster)"
ORDERFLOW_BUILD_DIR="${ORDERFLOW_BUILD_DIR:-$ORDERFLOW_ROOT/build/release}" \
  .venv/bin/pytest tests/e2e -m cluster -v
