#!/usr/bin/env bash
# Runs FactoryOps on the embedded default in the foreground: SQLite metadata and the embedded
# telemetry engine under $FACTORYOPS_DATA_DIR (./var), the web app and the API on
# $FACTORYOPS_HTTP_PORT (8000), and a simulator feeding five demo machines once a second
# (FACTORYOPS_UP_SIMULATOR=0 leaves it out). Ctrl-C (SIGINT) or SIGTERM stops both gracefully.
set -euo pipefail
cd "$(dirname "$0")/.."

export FACTORYOPS_DATA_DIR="${FACTORYOPS_DATA_DIR:-./var}"
export FACTORYOPS_STATIC_DIR="${FACTORYOPS_STATIC_DIR:-frontend/dist}"
port="${FACTORYOPS_HTTP_PORT:-8000}"
mkdir -p "$FACTORYOPS_DATA_DIR"

if ss -ltn "sport = :$port" 2>/dev/null | grep -q LISTEN; then
  echo "up: port $port is already in use; set FACTORYOPS_HTTP_PORT to another port" >&2
  exit 1
fi

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

cat <<MSG

  FactoryOps is starting on the embedded default.
    web app        http://localhost:$port/
    API reference  http://localhost:$port/api/docs
    health         http://localhost:$port/health
    data           $FACTORYOPS_DATA_DIR
    sign in        factory "demo", admin@demo.example, password $demo_password
                   (kept in $demo_login)
    simulator      machines sim-001 … sim-005 post readings every second over HTTP
  Press Ctrl-C to stop.

MSG
build/factoryops serve --roles=all &
serve_pid=$!
sim_pid=
stop() {
  [ -n "$sim_pid" ] && kill -TERM "$sim_pid" 2>/dev/null
  kill -TERM "$serve_pid" 2>/dev/null
}
trap stop INT TERM
if [ "${FACTORYOPS_UP_SIMULATOR:-1}" != 0 ]; then
  for _ in $(seq 1 100); do
    curl -fs -o /dev/null "http://127.0.0.1:$port/health" && break
    kill -0 "$serve_pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$serve_pid" 2>/dev/null; then
    env -u FACTORYOPS_UP_SIMULATOR build/factoryops simulate --factory demo --devices 5 --rate 1 \
      --transport http --url "http://127.0.0.1:$port" >"$FACTORYOPS_DATA_DIR/simulator.log" 2>&1 &
    sim_pid=$!
  fi
fi
status=0
wait "$serve_pid" || status=$?
# A signal interrupts the first wait; wait again for the graceful shutdown to finish.
if kill -0 "$serve_pid" 2>/dev/null; then wait "$serve_pid" || status=$?; fi
[ -n "$sim_pid" ] && { kill -TERM "$sim_pid" 2>/dev/null; wait "$sim_pid" 2>/dev/null || true; }
exit "$status"
