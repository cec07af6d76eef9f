# shellcheck shell=bash
# Throwaway PostgreSQL and Azurite for the tests and the demo.
#
# Source this file from a script that runs under `set -euo pipefail`, then for example:
#
#   source scripts/lib/services.sh
#   trap stop_services EXIT
#   ensure_packages
#   make_services_dir            # sets RYTHM_SERVICES_DIR, removed by stop_services
#   start_postgres "$RYTHM_SERVICES_DIR/pg"
#   start_azurite "$RYTHM_SERVICES_DIR/azurite"
#
# start_postgres exports RYTHM_TEST_PG_URL, RYTHM_TEST_PG_BIN and RYTHM_TEST_PG_PORT;
# start_azurite exports RYTHM_TEST_AZURE_CONNECTION_STRING, RYTHM_TEST_AZURITE_PORT and
# AZURITE_BIN. stop_services stops both and removes their directories (set
# RYTHM_KEEP_SERVICE_DIRS=1 to keep them, e.g. to read pg.log or azurite.log).

# Debian packages checked with `dpkg-query` and installed when missing. Append to this list
# for new needs. The desktop app (Tauri 2) needs WebKitGTK and GTK to build (its C
# libraries come through pkg-config; no OpenSSL, libdbus is vendored, no tray, no libxdo),
# and Xvfb plus WebKitWebDriver (webkit2gtk-driver) for its end-to-end tests, which look for
# the native save dialog with xwininfo (x11-utils).
RYTHM_APT_PACKAGES=(curl zstd procps keyutils openssl python3-venv
    build-essential pkg-config libwebkit2gtk-4.1-dev libgtk-3-dev
    xvfb webkit2gtk-driver x11-utils)

# Azurite 3.36 and later require Node >= 21 (3.37: >= 22); Debian 12's nodejs is 18 and
# NodeSource's LTS is 20. 3.35.0 supports both and has every flag we use.
RYTHM_AZURITE_VERSION=${RYTHM_AZURITE_VERSION:-3.35.0}

# Azurite's fixed, publicly documented development account (not a secret).
RYTHM_AZURITE_ACCOUNT=devstoreaccount1
RYTHM_AZURITE_KEY='Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='

# The functions return non-zero on failure even where the caller disables `set -e` (as in
# `start_postgres DIR || ...`), hence the explicit `|| return 1`s.

# State of what this shell started; read by stop_services.
_RYTHM_PG_DIR=""
_RYTHM_PG_BIN=""
RYTHM_AZURITE_PID=""
_RYTHM_SERVICE_DIRS=()
_RYTHM_APT_UPDATED=""

svc_log() { printf '[services] %s\n' "$*" >&2; }
svc_die() {
    printf '[services] error: %s\n' "$*" >&2
    return 1
}

_is_root() { [[ $(id -u) -eq 0 ]]; }

# Runs "$@" as the postgres OS user when we are root (initdb and postgres refuse root),
# directly otherwise.
_as_pg_owner() {
    if _is_root; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

# Shows the last lines of a log file on stderr, for failure messages.
_show_log_tail() {
    local file=$1
    if [[ -f $file ]]; then
        printf -- '----- last lines of %s -----\n' "$file" >&2
        tail -n 30 "$file" >&2 || true
        printf -- '-----\n' >&2
    fi
}

_package_installed() {
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

# apt-get install "$@", with one `apt-get update` per shell before the first install.
_apt_install() {
    local sudo=()
    if ! _is_root; then
        if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
            sudo=(sudo -n)
        else
            svc_die "missing packages: $*; install them as root (apt-get install $*)"
            return 1
        fi
    fi
    if [[ -z $_RYTHM_APT_UPDATED ]]; then
        svc_log "apt-get update"
        "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq || return 1
        _RYTHM_APT_UPDATED=1
    fi
    svc_log "apt-get install $*"
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq --no-install-recommends "$@"
}

# Prints the bin directory of the newest PostgreSQL on the machine (the one holding
# initdb, pg_ctl, psql, pg_dump, pg_restore). RYTHM_TEST_PG_BIN, when already set to a
# directory with initdb in it, wins (e.g. a PostgreSQL built or installed elsewhere).
find_pg_bindir() {
    if [[ -n ${RYTHM_TEST_PG_BIN:-} && -x ${RYTHM_TEST_PG_BIN}/initdb ]]; then
        printf '%s\n' "$RYTHM_TEST_PG_BIN"
        return 0
    fi
    local found
    found=$(compgen -G '/usr/lib/postgresql/*/bin/initdb' | sort -V | tail -n 1 || true)
    [[ -n $found ]] || return 1
    printf '%s\n' "${found%/initdb}"
}

# Installs what the scripts need, only what is missing.
ensure_packages() {
    local missing=() pkg bin
    if ! bin=$(find_pg_bindir); then
        missing+=(postgresql)
    elif [[ ! -x $bin/psql ]]; then
        # Debian: /usr/lib/postgresql/15/bin -> postgresql-client-15
        local major=${bin%/bin}
        missing+=("postgresql-client-${major##*/}")
    fi
    command -v node >/dev/null 2>&1 || missing+=(nodejs)
    command -v npm >/dev/null 2>&1 || missing+=(npm)
    command -v python3 >/dev/null 2>&1 || missing+=(python3)
    for pkg in "${RYTHM_APT_PACKAGES[@]}"; do
        _package_installed "$pkg" || missing+=("$pkg")
    done
    if ((${#missing[@]} == 0)); then
        return 0
    fi
    _apt_install "${missing[@]}" || return 1
    find_pg_bindir >/dev/null || svc_die "PostgreSQL installed but no /usr/lib/postgresql/*/bin/initdb"
}

# _ensure_npm_tool PACKAGE VERSION BIN: installs PACKAGE@VERSION with npm into the cache
# (its own folder, no global install) unless that version is there already; prints the path
# of its executable BIN.
_ensure_npm_tool() {
    local package=$1 version=$2 bin_name=$3
    local slug=${package#@}
    slug=${slug//\//-} # @tauri-apps/cli -> tauri-apps-cli
    local dir=${RYTHM_CACHE:-$HOME/.cache/rythm-backup}/$slug
    local bin=$dir/node_modules/.bin/$bin_name
    local manifest=$dir/node_modules/$package/package.json
    local installed=""
    if [[ -f $manifest ]]; then
        installed=$(node -p 'require(process.argv[1]).version' "$manifest" 2>/dev/null || true)
    fi
    if [[ ! -x $bin || $installed != "$version" ]]; then
        svc_log "installing $package@$version into $dir"
        mkdir -p "$dir" || return 1
        npm install --prefix "$dir" --save-exact --no-audit --no-fund --loglevel=error \
            "$package@$version" >&2 || return 1
        [[ -x $bin ]] || {
            svc_die "npm install did not produce $bin"
            return 1
        }
    fi
    printf '%s\n' "$bin"
}

# The pinned Azurite; exports AZURITE_BIN.
ensure_azurite() {
    AZURITE_BIN=$(_ensure_npm_tool azurite "$RYTHM_AZURITE_VERSION" azurite-blob) || return 1
    export AZURITE_BIN
}

# aiosmtpd, a real SMTP server for the notification tests (scripts/lib/smtp_server.py),
# pinned, in a virtual environment in the cache; exports RYTHM_TEST_SMTP_PYTHON (its
# python) and RYTHM_TEST_SMTP_SERVER (the script).
RYTHM_AIOSMTPD_VERSION=${RYTHM_AIOSMTPD_VERSION:-1.4.6}
ensure_aiosmtpd() {
    local venv=${RYTHM_CACHE:-$HOME/.cache/rythm-backup}/aiosmtpd-venv
    if ! "$venv/bin/python" -c "import aiosmtpd, sys; sys.exit(aiosmtpd.__version__ != '$RYTHM_AIOSMTPD_VERSION')" 2>/dev/null; then
        svc_log "installing aiosmtpd $RYTHM_AIOSMTPD_VERSION into $venv"
        python3 -m venv "$venv" || return 1
        "$venv/bin/pip" install --quiet --disable-pip-version-check \
            "aiosmtpd==$RYTHM_AIOSMTPD_VERSION" >&2 || return 1
    fi
    export RYTHM_TEST_SMTP_PYTHON=$venv/bin/python
    RYTHM_TEST_SMTP_SERVER=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/smtp_server.py
    export RYTHM_TEST_SMTP_SERVER
}

# The Tauri CLI, pinned to the `tauri` crate's version (Cargo.lock); exports TAURI_CLI. It
# lives in the cache rather than in ui/package.json: its lock file entries would name a
# package per platform, and `npm ci` refuses a lock missing any of them.
RYTHM_TAURI_CLI_VERSION=${RYTHM_TAURI_CLI_VERSION:-2.12.5}
ensure_tauri_cli() {
    TAURI_CLI=$(_ensure_npm_tool @tauri-apps/cli "$RYTHM_TAURI_CLI_VERSION" tauri) || return 1
    export TAURI_CLI
}

# Prints a TCP port on 127.0.0.1 that is free right now (the kernel picks it).
free_port() {
    python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

# Creates a private temp dir for the services (RYTHM_SERVICES_DIR), removed by
# stop_services. Mode 711: others may traverse it (the postgres OS user must reach the
# cluster below it) but not list it.
make_services_dir() {
    RYTHM_SERVICES_DIR=$(mktemp -d "${TMPDIR:-/tmp}/rythm-services.XXXXXX") || return 1
    chmod 711 "$RYTHM_SERVICES_DIR" || return 1
    _RYTHM_SERVICE_DIRS+=("$RYTHM_SERVICES_DIR")
}

# As root the cluster runs as the postgres OS user, who must be able to enter every
# parent of DIR. Temp dirs (mktemp -d: mode 700, owned by root) get o+x (traverse, not
# list); anything else is left alone and reported.
_make_reachable_by_postgres() {
    local dir=$1 parent
    parent=$(dirname "$dir")
    while [[ $parent != / ]]; do
        if ! runuser -u postgres -- test -x "$parent"; then
            case "$parent/" in
                /tmp/?*/ | "${TMPDIR:-/tmp}"/?*/)
                    chmod o+x "$parent"
                    svc_log "made $parent traversable (o+x) for the postgres user"
                    ;;
                *)
                    svc_die "the postgres OS user cannot enter $parent; use a DIR it can reach (e.g. under /tmp)"
                    return 1
                    ;;
            esac
        fi
        parent=$(dirname "$parent")
    done
}

# start_postgres DIR: a fresh cluster in DIR/data, password auth over TCP on 127.0.0.1,
# unix socket in DIR, log in DIR/pg.log.
start_postgres() {
    local dir=${1:?usage: start_postgres DIR}
    if [[ -n $_RYTHM_PG_DIR ]]; then
        svc_die "PostgreSQL already started in $_RYTHM_PG_DIR"
        return 1
    fi
    local bin
    bin=$(find_pg_bindir) || {
        svc_die "no PostgreSQL found (run ensure_packages)"
        return 1
    }

    mkdir -p "$dir" || return 1
    dir=$(cd "$dir" && pwd -P) || return 1
    if [[ -e $dir/data ]]; then
        svc_die "$dir/data exists already; start_postgres wants a fresh directory"
        return 1
    fi
    _RYTHM_SERVICE_DIRS+=("$dir")
    # Mode 700: the unix socket in DIR has trust auth, so only the owner may reach it.
    chmod 700 "$dir" || return 1
    if _is_root; then
        chown postgres:postgres "$dir" || return 1
        _make_reachable_by_postgres "$dir" || return 1
    fi

    # A random superuser password (hex: safe in a URL), given to initdb in a file.
    local password pwfile=$dir/pwfile
    password=$(python3 -c 'import secrets; print(secrets.token_hex(16))') || return 1
    (umask 077 && printf '%s\n' "$password" >"$pwfile") || return 1
    if _is_root; then chown postgres:postgres "$pwfile" || return 1; fi

    local locale=C
    if locale -a 2>/dev/null | grep -qix 'c\.utf-\?8'; then locale=C.UTF-8; fi

    svc_log "initdb ($bin, locale $locale) in $dir/data"
    if ! _as_pg_owner "$bin/initdb" -D "$dir/data" -U postgres --pwfile="$pwfile" \
        --auth-local=trust --auth-host=scram-sha-256 \
        --encoding=UTF8 --locale="$locale" >"$dir/initdb.log" 2>&1; then
        _show_log_tail "$dir/initdb.log"
        rm -f "$pwfile"
        svc_die "initdb failed"
        return 1
    fi
    rm -f "$pwfile"

    # Listen on 127.0.0.1 only, socket inside DIR (not /var/run/postgresql). The cluster is
    # thrown away after the run, so durability settings are off for speed.
    cat >>"$dir/data/postgresql.conf" <<EOF || return 1

# Added by scripts/lib/services.sh for a throwaway test cluster.
listen_addresses = '127.0.0.1'
unix_socket_directories = '${dir//\'/\'\'}'
fsync = off
synchronous_commit = off
full_page_writes = off
EOF

    # The port goes on the command line so a retry (another process took the port between
    # free_port and the bind) needs no config edit.
    local attempt port=""
    for attempt in 1 2 3; do
        port=$(free_port) || return 1
        if _as_pg_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/pg.log" -o "-p $port" \
            -w -t 60 start >/dev/null; then
            break
        fi
        if ((attempt < 3)) && grep -q 'could not bind' "$dir/pg.log" 2>/dev/null; then
            svc_log "port $port was taken; retrying"
            continue
        fi
        _show_log_tail "$dir/pg.log"
        svc_die "PostgreSQL did not start"
        return 1
    done
    _RYTHM_PG_DIR=$dir
    _RYTHM_PG_BIN=$bin

    # Prove that password authentication over TCP works, and that a wrong password is
    # refused. The password travels in the environment, never in argv; PGPASSFILE=/dev/null
    # keeps a developer's ~/.pgpass out of it; -w never prompts.
    if ! PGPASSWORD=$password PGPASSFILE=/dev/null "$bin/psql" -X -w -qAt \
        -h 127.0.0.1 -p "$port" -U postgres -d postgres -c 'select 1' >/dev/null; then
        _show_log_tail "$dir/pg.log"
        svc_die "password login over TCP to 127.0.0.1:$port failed"
        return 1
    fi
    if PGPASSWORD=not-the-password PGPASSFILE=/dev/null "$bin/psql" -X -w -qAt \
        -h 127.0.0.1 -p "$port" -U postgres -d postgres -c 'select 1' >/dev/null 2>&1; then
        svc_die "the cluster accepted a wrong password: authentication is not in force"
        return 1
    fi

    export RYTHM_TEST_PG_BIN=$bin
    export RYTHM_TEST_PG_PORT=$port
    export RYTHM_TEST_PG_URL="postgresql://postgres:${password}@127.0.0.1:${port}/postgres"
    svc_log "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port"
}

# Waits until Azurite answers HTTP on PORT. Returns 1 if the process PID died, 2 on
# timeout (SECONDS seconds).
_wait_for_azurite() {
    local port=$1 pid=$2 timeout=${3:-30} code
    local deadline=$((SECONDS + timeout))
    while ((SECONDS < deadline)); do
        kill -0 "$pid" 2>/dev/null || return 1
        # Any HTTP status (403 for this anonymous request) means it is serving.
        code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 \
            "http://127.0.0.1:${port}/${RYTHM_AZURITE_ACCOUNT}?comp=list" || true)
        [[ $code != 000 ]] && return 0
        sleep 0.2
    done
    return 2
}

# start_azurite DIR: Azurite's blob service in the background on a free port, data and
# azurite.log in DIR.
start_azurite() {
    local dir=${1:?usage: start_azurite DIR}
    if [[ -n $RYTHM_AZURITE_PID ]]; then
        svc_die "Azurite already started (pid $RYTHM_AZURITE_PID)"
        return 1
    fi
    if [[ -z ${AZURITE_BIN:-} || ! -x ${AZURITE_BIN:-} ]]; then ensure_azurite || return 1; fi
    mkdir -p "$dir" || return 1
    dir=$(cd "$dir" && pwd -P) || return 1
    _RYTHM_SERVICE_DIRS+=("$dir")

    local attempt port="" pid status
    for attempt in 1 2 3; do
        port=$(free_port) || return 1
        # --disableTelemetry: otherwise it tries to reach the internet. --skipApiVersionCheck:
        # the Azure SDK sends a newer API version than Azurite knows. --loose: ignore
        # headers Azurite does not support instead of failing the request.
        "$AZURITE_BIN" --blobHost 127.0.0.1 --blobPort "$port" --location "$dir" \
            --skipApiVersionCheck --disableTelemetry --loose \
            </dev/null >>"$dir/azurite.log" 2>&1 &
        pid=$!
        RYTHM_AZURITE_PID=$pid
        status=0
        _wait_for_azurite "$port" "$pid" 30 || status=$?
        if ((status == 0)); then
            break
        fi
        if ((status == 1)); then
            wait "$pid" 2>/dev/null || true
            RYTHM_AZURITE_PID=""
            if ((attempt < 3)) && grep -q EADDRINUSE "$dir/azurite.log"; then
                svc_log "port $port was taken; retrying"
                continue
            fi
            _show_log_tail "$dir/azurite.log"
            svc_die "Azurite exited before serving on 127.0.0.1:$port"
            return 1
        fi
        _show_log_tail "$dir/azurite.log"
        svc_die "Azurite did not answer on 127.0.0.1:$port within 30 s"
        return 1
    done

    export AZURITE_BIN
    export RYTHM_TEST_AZURITE_PORT=$port
    export RYTHM_TEST_AZURE_CONNECTION_STRING="DefaultEndpointsProtocol=http;AccountName=${RYTHM_AZURITE_ACCOUNT};AccountKey=${RYTHM_AZURITE_KEY};BlobEndpoint=http://127.0.0.1:${port}/${RYTHM_AZURITE_ACCOUNT};"
    svc_log "Azurite $RYTHM_AZURITE_VERSION on 127.0.0.1:$port (pid $pid)"
}

# Stops whatever this shell started and removes the service dirs. Safe to call more than
# once; meant for `trap stop_services EXIT`.
stop_services() {
    if [[ -n $_RYTHM_PG_DIR ]]; then
        if [[ -f $_RYTHM_PG_DIR/data/postmaster.pid ]]; then
            _as_pg_owner "$_RYTHM_PG_BIN/pg_ctl" -D "$_RYTHM_PG_DIR/data" -m fast -w -t 30 \
                stop >/dev/null 2>&1 || svc_log "warning: pg_ctl stop failed (see $_RYTHM_PG_DIR/pg.log)"
        fi
        _RYTHM_PG_DIR=""
    fi
    if [[ -n $RYTHM_AZURITE_PID ]]; then
        local pid=$RYTHM_AZURITE_PID i
        if kill -0 "$pid" 2>/dev/null; then
            kill -TERM "$pid" 2>/dev/null || true
            for ((i = 0; i < 50; i++)); do
                kill -0 "$pid" 2>/dev/null || break
                sleep 0.2
            done
            kill -KILL "$pid" 2>/dev/null || true
        fi
        wait "$pid" 2>/dev/null || true
        RYTHM_AZURITE_PID=""
    fi
    if ((${#_RYTHM_SERVICE_DIRS[@]} > 0)); then
        local d
        if [[ ${RYTHM_KEEP_SERVICE_DIRS:-0} == 1 ]]; then
            svc_log "kept service dirs: ${_RYTHM_SERVICE_DIRS[*]}"
        else
            for d in "${_RYTHM_SERVICE_DIRS[@]}"; do
                # Never rm -rf "" or "/".
                [[ -n $d && $d != / ]] && rm -rf -- "$d"
            done
        fi
        _RYTHM_SERVICE_DIRS=()
    fi
    return 0
}

# Prints `export NAME='value'` lines for the variables the services set, for a shell to
# eval or a developer to paste.
print_service_exports() {
    local name
    for name in RYTHM_TEST_PG_URL RYTHM_TEST_PG_BIN RYTHM_TEST_PG_PORT \
        RYTHM_TEST_AZURE_CONNECTION_STRING RYTHM_TEST_AZURITE_PORT AZURITE_BIN \
        RYTHM_TEST_SMTP_PYTHON RYTHM_TEST_SMTP_SERVER CARGO_TARGET_DIR; do
        if [[ -n ${!name:-} ]]; then
            printf "export %s='%s'\n" "$name" "${!name//\'/\'\\\'\'}"
        fi
    done
}
