#!/usr/bin/env bash
# Sets up and launches the desktop app, RYTHM Backup Admin, with a demo to try it on:
#
#   bash scripts/run.sh            # set up, then open the app's window
#   bash scripts/run.sh --no-demo  # the app alone, with your own profiles
#   bash scripts/run.sh --check    # set up, then start the app on a hidden display (Xvfb)
#                                  # for 15 s: proves the whole chain on a headless machine
#
# 1. Installs what is missing: Debian packages (WebKitGTK, GTK, PostgreSQL, Node.js) and
#    the web front end's npm packages.
# 2. Builds the web front end and the app with the UI embedded (the debug build that
#    scripts/test.sh's end-to-end tests drive; the same target dir, so no second build).
# 3. Starts a throwaway PostgreSQL holding the demo database `rythm_demo`; it is removed
#    when the app closes.
# 4. When you have no profile yet (or only the demo's), saves the direct profile `demo`:
#    that database, with backups in the local folder DEMO_BACKUP_DIR (default
#    ~/.local/share/rythm-backup/demo-backups, kept between runs). Its password goes to the
#    OS keychain, or where none is reachable to the encrypted secrets file (its master
#    password is asked for on this terminal, or read from RYTHM_MASTER_PASSWORD_FILE);
#    never to a plain file. Each run points it at the new throwaway cluster.
# 5. Opens the app. Closing its window stops PostgreSQL.
#
# --check works in a private, throwaway home (your profiles and secrets are not touched):
# where no OS keychain is reachable, the demo's password goes to an encrypted file under a
# random master password kept in a 0600 file beside it, which the app then unlocks; the
# check fails unless the app starts, opens that store and keeps running for 15 s.
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo_root"
# shellcheck source=scripts/lib/services.sh
source scripts/lib/services.sh
# shellcheck source=scripts/lib/demo_db.sh
source scripts/lib/demo_db.sh

usage() { sed -n '2,26s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; }

demo=1
check=0
for arg in "$@"; do
    case $arg in
        --no-demo) demo=0 ;;
        --check) check=1 ;;
        -h | --help)
            usage
            exit 0
            ;;
        *)
            echo "unknown argument: $arg (see --help)" >&2
            exit 2
            ;;
    esac
done

trap stop_services EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/rythm-backup/target}
demo_backups=${DEMO_BACKUP_DIR:-$HOME/.local/share/rythm-backup/demo-backups}

say() { printf '\n==> %s\n' "$*"; }

if ((check == 0)) && [[ -z ${DISPLAY:-} && -z ${WAYLAND_DISPLAY:-} ]]; then
    echo "No graphical session (neither DISPLAY nor WAYLAND_DISPLAY is set): run this from" \
        "your desktop, or use --check to start the app on a hidden display." >&2
    exit 1
fi

say "installing what is missing (Debian packages, the UI's npm packages)"
ensure_packages
if [[ ! -d ui/node_modules ]]; then npm --prefix ui ci --no-audit --no-fund; fi

say "building the web front end and the app"
npm --prefix ui run build
# Both binaries in one invocation with the features scripts/test.sh uses: one build, shared.
cargo build -p rythm-backup -p rythm-backup-admin --features rythm-backup-admin/custom-protocol
app_bin=$CARGO_TARGET_DIR/debug/rythm-backup-admin
cli_bin=$CARGO_TARGET_DIR/debug/rythm-backup

# --check: a private home for the CLI and the app (profiles, secrets, the app's settings and
# logs), removed at exit with the services; and a master password for the encrypted secrets
# file, should no OS keychain be reachable. It is random, lives only in a 0600 file (never in
# argv or the environment), and both the CLI and the app read it through
# RYTHM_MASTER_PASSWORD_FILE.
if ((check)); then
    make_services_dir
    check_home=$RYTHM_SERVICES_DIR/home
    mkdir -p "$check_home/config" "$check_home/data" "$check_home/cache"
    chmod 700 "$check_home"
    export XDG_CONFIG_HOME=$check_home/config XDG_DATA_HOME=$check_home/data
    export XDG_CACHE_HOME=$check_home/cache RYTHM_CONFIG_DIR=$check_home/config/rythm-backup
    demo_backups=${DEMO_BACKUP_DIR:-$check_home/demo-backups}
    export RYTHM_MASTER_PASSWORD_FILE=$check_home/master-password
    python3 -c 'import os, secrets, sys
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
os.write(fd, secrets.token_urlsafe(24).encode())
os.close(fd)' "$RYTHM_MASTER_PASSWORD_FILE"
fi

# Names of the saved profiles, one per line (the same profiles.json the app reads).
profile_names() {
    "$cli_bin" --json profile list | python3 -c 'import json, sys
doc = json.load(sys.stdin)
items = doc.get("data", doc) if isinstance(doc, dict) else doc
for item in items:
    print((item.get("profile") or item)["name"])'
}

# The demo: only for a first run (no profiles) or to refresh the demo profile itself.
if ((demo)); then
    names=$(profile_names)
    if [[ -n $names && $names != demo ]]; then
        say "you have profiles of your own: no demo database or profile this time"
        demo=0
    fi
fi

if ((demo)); then
    say "starting a throwaway PostgreSQL with the demo database rythm_demo"
    [[ -n ${RYTHM_SERVICES_DIR:-} ]] || make_services_dir
    start_postgres "$RYTHM_SERVICES_DIR/pg"
    create_demo_database 20000

    say "saving the direct profile 'demo' (backups in $demo_backups)"
    mkdir -p "$demo_backups"
    # The password goes through stdin to the OS keychain or the encrypted secrets file:
    # never argv, never a plain file.
    demo_password | "$cli_bin" profile add demo \
        --database-url "postgresql://postgres@127.0.0.1:$RYTHM_TEST_PG_PORT/rythm_demo" \
        --backup-dir "$demo_backups" --password-stdin
    "$cli_bin" profile show demo
fi

if ((check)); then
    store=$("$cli_bin" --json secrets status | python3 -c 'import json, sys
print(json.load(sys.stdin)["kind"])')
    say "starting the app on a hidden display for 15 s (--check; secrets: $store)"
    app_log=$RYTHM_SERVICES_DIR/app.log
    rc=0
    xvfb-run -a timeout 15 "$app_bin" 2>"$app_log" || rc=$?
    # The app's own lines, without terminal colours.
    started=$(sed 's/\x1b\[[0-9;]*m//g' "$app_log" | grep 'RYTHM Backup Admin started' || true)
    # timeout's 124: the app was still running when its 15 s were up, as it should be.
    if ((rc != 124)); then
        tail -n 30 "$app_log" >&2
        echo "the app exited early (status $rc)" >&2
        exit 1
    fi
    if [[ -z $started ]]; then
        tail -n 30 "$app_log" >&2
        echo "the app ran but never logged its start" >&2
        exit 1
    fi
    # With the encrypted file, the app must have opened it with the master password file.
    if [[ $store == encrypted-file && $started != *unlocked=true* ]]; then
        tail -n 30 "$app_log" >&2
        echo "the app did not unlock the encrypted secrets file" >&2
        exit 1
    fi
    echo "the app started, opened the secret store ($store) and kept running"
    exit 0
fi

say "opening RYTHM Backup Admin (close its window to stop)"
"$app_bin"
