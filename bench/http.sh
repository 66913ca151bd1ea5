#!/usr/bin/env bash
# HTTP throughput of factoryops against nginx on the same machine in the same
# run, so the ratio means something on a shared, noisy machine. Prints req/s, p99 and the
# ratio for each of several alternating rounds, then the medians. Not a pass/fail test.
#   BENCH_DURATION (10s)  BENCH_CONNECTIONS (64)  BENCH_THREADS (2)  BENCH_ROUNDS (3)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
duration=${BENCH_DURATION:-10s}
connections=${BENCH_CONNECTIONS:-64}
threads=${BENCH_THREADS:-2}
rounds=${BENCH_ROUNDS:-3}

source bench/lib.sh
bench_begin http

# factoryops on the embedded default, release build; the HTTP API alone, so no broker provisions
# the benchmark's machines.
fo_port=$(free_port)
FACTORYOPS_HTTP_PORT=$fo_port FACTORYOPS_HTTP_ADDRESS=127.0.0.1 FACTORYOPS_DATA_DIR="$work/data" \
  FACTORYOPS_MQTT_PROVISIONING=off FACTORYOPS_LOG_LEVEL=warning FACTORYOPS_JWT_SECRET="bench-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')" \
  build/factoryops serve --roles=api >"$work/factoryops.log" 2>&1 &
pids+=($!)

# nginx serving a small static JSON file of the same size as the health answer.
ng_port=$(free_port)
mkdir -p "$work/nginx/html" "$work/nginx/tmp"
wait_http "http://127.0.0.1:$fo_port/health"
curl -fsS "http://127.0.0.1:$fo_port/health" >"$work/nginx/html/health.json"
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
  server {
    listen 127.0.0.1:$ng_port;
    root $work/nginx/html;
    location = /health { default_type application/json; try_files /health.json =404; }
  }
}
CONF
/usr/sbin/nginx -c "$work/nginx/nginx.conf" -p "$work/nginx" &
pids+=($!)
wait_http "http://127.0.0.1:$ng_port/health"

# wrk prints "Requests/sec: N" and, with --latency, a "99% X" line in ms/us/s.
measure() {  # url [wrk args...] -> "rps p99_ms"
  local url=$1 out rps p99 value unit
  shift
  out=$(wrk -t"$threads" -c"$connections" -d"$duration" --latency "$@" "$url")
  rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  value=$(sed -E 's/[a-z]+$//' <<<"$p99"); unit=$(sed -E 's/^[0-9.]+//' <<<"$p99")
  case "$unit" in
    us) p99=$(awk -v v="$value" 'BEGIN {printf "%.3f", v / 1000}') ;;
    ms) p99=$value ;;
    s) p99=$(awk -v v="$value" 'BEGIN {printf "%.3f", v * 1000}') ;;
  esac
  echo "$rps $p99"
}


echo "GET /health: factoryops vs nginx (static file), wrk -t$threads -c$connections -d$duration, $rounds rounds"
printf '%-7s %14s %12s %14s %12s %8s\n' round "factoryops r/s" "p99 ms" "nginx r/s" "p99 ms" ratio
fo_rps=(); fo_p99=(); ng_rps=(); ng_p99=(); ratios=()
for round in $(seq 1 "$rounds"); do
  read -r a ap < <(measure "http://127.0.0.1:$fo_port/health")
  read -r b bp < <(measure "http://127.0.0.1:$ng_port/health")
  r=$(awk -v a="$a" -v b="$b" 'BEGIN {printf "%.2f", a / b}')
  fo_rps+=("$a"); fo_p99+=("$ap"); ng_rps+=("$b"); ng_p99+=("$bp"); ratios+=("$r")
  printf '%-7s %14s %12s %14s %12s %8s\n' "$round" "$a" "$ap" "$b" "$bp" "$r"
done
printf '%-7s %14s %12s %14s %12s %8s\n' median \
  "$(printf '%s\n' "${fo_rps[@]}" | median)" "$(printf '%s\n' "${fo_p99[@]}" | median)" \
  "$(printf '%s\n' "${ng_rps[@]}" | median)" "$(printf '%s\n' "${ng_p99[@]}" | median)" \
  "$(printf '%s\n' "${ratios[@]}" | median)"
echo "target: factoryops >= 0.5 x nginx (ratio column)"

# Authenticated listing: a factory with 100 machines, GET /api/v1/devices?limit=100 with a
# bearer token, against /health of the same process in the same run.
fo=build/factoryops
fo_env=(env FACTORYOPS_DATA_DIR="$work/data")
"${fo_env[@]}" "$fo" admin create-factory --id bench --name "Bench Works" --timezone UTC >/dev/null
password="$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
echo "$password" | "${fo_env[@]}" "$fo" admin create-user --factory bench --email bench@bench.example \
  --role super_admin --name "Bench" >/dev/null
token=$(curl -fsS -H 'Content-Type: application/json' \
  -d "{\"factory_id\":\"bench\",\"email\":\"bench@bench.example\",\"password\":\"$password\"}" \
  "http://127.0.0.1:$fo_port/api/v1/auth/login" | sed -E 's/.*"access_token":"([^"]+)".*/\1/')
for i in $(seq -w 1 100); do
  curl -fsS -o /dev/null -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
    -d "{\"device_id\":\"meter-$i\",\"name\":\"Meter $i\",\"type\":\"energy-meter\",\"line\":\"line-$((10#$i % 4))\"}" \
    "http://127.0.0.1:$fo_port/api/v1/devices"
done
echo
echo "GET /api/v1/devices?limit=100 (100 machines, bearer token) vs GET /health, same process, $rounds rounds"
printf '%-7s %14s %12s %14s %12s %8s\n' round "devices r/s" "p99 ms" "health r/s" "p99 ms" ratio
dv_rps=(); dv_p99=(); h_rps=(); h_p99=(); dv_ratios=()
for round in $(seq 1 "$rounds"); do
  read -r a ap < <(measure "http://127.0.0.1:$fo_port/api/v1/devices?limit=100" -H "Authorization: Bearer $token")
  read -r b bp < <(measure "http://127.0.0.1:$fo_port/health")
  r=$(awk -v a="$a" -v b="$b" 'BEGIN {printf "%.2f", a / b}')
  dv_rps+=("$a"); dv_p99+=("$ap"); h_rps+=("$b"); h_p99+=("$bp"); dv_ratios+=("$r")
  printf '%-7s %14s %12s %14s %12s %8s\n' "$round" "$a" "$ap" "$b" "$bp" "$r"
done
printf '%-7s %14s %12s %14s %12s %8s\n' median \
  "$(printf '%s\n' "${dv_rps[@]}" | median)" "$(printf '%s\n' "${dv_p99[@]}" | median)" \
  "$(printf '%s\n' "${h_rps[@]}" | median)" "$(printf '%s\n' "${h_p99[@]}" | median)" \
  "$(printf '%s\n' "${dv_ratios[@]}" | median)"
echo "target: devices >= 0.5 x health (ratio column)"
