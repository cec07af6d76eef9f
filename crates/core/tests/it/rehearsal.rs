//! Restore rehearsals: row counts recorded in pg_dump's own snapshot (rows committed while
//! the dump runs are neither counted nor restored), a backup altered after the fact (a row
//! removed, its sha256 re-stamped) failing verification with the table named, many tables
//! recorded in a manifest beside the backup, and the scratch database gone after every
//! outcome. Each test connects as a role of its own, so "no scratch database left" is a
//! question no parallel test can disturb.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::process::Stdio;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::TryStreamExt;
use rythm_backup_core::catalog::{
    row_counts, BackupKind, BackupName, Compression, DumpFormat, RecordKind, RecordName,
};
use rythm_backup_core::pg::{DbTarget, PgCommand, Server, ToolKind};
use rythm_backup_core::storage::BlobStore;
use rythm_backup_core::{Cancel, Progress};
use sha2::{Digest, Sha256};

use crate::support::engine::{StoreKind, TestEngine};
use crate::support::pg::{admin_target, fresh_name, TestDb};

/// A login role with CREATEDB and a database it owns; dropped (with anything it owns) at
/// the end.
struct OwnRole {
    role: String,
    db: TestDb,
    target: DbTarget,
}

impl OwnRole {
    fn create() -> OwnRole {
        let role = fresh_name("rehearsal_role");
        let password = format!("pw-{}", crate::support::random_hex());
        let admin = TestDb::adopt("postgres");
        admin.execute(&format!(
            "CREATE ROLE {role} LOGIN CREATEDB PASSWORD '{password}'"
        ));
        let db = TestDb::adopt(&fresh_name("rehearsal"));
        admin.execute(&format!("CREATE DATABASE {} OWNER {role}", db.name()));
        let admin_url = admin_target();
        let target = DbTarget::parse(&format!(
            "postgresql://{role}:{password}@{}:{}/{}",
            admin_url.host(),
            admin_url.port(),
            db.name()
        ))
        .unwrap();
        OwnRole { role, db, target }
    }

    fn sql(&self, sql: &str) -> Vec<Vec<String>> {
        let server = Server::probe(&self.target).unwrap();
        server.sql(&self.target).query(sql).unwrap()
    }

    /// The databases this role owns besides its test database: scratch databases left over.
    fn other_databases(&self) -> Vec<String> {
        TestDb::adopt("postgres")
            .query(&format!(
                "SELECT datname FROM pg_database d JOIN pg_roles r ON r.oid = d.datdba \
                 WHERE r.rolname = '{}' AND datname <> '{}'",
                self.role,
                self.db.name()
            ))
            .into_iter()
            .map(|r| r[0].clone())
            .collect()
    }

    fn engine(&self, format: DumpFormat, compression: Compression) -> TestEngine {
        TestEngine::new(StoreKind::Local, &self.target, format, compression)
    }
}

impl Drop for OwnRole {
    fn drop(&mut self) {
        let admin = TestDb::adopt("postgres");
        for name in self.other_databases() {
            let _ = admin
                .sql_client()
                .execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"));
        }
        let _ = admin.sql_client().execute(&format!(
            "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
            self.db.name()
        ));
        let _ = admin
            .sql_client()
            .execute(&format!("DROP ROLE IF EXISTS {}", self.role));
    }
}

fn rows_of(tables: &[rythm_backup_core::catalog::TableRows], table: &str) -> Option<i64> {
    tables.iter().find(|t| t.table == table).map(|t| t.rows)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counts_come_from_the_dumps_snapshot_not_from_rows_added_meanwhile() {
    let own = OwnRole::create();
    own.sql(
        "CREATE TABLE blocker (id int); CREATE TABLE orders (id serial PRIMARY KEY, v text); \
         INSERT INTO orders (v) SELECT md5(i::text) FROM generate_series(1, 1000) i;",
    );
    // A session holds a lock pg_dump must wait for once it has taken its snapshot.
    let server = Server::probe(&own.target).unwrap();
    let mut holder = PgCommand::new(&server.tools.path(ToolKind::Psql), own.target.password())
        .arg("--no-psqlrc")
        .arg("-qAt")
        .arg(format!("--dbname={}", own.target.url_without_password()))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut holder_in = holder.take_stdin().unwrap();
    let mut holder_out = BufReader::new(holder.take_stdout().unwrap());
    holder_in
        .write_all(b"BEGIN; LOCK TABLE blocker IN ACCESS EXCLUSIVE MODE; SELECT 'locked';\n")
        .unwrap();
    let mut line = String::new();
    holder_out.read_line(&mut line).unwrap();
    assert_eq!(line.trim(), "locked");

    let t = own.engine(DumpFormat::Plain, Compression::Zstd);
    let engine = t.engine.clone();
    let backup = tokio::spawn(async move {
        engine
            .backup(BackupKind::Manual, &Progress::none(), &Cancel::new())
            .await
    });
    // pg_dump waits on the lock: its snapshot is taken.
    let waiting = "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' \
                   AND query LIKE 'LOCK TABLE%'";
    let deadline = Instant::now() + Duration::from_secs(60);
    while own.sql(waiting)[0][0] == "0" {
        assert!(
            Instant::now() < deadline,
            "pg_dump never waited on the lock"
        );
        assert!(
            !backup.is_finished(),
            "the backup ended before the lock was released"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    own.sql("INSERT INTO orders (v) SELECT 'late' FROM generate_series(1, 500)");
    holder_in.write_all(b"COMMIT;\n").unwrap();
    drop(holder_in);
    let _ = holder.wait();

    let report = backup.await.unwrap().expect("the backup succeeds");
    let name = report.backup.name;
    let recorded = row_counts::recorded(t.store(), &name)
        .await
        .unwrap()
        .expect("counts recorded");
    assert_eq!(rows_of(&recorded, "orders"), Some(1000), "{recorded:?}");
    assert_eq!(rows_of(&recorded, "blocker"), Some(0));
    assert_eq!(own.sql("SELECT count(*) FROM orders")[0][0], "1500");

    let verified = t
        .engine
        .verify(&name, &Progress::none(), &Cancel::new())
        .await
        .unwrap();
    assert!(verified.ok, "{verified:?}");
    assert!(verified.verification.compared);
    assert_eq!(rows_of(&verified.tables, "orders"), Some(1000));
    assert!(verified.verification.restore_seconds > 0.0);
    assert!(
        own.other_databases().is_empty(),
        "{:?}",
        own.other_databases()
    );

    // The list shows the verification, read from the record beside the backup.
    let listed = t.engine.list().await.unwrap();
    let entry = listed.iter().find(|e| e.name == name).unwrap();
    let v = entry.verification.as_ref().expect("verification listed");
    assert!(v.ok);
    assert_eq!(v.tables, 2);
    assert_eq!(v.rows, 1000);
    let counts = entry.row_counts.expect("row counts listed");
    assert_eq!((counts.tables, counts.rows), (2, 1000));
}

async fn read_all(store: &dyn BlobStore, blob: &BackupName) -> Vec<u8> {
    store
        .get_from(blob, 0)
        .await
        .unwrap()
        .try_fold(Vec::new(), |mut all, c| async move {
            all.extend_from_slice(&c);
            Ok(all)
        })
        .await
        .unwrap()
}

/// Replaces a backup's bytes and re-stamps its sha256, as someone with write access to the
/// storage could.
async fn replace_restamped(store: &dyn BlobStore, name: &BackupName, bytes: Vec<u8>) {
    let mut metadata: BTreeMap<String, String> = store.head(name).await.unwrap().metadata;
    metadata.insert("sha256".into(), hex::encode(Sha256::digest(&bytes)));
    let mut upload = store.begin_upload(name).await.unwrap();
    upload.put_block(Bytes::from(bytes)).await.unwrap();
    upload.commit(metadata).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_row_removed_after_the_fact_fails_verification_naming_the_table() {
    let own = OwnRole::create();
    own.sql(
        "CREATE TABLE kept (id int); INSERT INTO kept SELECT generate_series(1, 10); \
         CREATE TABLE victim (id int, note text); \
         INSERT INTO victim SELECT i, 'row ' || i FROM generate_series(1, 20) i;",
    );
    let t = own.engine(DumpFormat::Plain, Compression::None);
    let name = t
        .engine
        .backup(BackupKind::Manual, &Progress::none(), &Cancel::new())
        .await
        .unwrap()
        .backup
        .name;
    let dump = String::from_utf8(read_all(t.store().as_ref(), &name).await).unwrap();
    assert!(dump.contains("7\trow 7\n"), "a COPY line of victim");
    let altered = dump.replacen("7\trow 7\n", "", 1);
    replace_restamped(t.store().as_ref(), &name, altered.into_bytes()).await;

    let verified = t
        .engine
        .verify(&name, &Progress::none(), &Cancel::new())
        .await
        .expect("the rehearsal runs to a result");
    assert!(!verified.ok);
    assert_eq!(
        verified.checksum_verified,
        Some(true),
        "the re-stamped sha256 matches"
    );
    let mismatches = &verified.verification.mismatches;
    assert_eq!(mismatches.len(), 1, "{mismatches:?}");
    assert_eq!(
        mismatches[0].to_string(),
        "public.victim: recorded 20 rows, restored 19 rows"
    );
    assert!(verified
        .verification
        .error
        .as_deref()
        .is_some_and(|e| e.contains("public.victim")));
    assert!(
        own.other_databases().is_empty(),
        "{:?}",
        own.other_databases()
    );
    let listed = t.engine.list().await.unwrap();
    let v = listed[0].verification.clone().expect("recorded");
    assert!(!v.ok);
    assert_eq!(v.mismatches[0].table, "victim");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restore_that_fails_is_recorded_and_leaves_no_scratch_database() {
    let own = OwnRole::create();
    own.sql("CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t SELECT generate_series(1, 5);");
    let t = own.engine(DumpFormat::Plain, Compression::None);
    let name = t
        .engine
        .backup(BackupKind::Manual, &Progress::none(), &Cancel::new())
        .await
        .unwrap()
        .backup
        .name;
    // A duplicate key: the primary key cannot be built and the restore rolls back.
    let dump = String::from_utf8(read_all(t.store().as_ref(), &name).await).unwrap();
    // The row `3` of the table's COPY block, doubled (not some `3` elsewhere, such as the
    // end of the dump's random `\restrict` key).
    let copy = dump.find("COPY public.t ").expect("the table's COPY block");
    let row = copy + dump[copy..].find("\n3\n").expect("the row 3") + 1;
    let altered = format!("{}3\n{}", &dump[..row], &dump[row..]);
    replace_restamped(t.store().as_ref(), &name, altered.into_bytes()).await;
    let rehearsed = t
        .engine
        .verify_recorded(&name, &Progress::none(), &Cancel::new())
        .await;
    let error = rehearsed.result.expect_err("the restore fails");
    assert!(error.to_string().contains("is duplicated"), "{error}");
    // The failed verification comes back with the error, for whoever keeps the last one
    // (the server's health).
    let recorded = rehearsed.verification.expect("returned with the error");
    assert!(!recorded.ok);
    assert!(recorded.error.as_deref().unwrap().contains("is duplicated"));
    assert!(
        own.other_databases().is_empty(),
        "{:?}",
        own.other_databases()
    );
    let listed = t.engine.list().await.unwrap();
    let v = listed[0]
        .verification
        .clone()
        .expect("the failure is recorded");
    assert!(!v.ok);
    assert!(v.error.unwrap().contains("is duplicated"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_tables_are_recorded_in_a_manifest_beside_the_backup() {
    let own = OwnRole::create();
    let mut ddl = String::new();
    for i in 0..220 {
        ddl.push_str(&format!(
            "CREATE TABLE \"table with a long name number {i}\" (id int); \
             INSERT INTO \"table with a long name number {i}\" SELECT generate_series(1, {});",
            i % 7
        ));
    }
    own.sql(&ddl);
    let t = own.engine(DumpFormat::Custom, Compression::Zstd);
    let name = t
        .engine
        .backup(BackupKind::Manual, &Progress::none(), &Cancel::new())
        .await
        .unwrap()
        .backup
        .name;
    let manifest = RecordName::new(&name, RecordKind::RowCounts);
    assert!(t.store().get_record(&manifest).await.unwrap().is_some());
    let recorded = row_counts::recorded(t.store(), &name)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(recorded.len(), 220);
    assert_eq!(
        rows_of(&recorded, "table with a long name number 13"),
        Some(6)
    );
    let metadata = t.store().head(&name).await.unwrap().metadata;
    assert!(metadata.values().map(String::len).sum::<usize>() < 4096);
    let verified = t
        .engine
        .verify(&name, &Progress::none(), &Cancel::new())
        .await
        .unwrap();
    assert!(
        verified.ok && verified.verification.compared,
        "{verified:?}"
    );
    // Deleting the backup deletes what lies beside it.
    t.engine.delete(&name).await.unwrap();
    assert!(t.store().get_record(&manifest).await.unwrap().is_none());
    let verification = RecordName::new(&name, RecordKind::Verification);
    assert!(t.store().get_record(&verification).await.unwrap().is_none());
    assert!(t.engine.list().await.unwrap().is_empty());
}
