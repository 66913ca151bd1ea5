#!/usr/bin/env bash
# Runs every test suite of FactoryOps and prints one line per suite and a closing summary.
# Exits non-zero when any suite fails or runs no test. Used by `make test` and CI.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

build_dir=build/coverage
logs="$root/$build_dir/test-logs"
export FACTORYOPS_TEST_LOG_DIR="$logs"
rm -rf "$logs" && mkdir -p "$logs"

passed=0
failed=0
summary=()

# Every suite reports how long it took, so a slow one shows in CI's log.
started=$SECONDS
begin() {  # name [what]
  started=$SECONDS
  echo "== $1: ${2:-running}"
}

record() {  # name status detail
  if [ "$2" = pass ]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
  local took="$((SECONDS - started)) s"
  summary+=("$(printf '  %-16s %-5s %6s  %s' "$1" "$2" "$took" "$3")")
  echo "== $1: $2 $3 [$took]"
}

# A GoogleTest binary passes when it exits 0 and ran at least one test.
gtest_suite() {  # name binary [args...]
  local name=$1; shift
  local out="$logs/$name.out"
  begin "$name"
  # No `|| true` here: under pipefail it would run on any failure and PIPESTATUS would be its own.
  "$@" --gtest_color=no 2>&1 | tee "$out" | grep -E '^\[  (FAILED|PASSED|SKIPPED) |^\[==========\]'
  local rc=${PIPESTATUS[0]}
  local count
  count=$(grep -oE '^\[==========\] [0-9]+ tests? from [0-9]+ test suites? ran' "$out" | grep -oE '[0-9]+' | head -1)
  if [ "$rc" -ne 0 ]; then
    grep -E '^\[  FAILED  \]' "$out" | sort -u | head -40
    record "$name" fail "(exit $rc; log $out)"
  elif [ -z "$count" ] || [ "$count" -eq 0 ]; then
    record "$name" fail "(ran no test)"
  elif grep -qE '^\[  SKIPPED \] [1-9]' "$out"; then
    record "$name" fail "(tests were skipped; a skipped test proves nothing)"
  else
    record "$name" pass "($count tests)"
  fi
}

step() {  # name command...
  local name=$1; shift
  begin "$name"
  if "$@" >"$logs/$name.out" 2>&1; then
    record "$name" pass ""
  else
    tail -40 "$logs/$name.out"
    record "$name" fail "(log $logs/$name.out)"
  fi
}

step format-cpp bash scripts/lint.sh format
begin build "configuring and compiling ($build_dir)"
if ! { cmake --preset coverage >"$logs/build.out" 2>&1 && cmake --build --preset coverage -j "$(nproc)" >>"$logs/build.out" 2>&1; }; then
  tail -60 "$logs/build.out"
  record build fail "(log $logs/build.out)"
  echo "suites: $passed passed, $failed failed"
  exit 1
fi
record build pass ""
# The optimised build users get from `make build`: optimisation brings its own warnings.
step release-build bash -c 'cmake --preset release >/dev/null && cmake --build --preset release -j "$(nproc)"'
step static-analysis bash scripts/lint.sh cppcheck "$build_dir"

find "$build_dir" -name '*.gcda' -delete
gtest_suite unit "$build_dir/tests/unit_tests"
gtest_suite integration "$build_dir/tests/integration_tests"

step frontend-build bash scripts/build_frontend.sh
step frontend-lint bash -c 'cd frontend && npm run --silent lint && npm run --silent format:check'
begin frontend-unit
if (cd frontend && NO_COLOR=1 npx vitest run --reporter=dot) >"$logs/frontend-unit.out" 2>&1; then
  count=$(sed 's/\x1b\[[0-9;]*m//g' "$logs/frontend-unit.out" | grep -oE 'Tests +[0-9]+ passed' | grep -oE '[0-9]+' | head -1)
  if [ -n "$count" ] && [ "$count" -gt 0 ]; then record frontend-unit pass "($count tests)"; else record frontend-unit fail "(ran no test)"; fi
else
  tail -40 "$logs/frontend-unit.out"
  record frontend-unit fail "(log $logs/frontend-unit.out)"
fi

begin e2e
# A browser suite that hangs must fail on its own, not run into CI's limit: 20 minutes is four
# times what it takes.
if timeout --kill-after=30 1200 bash scripts/e2e.sh "$build_dir/factoryops" >"$logs/e2e.out" 2>&1; then
  count=$(grep -oE '^# pass [0-9]+' "$logs/e2e.out" | grep -oE '[0-9]+' | tail -1)
  if [ -n "$count" ] && [ "$count" -gt 0 ]; then record e2e pass "($count tests, screenshots in build/e2e)"; else record e2e fail "(ran no test)"; fi
else
  tail -60 "$logs/e2e.out"
  record e2e fail "(log $logs/e2e.out)"
fi

step log-secrets bash scripts/check_log_secrets.sh "$logs"

echo "== coverage"
if gcovr --root . --filter 'src/' --exclude '.*_test\.cpp' --print-summary --txt "$logs/coverage.txt" \
     "$build_dir" >"$logs/coverage-summary.out" 2>&1; then
  grep -E '^(lines|functions|branches):' "$logs/coverage-summary.out" | sed 's/^/  backend /'
  echo "  (target above 80% of lines; per-file figures in $logs/coverage.txt)"
else
  tail -20 "$logs/coverage-summary.out"
  record coverage fail "(gcovr failed)"
fi

echo
echo "FactoryOps test summary:"
printf '%s\n' "${summary[@]}"
echo "suites: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
