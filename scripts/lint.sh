#!/usr/bin/env bash
# Static quality gates for the backend.
#   lint.sh format            clang-format check of every C++ file
#   lint.sh cppcheck BUILDDIR cppcheck over src/ using BUILDDIR/compile_commands.json
set -euo pipefail
cd "$(dirname "$0")/.."

cpp_files() { find src tests bench -name '*.cpp' -o -name '*.hpp' | sort; }

case "${1:-all}" in
  format)
    cpp_files | xargs clang-format --dry-run --Werror
    echo "clang-format: $(cpp_files | wc -l) files formatted"
    ;;
  cppcheck)
    build_dir=${2:-build/coverage}
    mkdir -p "$build_dir/cppcheck"
    # Only our own sources: tests and generated files are excluded from the project file.
    cppcheck --project="$build_dir/compile_commands.json" --file-filter="src/*" \
      --cppcheck-build-dir="$build_dir/cppcheck" --enable=warning,performance,portability \
      --inline-suppr --suppress=missingIncludeSystem --suppressions-list=scripts/cppcheck.supp \
      --error-exitcode=1 --quiet -j "$(nproc)"
    echo "cppcheck: no findings"
    ;;
  all)
    "$0" format
    "$0" cppcheck "${2:-build/coverage}"
    (cd frontend && npm run --silent lint && npm run --silent format:check)
    ;;
  *)
    echo "usage: lint.sh format | cppcheck [BUILDDIR] | all" >&2
    exit 2
    ;;
esac
