#!/usr/bin/env bash
# Runs FactoryOps on the embedded default in the foreground: SQLite metadata under
# $FACTORYOPS_DATA_DIR (./var), the web app and the API on $FACTORYOPS_HTTP_PORT (8000).
# Ctrl-C (SIGINT) or SIGTERM stops it gracefully.
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

cat <<MSG

  FactoryOps is starting on the embedded default.
    web app        http://localhost:$port/
    API reference  http://localhost:$port/api/docs
    health         http://localhost:$port/health
    data           $FACTORYOPS_DATA_DIR
  Press Ctrl-C to stop.

MSG
exec build/factoryops serve --roles=all
