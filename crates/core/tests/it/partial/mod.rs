//! Partial restores against the real PostgreSQL: one tenant brought back while the others
//! keep what they did since the backup (plain and custom, from Azure, a local folder and a
//! local file), chosen tables (emptied, dropped, copied into a new schema, with references
//! that would dangle), row-level security, hostile conditions, dry runs, and what
//! `contents` reads from the same backups. The fixture is `tests/fixtures/tenant_schema.sql`.

mod contents;
mod hostile;
mod order;
mod safety;
mod tables;
mod tenant;

use rythm_backup_core::catalog::{BackupKind, BackupName, Compression, DumpFormat};
use rythm_backup_core::engine::RestoreOptions;
use rythm_backup_core::jobs::partial::{PartialRestoreOutcome, PartialSelection, TableOutcome};
use rythm_backup_core::jobs::restore::RestoreSource;
use rythm_backup_core::{Cancel, Progress};

use crate::support::engine::{StoreKind, TestEngine};
use crate::support::pg::TestDb;

pub const TENANT_SCHEMA: &str = include_str!("../../fixtures/tenant_schema.sql");
pub const A: &str = "00000000-0000-0000-0000-00000000000a";
pub const B: &str = "00000000-0000-0000-0000-00000000000b";
pub const C: &str = "00000000-0000-0000-0000-00000000000c";
/// The tables with a tenant column, parents first.
pub const TENANT_TABLES: [&str; 6] = [
    "tenants", "users", "programs", "sessions", "sets", "workouts",
];

/// A fresh database holding the multi-tenant fixture.
pub fn tenant_db(prefix: &str) -> TestDb {
    let db = TestDb::create(prefix);
    db.execute(TENANT_SCHEMA);
    db
}

/// Every row of `tenant` in every tenant table and in the materialized view, as text, in
/// a fixed order: two databases agree on a tenant exactly when these agree.
pub fn tenant_dump(db: &TestDb, tenant: &str) -> String {
    let mut all = String::new();
    for table in TENANT_TABLES.iter().chain(["tenant_volume"].iter()) {
        let rows = db.query(&format!(
            "SELECT '>' || COALESCE(string_agg(x::text, E'\\n' ORDER BY x::text), '') \
             FROM public.{table} x WHERE tenant_id = '{tenant}'"
        ));
        all.push_str(&format!("== {table}\n{}\n", rows[0][0]));
    }
    all
}

/// Every row of one table, as text, in a fixed order.
pub fn table_dump(db: &TestDb, table: &str) -> String {
    db.query(&format!(
        "SELECT '>' || COALESCE(string_agg(x::text, E'\\n' ORDER BY x::text), '') FROM {table} x"
    ))[0][0]
        .clone()
}

/// Every table's rows but the given ones.
pub fn all_but(db: &TestDb, skip: &[&str]) -> String {
    [
        "tenants",
        "exercises",
        "users",
        "programs",
        "sessions",
        "sets",
        "workouts",
        "announcements",
    ]
    .iter()
    .filter(|t| !skip.contains(t))
    .map(|t| format!("== {t}\n{}\n", table_dump(db, &format!("public.{t}"))))
    .collect()
}

pub async fn backup(engine: &TestEngine) -> BackupName {
    engine
        .engine
        .backup(BackupKind::Manual, &Progress::none(), &Cancel::new())
        .await
        .expect("backup")
        .backup
        .name
}

pub fn engine_for(db: &TestDb, kind: StoreKind, format: DumpFormat) -> TestEngine {
    TestEngine::new(kind, &db.target, format, Compression::Zstd)
}

pub async fn partial(
    engine: &TestEngine,
    db: &TestDb,
    source: RestoreSource,
    selection: PartialSelection,
) -> Result<PartialRestoreOutcome, rythm_backup_core::Error> {
    db.wait_idle();
    let options = RestoreOptions {
        confirm: db.name(),
        ..RestoreOptions::default()
    };
    engine
        .engine
        .partial_restore(
            source,
            selection,
            options,
            &Progress::none(),
            &Cancel::new(),
        )
        .await
}

pub fn table<'a>(outcome: &'a PartialRestoreOutcome, name: &str) -> &'a TableOutcome {
    outcome
        .tables
        .iter()
        .find(|t| t.name == name)
        .unwrap_or_else(|| panic!("{name} not in {outcome:#?}"))
}

/// No scratch database of a partial restore is left on the server. They are the
/// rehearsals' kind (`rythm_verify_…`, each guarded by a lease session while its job runs):
/// none may be left without its lease, that is, by a job that has ended. (Tests running in
/// parallel have theirs, with their leases.)
pub fn no_scratch_left(db: &TestDb) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let left = db.query(
            "SELECT count(*) FROM pg_database d WHERE datname LIKE 'rythm\\_verify\\_%' \
             AND NOT EXISTS (SELECT 1 FROM pg_stat_activity a \
               WHERE a.application_name = 'rythm-verify-lease-' || substr(d.datname, 14))",
        );
        if left[0][0] == "0" {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "a scratch database was left behind"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}
