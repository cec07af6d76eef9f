#!/usr/bin/env bash
# Benchmark: rythm-backup's backup, restore and download against plain baselines.
#
#   bash bench/run.sh                               # a 500 MB database
#   BENCH_SIZE_MB=50 bash bench/run.sh              # a quick end-to-end check
#   BENCH_RSS_SIZES="100 1000" bash bench/run.sh    # also peak RSS of backups at 100, 1000 MB
#   BENCH_ONLY=contents bash bench/run.sh           # only `contents` of a ~1 GB plain backup
#
# Starts a throwaway PostgreSQL and a disk-backed Azurite (stopped and removed on exit),
# builds rythm-backup in release, fills a database with poorly compressible text, times
# each operation once with /usr/bin/time (wall seconds, peak RSS), prints a Markdown table
# and writes it to bench/results.md. BENCH_STRICT=1: exit 1 when a target is missed.
# See bench/README.md for what each row means.
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo_root"
# shellcheck source=scripts/lib/services.sh
source scripts/lib/services.sh

BENCH_SIZE_MB=${BENCH_SIZE_MB:-500}
BENCH_RSS_SIZES=${BENCH_RSS_SIZES:-}
BENCH_STRICT=${BENCH_STRICT:-0}
# The database whose plain backup `contents` reads (its plain dump is a little smaller).
BENCH_CONTENTS_MB=${BENCH_CONTENTS_MB:-1150}
# "contents": measure only that row (no 500 MB database, no other rows).
BENCH_ONLY=${BENCH_ONLY:-}
RESULTS_FILE=$repo_root/bench/results.md
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/rythm-backup/target}

# Targets (from the issue).
TARGET_BACKUP_VS_FLOOR=1.5   # our backup's time <= 1.5 x pg_dump -Fp > /dev/null
TARGET_SPEEDUP_VS_SEED=1.7   # the seed's dump-to-file-then-upload takes >= 1.7 x ours
TARGET_BYTES_VS_SEED=0.5     # we store <= half the seed's bytes
TARGET_RESTORE_VS_PSQL=1.3   # restore from storage <= 1.3 x psql -1 -f of a local file (it
                             # checks the sha256 of a copy before running any of it)
TARGET_FILTER_VS_RESTORE=0.10  # the statement check alone costs <= 10% of our restore
TARGET_DOWNLOAD_SPEED=0.9    # download at >= 0.9 x curl's speed (curl time / ours)
TARGET_RSS_MIB=64            # our peak RSS

bench_log() { printf '[bench] %s\n' "$*" >&2; }
bench_die() {
    printf '[bench] error: %s\n' "$*" >&2
    exit 1
}

[[ -z $BENCH_ONLY || $BENCH_ONLY == contents ]] || bench_die "BENCH_ONLY is empty or contents"
for size in $BENCH_SIZE_MB $BENCH_RSS_SIZES $BENCH_CONTENTS_MB; do
    [[ $size =~ ^[1-9][0-9]*$ ]] || bench_die "sizes must be whole MB, not '$size'"
done

# Only what this script sets reaches the tools: no stray configuration from the caller.
unset DATABASE_URL TARGET_DATABASE_URL AZURE_STORAGE_CONNECTION_STRING AZURE_BACKUP_CONTAINER \
    BACKUP_DIR BACKUP_FORMAT BACKUP_COMPRESSION RETENTION_DAYS \
    PGHOST PGHOSTADDR PGPORT PGUSER PGPASSWORD PGPASSFILE PGDATABASE PGSERVICE PGOPTIONS

trap stop_services EXIT
trap 'exit 130' INT TERM

# --- set-up -------------------------------------------------------------------------------

RYTHM_APT_PACKAGES+=(time)
ensure_packages
ensure_azurite
[[ -x /usr/bin/time ]] || bench_die "/usr/bin/time is missing (apt-get install time)"

bench_log "building rythm-backup and the helper examples (release)"
cargo build --release --quiet -p rythm-backup
cargo build --release --quiet -p rythm-backup-core --example upload_file --example blob_url \
    --example filter_sql
OURS=$CARGO_TARGET_DIR/release/rythm-backup
UPLOAD_FILE=$CARGO_TARGET_DIR/release/examples/upload_file
BLOB_URL=$CARGO_TARGET_DIR/release/examples/blob_url
FILTER_SQL=$CARGO_TARGET_DIR/release/examples/filter_sql

make_services_dir
start_postgres "$RYTHM_SERVICES_DIR/pg"
start_azurite "$RYTHM_SERVICES_DIR/azurite" # on disk (--location), not in memory
WORK=$RYTHM_SERVICES_DIR/work
mkdir -p "$WORK"

PG_BIN=$RYTHM_TEST_PG_BIN
PG_POSTMASTER=$(head -n 1 "$RYTHM_SERVICES_DIR/pg/data/postmaster.pid")
PG_PORT=$RYTHM_TEST_PG_PORT
PG_PASSWORD=$(python3 -c 'import sys, urllib.parse as u; print(u.urlsplit(sys.argv[1]).password)' \
    "$RYTHM_TEST_PG_URL")
AZURE_CONN=$RYTHM_TEST_AZURE_CONNECTION_STRING

# with_pg CMD...: CMD with the cluster's coordinates; the password only in the environment.
with_pg() {
    PGHOST=127.0.0.1 PGPORT=$PG_PORT PGUSER=postgres PGPASSWORD=$PG_PASSWORD PGPASSFILE=/dev/null \
        "$@"
}

# sql DB ARGS...: psql against DB, stopping at the first error.
sql() {
    local db=$1
    shift
    with_pg "$PG_BIN/psql" -X -q -w -v ON_ERROR_STOP=1 -d "$db" "$@"
}

# sql_value DB QUERY: one value.
sql_value() { sql "$1" -At -c "$2"; }

db_url() { printf '%s/%s' "${RYTHM_TEST_PG_URL%/*}" "$1"; }

# with_azure CONTAINER CMD...: rythm-backup's Azure configuration (the seed's variables).
with_azure() {
    local container=$1
    shift
    AZURE_STORAGE_CONNECTION_STRING=$AZURE_CONN AZURE_BACKUP_CONTAINER=$container "$@"
}

# json_field FILE KEY: a top-level field of the JSON object in FILE.
json_field() {
    python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"
}

# Lets the disks and Azurite's background work settle between measurements.
settle() {
    sync
    sleep 1
}

# cpu_ticks PID: CPU time of PID and of its children it has waited for, in clock ticks
# (the postmaster's children are the backends; Azurite's threads count in its own time).
cpu_ticks() {
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || {
        echo 0
        return
    }
    # Fields after "(comm)": utime, stime, cutime, cstime are the 12th to 15th.
    awk '{ print $12 + $13 + $14 + $15 }' <<<"${stat##*) }"
}
CLK_TCK=$(getconf CLK_TCK)

# busy_ticks: clock ticks all cores spent neither idle nor waiting for I/O, since boot.
busy_ticks() {
    awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9; exit }' /proc/stat
}

# measure LABEL STDOUT CMD...: runs CMD under /usr/bin/time with stdout to STDOUT and stderr
# to $WORK/LABEL.err, once the machine is idle. Sets SECS[LABEL] (wall seconds), RSS[LABEL]
# (peak KiB), BUSY[LABEL] (cores busy just before) and CPU[LABEL] (CPU seconds of the
# command with its children, of the PostgreSQL server, of Azurite, and of anything else).
# When other work took more than 0.3 cores meanwhile, the run is disturbed: it is repeated
# (up to BENCH_RETRIES times, default 2; the function named by $on_retry, when set, resets
# state first) and the last run is kept, marked in DISTURBED[LABEL] if still disturbed.
declare -A SECS=() RSS=() BUSY=() CPU=() DISTURBED=()
MEASURED=()
measure() {
    local label=$1 out=$2
    shift 2
    local timing=$WORK/$label.time attempt retries=${BENCH_RETRIES:-2}
    local pg_children pg_before az_before all_before pg_after az_after all_after
    local secs kib user sys tries foreign
    MEASURED+=("$label")
    for ((attempt = 0; attempt <= retries; attempt++)); do
        if ((attempt > 0)) && [[ -n ${on_retry:-} ]]; then "$on_retry"; fi
        wait_for_idle 1
        BUSY[$label]=$IDLE_BUSY
        pg_children=$(pgrep -c -P "$PG_POSTMASTER" || true)
        pg_before=$(cpu_ticks "$PG_POSTMASTER")
        az_before=$(cpu_ticks "$RYTHM_AZURITE_PID")
        all_before=$(busy_ticks)
        if ! /usr/bin/time -f '%e %M %U %S' -o "$timing" "$@" >"$out" 2>"$WORK/$label.err"; then
            bench_log "$label failed: $(tail -n 1 "$timing" 2>/dev/null || true)"
            tail -n 20 "$WORK/$label.err" >&2 || true
            exit 1
        fi
        all_after=$(busy_ticks)
        # The server's backends exit just after their client: wait until the postmaster has
        # reaped them (its children back to what it had before), so their CPU is counted.
        for ((tries = 0; tries < 40; tries++)); do
            (($(pgrep -c -P "$PG_POSTMASTER" || true) <= pg_children)) && break
            sleep 0.05
        done
        pg_after=$(cpu_ticks "$PG_POSTMASTER")
        az_after=$(cpu_ticks "$RYTHM_AZURITE_PID")
        read -r secs kib user sys < <(tail -n 1 "$timing")
        SECS[$label]=$secs
        RSS[$label]=$kib
        CPU[$label]=$(awk -v u="$user" -v s="$sys" -v pg=$((pg_after - pg_before)) \
            -v az=$((az_after - az_before)) -v all=$((all_after - all_before)) \
            -v hz="$CLK_TCK" -v wall="$secs" 'BEGIN {
            cmd = u + s; pg /= hz; az /= hz; all /= hz
            other = all - cmd - pg - az; if (other < 0) other = 0
            printf "cmd %.2f + postgres %.2f + azurite %.2f = %.2f CPU-s, %.2f cores; other %.2f cores",
                cmd, pg, az, cmd + pg + az, (wall > 0) ? (cmd + pg + az) / wall : 0,
                (wall > 0) ? other / wall : 0 }')
        bench_log "$(printf '%-14s %7.2f s  peak RSS %6d KiB  (%s; %s cores busy before)' \
            "$label" "$secs" "$kib" "${CPU[$label]}" "${BUSY[$label]}")"
        foreign=${CPU[$label]##*other }
        foreign=${foreign%% *}
        # Disturbed: other work took more than 0.3 cores on average and 0.15 CPU-s in all
        # (the kernel's writeback of our own files shows up here too, in small amounts).
        if awk -v f="$foreign" -v w="$secs" 'BEGIN { exit !(f <= 0.3 || f * w <= 0.15) }'; then
            unset 'DISTURBED[$label]'
            return 0
        fi
        DISTURBED[$label]=$foreign
        ((attempt < retries)) && bench_log "$label: disturbed by other work ($foreign cores); again"
    done
    bench_log "warning: $label stayed disturbed by other work; its timing is skewed"
}

# --- the database -------------------------------------------------------------------------

# A vocabulary of common words drawn with a skew (a few words are frequent, as in prose),
# so the text compresses like real free text, about 3-4x with zstd.
GENERATOR_SQL=$(
    cat <<'EOF'
CREATE TABLE events (
    id bigint PRIMARY KEY,
    created_at timestamptz NOT NULL,
    tenant uuid NOT NULL,
    payload text NOT NULL
);
CREATE FUNCTION bench_words(n int) RETURNS text LANGUAGE sql VOLATILE AS $f$
  SELECT string_agg(v[1 + floor(power(random(), 3) * array_length(v, 1))::int], ' ')
  FROM generate_series(1, n), (SELECT string_to_array(
  'the of and to in is was for on that with as by at from it this be are an or which not '
  'have has were had but their its all more one also after new they first two been other '
  'who time would can when over into most during only about three year some these may '
  'between under world such then than city where while both used team later made like '
  'school known through them many part before university each being series however there '
  'well people since state national four season film album song against game american '
  'north south west east river county party government group music area number including '
  'life main work final district member early village town church', ' ')) AS s(v)
$f$;
EOF
)

# insert_rows DB FIRST_ID COUNT: COUNT rows with ids FIRST_ID.. in one statement.
insert_rows() {
    local db=$1 first=$2 count=$3
    sql "$db" -c "
INSERT INTO events (id, created_at, tenant, payload)
SELECT g,
       date_trunc('milliseconds',
                  timestamptz '2025-01-01' + g * interval '20 seconds' + random() * interval '20 seconds'),
       ('00000000-0000-4000-8000-' || lpad(to_hex(1 + floor(power(random(), 3) * 200)::int), 12, '0'))::uuid,
       bench_words(20 + floor(random() * 30)::int) || ' ref=' || md5(random()::text)
FROM generate_series($first::bigint, $first::bigint + $count - 1) AS g"
}

# generate_db DB SIZE_MB: a fresh database of about SIZE_MB (pg_database_size), generated
# server-side in batches; each batch is sized from the bytes per row measured so far.
generate_db() {
    local db=$1 size_mb=$2
    local target=$((size_mb * 1024 * 1024)) started=$SECONDS
    bench_log "generating $db: ${size_mb} MB of text"
    sql postgres -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
    sql "$db" -c "$GENERATOR_SQL"
    local base size rows=0 batch=20000 per_row need
    base=$(sql_value "$db" "SELECT pg_database_size(current_database())")
    while :; do
        insert_rows "$db" $((rows + 1)) "$batch"
        rows=$((rows + batch))
        size=$(sql_value "$db" "SELECT pg_database_size(current_database())")
        ((size < target)) || break
        per_row=$(((size - base) / rows + 1))
        need=$(((target - size) / per_row + 1))
        batch=$((need < 250000 ? need : 250000))
    done
    sql "$db" -c "DROP FUNCTION bench_words(int)" -c "VACUUM (FREEZE, ANALYZE) events"
    size=$(sql_value "$db" "SELECT pg_database_size(current_database())")
    DB_BYTES[$db]=$size
    DB_ROWS[$db]=$rows
    bench_log "$db: $rows rows, $((size / 1024 / 1024)) MB (pg_database_size) in $((SECONDS - started)) s"
}
declare -A DB_BYTES=() DB_ROWS=()

# seed_name: a blob name in the seed's scheme (plain .sql).
seed_name() { printf 'rythm-backup-%s.sql' "$(date -u +%Y-%m-%dT%H-%M-%S-%3NZ)"; }

# A digest of the table, to check that restores brought everything back.
table_digest() {
    sql_value "$1" "SELECT count(*) || ' ' || sum(length(payload)) || ' ' || md5(string_agg(md5(payload), '' ORDER BY id)) FROM events"
}

load_average() { cut -d' ' -f1-3 /proc/loadavg; }

# cpu_busy SECONDS: how many cores were busy on average over SECONDS (from /proc/stat).
cpu_busy() {
    local a b
    a=$(head -n 1 /proc/stat)
    sleep "$1"
    b=$(head -n 1 /proc/stat)
    awk -v a="$a" -v b="$b" 'BEGIN {
        n = split(a, x); split(b, y); total = 0; idle = 0
        for (i = 2; i <= n; i++) total += y[i] - x[i]
        idle = (y[5] - x[5]) + (y[6] - x[6])
        cores = 0; while ((getline line < "/proc/cpuinfo") > 0) if (line ~ /^processor/) cores++
        printf "%.2f", (total > 0) ? cores * (total - idle) / total : 0 }'
}

# wait_for_idle [SAMPLE_SECONDS]: waits (up to BENCH_WAIT_IDLE seconds, default 300) until
# the machine is quiet (< 0.3 cores busy): other builds or tests beside the benchmark skew
# every timing. Sets IDLE_BUSY to the last sample.
wait_for_idle() {
    local sample=${1:-3} limit=${BENCH_WAIT_IDLE:-300} started=$SECONDS
    while :; do
        IDLE_BUSY=$(cpu_busy "$sample")
        awk -v b="$IDLE_BUSY" 'BEGIN { exit !(b < 0.3) }' && return 0
        if ((SECONDS - started >= limit)); then
            bench_log "warning: still ${IDLE_BUSY} cores busy after $((SECONDS - started)) s; measuring anyway (timings are skewed)"
            ps -eo pcpu,comm --sort=-pcpu | head -n 6 >&2
            return 0
        fi
        bench_log "waiting for the machine to go quiet (${IDLE_BUSY} cores busy)"
        sleep 5
    done
}

# --- the measurements ---------------------------------------------------------------------

# g. Peak RSS of `contents` reading a plain, uncompressed backup of about 1 GB from the local
# store (streamed once, hashed, its COPY rows counted): memory must not grow with the
# backup. Checked against the database: the row count it reports must be the table's.
measure_contents() {
    local db=bench_contents store=$WORK/contents-store
    generate_db "$db" "$BENCH_CONTENTS_MB"
    mkdir -p "$store"
    DATABASE_URL=$(db_url "$db") BACKUP_DIR=$store BACKUP_FORMAT=plain BACKUP_COMPRESSION=none \
        "$OURS" --json backup >"$WORK/contents_backup.json"
    CONTENTS_NAME=$(json_field "$WORK/contents_backup.json" name)
    CONTENTS_BYTES=$(json_field "$WORK/contents_backup.json" size)
    settle
    BACKUP_DIR=$store measure contents "$WORK/contents.json" \
        "$OURS" --json contents "$CONTENTS_NAME"
    local counted
    counted=$(python3 -c 'import json, sys
c = json.load(open(sys.argv[1]))
assert c["checksumVerified"] is True, c["checksumVerified"]
print([t for t in c["tables"] if t["name"] == "events"][0]["rows"])' "$WORK/contents.json")
    [[ $counted == "${DB_ROWS[$db]}" ]] ||
        bench_die "contents counted $counted rows, the table has ${DB_ROWS[$db]}"
    rm -rf "$store"
    sql postgres -c "DROP DATABASE $db"
}

if [[ $BENCH_ONLY == contents ]]; then
    measure_contents
    {
        printf '# rythm-backup benchmark: contents\n\n'
        printf '%s, commit %s, %s cores.\n\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
            "$(git rev-parse --short HEAD 2>/dev/null || echo '?')" "$(nproc)"
        printf '| operation | baseline | ours | ratio | target | pass/fail |\n|---|---|---|---|---|---|\n'
        printf '| peak RSS: contents of a %.1f MB plain backup (%.2f s) | — | %.1f MiB | — | ≤ %s MiB | %s |\n' \
            "$(awk -v b="$CONTENTS_BYTES" 'BEGIN { print b / 1e6 }')" "${SECS[contents]}" \
            "$(awk -v k="${RSS[contents]}" 'BEGIN { print k / 1024 }')" "$TARGET_RSS_MIB" \
            "$(awk -v k="${RSS[contents]}" -v t="$TARGET_RSS_MIB" 'BEGIN { print (k / 1024 <= t) ? "pass" : "**FAIL**" }')"
        printf '\n- %s rows counted (the table'"'"'s own count); %s\n' "${DB_ROWS[bench_contents]}" "${CPU[contents]}"
        # shellcheck disable=SC2016 # backticks are Markdown
        printf -- '- command: `BENCH_ONLY=contents BENCH_CONTENTS_MB=%s bash bench/run.sh`\n' "$BENCH_CONTENTS_MB"
    } >"$repo_root/bench/results-contents.md"
    cat "$repo_root/bench/results-contents.md"
    exit 0
fi

DB=bench
generate_db "$DB" "$BENCH_SIZE_MB"
DB_URL=$(db_url "$DB")

load_before=$(load_average)

# Warm-up (untimed): the table into the page cache; also the plain dump's size.
raw_dump_bytes=$(with_pg "$PG_BIN/pg_dump" -Fp -w -d "$DB" | wc -c)
settle

# Resets before a disturbed measurement is repeated (see measure).
forget_blob() { with_azure "$1" "$OURS" delete "$(json_field "$2" name)" --yes >/dev/null; }
forget_backup_azure() { forget_blob bench-ours "$WORK/backup_azure.json"; }
forget_backup_local() { rm -rf "$WORK/local" && mkdir -p "$WORK/local"; }
fresh_restore_psql() { sql postgres -c "DROP DATABASE restore_psql" -c "CREATE DATABASE restore_psql"; }
drop_restore_ours() { sql postgres -c "DROP DATABASE IF EXISTS restore_ours"; }
forget_download_ours() { rm -f "$WORK/download.ours"; }

# a. The floor: pg_dump to nowhere.
with_pg measure floor /dev/null "$PG_BIN/pg_dump" -Fp -w -d "$DB"
settle

# b. The seed's way: the plain dump into a file, then the file uploaded as it is.
SEED_FILE=$WORK/seed.sql
SEED_BLOB=$(seed_name)
with_pg measure seed_dump "$SEED_FILE" "$PG_BIN/pg_dump" -Fp -w -d "$DB"
settle
with_azure bench-seed measure seed_upload "$WORK/seed_upload.out" \
    "$UPLOAD_FILE" bench-seed "$SEED_FILE" "$SEED_BLOB"
seed_bytes=$(tail -n 1 "$WORK/seed_upload.out")
seed_secs=$(awk -v a="${SECS[seed_dump]}" -v b="${SECS[seed_upload]}" 'BEGIN { printf "%.2f", a + b }')
seed_rss=$((RSS[seed_dump] > RSS[seed_upload] ? RSS[seed_dump] : RSS[seed_upload]))
settle

# c. Ours: plain + zstd straight into Azurite, and into a local folder.
DATABASE_URL=$DB_URL on_retry=forget_backup_azure with_azure bench-ours \
    measure backup_azure "$WORK/backup_azure.json" "$OURS" --json backup
OUR_BLOB=$(json_field "$WORK/backup_azure.json" name)
with_azure bench-ours "$OURS" --json list >"$WORK/list.json"
ours_bytes=$(python3 -c 'import json, sys
entries = [e for e in json.load(open(sys.argv[1])) if e["name"] == sys.argv[2]]
print(entries[0]["size"])' "$WORK/list.json" "$OUR_BLOB")
settle

mkdir -p "$WORK/local"
DATABASE_URL=$DB_URL BACKUP_DIR=$WORK/local on_retry=forget_backup_local \
    measure backup_local "$WORK/backup_local.json" "$OURS" --json backup
local_bytes=$(json_field "$WORK/backup_local.json" size)
rm -rf "$WORK/local"
settle

# d. Restore: psql -1 of the local plain file vs ours from Azurite.
sql postgres -c "CREATE DATABASE restore_psql"
on_retry=fresh_restore_psql with_pg measure restore_psql /dev/null \
    "$PG_BIN/psql" -X -q -w -1 -v ON_ERROR_STOP=1 -f "$SEED_FILE" -d restore_psql
# What the restore's statement filter costs by itself, on the same plain dump.
measure filter_sql /dev/null bash -c '"$1" <"$2" >/dev/null' _ "$FILTER_SQL" "$SEED_FILE"
rm -f "$SEED_FILE"
source_digest=$(table_digest "$DB")
[[ $(table_digest restore_psql) == "$source_digest" ]] || bench_die "psql's restore differs from the source"
sql postgres -c "DROP DATABASE restore_psql" -c "CHECKPOINT"
settle

DATABASE_URL=$DB_URL on_retry=drop_restore_ours with_azure bench-ours \
    measure restore_ours "$WORK/restore_ours.json" "$OURS" --json restore "$OUR_BLOB" --target-db restore_ours --create \
    --confirm restore_ours --no-safety-backup
[[ $(table_digest restore_ours) == "$source_digest" ]] || bench_die "our restore differs from the source"
sql postgres -c "DROP DATABASE restore_ours" -c "CHECKPOINT"
settle

# e. Download: curl with a read SAS vs ours (which also verifies the sha256).
with_azure bench-ours "$BLOB_URL" bench-ours "$OUR_BLOB" >"$WORK/blob.url"
# The URL goes to curl in a config file, so its SAS stays out of the process list.
printf 'url = "%s"\n' "$(cat "$WORK/blob.url")" >"$WORK/curl.cfg"
measure download_curl /dev/null curl -sS -f -K "$WORK/curl.cfg" -o "$WORK/download.curl"
settle
on_retry=forget_download_ours with_azure bench-ours measure download_ours \
    "$WORK/download_ours.json" "$OURS" --json download "$OUR_BLOB" -o "$WORK/download.ours"
cmp -s "$WORK/download.curl" "$WORK/download.ours" || bench_die "the two downloads differ"
settle
# For information: curl followed by an fsync of the file, as our download does before it
# renames the file into place.
# shellcheck disable=SC2016 # expanded by the inner shell
measure download_curl_fsync /dev/null bash -c 'curl -sS -f -K "$1" -o "$2" && sync "$2"' \
    _ "$WORK/curl.cfg" "$WORK/download.curl"
rm -f "$WORK/download.curl" "$WORK/download.ours"

# Azurite keeps every byte on disk: delete what we stored.
with_azure bench-seed "$OURS" delete "$SEED_BLOB" --yes >/dev/null
with_azure bench-ours "$OURS" delete "$OUR_BLOB" --yes >/dev/null
load_after=$(load_average)

# f. Peak RSS of our backup at other sizes, to show memory stays flat.
declare -A RSS_SIZE_BLOB=()
for size in $BENCH_RSS_SIZES; do
    sql postgres -c "DROP DATABASE IF EXISTS $DB"
    rss_db=bench_$size
    generate_db "$rss_db" "$size"
    settle
    forget_sized() { forget_blob "bench-rss-$size" "$WORK/backup_$size.json"; }
    DATABASE_URL=$(db_url "$rss_db") on_retry=forget_sized with_azure "bench-rss-$size" \
        measure "backup_$size" "$WORK/backup_$size.json" "$OURS" --json backup
    RSS_SIZE_BLOB[$size]=$(json_field "$WORK/backup_$size.json" size)
    with_azure "bench-rss-$size" "$OURS" delete "$(json_field "$WORK/backup_$size.json" name)" \
        --yes >/dev/null
    sql postgres -c "DROP DATABASE $rss_db"
done

sql postgres -c "DROP DATABASE IF EXISTS $DB"
measure_contents

# --- the table ----------------------------------------------------------------------------

# verdict VALUE le|ge TARGET [info]: pass or FAIL; with "info", a lower-case pass or miss
# that counts as no failure (for rows that are not targets of the issue).
verdict() {
    if awk -v v="$1" -v op="$2" -v t="$3" 'BEGIN { exit !(op == "le" ? v <= t : v >= t) }'; then
        printf 'pass'
    elif [[ ${4:-} == info ]]; then
        printf 'miss'
    else
        printf '**FAIL**'
    fi
}
div() { awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "inf"; else printf "%.2f", a / b }'; }
secs() { printf '%.2f s' "$1"; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f MiB", k / 1024 }'; }
mb() { awk -v b="$1" 'BEGIN { printf "%.1f MB", b / 1e6 }'; }
rss_mib() { awk -v k="$1" 'BEGIN { printf "%.2f", k / 1024 }'; }

rows=()
row() { rows+=("| $1 | $2 | $3 | $4 | $5 | $6 |"); }
# disturbed LABEL...: a note when other work disturbed one of these measurements.
disturbed() {
    local label
    for label in "$@"; do
        if [[ -n ${DISTURBED[$label]:-} ]]; then
            printf ' (disturbed)'
            return
        fi
    done
}

r=$(div "${SECS[backup_azure]}" "${SECS[floor]}")
row "backup → Azurite vs floor (\`pg_dump -Fp > /dev/null\`)" "$(secs "${SECS[floor]}")" \
    "$(secs "${SECS[backup_azure]}")" "${r}×" "≤ ${TARGET_BACKUP_VS_FLOOR}×" \
    "$(verdict "$r" le "$TARGET_BACKUP_VS_FLOOR")$(disturbed floor backup_azure)"
r=$(div "${SECS[backup_local]}" "${SECS[floor]}")
row "backup → local folder vs floor" "$(secs "${SECS[floor]}")" \
    "$(secs "${SECS[backup_local]}")" "${r}×" "≤ ${TARGET_BACKUP_VS_FLOOR}×" \
    "$(verdict "$r" le "$TARGET_BACKUP_VS_FLOOR")$(disturbed floor backup_local)"
r=$(div "$seed_secs" "${SECS[backup_azure]}")
row "backup → Azurite vs the seed's way (dump to file, then upload)" "$(secs "$seed_secs")" \
    "$(secs "${SECS[backup_azure]}")" "${r}× faster" "≥ ${TARGET_SPEEDUP_VS_SEED}× faster" \
    "$(verdict "$r" ge "$TARGET_SPEEDUP_VS_SEED")$(disturbed seed_dump seed_upload backup_azure)"
r=$(div "$ours_bytes" "$seed_bytes")
row "stored bytes (seed's plain .sql vs our .sql.zst)" "$(mb "$seed_bytes")" \
    "$(mb "$ours_bytes")" "${r}×" "≤ ${TARGET_BYTES_VS_SEED}×" \
    "$(verdict "$r" le "$TARGET_BYTES_VS_SEED")"
r=$(div "${SECS[restore_ours]}" "${SECS[restore_psql]}")
row "restore from Azurite vs \`psql -1 -f\` of a local .sql" "$(secs "${SECS[restore_psql]}")" \
    "$(secs "${SECS[restore_ours]}")" "${r}×" "≤ ${TARGET_RESTORE_VS_PSQL}×" \
    "$(verdict "$r" le "$TARGET_RESTORE_VS_PSQL")$(disturbed restore_psql restore_ours)"
r=$(div "${SECS[filter_sql]}" "${SECS[restore_ours]}")
row "statement check alone (plain dump through the filter) vs our restore" \
    "$(secs "${SECS[restore_ours]}")" "$(secs "${SECS[filter_sql]}")" "${r}×" \
    "≤ ${TARGET_FILTER_VS_RESTORE}×" "$(verdict "$r" le "$TARGET_FILTER_VS_RESTORE")$(disturbed filter_sql)"
r=$(div "${SECS[download_curl]}" "${SECS[download_ours]}")
row "download vs \`curl\` with a SAS (speed relative to curl)" "$(secs "${SECS[download_curl]}")" \
    "$(secs "${SECS[download_ours]}")" "${r}× curl's speed" "≥ ${TARGET_DOWNLOAD_SPEED}×" \
    "$(verdict "$r" ge "$TARGET_DOWNLOAD_SPEED")$(disturbed download_curl download_ours)"
r=$(div "${SECS[download_curl_fsync]}" "${SECS[download_ours]}")
row "download vs \`curl\` + fsync of the file (information)" \
    "$(secs "${SECS[download_curl_fsync]}")" "$(secs "${SECS[download_ours]}")" \
    "${r}× curl's speed" "(≥ ${TARGET_DOWNLOAD_SPEED}×)" \
    "$(verdict "$r" ge "$TARGET_DOWNLOAD_SPEED" info) (info)$(disturbed download_curl_fsync download_ours)"
rss_row() {
    local what=$1 baseline=$2 kib=$3
    row "peak RSS: $what" "$baseline" "$(mib "$kib")" "—" "≤ ${TARGET_RSS_MIB} MiB" \
        "$(verdict "$(rss_mib "$kib")" le "$TARGET_RSS_MIB")"
}
rss_row "backup → Azurite (${BENCH_SIZE_MB} MB)" "$(mib "${RSS[floor]}") (pg_dump)" "${RSS[backup_azure]}"
rss_row "backup → local folder (${BENCH_SIZE_MB} MB)" "$(mib "${RSS[floor]}") (pg_dump)" "${RSS[backup_local]}"
rss_row "restore" "$(mib "${RSS[restore_psql]}") (psql)" "${RSS[restore_ours]}"
rss_row "download" "$(mib "${RSS[download_curl]}") (curl)" "${RSS[download_ours]}"
for size in $BENCH_RSS_SIZES; do
    rss_row "backup → Azurite (${size} MB, $(secs "${SECS[backup_$size]}")$(disturbed "backup_$size"))" \
        "—" "${RSS[backup_$size]}"
done
rss_row "contents of a $(mb "$CONTENTS_BYTES") plain backup ($(secs "${SECS[contents]}")$(disturbed contents))" \
    "—" "${RSS[contents]}"

failures=$(printf '%s\n' "${rows[@]}" | grep -c 'FAIL' || true)

{
    printf '# rythm-backup benchmark\n\n'
    printf '%s, commit %s%s, %s cores, database %s MB requested.\n\n' \
        "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$(git rev-parse --short HEAD 2>/dev/null || echo '?')" \
        "$(git diff --quiet HEAD -- crates 2>/dev/null || echo ' (crates/ modified)')" \
        "$(nproc)" "$BENCH_SIZE_MB"
    printf '| operation | baseline | ours | ratio | target | pass/fail |\n'
    printf '|---|---|---|---|---|---|\n'
    printf '%s\n' "${rows[@]}"
    printf '\nDetails:\n\n'
    printf -- '- database: %s rows, %s (pg_database_size); plain dump %s\n' \
        "${DB_ROWS[$DB]}" "$(mb "${DB_BYTES[$DB]}")" "$(mb "$raw_dump_bytes")"
    printf -- '- seed'"'"'s way: dump to file %s + upload %s (peak RSS %s); stored %s\n' \
        "$(secs "${SECS[seed_dump]}")" "$(secs "${SECS[seed_upload]}")" "$(mib "$seed_rss")" \
        "$(mb "$seed_bytes")"
    printf -- '- ours: stored %s in Azurite (%s in the local folder), %.2f× smaller than the plain dump\n' \
        "$(mb "$ours_bytes")" "$(mb "$local_bytes")" "$(div "$raw_dump_bytes" "$ours_bytes")"
    for size in $BENCH_RSS_SIZES; do
        printf -- '- backup at %s MB: %s rows, %s database, %s stored, %s, peak RSS %s\n' \
            "$size" "${DB_ROWS[bench_$size]}" "$(mb "${DB_BYTES[bench_$size]}")" \
            "$(mb "${RSS_SIZE_BLOB[$size]}")" "$(secs "${SECS[backup_$size]}")" \
            "$(mib "${RSS[backup_$size]}")"
    done
    printf -- '- load average before / after the main measurements: %s / %s\n' \
        "$load_before" "$load_after"
    printf -- '- CPU during each measurement (cores busy in the second before it):\n'
    for label in "${MEASURED[@]}"; do
        printf -- '  - %s: %s s wall; %s (%s)%s\n' "$label" "${SECS[$label]}" "${CPU[$label]}" \
            "${BUSY[$label]}" "$(disturbed "$label")"
    done
    # shellcheck disable=SC2016 # backticks are Markdown
    printf -- '- command: `BENCH_SIZE_MB=%s BENCH_RSS_SIZES="%s" bash bench/run.sh`\n' \
        "$BENCH_SIZE_MB" "$BENCH_RSS_SIZES"
} >"$RESULTS_FILE"

printf '\n'
cat "$RESULTS_FILE"
bench_log "written to ${RESULTS_FILE#"$repo_root"/}; $failures target(s) missed"
if ((failures > 0)) && [[ $BENCH_STRICT == 1 ]]; then
    exit 1
fi
