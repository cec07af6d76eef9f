//! Hostile backups, as an attacker who can write to the storage (or hand over a file) would
//! make them: transaction control in several spellings and positions, and cluster-level
//! statements (roles, databases, ALTER SYSTEM, COPY … TO PROGRAM, tablespaces), slipped
//! into plain dumps and into custom archives, restored from Azure (with a re-stamped sha256)
//! and from a local file, as the database's owner and as a superuser. Each is refused before
//! it can change anything: the target dumps identically before and after, and no role,
//! database, setting, tablespace or file is left behind. Content replaced in storage with
//! the old sha256 is refused before any statement runs. And dumps that merely look hostile
//! (COMMIT in a procedure, ROLLBACK in a string, `COMMIT;` and `\.` in COPY rows) restore
//! identically.

mod fixture;
mod tamper;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rythm_backup_core::catalog::{Compression, DumpFormat};
use rythm_backup_core::engine::RestoreOptions;
use rythm_backup_core::jobs::restore::RestoreSource;
use rythm_backup_core::pg::{PgTools, ToolKind};
use rythm_backup_core::{Cancel, ErrorCode, Progress};

use crate::support::engine::{StoreKind, TestEngine};
use crate::support::name;
use crate::support::pg::{admin_target, fresh_name, TestDb};
use fixture::{admin, Role, Target, Traces};
use tamper::{
    assert_refused, insert_plain, put, put_with, replace_in_archive, restore_hostile, Position,
};

/// Transaction control in every spelling and position of a plain dump, restored from a
/// local file as the owner: refused, the target identical, nothing committed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transaction_control_in_any_spelling_and_position_is_refused() {
    let target = Target::new(Role::Owner);
    let dump = target.dump(DumpFormat::Plain);
    let before = target.db.dump();
    let evidence = fresh_name("escaped");
    for (spelling, kind) in [
        ("COMMIT;\n", "COMMIT"),
        ("  commit\n   work ;\n", "COMMIT"),
        ("/* innocent */ END\t;\n", "END"),
        ("-- a comment\nROLLBACK;\n", "ROLLBACK"),
        ("ABORT;\n", "ABORT"),
        ("COMMIT AND CHAIN;\n", "COMMIT"),
        ("PREPARE TRANSACTION 'hostile';\n", "PREPARE"),
        ("START TRANSACTION;\n", "START"),
        ("BEGIN;\nCOMMIT;\n", "COMMIT"),
    ] {
        for position in [Position::First, Position::AfterHeader, Position::AfterData] {
            let payload = format!("{spelling}CREATE TABLE public.{evidence} (x int);\n");
            let hostile = insert_plain(&dump, position, &payload);
            let label = format!("{spelling:?} at {position:?}");
            let error =
                restore_hostile(&target, StoreKind::Local, DumpFormat::Plain, &hostile).await;
            assert_refused(&error, &label, kind);
            assert_eq!(target.db.dump(), before, "{label}: the target changed");
        }
    }
}

/// Cluster-level statements, each behind a COMMIT as an attacker would put them (and alone),
/// in plain and custom backups, from Azure with a re-stamped sha256 and from a file, as the
/// owner and as a superuser.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_level_statements_are_refused_in_every_format_source_and_role() {
    let traces = Traces::new();
    for role in [Role::Owner, Role::Superuser] {
        let target = Target::new(role);
        let before = target.db.dump();
        let plain = target.dump(DumpFormat::Plain);
        let custom = target.dump(DumpFormat::Custom);
        for (kind, statement) in traces.cluster_statements() {
            for escape in ["COMMIT;\n", ""] {
                let payload = format!("{escape}{statement}\n");
                for source in [StoreKind::Azure, StoreKind::Local] {
                    let cases = [
                        (
                            DumpFormat::Plain,
                            insert_plain(&plain, Position::AfterData, &payload),
                        ),
                        (
                            DumpFormat::Custom,
                            replace_in_archive(&custom, "PRE_DATA_SLOT", &payload),
                        ),
                        (
                            DumpFormat::Custom,
                            replace_in_archive(&custom, "POST_DATA_SLOT", &payload),
                        ),
                    ];
                    for (format, bytes) in cases {
                        let label = format!("{kind} {escape:?} {format:?} {source:?} {role:?}");
                        let error = restore_hostile(&target, source, format, &bytes).await;
                        let expected = if escape.is_empty() { kind } else { "COMMIT" };
                        assert_refused(&error, &label, expected);
                        assert_eq!(target.db.dump(), before, "{label}: the target changed");
                        traces.assert_none(&label);
                    }
                }
            }
        }
    }
}

/// A psql session that sits connected until something terminates it.
fn sentinel(application: &str) -> Child {
    let server = admin_target();
    let psql = PgTools::newest().unwrap().path(ToolKind::Psql);
    let child = Command::new(psql)
        .arg(format!("--dbname={}", server.url_without_password()))
        .args(["--no-psqlrc", "--command", "SELECT pg_sleep(600)"])
        .env("PGPASSWORD", server.password().unwrap().expose())
        .env("PGAPPNAME", application)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start psql");
    let deadline = Instant::now() + Duration::from_secs(10);
    let sql =
        format!("SELECT count(*) FROM pg_stat_activity WHERE application_name = '{application}'");
    while admin(&sql)[0][0] == "0" {
        assert!(Instant::now() < deadline, "the sentinel never connected");
        std::thread::sleep(Duration::from_millis(50));
    }
    child
}

/// A dump-shaped script whose content, if it ever runs, terminates the session named
/// `application`: a trace that outlives any rollback.
fn trace_script(application: &str) -> Vec<u8> {
    format!(
        "SET standard_conforming_strings = on;\n\
         SELECT pg_catalog.set_config('search_path', '', false);\n\
         CREATE FUNCTION public.trace() RETURNS boolean LANGUAGE sql AS $$ \
         SELECT coalesce(bool_or(pg_catalog.pg_terminate_backend(pid)), true) \
         FROM pg_catalog.pg_stat_activity WHERE application_name = '{application}' $$;\n\
         CREATE TABLE public.replaced (x integer CHECK (public.trace()));\n\
         COPY public.replaced (x) FROM stdin;\n1\n\\.\n\n\
         --\n-- PostgreSQL database dump complete\n--\n\n"
    )
    .into_bytes()
}

/// Content replaced in storage, with the old sha256 left in the metadata: refused before a
/// single statement of it runs (its first effect would terminate a sentinel session, which
/// no rollback undoes). The same content from a file with no checksum does run, which
/// proves the trace works.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replaced_content_is_refused_before_any_statement_runs() {
    let target = Target::new(Role::Superuser);
    let before = target.db.dump();
    let engine = TestEngine::new(
        StoreKind::Azure,
        &target.restore_as,
        DumpFormat::Plain,
        Compression::None,
    );
    let genuine = target.dump(DumpFormat::Plain);
    let blob = name("rythm-backup-2026-02-01T00-00-00-000Z.sql");
    put(engine.store().as_ref(), &blob, &genuine, DumpFormat::Plain).await;
    let old_metadata = engine.store().head(&blob).await.unwrap().metadata;

    let application = fresh_name("rythm_trace");
    let replaced = trace_script(&application);
    put_with(engine.store().as_ref(), &blob, &replaced, old_metadata).await;
    let mut watched = sentinel(&application);
    let options = || RestoreOptions {
        confirm: target.db.name(),
        skip_safety_backup: true,
        ..RestoreOptions::default()
    };
    target.db.wait_idle();
    let error = engine
        .engine
        .restore(
            RestoreSource::Stored(blob.clone()),
            options(),
            &Progress::none(),
            &Cancel::new(),
        )
        .await
        .expect_err("replaced content must be refused");
    assert_eq!(error.code(), ErrorCode::ChecksumMismatch, "{error}");
    assert!(error.to_string().contains("nothing was run"), "{error}");
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        watched.try_wait().unwrap().is_none(),
        "the replaced content ran before its checksum was checked"
    );
    assert_eq!(target.db.dump(), before);

    // The control: the same content restored from a file (no checksum to check) runs, and
    // its first effect is visible.
    let folder = tempfile::tempdir().unwrap();
    let file: PathBuf = folder.path().join("replaced.sql");
    std::fs::write(&file, &replaced).unwrap();
    target.db.wait_idle();
    engine
        .engine
        .restore(
            RestoreSource::File(file),
            options(),
            &Progress::none(),
            &Cancel::new(),
        )
        .await
        .expect("the unchecked file restores");
    let deadline = Instant::now() + Duration::from_secs(10);
    while watched.try_wait().unwrap().is_none() {
        assert!(
            Instant::now() < deadline,
            "the trace did not fire when the content ran"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = watched.kill();
}

/// A database that merely looks hostile: a procedure that commits, a function whose string
/// says ROLLBACK, COPY rows holding `COMMIT;` and `\.`-like text, a large object (whose
/// pg_dump BEGIN/COMMIT block the filter drops), the rich fixture. Plain and custom backups
/// restore identically.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dumps_that_look_hostile_but_are_genuine_restore_identically() {
    let source = TestDb::with_fixture("lookalike");
    source.execute(
        "CREATE PROCEDURE public.batch() LANGUAGE plpgsql AS $$ BEGIN COMMIT; ROLLBACK; END $$; \
         CREATE FUNCTION public.says() RETURNS text LANGUAGE sql AS 'SELECT ''ROLLBACK; COMMIT;'''; \
         CREATE FUNCTION public.atomic(a int) RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT a; \
           SELECT CASE WHEN a > 0 THEN a END; END; \
         CREATE TABLE public.notes (id int, body text); \
         INSERT INTO public.notes VALUES (1, 'COMMIT;'), (2, E'\\\\.'), (3, E'line\\n\\\\.\\nCOMMIT;'), \
           (4, 'END; ROLLBACK; \\connect x'), (5, E'tab\\there'), (6, $x$it's 'quoted'$x$); \
         COMMENT ON TABLE public.notes IS 'COMMIT; -- not really';",
    );
    let expected = source.dump();
    for format in [DumpFormat::Plain, DumpFormat::Custom] {
        let engine = TestEngine::new(StoreKind::Azure, &source.target, format, Compression::Zstd);
        let backup = engine
            .engine
            .backup(
                rythm_backup_core::catalog::BackupKind::Manual,
                &Progress::none(),
                &Cancel::new(),
            )
            .await
            .expect("backup")
            .backup;
        let copy = TestDb::adopt(&fresh_name("lookalike_copy"));
        let options = RestoreOptions {
            target: Some(copy.target.clone()),
            create: true,
            confirm: copy.name(),
            ..RestoreOptions::default()
        };
        engine
            .engine
            .restore(
                RestoreSource::Stored(backup.name),
                options,
                &Progress::none(),
                &Cancel::new(),
            )
            .await
            .unwrap_or_else(|e| panic!("{format:?}: a genuine dump is refused: {e}"));
        assert_eq!(copy.dump(), expected, "{format:?}: the copy differs");
    }
}
