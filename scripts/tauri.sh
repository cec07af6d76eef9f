#!/usr/bin/env bash
# Runs the Tauri CLI at the version pinned in scripts/lib/services.sh (installed into
# ~/.cache/rythm-backup on first use), from the repository root:
#
#   bash scripts/tauri.sh dev       # the app with the Vite dev server and hot reload
#   bash scripts/tauri.sh info      # what the CLI sees of this machine
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo_root"
# shellcheck source=scripts/lib/services.sh
source scripts/lib/services.sh
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/rythm-backup/target}

if [[ ! -d ui/node_modules ]]; then npm --prefix ui ci --no-audit --no-fund; fi
ensure_tauri_cli
exec "$TAURI_CLI" "$@"
