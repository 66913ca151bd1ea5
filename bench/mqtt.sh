#!/usr/bin/env bash
# MQTT ingestion end to end on the local Mosquitto (dynamic security, as `make up` runs it):
# K simulated machines, each its own connection and key, publish QoS 1 readings of about 10
# metrics as fast as the broker acknowledges, for D seconds.
#   1. factoryops serve --roles=api,telemetry (embedded engine): readings/s acknowledged by the
#      broker and readings/s stored, and whether every acknowledged reading was stored;
#   2. the same load with a null subscriber (mosquitto_sub -q 1 > /dev/null) instead of the
#      telemetry role: the rate the broker and the load generator reach without us. The ratio
#      ours/null is the headroom left to the broker's limit;
#   3. at half the sustained rate, p50/p99 from publish to queryable (a probe publishes a
#      numbered reading and polls GET …/telemetry/latest until it is there).
# Not a pass/fail test.
#   BENCH_MQTT_DEVICES (50)  BENCH_MQTT_DURATION (60)  BENCH_MQTT_PROBES (200)
#   BENCH_FACTORYOPS_BIN (build/factoryops)
set -euo pipefail
cd "$(dirname "$0")/.."
devices=${BENCH_MQTT_DEVICES:-50}
duration=${BENCH_MQTT_DURATION:-60}
probes=${BENCH_MQTT_PROBES:-200}
fo=${BENCH_FACTORYOPS_BIN:-build/factoryops}

source bench/lib.sh
bench_begin mqtt

# The broker, with dynamic security and an admin client FactoryOps provisions devices through.
bench_broker
null_password="$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
# The null subscriber may read every factory's telemetry.
ctrl createRole bench-null
ctrl addRoleACL bench-null subscribePattern 'factories/+/devices/+/telemetry' allow
ctrl createClient bench-null -p "$null_password"
ctrl addClientRole bench-null bench-null

fo_port=$(free_port)
fo_env=(env FACTORYOPS_DATA_DIR="$work/data" FACTORYOPS_LOG_LEVEL=warning FACTORYOPS_HTTP_PORT="$fo_port"
  FACTORYOPS_HTTP_ADDRESS=127.0.0.1 FACTORYOPS_MQTT_URL="mqtt://127.0.0.1:$mq_port"
  FACTORYOPS_MQTT_ADMIN_PASSWORD="$admin_password" FACTORYOPS_MQTT_PASSWORD="$telemetry_password"
  FACTORYOPS_JWT_SECRET="bench-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')")
serve_pid=
serve() {  # roles
  if [ -n "$serve_pid" ]; then kill -TERM "$serve_pid"; wait "$serve_pid" 2>/dev/null || true; fi
  "${fo_env[@]}" "$fo" serve --roles="$1" >>"$work/factoryops.log" 2>&1 &
  serve_pid=$!
  pids+=("$serve_pid")
  wait_http "http://127.0.0.1:$fo_port/health" || { cat "$work/factoryops.log" >&2; exit 1; }
}
mqtt_ready() {
  for _ in $(seq 1 200); do
    curl -s "http://127.0.0.1:$fo_port/health" | grep -q '"mqtt":"ok"' && return 0
    sleep 0.1
  done
  echo "the telemetry role did not connect" >&2; cat "$work/factoryops.log" >&2; exit 1
}
processed() {
  curl -s "http://127.0.0.1:$fo_port/metrics" |
    sed -nE 's/^mqtt_messages_total\{kind="telemetry",result="processed"\} ([0-9.e+]+)$/\1/p' | awk '{printf "%d", $1}'
}
serve api,telemetry
mqtt_ready
"${fo_env[@]}" "$fo" admin create-factory --id bench --name "Bench Works" --timezone UTC >/dev/null

# The simulator's last line: "simulate: done in 60.0 s: N requests, N readings, N values, N values/s, N errors".
simulate() {  # rate_per_machine duration -> "readings seconds errors"
  local out
  out=$("${fo_env[@]}" "$fo" simulate --factory bench --devices "$devices" --rate "$1" --duration "$2" \
    --transport mqtt --qos 1 --url "mqtt://127.0.0.1:$mq_port" 2>"$work/simulate.err" | tail -1)
  echo "$(sed -E 's/.* ([0-9]+) readings,.*/\1/' <<<"$out") $(sed -E 's/.*done in ([0-9.]+) s.*/\1/' <<<"$out") $(sed -E 's/.* ([0-9]+) errors$/\1/' <<<"$out")"
}

echo "MQTT QoS 1, $devices machines (one connection and key each), ~10 metrics per reading, ${duration}s per phase"
echo "broker, load generator and factoryops share $(nproc) cores"

# 1. FactoryOps takes the load.
before=$(processed)
read -r acked seconds errors < <(simulate 0 "$duration")
drain_start=$(date +%s.%N)
# The broker may hold a backlog: wait until everything is stored, or nothing moves for 15 s.
stored=$(( $(processed) - before ))
last=$stored
still=0
while [ "$stored" -lt "$acked" ] && [ "$still" -lt 150 ]; do
  sleep 0.1
  stored=$(( $(processed) - before ))
  if [ "$stored" -eq "$last" ]; then still=$((still + 1)); else still=0; last=$stored; fi
done
drain=$(awk -v a="$(date +%s.%N)" -v b="$drain_start" 'BEGIN {printf "%.1f", a - b}')
ours=$(awk -v n="$stored" -v s="$seconds" -v d="$drain" 'BEGIN {printf "%d", n / (s + d)}')
published=$(awk -v n="$acked" -v s="$seconds" 'BEGIN {printf "%d", n / s}')
lost=$(( acked - stored ))
[ "$lost" -lt 0 ] && lost=0
echo "factoryops: $acked readings acknowledged by the broker in ${seconds}s ($published/s), $stored stored" \
  "(the backlog drained ${drain}s after the run), not stored $lost, publish errors $errors"
echo "  sustained stored rate: $ours readings/s ($(( ours * 10 )) values/s)"

# 2. The same load with a null subscriber instead of the telemetry role.
serve api
mosquitto_sub -p "$mq_port" -u bench-null -P "$null_password" -q 1 -t 'factories/+/devices/+/telemetry' \
  >"$work/null.out" 2>"$work/null.err" &
null_pid=$!
pids+=("$null_pid")
sleep 1
read -r null_acked null_seconds null_errors < <(simulate 0 "$duration")
# As for FactoryOps: the broker's backlog is waited for, until nothing moves for 3 s.
null_drain_start=$(date +%s.%N)
null_received=$(wc -l <"$work/null.out")
last=-1
still=0
while [ "$null_received" -lt "$null_acked" ] && [ "$still" -lt 30 ]; do
  sleep 0.1
  null_received=$(wc -l <"$work/null.out")
  if [ "$null_received" -eq "$last" ]; then still=$((still + 1)); else still=0; last=$null_received; fi
done
null_drain=$(awk -v a="$(date +%s.%N)" -v b="$null_drain_start" 'BEGIN {printf "%.1f", a - b}')
kill -TERM "$null_pid" 2>/dev/null || true
wait "$null_pid" 2>/dev/null || true
null_received=$(wc -l <"$work/null.out")
null_rate=$(awk -v n="$null_received" -v s="$null_seconds" -v d="$null_drain" 'BEGIN {printf "%d", n / (s + d)}')
echo "null subscriber: $null_acked acknowledged, $null_received received (the backlog drained ${null_drain}s" \
  "after the run: $null_rate/s), publish errors $null_errors"
ratio=$(awk -v a="$ours" -v b="$null_rate" 'BEGIN {printf "%.2f", (b > 0) ? a / b : 0}')
echo "  ratio factoryops/null: $ratio (target >= 0.8); target >= 30000 readings/s stored"

# 3. Publish-to-queryable latency at half the sustained rate.
serve api,telemetry
mqtt_ready
# The broker kept what phase 2 published for the telemetry role's session: that backlog is
# taken first, so latency is measured in the steady state that follows.
last=-1
still=0
while [ "$still" -lt 20 ]; do
  sleep 0.1
  now=$(processed)
  if [ "$now" -eq "$last" ]; then still=$((still + 1)); else still=0; last=$now; fi
done
password="$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
echo "$password" | "${fo_env[@]}" "$fo" admin create-user --factory bench --email bench@bench.example \
  --role super_admin --name "Bench" >/dev/null
token=$(curl -fsS -H 'Content-Type: application/json' \
  -d "{\"factory_id\":\"bench\",\"email\":\"bench@bench.example\",\"password\":\"$password\"}" \
  "http://127.0.0.1:$fo_port/api/v1/auth/login" | sed -E 's/.*"access_token":"([^"]+)".*/\1/')
probe_key=$(curl -fsS -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
  -d '{"device_id":"probe","name":"Latency probe"}' "http://127.0.0.1:$fo_port/api/v1/devices" |
  sed -E 's/.*"api_key":"([^"]+)".*/\1/')
half=$(awk -v r="$ours" -v k="$devices" 'BEGIN {printf "%.2f", r / 2 / k}')
simulate "$half" $((duration / 2 + 30)) >/dev/null &
load_pid=$!
pids+=("$load_pid")
sleep 5
read -r p50 p99 samples late < <(/usr/bin/python3 bench/mqtt_probe.py 127.0.0.1 "$mq_port" "$probe_key" bench probe \
  "http://127.0.0.1:$fo_port" "$token" "$probes" | tail -1)
kill -TERM "$load_pid" 2>/dev/null || true
wait "$load_pid" 2>/dev/null || true
echo "publish to queryable at $half readings/s per machine ($(awk -v r="$half" -v k="$devices" 'BEGIN {printf "%d", r * k}')/s):" \
  "p50 ${p50} ms, p99 ${p99} ms over $samples samples, $late not queryable within 10 s (target p99 <= 250 ms)"
