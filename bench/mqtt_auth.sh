#!/usr/bin/env bash
# The broker's questions on a warm key cache: POST /internal/mqtt/authn and /internal/mqtt/authz
# with the bodies EMQX renders (deploy/emqx/emqx.conf) for a real device created through the
# API, against GET /health of the same server (answered from memory on the network thread) in
# the same run. wrk with one connection gives the per-request latency (p50/p99, no queueing);
# with several connections, the throughput. Several alternating rounds, then the medians.
# Not a pass/fail test.
#   BENCH_DURATION (5s)  BENCH_CONNECTIONS (16)  BENCH_ROUNDS (3)  BENCH_FACTORYOPS_BIN (build/factoryops)
set -euo pipefail
cd "$(dirname "$0")/.."
duration=${BENCH_DURATION:-5s}
connections=${BENCH_CONNECTIONS:-16}
rounds=${BENCH_ROUNDS:-3}
fo=${BENCH_FACTORYOPS_BIN:-build/factoryops}

source bench/lib.sh
bench_begin mqtt-auth

random_hex() { head -c "$1" /dev/urandom | od -An -tx1 | tr -d ' \n'; }
secret="bench-broker-$(random_hex 16)"
telemetry_password="bench-telemetry-$(random_hex 16)"
port=$(free_port)
fo_env=(env FACTORYOPS_DATA_DIR="$work/data" FACTORYOPS_LOG_LEVEL=warning FACTORYOPS_HTTP_PORT="$port"
  FACTORYOPS_HTTP_ADDRESS=127.0.0.1 FACTORYOPS_JWT_SECRET="bench-$(random_hex 16)"
  FACTORYOPS_MQTT_AUTH_SECRET="$secret" FACTORYOPS_MQTT_PASSWORD="$telemetry_password"
  FACTORYOPS_MQTT_PROVISIONING=off)
"${fo_env[@]}" "$fo" serve --roles=api >"$work/factoryops.log" 2>&1 &
pids+=($!)
base="http://127.0.0.1:$port"
wait_http "$base/health" || { cat "$work/factoryops.log" >&2; exit 1; }

# A factory, its first user, and a device created through the API as a person would.
"${fo_env[@]}" "$fo" admin create-factory --id bench --name "Bench Works" --timezone UTC >/dev/null
password="Pw-$(random_hex 12)-zq"
echo "$password" | "${fo_env[@]}" "$fo" admin create-user --factory bench --email owner@bench.example \
  --role super_admin --name Owner >/dev/null
token=$(curl -fsS -H 'Content-Type: application/json' \
  -d "{\"factory_id\":\"bench\",\"email\":\"owner@bench.example\",\"password\":\"$password\"}" \
  "$base/api/v1/auth/login" | sed -E 's/.*"access_token":"([^"]+)".*/\1/')
key=$(curl -fsS -H 'Content-Type: application/json' -H "Authorization: Bearer $token" \
  -d '{"device_id":"press-1","name":"Press 1"}' "$base/api/v1/devices" | sed -E 's/.*"api_key":"([^"]+)".*/\1/')

authn_body="{\"username\":\"$key\",\"password\":\"$key\",\"clientid\":\"press-1\",\"peerhost\":\"10.0.0.7\"}"
authz_body="{\"username\":\"$key\",\"clientid\":\"press-1\",\"peerhost\":\"10.0.0.7\",\"action\":\"publish\",\"topic\":\"factories/bench/devices/press-1/telemetry\"}"
for kind in authn authz; do
  body_var="${kind}_body"
  cat >"$work/$kind.lua" <<LUA
wrk.method = "POST"
wrk.body = '${!body_var}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $secret"
LUA
  # Warms the cache, and shows the answer is the one being measured.
  answer=$(curl -fsS -H 'Content-Type: application/json' -H "Authorization: Bearer $secret" \
    -d "${!body_var}" "$base/internal/mqtt/$kind")
  [[ $answer == *'"result":"allow"'* ]] || { echo "unexpected $kind answer: $answer" >&2; exit 1; }
done

to_ms() {  # wrk prints 812.00us, 1.20ms or 1.01s
  local value unit
  value=$(sed -E 's/[a-z]+$//' <<<"$1"); unit=$(sed -E 's/^[0-9.]+//' <<<"$1")
  case "$unit" in
    us) awk -v v="$value" 'BEGIN {printf "%.3f", v / 1000}' ;;
    s) awk -v v="$value" 'BEGIN {printf "%.3f", v * 1000}' ;;
    *) printf '%.3f' "$value" ;;
  esac
}

measure() {  # connections url [wrk args...] -> "rps p50_ms p99_ms non2xx"
  local c=$1 url=$2 out
  shift 2
  out=$(wrk -t1 -c"$c" -d"$duration" --latency "$@" "$url")
  echo "$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")" \
    "$(to_ms "$(awk '$1 == "50%" {print $2}' <<<"$out")")" \
    "$(to_ms "$(awk '$1 == "99%" {print $2}' <<<"$out")")" \
    "$(awk '/Non-2xx/ {print $NF}' <<<"$out" | grep . || echo 0)"
}

echo "broker auth on a warm key cache: wrk -t1 -d$duration, $rounds rounds; $(nproc) cores shared with wrk"
echo "reference: GET /health (cached, answered on the network thread) of the same server"
for c in 1 "$connections"; do
  echo
  echo "$c connection(s)"
  printf '%-7s %-8s %12s %9s %9s %7s\n' round route "r/s" "p50 ms" "p99 ms" non2xx
  declare -A rps=() p50=() p99=()
  for round in $(seq 1 "$rounds"); do
    for route in health authn authz; do
      if [[ $route == health ]]; then
        read -r r a b e < <(measure "$c" "$base/health")
      else
        read -r r a b e < <(measure "$c" "$base/internal/mqtt/$route" -s "$work/$route.lua")
      fi
      rps[$route]+="$r "; p50[$route]+="$a "; p99[$route]+="$b "
      printf '%-7s %-8s %12s %9s %9s %7s\n' "$round" "$route" "$r" "$a" "$b" "$e"
    done
  done
  for route in health authn authz; do
    printf '%-7s %-8s %12s %9s %9s\n' median "$route" \
      "$(tr ' ' '\n' <<<"${rps[$route]}" | grep . | median)" \
      "$(tr ' ' '\n' <<<"${p50[$route]}" | grep . | median)" \
      "$(tr ' ' '\n' <<<"${p99[$route]}" | grep . | median)"
  done
  unset rps p50 p99
done
echo
echo "target: authn and authz p99 < 1 ms with one connection (answered from the key cache, no pool hop)"
