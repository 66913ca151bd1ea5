# Shared by the bench/*.sh sections (sourced, not run): a temporary work directory removed on
# exit together with every server whose pid was added to `pids`, free loopback ports, waiting
# for a server to answer, and the median of a column of numbers.
#   bench_begin NAME   sets `work` and `pids` and installs the exit trap.

bench_begin() {
  work=$(mktemp -d "${TMPDIR:-/tmp}/factoryops-bench-$1-XXXXXX")
  # nginx workers drop to an unprivileged user when started as root: let them read the files.
  chmod 755 "$work"
  pids=()
  trap bench_cleanup EXIT
}

bench_cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}

free_port() {
  local p
  while :; do
    p=$(shuf -i 20000-60000 -n 1)
    ss -ltn "sport = :$p" | grep -q LISTEN || { echo "$p"; return; }
  done
}

# Any HTTP answer counts: a server that is up may still answer 4xx to a bare GET.
wait_http() {
  for _ in $(seq 1 100); do
    curl -s -o /dev/null "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "no answer from $1" >&2
  return 1
}

median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
