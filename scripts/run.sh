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
#    OS keychain, never to a file. Each run points it at the new throwaway cluster.
# 5. Opens the app. Closing its window stops PostgreSQL.
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo_root"
# shellcheck source=scripts/lib/services.sh
source scripts/lib/services.sh
# shellcheck source=scripts/lib/demo_db.sh
source scripts/lib/demo_db.sh

usage() { sed -n '2,19s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; }

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
    make_services_dir
    start_postgres "$RYTHM_SERVICES_DIR/pg"
    create_demo_database 20000

    say "saving the direct profile 'demo' (backups in $demo_backups)"
    mkdir -p "$demo_backups"
    # The password goes through stdin to the keychain: never argv, never a file.
    demo_password | "$cli_bin" profile add demo \
        --database-url "postgresql://postgres@127.0.0.1:$RYTHM_TEST_PG_PORT/rythm_demo" \
        --backup-dir "$demo_backups" --password-stdin
fi

if ((check)); then
    say "starting the app on a hidden display for 15 s (--check)"
    rc=0
    xvfb-run -a timeout 15 "$app_bin" || rc=$?
    # timeout's 124: the app was still running when its 15 s were up, as it should be.
    if ((rc != 124)); then
        echo "the app exited early (status $rc)" >&2
        exit 1
    fi
    echo "the app started and kept running"
    exit 0
fi

say "opening RYTHM Backup Admin (close its window to stop)"
"$app_bin"
