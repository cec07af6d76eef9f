#!/usr/bin/env bash
# Runs the tool end to end: backup, list, verify, download, restore into a new database.
#
#   bash scripts/demo.sh
#
# Without DATABASE_URL it starts a throwaway PostgreSQL cluster holding a small demo
# database `rythm_demo` and removes the cluster at the end. Backups go to the local folder
# BACKUP_DIR (default ~/.local/share/rythm-backup/demo-backups, kept between runs) unless
# AZURE_STORAGE_CONNECTION_STRING is set (then container AZURE_BACKUP_CONTAINER, default
# database-backups). RETENTION_DAYS and LOG_LEVEL pass through to the CLI.
#
# With your own DATABASE_URL the restore goes to a new database DEMO_COPY_DB (default
# rythm_demo_copy) on the same server, which must not exist yet.
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo_root"
# shellcheck source=scripts/lib/services.sh
source scripts/lib/services.sh
# shellcheck source=scripts/lib/demo_db.sh
source scripts/lib/demo_db.sh

trap stop_services EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The same debug build and target dir as scripts/test.sh.
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/rythm-backup/target}
copy_db=${DEMO_COPY_DB:-rythm_demo_copy}

say() { printf '\n==> %s\n' "$*"; }

# Hides the password of any URL in $1 (user:secret@ -> user:***@).
redact() { sed -E 's#(://[^:/@]+:)[^@]*@#\1***@#g' <<<"$1"; }

# cli ARGS...: prints the command, then runs the freshly built rythm-backup with ARGS.
cli() {
    printf '+ %s\n' "$(redact "rythm-backup $*")"
    "$cli_bin" "$@"
}

say "building rythm-backup (cargo build -p rythm-backup)"
cargo build -p rythm-backup
cli_bin=$CARGO_TARGET_DIR/debug/rythm-backup

make_services_dir # scratch space for the download, removed at exit

own_cluster=0
if [[ -z ${DATABASE_URL:-} ]]; then
    own_cluster=1
    say "starting a throwaway PostgreSQL with the demo database rythm_demo"
    ensure_packages
    start_postgres "$RYTHM_SERVICES_DIR/pg"
    create_demo_database 250
    export DATABASE_URL=${RYTHM_TEST_PG_URL%/postgres}/rythm_demo
fi
export DATABASE_URL

if [[ -n ${AZURE_STORAGE_CONNECTION_STRING:-} ]]; then
    unset BACKUP_DIR # one storage at a time: Azure wins
    storage="Azure Blob Storage, container ${AZURE_BACKUP_CONTAINER:-database-backups}"
else
    export BACKUP_DIR=${BACKUP_DIR:-$HOME/.local/share/rythm-backup/demo-backups}
    mkdir -p "$BACKUP_DIR"
    storage="local folder $BACKUP_DIR"
fi
say "database $(redact "$DATABASE_URL"); storage: $storage"

say "backup"
printf '+ rythm-backup backup --json\n'
backup_json=$("$cli_bin" backup --json)
printf '%s\n' "$backup_json"
# The new backup's name: the `name` field of the JSON (the last JSON line that has one,
# should progress lines come first). Checked against DESIGN.md's name rule before it is
# used in a path.
name=$(python3 -c 'import json, re, sys
text = sys.stdin.read()
docs = []
try:
    docs.append(json.loads(text))
except ValueError:
    for line in reversed(text.splitlines()):
        try:
            docs.append(json.loads(line))
        except ValueError:
            pass
for doc in docs:
    if isinstance(doc, dict):
        name = doc.get("name") or (doc.get("data") or {}).get("name")
        if isinstance(name, str) and re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,254}", name):
            print(name)
            sys.exit(0)
sys.exit("no backup name in the output of rythm-backup backup --json")' <<<"$backup_json")

say "list"
cli list

say "verify $name"
cli verify "$name"

download_dir=$RYTHM_SERVICES_DIR/download
mkdir -p "$download_dir"
say "download $name"
cli download "$name" -o "$download_dir/$name"
ls -l "$download_dir/$name"

say "restore into a new database $copy_db"
# A bare database name: the CLI reuses DATABASE_URL's server and password (no secret in argv).
cli restore --file "$download_dir/$name" --target-db "$copy_db" --create --confirm "$copy_db"

if ((own_cluster)); then
    say "comparing rythm_demo with $copy_db"
    count_rows() {
        demo_psql -d "$1" -At -c "select format('%s tenants, %s workouts',
            (select count(*) from tenants), (select count(*) from workouts))"
    }
    source_counts=$(count_rows rythm_demo)
    copy_counts=$(count_rows "$copy_db")
    printf 'rythm_demo:       %s\n%-17s %s\n' "$source_counts" "$copy_db:" "$copy_counts"
    if [[ $source_counts != "$copy_counts" ]]; then
        echo "the restored copy differs from the source" >&2
        exit 1
    fi
fi

say "list --json"
cli list --json

say "done"
if [[ -n ${BACKUP_DIR:-} ]]; then
    echo "backups are kept in $BACKUP_DIR"
fi
