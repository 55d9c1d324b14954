#!/usr/bin/env bash
# A local single-node Apache Kafka 3.9 broker in KRaft mode (no ZooKeeper, no Docker).
#
#   scripts/kafka.sh start    start it unless it is running; returns once it answers
#   scripts/kafka.sh stop     SIGTERM, then SIGKILL after 30 s
#   scripts/kafka.sh status   exit 0 when a broker answers on the port
#   scripts/kafka.sh wait     wait until a broker answers
#
# The broker comes from Maven Central: scripts/kafka/pom.xml names it, Maven puts the jars
# in ~/.m2 and writes the runtime classpath, which is cached under the Kafka run folder so
# later starts do no Maven work at all.
#
# Environment: ORDERFLOW_KAFKA_PORT (9092), ORDERFLOW_KAFKA_CONTROLLER_PORT (port + 1),
# ORDERFLOW_KAFKA_DIR (<run dir>/kafka), ORDERFLOW_KAFKA_HEAP (512m),
# ORDERFLOW_KAFKA_WAIT_S (90), ORDERFLOW_KAFKA_JMX_PORT (Kafka port - 2021, i.e. 7071:
# Prometheus' JMX exporter agent serves the broker's metrics at http://127.0.0.1:<port>/metrics;
# 0 = no agent).
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

KAFKA_DIR="${ORDERFLOW_KAFKA_DIR:-$RUN_DIR/kafka}"
CONTROLLER_PORT="${ORDERFLOW_KAFKA_CONTROLLER_PORT:-$((KAFKA_PORT + 1))}"
HEAP="${ORDERFLOW_KAFKA_HEAP:-512m}"
WAIT_S="${ORDERFLOW_KAFKA_WAIT_S:-90}"
POM="$ORDERFLOW_ROOT/scripts/kafka/pom.xml"
PID_FILE="$KAFKA_DIR/kafka.pid"
LOG_FILE="$KAFKA_DIR/kafka.log"
DATA_DIR="$KAFKA_DIR/data"
CONFIG="$KAFKA_DIR/server.properties"
LOG4J="$KAFKA_DIR/log4j.properties"
BOOTSTRAP="127.0.0.1:$KAFKA_PORT"
JMX_PORT="$KAFKA_JMX_PORT"
JMX_CONFIG="$ORDERFLOW_ROOT/deploy/prometheus/kafka-jmx.yml"

kafka_version() { sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$POM"; }

# A broker answers metadata requests and lists itself (a KRaft broker that is still
# registering with its controller answers with no brokers).
broker_answers() {
  kcat -b "$BOOTSTRAP" -L -m 2 2>/dev/null | grep -qE '^ +[1-9][0-9]* brokers:'
}

ours_running() { pid_alive "$PID_FILE" kafka.Kafka; }

# Print the classpath file, fetching the broker with Maven the first time. The cache key
# is the pom's hash, so changing the version in the pom fetches again.
classpath_file() {
  local key cp_file tmp
  key="$(sha1sum "$POM" | cut -c1-12)"
  cp_file="$KAFKA_DIR/classpath-$(kafka_version)-$key.txt"
  if [ -s "$cp_file" ] && all_jars_present "$cp_file"; then
    echo "$cp_file"
    return
  fi
  info "fetching Apache Kafka $(kafka_version) from Maven Central (once; cached in ~/.m2)" >&2
  command -v mvn >/dev/null || die "mvn not found: run 'make deps' (or scripts/deps.sh)"
  mkdir -p "$KAFKA_DIR"
  tmp="$(mktemp "$KAFKA_DIR/classpath.XXXXXX")"
  if ! (cd "$ORDERFLOW_ROOT/scripts/kafka" &&
        mvn -B -q -f "$POM" dependency:build-classpath \
          -Dmdep.includeScope=runtime -Dmdep.outputFile="$tmp" >"$KAFKA_DIR/maven.log" 2>&1); then
    rm -f "$tmp"
    log_tail "$KAFKA_DIR/maven.log"
    die "Maven could not fetch the Kafka broker (log: $KAFKA_DIR/maven.log)"
  fi
  mv "$tmp" "$cp_file"
  echo "$cp_file"
}

jmx_exporter_version() { sed -n 's:.*<jmx.exporter.version>\(.*\)</jmx.exporter.version>.*:\1:p' "$POM"; }

# Print the JMX exporter agent jar, fetching it with Maven the first time (cached in ~/.m2
# and copied into the Kafka run folder).
jmx_agent_jar() {
  local version jar
  version="$(jmx_exporter_version)"
  jar="$KAFKA_DIR/jmx_prometheus_javaagent-$version.jar"
  if [ ! -s "$jar" ]; then
    info "fetching the Prometheus JMX exporter $version from Maven Central (once; cached in ~/.m2)" >&2
    mkdir -p "$KAFKA_DIR"
    (cd "$ORDERFLOW_ROOT/scripts/kafka" &&
      mvn -B -q -f "$POM" dependency:copy -Dartifact="io.prometheus.jmx:jmx_prometheus_javaagent:$version" \
        -DoutputDirectory="$KAFKA_DIR" >"$KAFKA_DIR/maven-jmx.log" 2>&1) ||
      { log_tail "$KAFKA_DIR/maven-jmx.log"; die "Maven could not fetch the JMX exporter (log: $KAFKA_DIR/maven-jmx.log)"; }
  fi
  echo "$jar"
}

all_jars_present() {
  local jar
  while IFS= read -r -d: jar || [ -n "$jar" ]; do
    [ -n "$jar" ] && [ ! -f "$jar" ] && return 1
  done <"$1"
  return 0
}

write_config() {
  mkdir -p "$DATA_DIR"
  cat >"$CONFIG" <<EOF
# Written by scripts/kafka.sh on every start; edit the script, not this file.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$DATA_DIR
metadata.log.dir=$DATA_DIR

# One node: everything has a single replica.
num.partitions=6
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
# Fewer internal partitions than the default 50: faster first start, enough for one node.
offsets.topic.num.partitions=10
transaction.state.log.num.partitions=10
# Consumers join at once instead of waiting 3 s for more members (tests, restarts).
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=true
delete.topic.enable=true

# A development broker: keep a day of data, small segments.
log.retention.hours=24
log.segment.bytes=67108864
num.network.threads=2
num.io.threads=4
EOF
  cat >"$LOG4J" <<'EOF'
log4j.rootLogger=INFO, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.request.logger=WARN
log4j.logger.state.change.logger=WARN
log4j.logger.org.apache.kafka.clients=WARN
log4j.logger.kafka.log.LogCleaner=WARN
log4j.logger.org.apache.kafka.storage.internals.log=WARN
log4j.logger.kafka.log.UnifiedLog=WARN
EOF
}

java_opts() {
  echo "-Xms128m -Xmx$HEAP -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true" \
       "-Dlog4j.configuration=file:$LOG4J -Dkafka.logs.dir=$KAFKA_DIR"
}

random_cluster_id() {
  # Kafka's Uuid text form: 16 random bytes, URL-safe base64 without padding. Like
  # Kafka's own Uuid.randomUuid(), avoid a leading '-', which command lines take for an option.
  local id
  while :; do
    id="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')"
    [ "${id:0:1}" != - ] && { echo "$id"; return; }
  done
}

format_storage() {
  local cp="$1"
  if [ -f "$DATA_DIR/meta.properties" ]; then return; fi
  info "formatting KRaft storage in $DATA_DIR"
  # shellcheck disable=SC2046
  java $(java_opts) -cp "$(cat "$cp")" kafka.tools.StorageTool format \
    --cluster-id "$(random_cluster_id)" --config "$CONFIG" >>"$LOG_FILE" 2>&1 ||
    { log_tail "$LOG_FILE"; die "formatting Kafka storage failed"; }
}

wait_ready() { await_ready Kafka "${1:-}" broker_answers; }

cmd_start() {
  command -v kcat >/dev/null || die "kcat not found: run 'make deps' (or scripts/deps.sh)"
  command -v java >/dev/null || die "java not found: run 'make deps' (or scripts/deps.sh)"
  if ours_running; then
    wait_ready "$(cat "$PID_FILE")"
    ok "Kafka already running at $BOOTSTRAP (pid $(cat "$PID_FILE"))"
    return
  fi
  if broker_answers; then
    ok "a Kafka broker not started by this script already answers at $BOOTSTRAP; using it"
    return
  fi
  local cp pid agent=()
  cp="$(classpath_file)"
  if [ "$JMX_PORT" != 0 ]; then
    agent=("-javaagent:$(jmx_agent_jar)=127.0.0.1:$JMX_PORT:$JMX_CONFIG")
  fi
  write_config
  if [ -f "$LOG_FILE" ]; then mv -f "$LOG_FILE" "$LOG_FILE.1"; fi
  format_storage "$cp"
  info "starting Kafka $(kafka_version) (KRaft, single node) at $BOOTSTRAP"
  # setsid: its own session, so a Ctrl-C meant for `make run` reaches the broker only
  # through an orderly `kafka.sh stop`.
  # shellcheck disable=SC2046
  setsid java $(java_opts) "${agent[@]}" -cp "$(cat "$cp")" kafka.Kafka "$CONFIG" \
    </dev/null >>"$LOG_FILE" 2>&1 &
  pid=$!
  echo "$pid" >"$PID_FILE"
  wait_ready "$pid"
  ok "Kafka $(kafka_version) ready at $BOOTSTRAP (pid $pid, log $LOG_FILE)"
  if [ "$JMX_PORT" != 0 ]; then ok "Kafka broker metrics at http://127.0.0.1:$JMX_PORT/metrics"; fi
}

cmd_stop() {
  if ! ours_running; then
    rm -f "$PID_FILE"
    ok "Kafka not running (nothing started by this script)"
    return
  fi
  info "stopping Kafka (pid $(cat "$PID_FILE"))"
  stop_pid "$PID_FILE" kafka 30
  ok "Kafka stopped"
}

cmd_status() {
  if broker_answers; then
    if ours_running; then
      echo "kafka: running at $BOOTSTRAP (pid $(cat "$PID_FILE"), log $LOG_FILE)"
    else
      echo "kafka: a broker not started by this script answers at $BOOTSTRAP"
    fi
    return 0
  fi
  if ours_running; then
    echo "kafka: starting (pid $(cat "$PID_FILE")), not answering yet at $BOOTSTRAP"
  else
    echo "kafka: stopped"
  fi
  return 3
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  wait)
    if ours_running; then wait_ready "$(cat "$PID_FILE")"; else wait_ready; fi
    ok "Kafka answers at $BOOTSTRAP"
    ;;
  classpath) cat "$(classpath_file)" ;;
  *) echo "usage: $0 start|stop|status|wait|classpath" >&2; exit 2 ;;
esac
