#!/usr/bin/env bash
# The project's test command, for developers and CI (.ci/run calls it):
#
#   bash scripts/test.sh                    # everything
#   bash scripts/test.sh -- --nocapture     # extra arguments go to `cargo test --workspace`
#   bash scripts/test.sh storage            # ... e.g. a test name filter (then the .deb
#                                           # installer step is left out)
#   bash scripts/test.sh --services-only    # start PostgreSQL + Azurite, print their
#                                           # exports, wait for Ctrl-C
#
# Installs what is missing (Debian packages, Azurite from npm), starts a throwaway
# PostgreSQL cluster and Azurite, then runs rustfmt, type-checks, builds and unit-tests the
# web front end, runs clippy, the engine's dependency check, the TypeScript bindings' drift
# check and the tests (the desktop app's in a real window under Xvfb), runs the run command
# (`scripts/run.sh --check`) as on a headless machine without keychain, and builds and checks
# the .deb installer. Services are stopped and their temp dirs removed on any exit.
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo_root"
# shellcheck source=scripts/lib/services.sh
source scripts/lib/services.sh

usage() {
    sed -n '2,15s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
}

services_only=0
case ${1:-} in
    --services-only)
        services_only=1
        shift
        if (($# > 0)); then
            echo "--services-only takes no other arguments" >&2
            exit 2
        fi
        ;;
    -h | --help)
        usage
        exit 0
        ;;
esac

# One target dir outside the clone, shared with scripts/demo.sh and CI's cache.
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/rythm-backup/target}

# --- steps: a header before, the elapsed time after, a summary at exit -------------------

current_step=""
step_started=""
summary=()

# Elapsed seconds since $1 (an $EPOCHREALTIME), with one decimal.
elapsed_since() {
    # $EPOCHREALTIME has 6 decimals; the separator follows the locale (. or ,).
    local us=$((${EPOCHREALTIME//[.,]/} - ${1//[.,]/}))
    printf '%d.%ds' $((us / 1000000)) $((us % 1000000 / 100000))
}

# run_step TITLE COMMAND...: COMMAND runs with `set -e` in force (not inside an `if`), so a
# failure ends the script and on_exit reports the step that failed.
run_step() {
    current_step=$1
    shift
    printf '\n==> %s\n' "$current_step"
    step_started=$EPOCHREALTIME
    "$@"
    local took
    took=$(elapsed_since "$step_started")
    printf '<== %s: ok (%s)\n' "$current_step" "$took"
    summary+=("ok      $took  $current_step")
    current_step=""
}

on_exit() {
    local rc=$?
    set +e
    if [[ -n $current_step ]]; then
        local took
        took=$(elapsed_since "$step_started")
        printf '<== %s: FAILED (exit %d, %s)\n' "$current_step" "$rc" "$took" >&2
        summary+=("FAILED  $took  $current_step")
    fi
    stop_services
    if ((${#summary[@]} > 0)); then
        printf '\n==> summary\n'
        printf '  %s\n' "${summary[@]}"
    fi
    if ((rc == 0 && services_only)); then
        printf '\nservices stopped\n'
    elif ((rc == 0)); then
        printf '\nall steps passed\n'
    else
        printf '\nFAILED (exit %d)\n' "$rc" >&2
    fi
    exit "$rc"
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# --- the steps ---------------------------------------------------------------------------

ensure_rust_tools() {
    if ! command -v cargo >/dev/null 2>&1; then
        echo "cargo not found: install Rust with rustup (https://rustup.rs)" >&2
        return 1
    fi
    if ! cargo fmt --version >/dev/null 2>&1; then rustup component add rustfmt; fi
    if ! cargo clippy --version >/dev/null 2>&1; then rustup component add clippy; fi
}

install_prerequisites() {
    ensure_packages
    ensure_azurite
    ensure_aiosmtpd
    if ((services_only == 0)); then ensure_rust_tools; fi
}

start_services() {
    make_services_dir
    start_postgres "$RYTHM_SERVICES_DIR/pg"
    start_azurite "$RYTHM_SERVICES_DIR/azurite"
}

# DESIGN.md: the engine depends on no Tauri or GUI crate, on any target, dev-dependencies
# included.
check_engine_has_no_gui_crates() {
    local tree bad crate
    tree=$(cargo tree -p rythm-backup-core --target all --prefix none --format '{p}')
    bad=$(awk '{print $1}' <<<"$tree" | grep -E '^(tauri|wry|gtk|webkit2gtk)([-_].*)?$' |
        sort -u || true)
    if [[ -n $bad ]]; then
        echo "rythm-backup-core must not depend on these crates:" >&2
        while read -r crate; do printf '  %s\n' "$crate"; done <<<"$bad" >&2
        echo "how they come in:" >&2
        cargo tree -p rythm-backup-core --target all -i "$(head -n 1 <<<"$bad")" >&2 || true
        return 1
    fi
    echo "rythm-backup-core: $(awk '{print $1}' <<<"$tree" | sort -u | wc -l) crates, no tauri/wry/gtk"
}

run_step "install prerequisites (Debian packages, Azurite, aiosmtpd)" install_prerequisites
run_step "start PostgreSQL and Azurite" start_services

if ((services_only)); then
    printf '\n# Services are up. In another shell:\n'
    print_service_exports
    printf '# then e.g.: RYTHM_KEYCHAIN=kernel keyctl session - cargo test --workspace\n'
    printf '# Press Ctrl-C to stop them.\n'
    trap 'exit 0' INT TERM # Ctrl-C is the normal way out here
    # Returns when Azurite dies; Ctrl-C interrupts it and the traps clean up.
    wait "$RYTHM_AZURITE_PID" || true
    echo "Azurite exited unexpectedly" >&2
    exit 1
fi

# The desktop app embeds ui/dist when built in production mode (the `custom-protocol`
# feature, which its end-to-end tests need): build the web front end first.
build_ui() {
    if [[ ! -d ui/node_modules ]]; then npm --prefix ui ci; fi
    npm --prefix ui run build
}

# Production mode for the desktop app (see Cargo.toml's `custom-protocol` feature): its
# end-to-end tests drive the app as installers ship it.
desktop_features=(--features rythm-backup-admin/custom-protocol)

run_step "cargo fmt --all -- --check" cargo fmt --all -- --check
run_step "build the web front end (ui/dist; tsc type check first)" build_ui
run_step "web front end unit tests (vitest)" npm --prefix ui test
run_step "cargo clippy --workspace --all-targets -- -D warnings" \
    cargo clippy --workspace --all-targets "${desktop_features[@]}" -- -D warnings
run_step "rythm-backup-core has no tauri/wry/gtk dependency" check_engine_has_no_gui_crates
run_step "TypeScript bindings match the Rust types" \
    bash scripts/check-bindings.sh "${desktop_features[@]}"
# The keychain tests use the real OS store: on a headless machine that is the kernel
# keyring, which needs a session keyring of its own (`keyctl session -`) and must be asked
# for by name (RYTHM_KEYCHAIN=kernel): it forgets everything at reboot, so the tools never
# choose it on their own. Tests of life without a keychain unset it for their processes.
run_step "cargo test --workspace${*:+ $*} (the kernel keyring of a fresh session keyring)" \
    env RYTHM_KEYCHAIN=kernel keyctl session - cargo test --workspace "${desktop_features[@]}" "$@"

# The README's run command on a fresh headless machine: no session keyring (the user's
# default one, in which the kernel keyring keeps nothing), no D-Bus, an environment of PATH and
# HOME only (plus the target dir, so that it reuses the build above rather than making a
# second one). It must save the demo profile, its password in the encrypted secrets file,
# keep the app up for its 15 s and exit 0.
check_run_command_headless() {
    local out=$RYTHM_SERVICES_DIR/run-check.out
    keyctl session "_uid_ses.$(id -u)" \
        env -i PATH="$PATH" HOME="$HOME" CARGO_TARGET_DIR="$CARGO_TARGET_DIR" \
        bash scripts/run.sh --check </dev/null 2>&1 | tee "$out"
    grep -q '^Saved profile demo' "$out" || {
        echo "run.sh --check did not save the demo profile" >&2
        return 1
    }
    grep -q 'Secret store: Secrets are kept in an encrypted file' "$out" || {
        echo "run.sh --check did not say that the encrypted secrets file holds the secrets" >&2
        return 1
    }
}
if (($# == 0)); then
    run_step "run.sh --check with no keyring and no D-Bus (env -i)" check_run_command_headless
fi

# The .deb installer, as a release builds it (release profile, stripped). The package is
# then checked: its name and version from Cargo.toml, the app binary, the desktop entry and
# the updater signature beside it.
build_and_check_deb() {
    local bundle_dir=$CARGO_TARGET_DIR/release/bundle/deb
    rm -rf "$bundle_dir"
    bash scripts/build-installers.sh deb
    local debs=("$bundle_dir"/*.deb)
    if ((${#debs[@]} != 1)) || [[ ! -f ${debs[0]} ]]; then
        echo "expected one .deb in $bundle_dir" >&2
        return 1
    fi
    local deb=${debs[0]} version contents
    version=$(cargo metadata --no-deps --format-version 1 |
        python3 -c 'import json, sys
print(next(p["version"] for p in json.load(sys.stdin)["packages"] if p["name"] == "rythm-backup-admin"))')
    [[ $(dpkg-deb -f "$deb" Package) == rythm-backup-admin ]] || {
        echo "wrong package name in $deb" >&2
        return 1
    }
    [[ $(dpkg-deb -f "$deb" Version) == "$version" ]] || {
        echo "the .deb's version is not Cargo.toml's $version" >&2
        return 1
    }
    contents=$(dpkg-deb -c "$deb")
    grep -qE ' (\./)?usr/bin/rythm-backup-admin$' <<<"$contents" || {
        echo "no usr/bin/rythm-backup-admin in $deb" >&2
        return 1
    }
    grep -qE ' (\./)?usr/share/applications/.+\.desktop$' <<<"$contents" || {
        echo "no desktop entry in $deb" >&2
        return 1
    }
    [[ -s $deb.sig ]] || {
        echo "no signature beside $deb" >&2
        return 1
    }
    echo "$(basename "$deb"): $(du -h "$deb" | cut -f1), version $version, signed"
}
# A filter or other cargo arguments mean a developer's partial run: the run command's check and
# the installer are left out.
if (($# == 0)); then
    run_step "installer: .deb (tauri build --bundles deb)" build_and_check_deb
else
    summary+=("skipped        run.sh --check and the .deb installer (arguments were given to cargo test)")
fi
