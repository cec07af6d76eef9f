#!/usr/bin/env bash
# Fails when the committed TypeScript bindings (ui/src/bindings/) differ from what the Rust
# types generate now: regenerates them into a temporary folder and compares. Fix a failure
# with `cargo test -p rythm-backup-admin --lib bindings`, which rewrites ui/src/bindings/.
#
#   bash scripts/check-bindings.sh [CARGO TEST ARGUMENTS, e.g. --features ...]
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo_root"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/rythm-backup/target}

fresh=$(mktemp -d)
trap 'rm -rf "$fresh"' EXIT

RYTHM_BINDINGS_DIR=$fresh cargo test --quiet -p rythm-backup-admin --lib "$@" bindings:: >/dev/null
if ! diff -ru ui/src/bindings "$fresh" >&2; then
    echo "ui/src/bindings/ is out of date: run 'cargo test -p rythm-backup-admin --lib bindings' and commit the result" >&2
    exit 1
fi
echo "ui/src/bindings/ matches the Rust types ($(find "$fresh" -name '*.ts' | wc -l) files)"
