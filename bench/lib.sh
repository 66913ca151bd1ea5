# Shared by the bench/*.sh sections (sourced, not run): a temporary work directory removed on
# exit together with every server whose pid was added to `pids`, free loopback ports, waiting
# for a server to answer, and the median of a column of numbers.
#   bench_begin NAME   sets `work` and `pids` and installs the exit trap.

bench_begin() {
  work=$(mktemp -d "${TMPDIR:-/tmp}/factoryops-bench-$1-XXXXXX")
  # nginx workers drop to an unprivileged user when started as root: let them read the files.
  chmod 755 "$work"
  pids=()
  trap bench_cleanup EXIT
}

bench_cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}

free_port() {
  local p
  while :; do
    p=$(shuf -i 20000-60000 -n 1)
    ss -ltn "sport = :$p" | grep -q LISTEN || { echo "$p"; return; }
  done
}

# Any HTTP answer counts: a server that is up may still answer 4xx to a bare GET.
wait_http() {
  for _ in $(seq 1 100); do
    curl -s -o /dev/null "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "no answer from $1" >&2
  return 1
}

median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

# Mosquitto on a free loopback port with dynamic security (as `make up` runs it) and unlimited
# queues, so a backlog is kept rather than dropped. Sets mq_port, admin_password,
# telemetry_password and `ctrl` (mosquitto_ctrl dynsec as the admin). Needs bench_begin first.
bench_broker() {
  mq_port=$(free_port)
  admin_password="$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
  telemetry_password="$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
  mkdir -p "$work/mosquitto"
  mosquitto_ctrl dynsec init "$work/mosquitto/dynamic-security.json" factoryops-admin "$admin_password" >/dev/null
  plugin=
  for candidate in /usr/lib/*/mosquitto_dynamic_security.so /usr/lib/mosquitto_dynamic_security.so; do
    [ -f "$candidate" ] && plugin=$candidate && break
  done
  [ -n "$plugin" ] || { echo "mosquitto's dynamic-security plugin is not installed" >&2; exit 1; }
  cat >"$work/mosquitto/mosquitto.conf" <<CONF
per_listener_settings false
listener $mq_port 127.0.0.1
allow_anonymous false
plugin $plugin
plugin_opt_config_file $work/mosquitto/dynamic-security.json
persistence false
# Unlimited queues: a backlog the subscriber has not taken yet is kept, not dropped, so what
# is counted as lost was really lost.
max_queued_messages 0
max_inflight_messages 1000
user $(id -un)
log_dest stderr
log_type error
log_type warning
CONF
  mosquitto -c "$work/mosquitto/mosquitto.conf" 2>"$work/mosquitto.log" &
  pids+=($!)
  for _ in $(seq 1 50); do
    mosquitto_pub -p "$mq_port" -u factoryops-admin -P "$admin_password" -t '$CONTROL/ping' -n 2>/dev/null && break
    sleep 0.1
  done
  ctrl() { mosquitto_ctrl -p "$mq_port" -u factoryops-admin -P "$admin_password" dynsec "$@" >/dev/null 2>&1; }
}
