#!/usr/bin/env bash
# Builds the desktop app's installers with the Tauri CLI (pinned in scripts/lib/services.sh): by
# default the .deb, which CI builds on every run. .rpm builds here too; AppImage needs
# linuxdeploy, which the bundler downloads from GitHub; .msi/.exe (NSIS) and .dmg/.app are
# configured in tauri.conf.json and build on Windows and macOS.
#
#   bash scripts/build-installers.sh            # .deb
#   bash scripts/build-installers.sh deb,rpm
#
# Updater signatures: every bundle gets a FILE.sig made with the updater key, and the app
# trusts that key's public half (`plugins.updater.pubkey`). A release passes its key in
# TAURI_SIGNING_PRIVATE_KEY (and TAURI_SIGNING_PRIVATE_KEY_PASSWORD), from the CI's secret
# store, with its public half in tauri.conf.json. Without one, this script makes a key pair
# for this build only and builds the app to trust it: the signing chain is exercised, and
# no key is ever committed. Such a build accepts no update, since the private half is gone.
#
# The binary is stripped: the workspace's release profile keeps line tables for the CLI's
# backtraces, which would make the .deb 39 MB instead of 9.
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo_root"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/rythm-backup/target}

# shellcheck source=scripts/lib/services.sh
source scripts/lib/services.sh

bundles=${1:-deb}
if [[ ! -d ui/node_modules ]]; then npm --prefix ui ci --no-audit --no-fund; fi
ensure_tauri_cli
tauri=$TAURI_CLI

key_dir=$(mktemp -d)
trap 'rm -rf "$key_dir"' EXIT

updater_config='"createUpdaterArtifacts":true'
if [[ -z ${TAURI_SIGNING_PRIVATE_KEY:-} ]]; then
    echo "No TAURI_SIGNING_PRIVATE_KEY: signing with a key pair made for this build only."
    CI=true "$tauri" signer generate --ci --password "" --write-keys "$key_dir/updater.key" \
        >/dev/null
    TAURI_SIGNING_PRIVATE_KEY=$(<"$key_dir/updater.key")
    export TAURI_SIGNING_PRIVATE_KEY
    export TAURI_SIGNING_PRIVATE_KEY_PASSWORD=""
    pubkey=$(<"$key_dir/updater.key.pub")
    config=(--config "{\"bundle\":{$updater_config},\"plugins\":{\"updater\":{\"pubkey\":\"$pubkey\"}}}")
else
    config=(--config "{\"bundle\":{$updater_config}}")
fi

# The CLI runs `npm run build` in ui/ first (tauri.conf.json's beforeBuildCommand).
CI=true CARGO_PROFILE_RELEASE_DEBUG=false CARGO_PROFILE_RELEASE_STRIP=symbols \
    "$tauri" build --bundles "$bundles" "${config[@]}"

# With createUpdaterArtifacts, Tauri writes FILE.sig beside each bundle (the .deb too).
shopt -s nullglob
for file in "$CARGO_TARGET_DIR"/release/bundle/{deb,rpm}/*.{deb,rpm}; do
    [[ -s $file.sig ]] || {
        echo "no updater signature was written for $file" >&2
        exit 1
    }
done

printf '\nBuilt:\n'
for file in "$CARGO_TARGET_DIR"/release/bundle/*/*; do
    [[ -f $file ]] && printf '  %s  %s\n' "$(du -h "$file" | cut -f1)" "$file"
done
