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

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bytes::Bytes;
use rythm_backup_core::catalog::{BackupMetadata, BackupName, Compression, DumpFormat};
use rythm_backup_core::engine::RestoreOptions;
use rythm_backup_core::jobs::restore::RestoreSource;
use rythm_backup_core::pg::{DbTarget, PgTools, ToolKind};
use rythm_backup_core::storage::BlobStore;
use rythm_backup_core::{Cancel, Error, ErrorCode, Progress};
use sha2::{Digest, Sha256};

use crate::support::engine::{StoreKind, TestEngine};
use crate::support::pg::{admin_target, fresh_name, raw_dump, TestDb};
use crate::support::{name, random_hex};

/// Who runs the restore.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// A login role that owns the database and everything in it (the recommended setup).
    Owner,
    /// The test server's superuser.
    Superuser,
}

/// A role that owns a test database, dropped with it.
struct OwnerRole {
    name: String,
    password: String,
}

impl OwnerRole {
    fn create() -> OwnerRole {
        let role = OwnerRole {
            name: fresh_name("owner"),
            password: random_hex(),
        };
        admin(&format!(
            "CREATE ROLE {} LOGIN PASSWORD '{}'",
            role.name, role.password
        ));
        role
    }

    /// `target` as this role.
    fn connect(&self, target: &DbTarget) -> DbTarget {
        let url = format!(
            "postgresql://{}:{}@{}:{}/{}",
            self.name,
            self.password,
            target.host(),
            target.port(),
            target.database()
        );
        DbTarget::parse(&url).expect("owner URL")
    }
}

impl Drop for OwnerRole {
    fn drop(&mut self) {
        let _ = try_admin(&format!("DROP ROLE IF EXISTS {}", self.name));
    }
}

fn try_admin(sql: &str) -> Result<Vec<Vec<String>>, rythm_backup_core::pg::PgError> {
    let admin = admin_target();
    let psql = PgTools::newest().unwrap().path(ToolKind::Psql);
    rythm_backup_core::pg::SqlClient::new(psql, admin).query(sql)
}

fn admin(sql: &str) -> Vec<Vec<String>> {
    try_admin(sql).unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// The database an attack targets: a small schema with data, owned by `owner` when given
/// (then built as that role, so the owner can replace all of it).
struct Target {
    db: TestDb,
    /// The connection the restore uses.
    restore_as: DbTarget,
    _owner: Option<OwnerRole>,
}

const SCHEMA: &str = "CREATE TABLE public.t (id integer PRIMARY KEY, note text); \
    INSERT INTO public.t SELECT g, 'row ' || g FROM generate_series(1, 200) g; \
    CREATE SEQUENCE public.s START 40; SELECT nextval('public.s'); \
    COMMENT ON TABLE public.t IS 'PRE_DATA_SLOT_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'; \
    COMMENT ON INDEX public.t_pkey IS 'POST_DATA_SLOT_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx';";

impl Target {
    fn new(role: Role) -> Target {
        let db = TestDb::adopt(&fresh_name("hostile"));
        match role {
            Role::Superuser => {
                admin(&format!("CREATE DATABASE {}", db.name()));
                db.execute(SCHEMA);
                let restore_as = db.target.clone();
                Target {
                    db,
                    restore_as,
                    _owner: None,
                }
            }
            Role::Owner => {
                let owner = OwnerRole::create();
                admin(&format!(
                    "CREATE DATABASE {} OWNER {}",
                    db.name(),
                    owner.name
                ));
                let restore_as = owner.connect(&db.target);
                let psql = PgTools::newest().unwrap().path(ToolKind::Psql);
                rythm_backup_core::pg::SqlClient::new(psql, restore_as.clone())
                    .execute(SCHEMA)
                    .expect("build the schema as its owner");
                Target {
                    db,
                    restore_as,
                    _owner: Some(owner),
                }
            }
        }
    }

    /// The database's dump as its restore role makes it (`format`: plain or custom).
    fn dump(&self, format: DumpFormat) -> Vec<u8> {
        let flag = match format {
            DumpFormat::Plain => "--format=plain",
            DumpFormat::Custom => "--format=custom",
        };
        raw_dump(&self.restore_as, &[flag, "--compress=0"])
    }
}

/// What an attack could leave behind outside the target database.
struct Traces {
    role: String,
    database: String,
    tablespace: String,
    work_mem: String,
    victim: TestDb,
    program_marker: PathBuf,
    tablespace_dir: tempfile::TempDir,
}

impl Traces {
    fn new() -> Traces {
        let victim = TestDb::create("victim");
        let tablespace_dir = tempfile::tempdir().unwrap();
        Command::new("chown")
            .args(["postgres", &tablespace_dir.path().display().to_string()])
            .status()
            .ok();
        Traces {
            role: fresh_name("hostile_role"),
            database: fresh_name("hostile_db"),
            tablespace: fresh_name("hostile_ts"),
            work_mem: format!("{}kB", 4096 + rand::random::<u16>() as u32),
            victim,
            program_marker: std::env::temp_dir().join(fresh_name("hostile_program")),
            tablespace_dir,
        }
    }

    /// Statements that reach beyond the target database, with the kind the refusal names.
    fn cluster_statements(&self) -> Vec<(&'static str, String)> {
        vec![
            (
                "role DDL",
                format!("CREATE ROLE {} SUPERUSER LOGIN;", self.role),
            ),
            (
                "database DDL",
                format!("CREATE DATABASE {};", self.database),
            ),
            (
                "database DDL",
                format!("DROP DATABASE {};", self.victim.name()),
            ),
            (
                "ALTER SYSTEM",
                format!("ALTER SYSTEM SET work_mem = '{}';", self.work_mem),
            ),
            (
                "COPY other than",
                format!(
                    "COPY (SELECT 1) TO PROGRAM 'touch {}';",
                    self.program_marker.display()
                ),
            ),
            (
                "tablespace DDL",
                format!(
                    "CREATE TABLESPACE {} LOCATION '{}';",
                    self.tablespace,
                    self.tablespace_dir.path().display()
                ),
            ),
        ]
    }

    /// Asserts that nothing of the attack persists.
    fn assert_none(&self, label: &str) {
        let one = |sql: String| admin(&sql)[0][0].clone();
        assert_eq!(
            one(format!(
                "SELECT count(*) FROM pg_roles WHERE rolname = '{}'",
                self.role
            )),
            "0",
            "{label}: a role was left behind"
        );
        assert_eq!(
            one(format!(
                "SELECT count(*) FROM pg_database WHERE datname = '{}'",
                self.database
            )),
            "0",
            "{label}: a database was left behind"
        );
        assert!(self.victim.exists(), "{label}: a database was dropped");
        assert_eq!(
            one(format!(
                "SELECT count(*) FROM pg_tablespace WHERE spcname = '{}'",
                self.tablespace
            )),
            "0",
            "{label}: a tablespace was left behind"
        );
        assert_eq!(
            one(format!(
                "SELECT count(*) FROM pg_file_settings WHERE name = 'work_mem' AND setting = '{}'",
                self.work_mem
            )),
            "0",
            "{label}: ALTER SYSTEM took effect"
        );
        assert!(
            !self.program_marker.exists(),
            "{label}: COPY TO PROGRAM ran a command"
        );
    }
}

impl Drop for Traces {
    fn drop(&mut self) {
        // Only needed if an attack got through: leave the shared cluster clean.
        let _ = try_admin(&format!("DROP DATABASE IF EXISTS {}", self.database));
        let _ = try_admin(&format!("DROP ROLE IF EXISTS {}", self.role));
        let _ = try_admin(&format!("DROP TABLESPACE IF EXISTS {}", self.tablespace));
        if try_admin("SELECT 1 FROM pg_file_settings WHERE name = 'work_mem' AND sourcefile LIKE '%auto.conf'")
            .map(|rows| !rows.is_empty())
            .unwrap_or(false)
        {
            let _ = try_admin("ALTER SYSTEM RESET work_mem");
        }
        let _ = std::fs::remove_file(&self.program_marker);
    }
}

/// Where a payload goes in a plain dump.
#[derive(Debug, Clone, Copy)]
enum Position {
    /// Before everything, the dump's header included.
    First,
    /// Right after the header's settings, where the content starts.
    AfterHeader,
    /// After the last COPY block.
    AfterData,
}

fn insert_plain(dump: &[u8], position: Position, payload: &str) -> Vec<u8> {
    let text = String::from_utf8(dump.to_vec()).expect("a UTF-8 dump");
    let at = match position {
        Position::First => 0,
        Position::AfterHeader => {
            let marker = "SELECT pg_catalog.set_config('search_path', '', false);\n";
            text.find(marker).expect("the header's set_config") + marker.len()
        }
        Position::AfterData => text.rfind("\n\\.\n").expect("a COPY block") + 4,
    };
    let mut out = text[..at].to_owned();
    out.push_str(payload);
    out.push_str(&text[at..]);
    out.into_bytes()
}

/// A custom archive with one comment's SQL replaced by `payload` of the same length (the
/// archive format has no checksum an attacker would need to fix).
fn replace_in_archive(archive: &[u8], slot: &str, payload: &str) -> Vec<u8> {
    let needle = format!("IS '{slot}");
    let start_of_value = find(archive, needle.as_bytes()).expect("the comment in the archive");
    let start = archive[..start_of_value]
        .windows(7)
        .rposition(|w| w == b"COMMENT")
        .expect("the comment's start");
    let end = start_of_value + find(&archive[start_of_value..], b"';\n").unwrap() + 3;
    let length = end - start;
    assert!(payload.len() <= length, "payload too long for the slot");
    let mut out = archive[..start].to_vec();
    out.extend_from_slice(payload.as_bytes());
    out.extend(std::iter::repeat_n(b' ', length - payload.len() - 1));
    out.push(b'\n');
    out.extend_from_slice(&archive[end..]);
    assert_eq!(out.len(), archive.len());
    out
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The sha256 an attacker re-stamps into the metadata.
fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

async fn put(store: &dyn BlobStore, blob: &BackupName, bytes: &[u8], format: DumpFormat) {
    let metadata = BackupMetadata {
        format,
        compression: Compression::None,
        sha256: Some(sha256(bytes)),
        ..BackupMetadata::default()
    };
    put_with(store, blob, bytes, metadata.to_map()).await;
}

async fn put_with(
    store: &dyn BlobStore,
    blob: &BackupName,
    bytes: &[u8],
    metadata: BTreeMap<String, String>,
) {
    store.ensure_ready().await.unwrap();
    let mut upload = store.begin_upload(blob).await.unwrap();
    upload
        .put_block(Bytes::copy_from_slice(bytes))
        .await
        .unwrap();
    upload.commit(metadata).await.unwrap();
}

/// Restores `bytes` into the target, from Azure or a local file; the refusal.
async fn restore_hostile(
    target: &Target,
    source: StoreKind,
    format: DumpFormat,
    bytes: &[u8],
) -> Error {
    let engine = TestEngine::new(
        StoreKind::Azure,
        &target.restore_as,
        format,
        Compression::None,
    );
    let folder = tempfile::tempdir().unwrap();
    let extension = match format {
        DumpFormat::Plain => "sql",
        DumpFormat::Custom => "dump",
    };
    let source = match source {
        StoreKind::Azure => {
            let blob = name(&format!(
                "rythm-backup-2026-01-01T00-00-00-000Z.{extension}"
            ));
            put(engine.store().as_ref(), &blob, bytes, format).await;
            RestoreSource::Stored(blob)
        }
        StoreKind::Local => {
            let file = folder.path().join(format!("hostile.{extension}"));
            std::fs::write(&file, bytes).unwrap();
            RestoreSource::CheckedFile {
                path: file,
                sha256: sha256(bytes),
            }
        }
    };
    target.db.wait_idle();
    let options = RestoreOptions {
        confirm: target.db.name(),
        skip_safety_backup: true,
        ..RestoreOptions::default()
    };
    engine
        .engine
        .restore(source, options, &Progress::none(), &Cancel::new())
        .await
        .expect_err("a hostile backup must be refused")
}

fn assert_refused(error: &Error, label: &str, kind: &str) {
    assert_eq!(error.code(), ErrorCode::UnsafeBackup, "{label}: {error}");
    let message = error.to_string();
    assert!(
        message.contains(kind),
        "{label}: the kind is named: {message}"
    );
    assert!(
        message.contains("at line "),
        "{label}: the line is named: {message}"
    );
    assert!(
        message.contains("nothing was changed"),
        "{label}: the message says what happened: {message}"
    );
}

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
