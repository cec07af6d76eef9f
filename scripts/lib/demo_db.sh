# shellcheck shell=bash
# The demo database `rythm_demo` on the throwaway cluster of services.sh's start_postgres,
# shared by scripts/demo.sh (the CLI tour) and scripts/run.sh (the desktop app):
#
#   source scripts/lib/services.sh
#   source scripts/lib/demo_db.sh
#   start_postgres "$RYTHM_SERVICES_DIR/pg"
#   create_demo_database
#   demo_psql -d rythm_demo -c 'select count(*) from workouts'

# psql against the throwaway cluster: the password from its URL, via the environment.
demo_psql() {
    local password=${RYTHM_TEST_PG_URL#postgresql://postgres:}
    password=${password%%@*}
    PGPASSWORD=$password PGPASSFILE=/dev/null "$RYTHM_TEST_PG_BIN/psql" -X -w -q \
        -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$RYTHM_TEST_PG_PORT" -U postgres "$@"
}

# The password of the throwaway cluster's superuser (hex, from RYTHM_TEST_PG_URL).
demo_password() {
    local password=${RYTHM_TEST_PG_URL#postgresql://postgres:}
    printf '%s' "${password%%@*}"
}

# create_demo_database [WORKOUTS]: creates rythm_demo with five tenants and WORKOUTS
# workouts (default 250; scripts/run.sh asks for more, so that backups have a size).
create_demo_database() {
    local workouts=${1:-250}
    if [[ ! $workouts =~ ^[0-9]+$ ]]; then
        svc_die "create_demo_database: WORKOUTS must be a number, not $workouts"
        return 1
    fi
    demo_psql -d postgres -c 'create database rythm_demo' || return 1
    demo_psql -d rythm_demo <<SQL
create table tenants (
    id         serial primary key,
    name       text not null unique,
    created_at timestamptz not null default now()
);
create table workouts (
    id               bigserial primary key,
    tenant_id        integer not null references tenants (id),
    title            text not null,
    duration_minutes integer not null check (duration_minutes > 0),
    performed_at     timestamptz not null
);
create index workouts_tenant_time on workouts (tenant_id, performed_at);

insert into tenants (name)
select 'Tenant ' || g from generate_series(1, 5) as g;

insert into workouts (tenant_id, title, duration_minutes, performed_at)
select 1 + g % 5,
       (array['Run', 'Ride', 'Swim', 'Row', 'Lift'])[1 + g % 5] || ' #' || g,
       20 + g % 70,
       timestamptz '2026-01-01 06:00+00' + g * interval '7 minutes'
from generate_series(1, $workouts) as g;
SQL
}
