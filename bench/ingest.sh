#!/usr/bin/env bash
# HTTP ingest end to end: `factoryops simulate` (rate 0, batches of 100 readings of about 12
# metrics) posting to POST /api/v1/ingest of a factoryops on a free port with a temporary data
# directory, against the same requests answered by nginx with `return 202` (no parsing, no
# storage) in the same run. Prints values/s of each for several alternating rounds, then the
# medians and the ratio. Not a pass/fail test.
#   BENCH_INGEST_DURATION (10)  BENCH_INGEST_DEVICES (20)  BENCH_INGEST_CONNECTIONS (4)
#   BENCH_ROUNDS (3)  BENCH_FACTORYOPS_BIN (build/factoryops)
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${BENCH_INGEST_DURATION:-10}
devices=${BENCH_INGEST_DEVICES:-20}
connections=${BENCH_INGEST_CONNECTIONS:-4}
rounds=${BENCH_ROUNDS:-3}
fo=${BENCH_FACTORYOPS_BIN:-build/factoryops}

source bench/lib.sh
bench_begin ingest

fo_port=$(free_port)
fo_env=(env FACTORYOPS_DATA_DIR="$work/data" FACTORYOPS_LOG_LEVEL=warning FACTORYOPS_HTTP_PORT="$fo_port"
  FACTORYOPS_HTTP_ADDRESS=127.0.0.1
  FACTORYOPS_JWT_SECRET="bench-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')")
"${fo_env[@]}" "$fo" serve --roles=api >"$work/factoryops.log" 2>&1 &
pids+=($!)
wait_http "http://127.0.0.1:$fo_port/health" || { cat "$work/factoryops.log" >&2; exit 1; }
"${fo_env[@]}" "$fo" admin create-factory --id bench --name "Bench Works" --timezone UTC >/dev/null

ng_port=$(free_port)
mkdir -p "$work/nginx/tmp"
cat >"$work/nginx/nginx.conf" <<CONF
worker_processes 2;
daemon off;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $work/nginx/tmp;
  proxy_temp_path $work/nginx/tmp;
  fastcgi_temp_path $work/nginx/tmp;
  uwsgi_temp_path $work/nginx/tmp;
  scgi_temp_path $work/nginx/tmp;
  keepalive_requests 1000000;
  client_max_body_size 512k;
  server {
    listen 127.0.0.1:$ng_port;
    location = /api/v1/ingest { default_type application/json; return 202 '{"accepted":100,"rejected":0,"dropped_fields":0,"errors":[]}'; }
  }
}
CONF
/usr/sbin/nginx -c "$work/nginx/nginx.conf" -p "$work/nginx" &
pids+=($!)
wait_http "http://127.0.0.1:$ng_port/api/v1/ingest"

# The simulator's last line: "simulate: done in 10.0 s: N requests, N readings, N values, N values/s, N errors".
measure() {  # url -> "values_per_s errors"
  local out
  out=$("${fo_env[@]}" "$fo" simulate --factory bench --devices "$devices" --rate 0 --batch 100 \
    --connections "$connections" --duration "$duration" --url "$1" 2>"$work/simulate.err" | tail -1)
  echo "$(sed -E 's/.* ([0-9]+) values\/s.*/\1/' <<<"$out") $(sed -E 's/.* ([0-9]+) errors$/\1/' <<<"$out")"
}


echo "POST /api/v1/ingest, $devices machines, batches of 100 readings, $connections connections, ${duration}s, $rounds rounds"
echo "factoryops (parse, validate, discover, store durably) vs nginx (return 202); $(nproc) cores shared with the load generator"
printf '%-7s %16s %8s %16s %8s %8s\n' round "factoryops v/s" errors "nginx v/s" errors ratio
fo_v=(); ng_v=(); ratios=()
for round in $(seq 1 "$rounds"); do
  read -r a ae < <(measure "http://127.0.0.1:$fo_port")
  read -r b be < <(measure "http://127.0.0.1:$ng_port")
  r=$(awk -v a="$a" -v b="$b" 'BEGIN {printf "%.2f", (b > 0) ? a / b : 0}')
  fo_v+=("$a"); ng_v+=("$b"); ratios+=("$r")
  printf '%-7s %16s %8s %16s %8s %8s\n' "$round" "$a" "$ae" "$b" "$be" "$r"
done
printf '%-7s %16s %8s %16s %8s %8s\n' median "$(printf '%s\n' "${fo_v[@]}" | median)" "" \
  "$(printf '%s\n' "${ng_v[@]}" | median)" "" "$(printf '%s\n' "${ratios[@]}" | median)"
echo "target: factoryops >= 200000 values/s on 2 cores (telemetry engine: embedded unless FACTORYOPS_TSDB_URL is set)"
