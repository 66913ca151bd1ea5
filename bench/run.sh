#!/usr/bin/env bash
# `make bench`: every benchmark of the project, each comparing against a reference measured in
# the same run (the machine is shared and noisy: ratios and medians, not absolute figures).
# Not a pass/fail test. Sections: HTTP (bench/http.sh), telemetry storage (bench/tsdb.sh),
# HTTP ingest (bench/ingest.sh), MQTT ingestion (bench/mqtt.sh), the broker auth endpoints
# (bench/mqtt_auth.sh), publish-to-alert latency (bench/alerts.sh), then the Google
# Benchmark micro-benchmarks.
set -euo pipefail
cd "$(dirname "$0")/.."
for section in http tsdb ingest mqtt mqtt_auth alerts; do
  if [[ -f "bench/$section.sh" ]]; then
    echo "==== $section"
    bash "bench/$section.sh"
    echo
  fi
done
shopt -s nullglob
for b in build/bench/*_bench; do
  echo "==== $b"
  "$b" --benchmark_min_time=0.2
done
