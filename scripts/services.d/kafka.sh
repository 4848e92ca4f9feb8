# Kafka 4.x in single-node KRaft mode from the jars of pom.xml. Sourced by scripts/services.
# One broker per state folder: `kafka_start DIR PORT` is also how tests start a private broker.

KAFKA_VERSION=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$SERVICES_HOME/pom.xml")
KAFKA_LIBS="$CACHE_DIR/kafka-$KAFKA_VERSION/libs"

kafka_fetch() {
  if [ -f "$KAFKA_LIBS/.complete" ]; then return 0; fi
  command -v mvn >/dev/null || die "mvn not found: install Maven (Debian: apt-get install maven)"
  say "fetching Kafka $KAFKA_VERSION jars from Maven Central (first run only)"
  rm -rf "$KAFKA_LIBS"
  mvn -q -B -Dstyle.color=never -f "$SERVICES_HOME/pom.xml" dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$KAFKA_LIBS" >&2 || die "mvn could not fetch the Kafka jars"
  touch "$KAFKA_LIBS/.complete"
}

kafka_java() {
  command -v java >/dev/null || die "java not found: Kafka $KAFKA_VERSION needs Java 17 or newer"
  java -Xms256m -Xmx768m -XX:+UseG1GC -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$SERVICES_HOME/log4j2.properties" -Dkafka.logs.dir="$1" \
    -cp "$KAFKA_LIBS/*" "${@:2}"
}

# kafka_start DIR PORT: formats DIR once, starts the broker on 127.0.0.1:PORT (controller on
# PORT+1) and returns when it answers. Idempotent: a broker already running from DIR is kept.
kafka_start() {
  local dir=$1 port=$2
  mkdir -p "$dir"
  if kafka_running "$dir"; then say "kafka already running on 127.0.0.1:$(cat "$dir/port")"; return 0; fi
  kafka_fetch
  if port_open "$port"; then die "port $port is taken by another process (set OLLYSTACK_KAFKA_PORT)"; fi
  cat >"$dir/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:$((port + 1))
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$((port + 1))
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$dir/data
auto.create.topics.enable=false
num.partitions=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=8
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
group.consumer.heartbeat.interval.ms=1000
group.consumer.min.heartbeat.interval.ms=500
group.consumer.session.timeout.ms=6000
group.consumer.min.session.timeout.ms=3000
log.retention.check.interval.ms=1000
log.segment.delete.delay.ms=0
PROPS
  if [ ! -f "$dir/data/meta.properties" ]; then
    kafka_java "$dir" kafka.tools.StorageTool format --standalone \
      -t "$(kafka_java "$dir" kafka.tools.StorageTool random-uuid)" -c "$dir/server.properties" >"$dir/format.log" 2>&1 \
      || die "kafka storage format failed: see $dir/format.log"
  fi
  echo "$port" >"$dir/port"
  : >"$dir/server.log"
  nohup java -Xms256m -Xmx768m -XX:+UseG1GC -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$SERVICES_HOME/log4j2.properties" -Dkafka.logs.dir="$dir" \
    -cp "$KAFKA_LIBS/*" kafka.Kafka "$dir/server.properties" >"$dir/stdout.log" 2>&1 &
  echo $! >"$dir/pid"
  local deadline=$((SECONDS + 60))
  until grep -q "Kafka Server started" "$dir/server.log" 2>/dev/null && port_open "$port"; do
    if ! kill -0 "$(cat "$dir/pid")" 2>/dev/null; then
      tail -20 "$dir/server.log" "$dir/stdout.log" >&2
      die "kafka exited while starting: see $dir/server.log"
    fi
    [ $SECONDS -lt $deadline ] || die "kafka did not answer on 127.0.0.1:$port within 60 s: see $dir/server.log"
    sleep 0.3
  done
  say "kafka $KAFKA_VERSION ready on 127.0.0.1:$port"
}

kafka_running() {
  local dir=$1
  [ -f "$dir/pid" ] && kill -0 "$(cat "$dir/pid")" 2>/dev/null && port_open "$(cat "$dir/port" 2>/dev/null || echo 0)"
}

kafka_stop() {
  local dir=$1
  if [ -f "$dir/pid" ] && kill -0 "$(cat "$dir/pid")" 2>/dev/null; then
    local pid; pid=$(cat "$dir/pid")
    kill "$pid"
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -9 "$pid" 2>/dev/null || true
    say "kafka stopped"
  fi
  rm -f "$dir/pid"
}
