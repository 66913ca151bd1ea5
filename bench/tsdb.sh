#!/usr/bin/env bash
# Telemetry storage: the embedded engine against a local InfluxDB 1.x in the same run (write
# rate, bytes per value after compaction, query latency medians and their ratios). Starts a
# throw-away influxd on a free loopback port in a temporary directory and stops it at the end.
# Not a pass/fail test.
#   BENCH_TSDB_HOURS (24)  BENCH_TSDB_DEVICES (20)  BENCH_TSDB_LONG_DAYS (30)  BENCH_TSDB_ROUNDS (20)
#   BENCH_TSDB_YEAR_DAYS (365)  BENCH_TSDB_ZONE (Europe/Berlin)
#   BENCH_TSDB_ENGINES (embedded,influxdb)  TSDB_COMPARE (build/bench/tsdb_compare)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${TSDB_COMPARE:-build/bench/tsdb_compare}
engines=${BENCH_TSDB_ENGINES:-embedded,influxdb}
if [[ ! -x "$bin" ]]; then
  echo "tsdb: $bin is not built (make build)" >&2
  exit 1
fi

source bench/lib.sh
bench_begin tsdb

args=(--engines "$engines")
if [[ ",$engines," == *",influxdb,"* ]]; then
  http_port=$(free_port)
  rpc_port=$(free_port)
  # Short cold durations: the cache is snapshotted to TSM files and fully compacted seconds after
  # the load ends, so the data directory shows the compacted size (defaults are 10 min and 4 h).
  cat >"$work/influxdb.conf" <<CONF
reporting-disabled = true
bind-address = "127.0.0.1:$rpc_port"
[meta]
  dir = "$work/meta"
[data]
  dir = "$work/data"
  wal-dir = "$work/wal"
  query-log-enabled = false
  cache-snapshot-write-cold-duration = "5s"
  compact-full-write-cold-duration = "10s"
[monitor]
  store-enabled = false
[http]
  bind-address = "127.0.0.1:$http_port"
  log-enabled = false
  max-body-size = 0
[continuous_queries]
  log-enabled = false
CONF
  influxd run -config "$work/influxdb.conf" >"$work/influxd.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 200); do
    curl -fs -o /dev/null "http://127.0.0.1:$http_port/ping" && break
    sleep 0.1
  done
  curl -fs -o /dev/null "http://127.0.0.1:$http_port/ping" || { echo "influxd did not start" >&2; cat "$work/influxd.log" >&2; exit 1; }
  echo "influxd $(influxd version 2>/dev/null | head -1) on 127.0.0.1:$http_port"
  args+=(--influx-url "influxdb://127.0.0.1:$http_port/bench" --influx-data-dir "$work")
fi
"$bin" "${args[@]}" --embedded-dir "$work/embedded"
