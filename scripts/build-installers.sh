#!/usr/bin/env bash
# Builds the desktop app's installers with the Tauri CLI (from npm): by default the .deb, the
# one this Debian machine can build (.rpm works too; AppImage needs a tool the bundler
# downloads; .msi/.nsis and .dmg need Windows and macOS). The binary is stripped: the
# workspace's release profile keeps line tables for the CLI's backtraces, which would make
# the .deb 39 MB instead of 9.
#
#   bash scripts/build-installers.sh            # .deb
#   bash scripts/build-installers.sh deb,rpm
#
# With TAURI_SIGNING_PRIVATE_KEY (and TAURI_SIGNING_PRIVATE_KEY_PASSWORD) set, it also signs
# updater artifacts (FILE.sig) for tauri-plugin-updater; the key pair's public half must be
# `plugins.updater.pubkey` in tauri.conf.json. Never commit the private key.
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo_root"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/rythm-backup/target}

bundles=${1:-deb}
config=()
if [[ -n ${TAURI_SIGNING_PRIVATE_KEY:-} ]]; then
    config=(--config '{"bundle":{"createUpdaterArtifacts":true}}')
fi
if [[ ! -d ui/node_modules ]]; then npm --prefix ui ci; fi

# The CLI runs `npm run build` in ui/ first (tauri.conf.json's beforeBuildCommand).
CI=true CARGO_PROFILE_RELEASE_DEBUG=false CARGO_PROFILE_RELEASE_STRIP=symbols \
    npx --yes @tauri-apps/cli@2 build --bundles "$bundles" "${config[@]}"
ls -la "$CARGO_TARGET_DIR"/release/bundle/*/
