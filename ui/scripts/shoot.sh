#!/usr/bin/env bash
# Screenshots of the UI with the dev mock, for design review (not a test).
# Usage: scripts/shoot.sh OUT.png 'QUERY' [WIDTHxHEIGHT] [BUDGET_MS]
# Needs `vite build --mode preview-mock` served at $BASE (default http://127.0.0.1:4173/).
set -euo pipefail
out=$1; query=${2:-}; size=${3:-1280x800}; budget=${4:-4000}
base=${BASE:-http://127.0.0.1:4173/}
chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
  --disable-component-update --disable-sync --no-first-run --hide-scrollbars \
  --user-data-dir="$(mktemp -d)" --force-device-scale-factor=1 \
  --virtual-time-budget="$budget" --window-size="${size/x/,}" \
  --screenshot="$out" "${base}?${query}" >/dev/null 2>&1
