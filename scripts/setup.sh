#!/usr/bin/env bash
# Installs everything FactoryOps needs to build, run and test on Debian 12, as root.
# Idempotent: packages already present are skipped, so a second run costs a few seconds.
set -euo pipefail

cd "$(dirname "$0")/.."

build_packages=(
  build-essential cmake ninja-build ccache pkg-config git
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libcli11-dev libspdlog-dev libfmt-dev libtomlplusplus-dev
  libsqlite3-dev libmariadb-dev libssl-dev libcurl4-openssl-dev libhiredis-dev libjwt-dev zlib1g-dev libhowardhinnant-date-dev libmosquitto-dev
  libgtest-dev libgmock-dev libbenchmark-dev
)
service_packages=(
  mariadb-server mariadb-client redis-server mosquitto mosquitto-clients python3-paho-mqtt influxdb nginx-light sqlite3 tzdata
  python3-aiosmtpd openssl
)
tool_packages=(
  clang-format clang-tidy cppcheck gcovr wrk chromium curl ca-certificates procps psmisc iproute2
)
all=("${build_packages[@]}" "${service_packages[@]}" "${tool_packages[@]}")

missing=()
for p in "${all[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: these Debian packages are missing and installing them needs root: ${missing[*]}" >&2
    exit 1
  fi
  echo "setup: installing ${#missing[@]} Debian packages: ${missing[*]}"
  # The tests and 'make up' start their own servers on loopback; keep the packages' init
  # scripts from starting system-wide instances during installation.
  policy=/usr/sbin/policy-rc.d
  created_policy=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod +x "$policy"
    created_policy=1
  fi
  trap '[ "$created_policy" = 1 ] && rm -f "$policy"' EXIT
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null
else
  echo "setup: Debian packages present"
fi

for tool in node npm; do
  command -v "$tool" >/dev/null || { echo "setup: $tool (Node.js 20) is required" >&2; exit 1; }
done

if [ -f frontend/package.json ]; then
  stamp=frontend/node_modules/.package-lock.json
  if [ ! -f "$stamp" ] || [ frontend/package-lock.json -nt "$stamp" ]; then
    echo "setup: installing front-end packages"
    # SCARF_ANALYTICS=false: swagger-ui-dist depends on a package whose install script would
    # otherwise try to report the installation to a third party.
    (cd frontend && SCARF_ANALYTICS=false npm ci --no-audit --no-fund --loglevel=error)
  else
    echo "setup: front-end packages present"
  fi
fi
echo "setup: done"
