# Sourced (not run) by scripts/up.sh and scripts/e2e.sh: Mosquitto 2 as FactoryOps expects it,
# in a directory of its own. Anonymous clients are refused; the dynamic-security plugin holds the
# admin client that `factoryops serve` and `factoryops simulate` use to provision device keys
# (created once, with FACTORYOPS_MQTT_ADMIN_USERNAME / _PASSWORD); persistence keeps credentials,
# retained statuses and the telemetry role's queued messages across restarts.
#   broker_port_of URL              the port of mqtt://host:port (1883 when it has none)
#   broker_port_free PORT           returns 1 with a reason when something listens on PORT
#   broker_start DIR PORT [ADDRESS] configures DIR, starts mosquitto in the background (its log in
#                                   DIR/mosquitto.log) and waits until it listens on ADDRESS:PORT
#                                   (127.0.0.1 by default; 0.0.0.0 for every interface); sets
#                                   broker_pid. Returns 1 with a reason (port taken, no plugin, …).
#   broker_stop                     SIGTERM (mosquitto saves its state) and waits.

# The development default of both MQTT passwords, as in src/core/config.hpp
# (kDevelopmentMqttPassword): only used when FACTORYOPS_ENV is not production.
broker_development_password=factoryops-development-mqtt
broker_pid=

broker_port_of() {
  local url=$1
  if [[ $url =~ ^(mqtt|tcp)://(\[[^]]*\]|[^/:]*)(:([0-9]+))?/?$ ]]; then
    echo "${BASH_REMATCH[4]:-1883}"
  else
    echo "broker: FACTORYOPS_MQTT_URL must look like mqtt://host:port, not '$url'" >&2
    return 1
  fi
}

broker_port_free() {
  if ss -ltn "sport = :$1" 2>/dev/null | grep -q LISTEN; then
    echo "broker: port $1 is already in use; set FACTORYOPS_MQTT_URL=mqtt://127.0.0.1:<another port>" >&2
    return 1
  fi
}

# A secret from FACTORYOPS_<NAME> or the file named by FACTORYOPS_<NAME>_FILE, as factoryops reads it.
broker_secret() {
  local name=$1 file_var="$1_FILE"
  if [ -n "${!name:-}" ]; then
    printf '%s' "${!name}"
  elif [ -n "${!file_var:-}" ]; then
    head -n 1 "${!file_var}" | tr -d '\r\n'
  fi
}

broker_start() {
  local dir=$1 port=$2 address=${3:-127.0.0.1}
  local admin_user=${FACTORYOPS_MQTT_ADMIN_USERNAME:-factoryops-admin}
  local admin_password
  admin_password=$(broker_secret FACTORYOPS_MQTT_ADMIN_PASSWORD)
  if [ "${FACTORYOPS_ENV:-development}" = production ]; then
    if [ -z "$admin_password" ] || [ -z "$(broker_secret FACTORYOPS_MQTT_PASSWORD)" ]; then
      echo "broker: FACTORYOPS_ENV=production needs FACTORYOPS_MQTT_ADMIN_PASSWORD and FACTORYOPS_MQTT_PASSWORD (or their _FILE forms)" >&2
      return 1
    fi
  fi
  admin_password=${admin_password:-$broker_development_password}

  broker_port_free "$port" || return 1
  local plugin=
  for candidate in /usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so \
    /usr/lib/aarch64-linux-gnu/mosquitto_dynamic_security.so /usr/lib/mosquitto_dynamic_security.so; do
    [ -f "$candidate" ] && plugin=$candidate
  done
  if [ -z "$plugin" ] || ! command -v mosquitto >/dev/null || ! command -v mosquitto_ctrl >/dev/null; then
    echo "broker: mosquitto with its dynamic-security plugin is not installed (run make setup)" >&2
    return 1
  fi

  mkdir -p "$dir"
  dir=$(realpath "$dir")
  # Dynamic security is initialised once: later starts keep the clients FactoryOps provisioned.
  if [ ! -f "$dir/dynamic-security.json" ]; then
    (umask 077 && mosquitto_ctrl dynsec init "$dir/dynamic-security.json" "$admin_user" "$admin_password" \
      >"$dir/dynsec-init.log" 2>&1) || {
      echo "broker: mosquitto_ctrl dynsec init failed; see $dir/dynsec-init.log" >&2
      return 1
    }
  fi
  # Rewritten on every start, so the port and the address follow the environment. Mosquitto
  # started as root drops to the user named here: the current one, who owns the directory.
  cat >"$dir/mosquitto.conf" <<CONF
per_listener_settings false
listener $port $address
allow_anonymous false
plugin $plugin
plugin_opt_config_file $dir/dynamic-security.json
persistence true
persistence_location $dir/
# The telemetry role's session keeps what it has not taken yet (serve restarting, a backlog).
max_queued_messages 1000000
max_inflight_messages 1000
user $(id -un)
# Device API keys are MQTT usernames: keep them out of the log (connection lines and the
# dynamic-security plugin's informational lines name them).
connection_messages false
log_dest stderr
log_type error
log_type warning
log_type notice
CONF
  # A session of its own: Ctrl-C in the terminal must not stop the broker before serve has stopped.
  setsid mosquitto -c "$dir/mosquitto.conf" >>"$dir/mosquitto.log" 2>&1 &
  broker_pid=$!
  for _ in $(seq 1 100); do
    ss -ltn "sport = :$port" 2>/dev/null | grep -q LISTEN && return 0
    if ! kill -0 "$broker_pid" 2>/dev/null; then
      echo "broker: mosquitto exited during start-up:" >&2
      tail -5 "$dir/mosquitto.log" >&2
      broker_pid=
      return 1
    fi
    sleep 0.1
  done
  echo "broker: mosquitto does not listen on port $port after 10 s; see $dir/mosquitto.log" >&2
  return 1
}

broker_stop() {
  if [ -n "$broker_pid" ]; then
    kill -TERM "$broker_pid" 2>/dev/null || true
    wait "$broker_pid" 2>/dev/null || true
    broker_pid=
  fi
}
