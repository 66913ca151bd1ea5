#!/usr/bin/env bash
# Starts the full stack on free loopback ports with a throw-away data directory: Mosquitto with
# dynamic security (scripts/broker.sh, as `make up` runs it) and the given factoryops binary with
# every role, holding one demo factory and its super admin; runs the browser end-to-end suite
# against it, and stops both whatever happens.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
source scripts/broker.sh
binary=$(realpath "${1:-build/factoryops}")
logs=${FACTORYOPS_TEST_LOG_DIR:-$root/build/e2e}
mkdir -p "$logs" "$root/build/e2e"
data=$(mktemp -d "${TMPDIR:-/tmp}/factoryops-e2e-XXXXXX")
free_port() { while :; do p=$(shuf -i 20000-60000 -n 1); ss -ltn "sport = :$p" | grep -q LISTEN || { echo "$p"; break; }; done; }
port=$(free_port)
mqtt_port=$(free_port)
while [ "$mqtt_port" = "$port" ]; do mqtt_port=$(free_port); done
secret="e2e-$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
echo "$secret" >>"$logs/secrets.txt"
# The super admin's password: 32 random characters, recorded like the JWT secret so the log
# scan can tell it never leaked into a log. The server refuses a password that contains the
# factory id or the email, so draw again in the unlikely case it does.
while :; do
  admin_password=$(head -c 24 /dev/urandom | base64 | tr '+/' '-_')
  shopt -s nocasematch
  [[ $admin_password == *e2e* || $admin_password == *admin* ]] || break
done
shopt -u nocasematch
echo "$admin_password" >>"$logs/secrets.txt"
# The broker's admin and the telemetry role's passwords, random like every other secret here.
mqtt_admin_password="e2e-$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
mqtt_password="e2e-$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
printf '%s\n%s\n' "$mqtt_admin_password" "$mqtt_password" >>"$logs/secrets.txt"

export FACTORYOPS_HTTP_PORT=$port FACTORYOPS_HTTP_ADDRESS=127.0.0.1 FACTORYOPS_DATA_DIR="$data" \
  FACTORYOPS_STATIC_DIR="$root/frontend/dist" FACTORYOPS_JWT_SECRET="$secret" \
  FACTORYOPS_MQTT_URL="mqtt://127.0.0.1:$mqtt_port" FACTORYOPS_MQTT_PROVISIONING=dynsec \
  FACTORYOPS_MQTT_ADMIN_PASSWORD="$mqtt_admin_password" FACTORYOPS_MQTT_PASSWORD="$mqtt_password"

export FACTORYOPS_E2E_FACTORY=e2e FACTORYOPS_E2E_EMAIL=admin@e2e.example \
  FACTORYOPS_E2E_SECRETS_FILE="$logs/secrets.txt" \
  FACTORYOPS_E2E_PASSWORD="$admin_password"
# The dashboard test runs `factoryops simulate` with the settings above (same metadata database,
# same broker); its output goes next to the server's log, so the log scan checks it too.
export FACTORYOPS_E2E_BINARY="$binary" FACTORYOPS_E2E_LOG_DIR="$logs"

pid=
cleanup() {
  if [ -n "$pid" ]; then
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  broker_stop
  cp "$data/mosquitto/mosquitto.log" "$logs/mosquitto-e2e.log" 2>/dev/null || true
  rm -rf "$data"
}
trap cleanup EXIT

# The demo tenant, made with the same commands an operator uses.
"$binary" migrate >>"$logs/factoryops-e2e.log" 2>&1 || {
  echo "factoryops migrate failed; see $logs/factoryops-e2e.log" >&2; exit 1; }
"$binary" admin create-factory --id "$FACTORYOPS_E2E_FACTORY" --name "E2E Works" --timezone UTC \
  >>"$logs/factoryops-e2e.log" 2>&1 || {
  echo "factoryops admin create-factory failed; see $logs/factoryops-e2e.log" >&2; exit 1; }
printf '%s\n' "$admin_password" |
  "$binary" admin create-user --factory "$FACTORYOPS_E2E_FACTORY" --email "$FACTORYOPS_E2E_EMAIL" \
    --role super_admin --name "E2E Admin" >>"$logs/factoryops-e2e.log" 2>&1 || {
  echo "factoryops admin create-user failed; see $logs/factoryops-e2e.log" >&2; exit 1; }

broker_start "$data/mosquitto" "$mqtt_port" 127.0.0.1 || { echo "the MQTT broker did not start" >&2; exit 1; }
"$binary" serve --roles=all >>"$logs/factoryops-e2e.log" 2>&1 &
pid=$!

# Healthy means every dependency answers, the broker included (the telemetry role subscribed).
for _ in $(seq 1 200); do
  curl -fsS "http://127.0.0.1:$port/health" 2>/dev/null | grep -q '"mqtt":"ok"' && break
  kill -0 "$pid" 2>/dev/null || { echo "factoryops exited during start-up; see $logs/factoryops-e2e.log" >&2; exit 1; }
  sleep 0.1
done
curl -fsS "http://127.0.0.1:$port/health" 2>/dev/null | grep -q '"mqtt":"ok"' || {
  echo "factoryops did not reach the MQTT broker within 20 s; see $logs/factoryops-e2e.log" >&2; exit 1; }
cd frontend
FACTORYOPS_E2E_URL="http://127.0.0.1:$port" FACTORYOPS_E2E_SCREENSHOTS="$root/build/e2e" npm run --silent e2e
