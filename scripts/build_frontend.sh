#!/usr/bin/env bash
# Builds the web app into frontend/dist unless it is newer than every source file.
set -euo pipefail
cd "$(dirname "$0")/../frontend"
stamp=dist/index.html
if [ -f "$stamp" ] && [ -z "$(find src public index.html package.json package-lock.json vite.config.* scripts \
      -newer "$stamp" -print -quit 2>/dev/null)" ]; then
  echo "web app is up to date (frontend/dist)"
  exit 0
fi
npm run build --silent
echo "built frontend/dist"
