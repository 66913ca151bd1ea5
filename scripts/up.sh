#!/usr/bin/env bash
# Runs FactoryOps on the embedded default in the foreground: Mosquitto (dynamic security, under
# $FACTORYOPS_DATA_DIR/mosquitto) on the port of $FACTORYOPS_MQTT_URL (1883), `factoryops serve
# --roles=all` (API, web app and the telemetry role) with SQLite metadata and the embedded
# telemetry engine under $FACTORYOPS_DATA_DIR (./var) on $FACTORYOPS_HTTP_PORT (8000), and a
# simulator whose five demo machines publish over MQTT once a second (FACTORYOPS_UP_SIMULATOR=0
# leaves it out). Ctrl-C (SIGINT) or SIGTERM stops the simulator, then serve, then the broker.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/broker.sh

export FACTORYOPS_DATA_DIR="${FACTORYOPS_DATA_DIR:-./var}"
export FACTORYOPS_STATIC_DIR="${FACTORYOPS_STATIC_DIR:-frontend/dist}"
export FACTORYOPS_MQTT_URL="${FACTORYOPS_MQTT_URL:-mqtt://127.0.0.1:1883}"
port="${FACTORYOPS_HTTP_PORT:-8000}"
mqtt_port=$(broker_port_of "$FACTORYOPS_MQTT_URL")
# Where the broker listens: loopback by default; 0.0.0.0 lets real devices on the network in.
mqtt_address="${FACTORYOPS_UP_MQTT_ADDRESS:-127.0.0.1}"
mkdir -p "$FACTORYOPS_DATA_DIR"

if ss -ltn "sport = :$port" 2>/dev/null | grep -q LISTEN; then
  echo "up: port $port is already in use; set FACTORYOPS_HTTP_PORT to another port" >&2
  exit 1
fi
if [ "$mqtt_port" = "$port" ]; then
  echo "up: FACTORYOPS_MQTT_URL and FACTORYOPS_HTTP_PORT name the same port $port" >&2
  exit 1
fi
broker_port_free "$mqtt_port" || exit 1

# A demo factory and its super admin, created once per data directory. The password is kept
# (readable by the owner only) so every later `make up` can print the login again.
demo_login="$FACTORYOPS_DATA_DIR/demo-login.txt"
if [ ! -f "$demo_login" ]; then
  build/factoryops migrate >/dev/null
  build/factoryops admin create-factory --id demo --name "Demo Plant" --timezone UTC >/dev/null
  password=$(head -c 24 /dev/urandom | base64 | tr -d '/+=' | head -c 20)
  printf '%s\n' "$password" | build/factoryops admin create-user --factory demo --email admin@demo.example \
    --role super_admin --name "Demo Admin" >/dev/null
  (umask 077 && printf 'factory_id=demo\nemail=admin@demo.example\npassword=%s\n' "$password" >"$demo_login")
fi
demo_password=$(sed -n 's/^password=//p' "$demo_login")

broker_start "$FACTORYOPS_DATA_DIR/mosquitto" "$mqtt_port" "$mqtt_address" || {
  echo "up: the MQTT broker did not start" >&2
  exit 1
}
trap broker_stop EXIT

device_host=localhost
[ "$mqtt_address" = 127.0.0.1 ] || device_host="<this machine's address>"
simulator_line="machines sim-001 … sim-005 publish over MQTT every second (log in $FACTORYOPS_DATA_DIR/simulator.log)"
[ "${FACTORYOPS_UP_SIMULATOR:-1}" != 0 ] || simulator_line="off (FACTORYOPS_UP_SIMULATOR=0)"
cat <<MSG

  FactoryOps is starting on the embedded default.
    web app        http://localhost:$port/
    API reference  http://localhost:$port/api/docs
    health         http://localhost:$port/health
    MQTT broker    $FACTORYOPS_MQTT_URL (Mosquitto listening on $mqtt_address:$mqtt_port)
    data           $FACTORYOPS_DATA_DIR
    sign in        factory "demo", admin@demo.example, password $demo_password
                   (kept in $demo_login)
    simulator      $simulator_line
  A real device: create it under Machines to get its API key, then connect to
  $device_host:$mqtt_port with username = password = the key and publish JSON readings to
  factories/demo/devices/<device id>/telemetry ("online"/"offline" on …/status), e.g.
    mosquitto_pub -h $device_host -p $mqtt_port -u KEY -P KEY -q 1 \\
      -t factories/demo/devices/press-1/telemetry -m '{"power_kw": 12.5}'
  Press Ctrl-C to stop.

MSG
build/factoryops serve --roles=all &
serve_pid=$!
sim_pid=
# A signal only ends the waiting below; the shutdown order is kept afterwards.
stopping=
trap 'stopping=1' INT TERM
if [ "${FACTORYOPS_UP_SIMULATOR:-1}" != 0 ]; then
  # The telemetry role must be subscribed before the first reading, or the broker has nobody
  # to give it to.
  for _ in $(seq 1 150); do
    [ -z "$stopping" ] || break
    curl -fs "http://127.0.0.1:$port/health" 2>/dev/null | grep -q '"mqtt":"ok"' && break
    kill -0 "$serve_pid" 2>/dev/null || break
    sleep 0.1
  done
  if [ -z "$stopping" ] && kill -0 "$serve_pid" 2>/dev/null; then
    build/factoryops simulate --factory demo --devices 5 --rate 1 \
      --transport mqtt >"$FACTORYOPS_DATA_DIR/simulator.log" 2>&1 &
    sim_pid=$!
  fi
fi
status=0
[ -n "$stopping" ] || wait "$serve_pid" || status=$?
# Stopping: the simulator first (its machines say "offline"), then serve, then the broker (EXIT).
if [ -n "$sim_pid" ]; then
  kill -TERM "$sim_pid" 2>/dev/null || true
  wait "$sim_pid" 2>/dev/null || true
fi
if kill -0 "$serve_pid" 2>/dev/null; then
  kill -TERM "$serve_pid" 2>/dev/null || true
  status=0
  wait "$serve_pid" || status=$?
fi
exit "$status"
