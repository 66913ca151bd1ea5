#!/usr/bin/env bash
# Fails when any secret the test run used (JWT secrets, database passwords, user passwords,
# tokens, device keys: the harness lists each one in secrets.txt) appears in a log line written
# by factoryops during the run.
set -euo pipefail
logs=${1:?usage: check_log_secrets.sh LOG_DIR}
secrets="$logs/secrets.txt"
shopt -s nullglob
files=("$logs"/factoryops-*.log "$logs"/*/factoryops-*.log)
if [ ${#files[@]} -eq 0 ]; then
  echo "no factoryops logs under $logs: nothing was checked" >&2
  exit 1
fi
if [ ! -s "$secrets" ]; then
  echo "no secrets were registered by the test run ($secrets): nothing was checked" >&2
  exit 1
fi
leaks=0
checked=0
while IFS= read -r secret; do
  [ ${#secret} -ge 8 ] || continue
  checked=$((checked + 1))
  if grep -lF -- "$secret" "${files[@]}" >/dev/null; then
    echo "a secret of length ${#secret} appears in: $(grep -lF -- "$secret" "${files[@]}" | tr '\n' ' ')" >&2
    leaks=$((leaks + 1))
  fi
done < <(sort -u "$secrets")
# Credentials that should never be logged whatever their value.
if grep -nE '"(authorization|password|refresh_token|access_token)":"[^[]' "${files[@]}" >&2; then
  leaks=$((leaks + 1))
fi
if grep -nE 'Bearer [A-Za-z0-9_-]{10,}' "${files[@]}" >&2; then leaks=$((leaks + 1)); fi
echo "checked $checked secrets against ${#files[@]} log files: $leaks leaks"
[ "$leaks" -eq 0 ]
