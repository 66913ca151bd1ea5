#!/usr/bin/env bash
# Starts the given factoryops binary on a free loopback port with a throw-away data
# directory, runs the browser end-to-end suite against it, and stops it whatever happens.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
binary=$(realpath "${1:-build/factoryops}")
logs=${FACTORYOPS_TEST_LOG_DIR:-$root/build/e2e}
mkdir -p "$logs" "$root/build/e2e"
data=$(mktemp -d "${TMPDIR:-/tmp}/factoryops-e2e-XXXXXX")
port=$(while :; do p=$(shuf -i 20000-60000 -n 1); ss -ltn "sport = :$p" | grep -q LISTEN || { echo "$p"; break; }; done)
secret="e2e-$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
echo "$secret" >>"$logs/secrets.txt"

FACTORYOPS_HTTP_PORT=$port FACTORYOPS_HTTP_ADDRESS=127.0.0.1 FACTORYOPS_DATA_DIR="$data" \
  FACTORYOPS_STATIC_DIR="$root/frontend/dist" FACTORYOPS_JWT_SECRET="$secret" \
  "$binary" serve --roles=all >>"$logs/factoryops-e2e.log" 2>&1 &
pid=$!
cleanup() {
  kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  rm -rf "$data"
}
trap cleanup EXIT

for _ in $(seq 1 100); do
  curl -fsS "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break
  kill -0 "$pid" 2>/dev/null || { echo "factoryops exited during start-up; see $logs/factoryops-e2e.log" >&2; exit 1; }
  sleep 0.1
done
cd frontend
FACTORYOPS_E2E_URL="http://127.0.0.1:$port" FACTORYOPS_E2E_SCREENSHOTS="$root/build/e2e" npm run --silent e2e
