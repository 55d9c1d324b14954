#!/usr/bin/env bash
# A local Apache Kafka 3.9 broker in KRaft mode (no ZooKeeper, no Docker) — one node, or a
# cluster of several on loopback with ORDERFLOW_KAFKA_NODES (e.g. 3).
#
#   scripts/kafka.sh start [NODE...]   start the nodes (all by default) unless running;
#                                      returns once every node answers
#   scripts/kafka.sh stop [NODE...]    SIGTERM, then SIGKILL after 30 s
#   scripts/kafka.sh kill NODE...      SIGKILL (fault tests); `start NODE` brings it back
#   scripts/kafka.sh status            exit 0 when every node answers
#   scripts/kafka.sh wait              wait until every node answers
#   scripts/kafka.sh bootstrap         print the bootstrap list (host:port,...)
#
# The broker comes from Maven Central: scripts/kafka/pom.xml names it, Maven puts the jars
# in ~/.m2 and writes the runtime classpath, which is cached under the Kafka run folder so
# later starts do no Maven work at all.
#
# Environment: ORDERFLOW_KAFKA_PORT (9092), ORDERFLOW_KAFKA_CONTROLLER_PORT (port + 1),
# ORDERFLOW_KAFKA_DIR (<run dir>/kafka), ORDERFLOW_KAFKA_HEAP (512m),
# ORDERFLOW_KAFKA_WAIT_S (90), ORDERFLOW_KAFKA_JMX_PORT (Kafka port - 2021, i.e. 7071:
# Prometheus' JMX exporter agent serves the broker's metrics at http://127.0.0.1:<port>/metrics;
# 0 = no agent), ORDERFLOW_KAFKA_NETWORK_THREADS (2) and ORDERFLOW_KAFKA_IO_THREADS (4): the
# broker's num.network.threads and num.io.threads (bench/README.md measures fewer).
#
# A single node also has a SASL_SSL listener (SCRAM-SHA-256 over TLS) at port + 3 (9095;
# ORDERFLOW_KAFKA_SASL_PORT, 0 = none), so the services' security settings can be tried
# against a real broker: a CA and the broker's certificate are made with openssl on the
# first start (<Kafka dir>/tls/ca.pem is what clients trust) and the SCRAM user
# ORDERFLOW_KAFKA_SASL_USER (orderflow) with ORDERFLOW_KAFKA_SASL_PASSWORD
# (orderflow-dev-secret) is created once. A client connects with
#   ORDERFLOW_KAFKA_BOOTSTRAP=127.0.0.1:9095 ORDERFLOW_KAFKA_PROP_SECURITY_PROTOCOL=SASL_SSL
#   ORDERFLOW_KAFKA_PROP_SASL_MECHANISMS=SCRAM-SHA-256 ORDERFLOW_KAFKA_PROP_SASL_USERNAME=orderflow
#   ORDERFLOW_KAFKA_PROP_SASL_PASSWORD=orderflow-dev-secret ORDERFLOW_KAFKA_PROP_SSL_CA_LOCATION=<Kafka dir>/tls/ca.pem
#
# A cluster (ORDERFLOW_KAFKA_NODES=N > 1): node i (1..N) is broker and controller, with its
# broker port at PORT + 2(i-1), its controller port one above, its JMX exporter at
# JMX port + (i-1), and its files in <Kafka dir>/node-i. Topics get replication factor
# min(N, 3) and min.insync.replicas 2 (from 3 nodes on), as a production cluster would,
# and fail over within ~3 s of a node's death (ORDERFLOW_KAFKA_FAILOVER=fast, the default;
# kafka-defaults keeps Kafka's own timeouts: ~9-12 s; README "Broker failover").
# Use a Kafka dir and port of its own, e.g.
#   ORDERFLOW_KAFKA_NODES=3 ORDERFLOW_KAFKA_PORT=9192 ORDERFLOW_KAFKA_DIR=.run/kafka-cluster
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

KAFKA_DIR="${ORDERFLOW_KAFKA_DIR:-$RUN_DIR/kafka}"
NODES="${ORDERFLOW_KAFKA_NODES:-1}"
[[ "$NODES" =~ ^[1-9]$ ]] || die "ORDERFLOW_KAFKA_NODES must be 1..9 (got '$NODES')"
HEAP="${ORDERFLOW_KAFKA_HEAP:-512m}"
WAIT_S="${ORDERFLOW_KAFKA_WAIT_S:-90}"
POM="$ORDERFLOW_ROOT/scripts/kafka/pom.xml"
LOG4J="$KAFKA_DIR/log4j.properties"
CLUSTER_ID_FILE="$KAFKA_DIR/cluster.id"
JMX_CONFIG="$ORDERFLOW_ROOT/deploy/prometheus/kafka-jmx.yml"
if [ "$NODES" = 1 ]; then SASL_PORT="${ORDERFLOW_KAFKA_SASL_PORT:-$((KAFKA_PORT + 3))}"; else SASL_PORT=0; fi
SASL_USER="${ORDERFLOW_KAFKA_SASL_USER:-orderflow}"
SASL_PASSWORD="${ORDERFLOW_KAFKA_SASL_PASSWORD:-orderflow-dev-secret}"
TLS_DIR="$KAFKA_DIR/tls"
FAILOVER="${ORDERFLOW_KAFKA_FAILOVER:-fast}"
[[ "$FAILOVER" =~ ^(fast|kafka-defaults)$ ]] || die "ORDERFLOW_KAFKA_FAILOVER must be fast or kafka-defaults (got '$FAILOVER')"

# Per node: ports and files. One node keeps the layout of a single broker (files straight
# in the Kafka dir, controller port overridable).
node_port() { echo $((KAFKA_PORT + 2 * ($1 - 1))); }
node_controller_port() {
  if [ "$NODES" = 1 ]; then echo "${ORDERFLOW_KAFKA_CONTROLLER_PORT:-$((KAFKA_PORT + 1))}"
  else echo $(($(node_port "$1") + 1)); fi
}
node_jmx_port() { if [ "$KAFKA_JMX_PORT" = 0 ]; then echo 0; else echo $((KAFKA_JMX_PORT + $1 - 1)); fi; }
node_dir() { if [ "$NODES" = 1 ]; then echo "$KAFKA_DIR"; else echo "$KAFKA_DIR/node-$1"; fi; }
node_pid_file() { echo "$(node_dir "$1")/kafka.pid"; }
node_log_file() { echo "$(node_dir "$1")/kafka.log"; }
all_nodes() { seq 1 "$NODES"; }
bootstrap() {
  local i list=()
  for i in $(all_nodes); do list+=("127.0.0.1:$(node_port "$i")"); done
  (IFS=,; echo "${list[*]}")
}
BOOTSTRAP="$(bootstrap)"

kafka_version() { sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$POM"; }

# Node i answers metadata requests and the cluster's metadata lists it (a KRaft broker
# that is still registering with its controller answers with no brokers).
node_answers() {
  kcat -b "127.0.0.1:$(node_port "$1")" -L -m 2 2>/dev/null | grep -qE "^ +broker $1 at "
}
all_answer() {
  local i
  for i in $(all_nodes); do node_answers "$i" || return 1; done
}
# Some broker answers at the bootstrap list (one started by this script or not).
broker_answers() {
  kcat -b "$BOOTSTRAP" -L -m 2 2>/dev/null | grep -qE '^ +[1-9][0-9]* brokers:'
}

node_running() { pid_alive "$(node_pid_file "$1")" kafka.Kafka; }
any_running() {
  local i
  for i in $(all_nodes); do node_running "$i" && return 0; done
  return 1
}

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

# write_config NODE: the node's server.properties (and the shared log4j configuration).
write_config() {
  local i="$1" dir data voters="" n rf min_isr
  dir="$(node_dir "$i")"
  data="$dir/data"
  for n in $(all_nodes); do voters+="${voters:+,}$n@127.0.0.1:$(node_controller_port "$n")"; done
  rf=$((NODES < 3 ? NODES : 3))
  min_isr=$((NODES < 3 ? 1 : 2))
  local listeners advertised protocols sasl=""
  listeners="PLAINTEXT://127.0.0.1:$(node_port "$i"),CONTROLLER://127.0.0.1:$(node_controller_port "$i")"
  advertised="PLAINTEXT://127.0.0.1:$(node_port "$i")"
  protocols="PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT"
  if [ "$SASL_PORT" != 0 ]; then
    listeners+=",SASL_SSL://127.0.0.1:$SASL_PORT"
    advertised+=",SASL_SSL://127.0.0.1:$SASL_PORT"
    protocols+=",SASL_SSL:SASL_SSL"
    sasl="
# Clients with SCRAM-SHA-256 over TLS (see the top of scripts/kafka.sh).
sasl.enabled.mechanisms=SCRAM-SHA-256
listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
ssl.keystore.type=PEM
ssl.keystore.location=$TLS_DIR/broker-keystore.pem
ssl.client.auth=none"
  fi
  local failover=""
  if [ "$NODES" -gt 1 ] && [ "$FAILOVER" = fast ]; then
    failover="
# Failover: how soon a dead node is noticed and its partitions get new leaders
# (README \"Broker failover\"; Kafka's defaults in brackets). A broker is fenced — its
# partitions led by another in-sync replica — when it has not heartbeated to the active
# controller for broker.session.timeout.ms [9000]; a dead active controller is replaced
# when the others have not fetched from it for controller.quorum.fetch.timeout.ms [2000]
# and one wins an election [timeout 1000, back-off up to 1000]. The price: a node that
# stalls longer than these (a long GC pause, a saturated disk or network) is fenced or
# loses its controller role although it is alive, and its partitions move and move back.
broker.heartbeat.interval.ms=500
broker.session.timeout.ms=3000
controller.quorum.fetch.timeout.ms=1000
controller.quorum.election.timeout.ms=500
controller.quorum.election.backoff.max.ms=500"
  fi
  mkdir -p "$data"
  cat >"$dir/server.properties" <<EOF
# Written by scripts/kafka.sh on every start; edit the script, not this file.
process.roles=broker,controller
node.id=$i
controller.quorum.voters=$voters
listeners=$listeners
advertised.listeners=$advertised
controller.listener.names=CONTROLLER
listener.security.protocol.map=$protocols
inter.broker.listener.name=PLAINTEXT
log.dirs=$data
metadata.log.dir=$data
$sasl

# $NODES node(s): replication factor $rf; with 3 or more, an acknowledged (acks=all) record
# is on at least 2 brokers, so losing any one loses nothing.
num.partitions=6
default.replication.factor=$rf
min.insync.replicas=$min_isr
offsets.topic.replication.factor=$rf
transaction.state.log.replication.factor=$rf
transaction.state.log.min.isr=$min_isr
unclean.leader.election.enable=false
# Fewer internal partitions than the default 50: faster first start, enough here.
offsets.topic.num.partitions=10
transaction.state.log.num.partitions=10
# Consumers join at once instead of waiting 3 s for more members (tests, restarts).
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=true
delete.topic.enable=true
$failover

# A development broker: keep a day of data, small segments.
log.retention.hours=24
log.segment.bytes=67108864
num.network.threads=${ORDERFLOW_KAFKA_NETWORK_THREADS:-2}
num.io.threads=${ORDERFLOW_KAFKA_IO_THREADS:-4}
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

java_opts() { # NODE
  echo "-Xms128m -Xmx$HEAP -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true" \
       "-Dlog4j.configuration=file:$LOG4J -Dkafka.logs.dir=$(node_dir "$1")"
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

# The cluster id, the same for every node: made once, kept in the Kafka dir.
cluster_id() {
  if [ ! -s "$CLUSTER_ID_FILE" ]; then
    mkdir -p "$KAFKA_DIR"
    random_cluster_id >"$CLUSTER_ID_FILE"
  fi
  cat "$CLUSTER_ID_FILE"
}

# format_storage CLASSPATH-FILE NODE
format_storage() {
  local cp="$1" i="$2" dir
  dir="$(node_dir "$i")"
  if [ -f "$dir/data/meta.properties" ]; then return; fi
  info "formatting KRaft storage in $dir/data"
  # shellcheck disable=SC2046
  java $(java_opts "$i") -cp "$(cat "$cp")" kafka.tools.StorageTool format \
    --cluster-id "$(cluster_id)" --config "$dir/server.properties" >>"$(node_log_file "$i")" 2>&1 ||
    { log_tail "$(node_log_file "$i")"; die "formatting Kafka storage of node $i failed"; }
}

# wait_nodes NODE...: until each answers; fails early when one of their processes exits.
wait_nodes() {
  local deadline=$((SECONDS + WAIT_S)) i pending
  while :; do
    pending=()
    for i in "$@"; do node_answers "$i" || pending+=("$i"); done
    [ ${#pending[@]} -eq 0 ] && return 0
    for i in "${pending[@]}"; do
      if [ -s "$(node_pid_file "$i")" ] && ! node_running "$i"; then
        log_tail "$(node_log_file "$i")" 60
        rm -f "$(node_pid_file "$i")"
        die "Kafka node $i exited during start-up (log: $(node_log_file "$i"))"
      fi
    done
    if [ $SECONDS -ge "$deadline" ]; then
      for i in "${pending[@]}"; do log_tail "$(node_log_file "$i")" 40; done
      die "Kafka node(s) ${pending[*]} did not get ready within ${WAIT_S}s"
    fi
    sleep 0.3
  done
}

# select_nodes NODE...: sets TODO to the named nodes (all when none), rejecting others.
select_nodes() {
  TODO=()
  if [ $# -eq 0 ]; then mapfile -t TODO < <(all_nodes); return; fi
  local i
  for i in "$@"; do
    [[ "$i" =~ ^[1-9]$ ]] && [ "$i" -le "$NODES" ] || die "no Kafka node '$i' (nodes: 1..$NODES)"
    TODO+=("$i")
  done
}

# The CA and the broker's certificate (for 127.0.0.1 and localhost), made once.
make_tls() {
  [ -s "$TLS_DIR/broker-keystore.pem" ] && [ -s "$TLS_DIR/ca.pem" ] && return
  command -v openssl >/dev/null || die "openssl not found: run 'make deps' (or scripts/deps.sh)"
  info "making a local CA and the broker's TLS certificate in $TLS_DIR"
  mkdir -p "$TLS_DIR"
  (
    cd "$TLS_DIR"
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=orderflow local CA" \
      -keyout ca-key.pem -out ca.pem
    openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout broker-key.pem -out broker.csr
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >broker.ext
    openssl x509 -req -in broker.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 3650 \
      -extfile broker.ext -out broker.pem
    cat broker-key.pem broker.pem ca.pem >broker-keystore.pem
    chmod 600 ca-key.pem broker-key.pem broker-keystore.pem
  ) >"$TLS_DIR/openssl.log" 2>&1 || { log_tail "$TLS_DIR/openssl.log"; die "making the TLS certificates failed"; }
}

# The SCRAM user of the SASL_SSL listener, created once per data folder (it lives in the
# cluster metadata), through the plaintext listener.
ensure_scram_user() {
  local cp="$1" stamp
  stamp="$(node_dir 1)/data/.scram-$SASL_USER"
  [ -f "$stamp" ] && return
  # shellcheck disable=SC2046
  java $(java_opts 1) -cp "$(cat "$cp")" kafka.admin.ConfigCommand --bootstrap-server "127.0.0.1:$(node_port 1)" \
    --alter --entity-type users --entity-name "$SASL_USER" \
    --add-config "SCRAM-SHA-256=[iterations=8192,password=$SASL_PASSWORD]" >>"$(node_log_file 1)" 2>&1 ||
    { log_tail "$(node_log_file 1)"; die "creating the SCRAM user $SASL_USER failed"; }
  touch "$stamp"
  ok "SASL_SSL listener at 127.0.0.1:$SASL_PORT (SCRAM-SHA-256 user $SASL_USER, CA $TLS_DIR/ca.pem)"
}

start_node() {
  local i="$1" cp="$2" pid agent=() jmx log
  jmx="$(node_jmx_port "$i")"
  log="$(node_log_file "$i")"
  if [ "$jmx" != 0 ]; then agent=("-javaagent:$(jmx_agent_jar)=127.0.0.1:$jmx:$JMX_CONFIG"); fi
  if [ "$SASL_PORT" != 0 ]; then make_tls; fi
  write_config "$i"
  if [ -f "$log" ]; then mv -f "$log" "$log.1"; fi
  format_storage "$cp" "$i"
  # setsid: its own session, so a Ctrl-C meant for `make run` reaches the broker only
  # through an orderly `kafka.sh stop`.
  # shellcheck disable=SC2046
  setsid java $(java_opts "$i") "${agent[@]}" -cp "$(cat "$cp")" kafka.Kafka "$(node_dir "$i")/server.properties" \
    </dev/null >>"$log" 2>&1 &
  pid=$!
  echo "$pid" >"$(node_pid_file "$i")"
  info "started Kafka node $i at 127.0.0.1:$(node_port "$i") (pid $pid, log $log)"
}

cmd_start() {
  command -v kcat >/dev/null || die "kcat not found: run 'make deps' (or scripts/deps.sh)"
  command -v java >/dev/null || die "java not found: run 'make deps' (or scripts/deps.sh)"
  select_nodes "$@"
  if ! any_running && broker_answers; then
    ok "a Kafka broker not started by this script already answers at $BOOTSTRAP; using it"
    return
  fi
  local cp i started=()
  for i in "${TODO[@]}"; do
    node_running "$i" || started+=("$i")
  done
  if [ ${#started[@]} -gt 0 ]; then
    cp="$(classpath_file)"
    info "starting Kafka $(kafka_version) (KRaft, node(s) ${started[*]} of $NODES)"
    # All at once: a quorum of controllers needs a majority up before any node is ready.
    for i in "${started[@]}"; do start_node "$i" "$cp"; done
  fi
  wait_nodes "${TODO[@]}"
  if [ "$SASL_PORT" != 0 ]; then ensure_scram_user "${cp:-$(classpath_file)}"; fi
  ok "Kafka $(kafka_version) ready at $BOOTSTRAP ($NODES node(s); started: ${started[*]:-none})"
  for i in "${started[@]}"; do
    [ "$(node_jmx_port "$i")" != 0 ] && ok "Kafka node $i metrics at http://127.0.0.1:$(node_jmx_port "$i")/metrics"
  done
  return 0
}

cmd_stop() {
  select_nodes "$@"
  local i running=() pid deadline
  for i in "${TODO[@]}"; do
    if node_running "$i"; then running+=("$i")
    else rm -f "$(node_pid_file "$i")"; ok "Kafka node $i not running (nothing started by this script)"; fi
  done
  [ ${#running[@]} -gt 0 ] || return 0
  # SIGTERM to all first: a node shutting down alone waits for a controller quorum that
  # the nodes stopped before it no longer make.
  info "stopping Kafka node(s) ${running[*]}"
  for i in "${running[@]}"; do kill -TERM "$(cat "$(node_pid_file "$i")")" 2>/dev/null || true; done
  deadline=$((SECONDS + 30))
  for i in "${running[@]}"; do
    pid="$(cat "$(node_pid_file "$i")")"
    while kill -0 "$pid" 2>/dev/null && [ $SECONDS -lt "$deadline" ]; do sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
      err "Kafka node $i (pid $pid) did not exit 30s after SIGTERM; sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
    fi
    rm -f "$(node_pid_file "$i")"
  done
  ok "Kafka node(s) ${running[*]} stopped"
}

cmd_kill() {
  [ $# -gt 0 ] || die "usage: $0 kill NODE..."
  select_nodes "$@"
  local i pid
  for i in "${TODO[@]}"; do
    node_running "$i" || die "Kafka node $i is not running"
    pid="$(cat "$(node_pid_file "$i")")"
    kill -KILL "$pid"
    while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
    rm -f "$(node_pid_file "$i")"
    ok "Kafka node $i killed (SIGKILL, pid $pid)"
  done
}

cmd_status() {
  local i rc=0 pid
  if ! any_running && broker_answers; then
    echo "kafka: a broker not started by this script answers at $BOOTSTRAP"
    return 0
  fi
  for i in $(all_nodes); do
    pid="$(cat "$(node_pid_file "$i")" 2>/dev/null || true)"
    if node_answers "$i" && node_running "$i"; then
      echo "kafka node $i: running at 127.0.0.1:$(node_port "$i") (pid $pid, log $(node_log_file "$i"))"
    elif node_running "$i"; then
      echo "kafka node $i: starting (pid $pid), not answering yet"; rc=3
    else
      echo "kafka node $i: stopped"; rc=3
    fi
  done
  return $rc
}

case "${1:-}" in
  start) shift; cmd_start "$@" ;;
  stop) shift; cmd_stop "$@" ;;
  kill) shift; cmd_kill "$@" ;;
  status) cmd_status ;;
  wait)
    if any_running; then select_nodes; wait_nodes "${TODO[@]}"
    else PID_FILE=/dev/null LOG_FILE=/dev/null await_ready Kafka "" broker_answers; fi
    ok "Kafka answers at $BOOTSTRAP"
    ;;
  bootstrap) echo "$BOOTSTRAP" ;;
  classpath) cat "$(classpath_file)" ;;
  *) echo "usage: $0 start|stop [NODE...] | kill NODE... | status | wait | bootstrap | classpath" >&2; exit 2 ;;
esac
