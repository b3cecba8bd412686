#!/usr/bin/env bash
# Starts Debian's RabbitMQ on 127.0.0.1:5672 for side-by-side benchmarks, and stops only what it
# started (by PID, recorded in $STATE_DIR). If something already listens on 5672 we reuse it and
# never stop it: another engineer or a CI job may own that broker.
#
#   bench/rabbitmq.sh start     # prints the AMQP URL; exit 0 once the node accepts connections
#   bench/rabbitmq.sh stop      # stops the node (and epmd) only if this script started them
#   bench/rabbitmq.sh pid       # the beam.smp PID of the node on 5672 (for RSS readings)
#   bench/rabbitmq.sh status
#   bench/rabbitmq.sh kill9     # SIGKILL the node's beam.smp (crash test), only if this script started it;
#                               # `start` afterwards restarts it on the same data (bench/recovery.ts)
#   bench/rabbitmq.sh datadir   # the node's data (mnesia) base directory, for disk-usage readings
#
# WARREN_RABBITMQ_PORT=5682 runs a second, separate node on that port (its own node name, distribution
# port, data, logs and an empty plugin list under $STATE_DIR), e.g. for bench/scale.ts beside a node on
# 5672 that somebody else runs.
#
# WARREN_RABBITMQ_MQTT_PORT=1893 / WARREN_RABBITMQ_STOMP_PORT=61693 (with a WARREN_RABBITMQ_PORT other than
# 5672) enable rabbitmq_mqtt / rabbitmq_stomp on that node with their listeners on those ports (written to
# $STATE_DIR/enabled_plugins and $STATE_DIR/rabbitmq.conf), for bench/mqtt.ts and bench/stomp.ts;
# WARREN_RABBITMQ_MQTT_PREFETCH sets mqtt.prefetch (QoS 1 deliveries in flight, default 10).
set -euo pipefail

PORT=${WARREN_RABBITMQ_PORT:-5672}
if [[ $PORT == 5672 ]]; then
  STATE_DIR=${WARREN_RABBITMQ_STATE:-/tmp/warren-bench-rabbitmq}
  CTL=(rabbitmqctl)
else
  STATE_DIR=${WARREN_RABBITMQ_STATE:-/tmp/warren-bench-rabbitmq-$PORT}
  export RABBITMQ_NODENAME="warren-bench-$PORT@$(hostname -s)" RABBITMQ_NODE_PORT=$PORT
  export RABBITMQ_DIST_PORT=$((PORT + 20000)) RABBITMQ_MNESIA_BASE=$STATE_DIR/mnesia RABBITMQ_LOG_BASE=$STATE_DIR/log
  export RABBITMQ_ENABLED_PLUGINS_FILE=$STATE_DIR/enabled_plugins
  mkdir -p "$STATE_DIR"
  [[ -f $RABBITMQ_ENABLED_PLUGINS_FILE ]] || echo '[].' >"$RABBITMQ_ENABLED_PLUGINS_FILE"
  # Debian's rabbitmq-server re-runs itself through `su rabbitmq`, which leaves the node a soft
  # `ulimit -n` of 1024: ~830 sockets, then "file descriptor limit alarm", an acceptor that stops
  # accepting, and once files cannot be opened, Mnesia going down. Raise it to the hard limit in the
  # node's own env file (sourced by rabbitmq-env after su).
  echo "ulimit -n $(ulimit -Hn)" >"$STATE_DIR/rabbitmq-env.conf"
  export RABBITMQ_CONF_ENV_FILE=$STATE_DIR/rabbitmq-env.conf
  if [[ -n ${WARREN_RABBITMQ_MQTT_PORT:-}${WARREN_RABBITMQ_STOMP_PORT:-} ]]; then
    plugins=() conf=()
    if [[ -n ${WARREN_RABBITMQ_MQTT_PORT:-} ]]; then
      plugins+=(rabbitmq_mqtt)
      conf+=("mqtt.listeners.tcp.default = 127.0.0.1:$WARREN_RABBITMQ_MQTT_PORT")
      # Bursts of connects (the idle-client benchmark) overflow the default backlog of 128.
      conf+=("mqtt.tcp_listen_options.backlog = 4096")
      # QoS 1 deliveries in flight per subscriber (the plugin's default is 10).
      [[ -n ${WARREN_RABBITMQ_MQTT_PREFETCH:-} ]] && conf+=("mqtt.prefetch = $WARREN_RABBITMQ_MQTT_PREFETCH")
    fi
    if [[ -n ${WARREN_RABBITMQ_STOMP_PORT:-} ]]; then
      plugins+=(rabbitmq_stomp)
      conf+=("stomp.listeners.tcp.1 = 127.0.0.1:$WARREN_RABBITMQ_STOMP_PORT")
    fi
    (IFS=,; echo "[${plugins[*]}]." >"$RABBITMQ_ENABLED_PLUGINS_FILE")
    printf '%s\n' "${conf[@]}" >"$STATE_DIR/rabbitmq.conf"
    export RABBITMQ_CONFIG_FILE=$STATE_DIR/rabbitmq.conf
  fi
  chown -R rabbitmq: "$STATE_DIR" 2>/dev/null || true
  CTL=(rabbitmqctl -n "$RABBITMQ_NODENAME")
fi
URL="amqp://guest:guest@127.0.0.1:$PORT"
mkdir -p "$STATE_DIR"

listening() { ss -ltn "sport = :$1" | grep -q LISTEN; }

# PID of the process listening on a TCP port (first one), or nothing.
listener_pid() { ss -ltnpH "sport = :$1" | grep -o 'pid=[0-9]*' | head -n1 | cut -d= -f2; }

start() {
  if ! command -v rabbitmq-server >/dev/null; then
    echo "rabbitmq-server is not installed: DEBIAN_FRONTEND=noninteractive apt-get install -y rabbitmq-server" >&2
    exit 1
  fi
  if listening "$PORT"; then
    echo "$PORT already listens; reusing it (not ours, will not stop it)" >&2
    echo "$URL"
    return
  fi
  local epmd_was_running=0
  listening 4369 && epmd_was_running=1

  export RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 ERL_EPMD_ADDRESS=127.0.0.1
  export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
  export RABBITMQ_PID_FILE="$STATE_DIR/rabbitmq.pid"
  rm -f "$RABBITMQ_PID_FILE"
  # After kill9 our epmd keeps running: keep its record so that stop still ends it.
  if [[ -s $STATE_DIR/epmd.pid ]] && kill -0 "$(cat "$STATE_DIR/epmd.pid")" 2>/dev/null; then
    epmd_was_running=0
  else
    rm -f "$STATE_DIR/epmd.pid"
  fi
  (cd /tmp && rabbitmq-server -detached)

  for _ in $(seq 1 60); do
    listening "$PORT" && break
    sleep 0.5
  done
  "${CTL[@]}" await_startup >/dev/null
  # -detached does not always honour RABBITMQ_PID_FILE: record the listener (beam.smp) ourselves.
  [[ -s $RABBITMQ_PID_FILE ]] || listener_pid "$PORT" >"$RABBITMQ_PID_FILE"
  if [[ $epmd_was_running == 0 && ! -s $STATE_DIR/epmd.pid ]] && listening 4369; then
    listener_pid 4369 >"$STATE_DIR/epmd.pid"
  fi
  echo started >"$STATE_DIR/owned"
  echo "$URL"
}

stop() {
  if [[ ! -f $STATE_DIR/owned ]]; then
    echo "RabbitMQ was not started by this script; leaving it alone" >&2
    return
  fi
  local pid
  pid=$(cat "$STATE_DIR/rabbitmq.pid" 2>/dev/null || true)
  "${CTL[@]}" shutdown >/dev/null 2>&1 || { [[ -n $pid ]] && kill "$pid" 2>/dev/null || true; }
  if [[ -n $pid ]]; then
    for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
  fi
  if [[ -s $STATE_DIR/epmd.pid ]]; then
    kill "$(cat "$STATE_DIR/epmd.pid")" 2>/dev/null || true
  fi
  rm -f "$STATE_DIR/owned" "$STATE_DIR/epmd.pid" "$STATE_DIR/rabbitmq.pid"
}

pid() {
  # The node's OS process is beam.smp; the listener on 5672 is that process.
  listener_pid "$PORT"
}

kill9() {
  if [[ ! -f $STATE_DIR/owned ]]; then
    echo "RabbitMQ was not started by this script; not killing it" >&2
    exit 1
  fi
  local pid listener
  pid=$(cat "$STATE_DIR/rabbitmq.pid" 2>/dev/null || true)
  listener=$(listener_pid "$PORT" || true)
  # Only the node we started: the recorded PID must be the beam.smp listening on 5672.
  if [[ -z $pid || $pid != "$listener" || $(cat "/proc/$pid/comm" 2>/dev/null) != beam.smp ]]; then
    echo "recorded pid '$pid' is not the beam.smp on $PORT ('$listener'); not killing" >&2
    exit 1
  fi
  kill -9 "$pid"
  for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
  # Its epmd (if ours) stays up; `owned` goes so that start() starts the node again.
  rm -f "$STATE_DIR/owned" "$STATE_DIR/rabbitmq.pid"
  echo "$pid"
}

datadir() {
  echo "${RABBITMQ_MNESIA_BASE:-/var/lib/rabbitmq/mnesia}"
}

status() {
  if listening "$PORT"; then
    echo "listening on $PORT (pid $(pid))$([[ -f $STATE_DIR/owned ]] && echo ', started by this script')"
  else
    echo "not running"
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  pid) pid ;;
  status) status ;;
  kill9) kill9 ;;
  datadir) datadir ;;
  *) echo "usage: $0 start|stop|pid|status|kill9|datadir" >&2; exit 2 ;;
esac
