#!/usr/bin/env bash
# Publish-to-alert-opened latency of the rule engine, end to end: Mosquitto (as `make up` runs
# it), `factoryops serve --roles=all` on the embedded defaults (SQL job queue), K simulated
# machines publishing QoS 1 readings over MQTT at a fixed rate (half the sustained rate that
# bench/mqtt.sh measures), and a probe machine with a zero-duration rule: the probe publishes a
# value over the threshold and times how long until GET /api/v1/alerts shows the alert open,
# then lets it clear, and repeats. Not a pass/fail test.
#   BENCH_ALERTS_DEVICES (50)  BENCH_ALERTS_RATE (total readings/s, 7000)  BENCH_ALERTS_PROBES (100)
#   BENCH_FACTORYOPS_BIN (build/factoryops)
set -euo pipefail
cd "$(dirname "$0")/.."
devices=${BENCH_ALERTS_DEVICES:-50}
rate=${BENCH_ALERTS_RATE:-7000}
probes=${BENCH_ALERTS_PROBES:-100}
fo=${BENCH_FACTORYOPS_BIN:-build/factoryops}

source bench/lib.sh
bench_begin alerts
bench_broker

fo_port=$(free_port)
fo_env=(env FACTORYOPS_DATA_DIR="$work/data" FACTORYOPS_LOG_LEVEL=warning FACTORYOPS_HTTP_PORT="$fo_port"
  FACTORYOPS_HTTP_ADDRESS=127.0.0.1 FACTORYOPS_MQTT_URL="mqtt://127.0.0.1:$mq_port"
  FACTORYOPS_MQTT_ADMIN_PASSWORD="$admin_password" FACTORYOPS_MQTT_PASSWORD="$telemetry_password"
  FACTORYOPS_JWT_SECRET="bench-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')")
"${fo_env[@]}" "$fo" serve --roles=all >>"$work/factoryops.log" 2>&1 &
pids+=($!)
wait_http "http://127.0.0.1:$fo_port/health" || { cat "$work/factoryops.log" >&2; exit 1; }
for _ in $(seq 1 200); do
  curl -s "http://127.0.0.1:$fo_port/health" | grep -q '"mqtt":"ok"' && break
  sleep 0.1
done
"${fo_env[@]}" "$fo" admin create-factory --id bench --name "Bench Works" --timezone UTC >/dev/null
password="$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
echo "$password" | "${fo_env[@]}" "$fo" admin create-user --factory bench --email bench@bench.example \
  --role super_admin --name "Bench" >/dev/null
api="http://127.0.0.1:$fo_port"
token=$(curl -fsS -H 'Content-Type: application/json' \
  -d "{\"factory_id\":\"bench\",\"email\":\"bench@bench.example\",\"password\":\"$password\"}" \
  "$api/api/v1/auth/login" | sed -E 's/.*"access_token":"([^"]+)".*/\1/')
probe_key=$(curl -fsS -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
  -d '{"device_id":"probe","name":"Alert probe"}' "$api/api/v1/devices" |
  sed -E 's/.*"api_key":"([^"]+)".*/\1/')
curl -fsS -o /dev/null -H "Authorization: Bearer $token" -H 'Content-Type: application/json' -d '{
  "name": "Probe over 100", "severity": "critical",
  "scope": {"kind": "devices", "device_ids": ["probe"]},
  "conditions": [{"kind": "threshold", "parameter": "probe_kw", "op": ">", "threshold": 100}],
  "duration_seconds": 0, "clear_after_seconds": 0, "cooldown_seconds": 0,
  "channels": {"in_app": true}}' "$api/api/v1/rules"

echo "publish to alert opened: zero-duration rule, $devices machines over MQTT at $rate readings/s in all"
echo "broker, load generator and factoryops (every role) share $(nproc) cores"
per_machine=$(awk -v r="$rate" -v k="$devices" 'BEGIN {printf "%.2f", r / k}')
"${fo_env[@]}" "$fo" simulate --factory bench --devices "$devices" --rate "$per_machine" --duration 3600 \
  --transport mqtt --qos 1 --url "mqtt://127.0.0.1:$mq_port" >"$work/simulate.out" 2>&1 &
load_pid=$!
pids+=("$load_pid")
sleep 10
read -r p50 p99 samples late < <(/usr/bin/python3 bench/alerts_probe.py 127.0.0.1 "$mq_port" "$probe_key" bench \
  probe "$api" "$token" "$probes" | tail -1)
kill -TERM "$load_pid" 2>/dev/null || true
wait "$load_pid" 2>/dev/null || true
stored=$(curl -s "$api/metrics" | sed -nE 's/^mqtt_messages_total\{kind="telemetry",result="processed"\} ([0-9.e+]+)$/\1/p' |
  awk '{printf "%d", $1}')
echo "  p50 ${p50} ms, p99 ${p99} ms over $samples alerts, $late not open within 10 s (target p99 <= 1000 ms)"
echo "  readings stored meanwhile: $stored"
