//! The whole life of a backup through the real binary, once with a local folder and once
//! with Azure (Azurite): backup, list, download (and its refusal to overwrite), restore
//! with a wrong and a right confirmation, roll back through the safety backup, restore a
//! downloaded file into a new database without storage, verify, delete and prune.

use serde_json::Value;

use crate::support::{file_names, sha256_file, time_of, Cli, Storage, TestDb};

#[test]
fn workflow_with_local_storage() {
    workflow(Storage::local());
}

#[test]
fn workflow_with_azure_storage() {
    workflow(Storage::azure());
}

fn workflow(storage: Storage) {
    let db = TestDb::create();
    db.psql(
        "CREATE TABLE items (id int PRIMARY KEY, label text NOT NULL); \
         INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 100) g",
    );
    let cli = Cli::new(&db, &storage);

    let backup = backup_and_check(&cli, &db, &storage);
    let name = backup["name"].as_str().unwrap().to_owned();
    let sha256 = backup["sha256"].as_str().unwrap().to_owned();

    // list: the seed's field names plus ours.
    let entries = cli.list();
    assert_eq!(entries.len(), 1, "{entries:#?}");
    let entry = &entries[0];
    assert_eq!(entry["name"], backup["name"]);
    assert_eq!(entry["size"], backup["size"]);
    assert_eq!(entry["createdAt"], backup["createdAt"]);
    assert_eq!(entry["format"], "plain");
    assert_eq!(entry["compression"], "zstd");
    assert_eq!(entry["sha256"], backup["sha256"]);
    assert_eq!(entry["legacy"], false);
    assert_eq!(entry["type"], "manual");
    assert!(
        time_of(&entry["expiresAt"]) > time_of(&entry["createdAt"]),
        "{entry}"
    );

    let file = download_and_check(&cli, &name, &sha256);

    // Restore refuses a confirmation that does not name the database.
    db.psql("DELETE FROM items WHERE id > 40; UPDATE items SET label = 'changed'");
    db.wait_idle();
    let wrong = cli.run(&["restore", &name, "--confirm", "WRONG", "--json"]);
    assert_eq!(wrong.error_code(), "confirmation_mismatch");
    assert_eq!(db.count("items"), 40, "a refused restore changed nothing");
    assert_eq!(
        cli.list_names(),
        std::slice::from_ref(&name),
        "no safety backup either"
    );

    // The right confirmation restores, after a safety backup of the changed state.
    db.wait_idle();
    let restored = cli
        .run(&["restore", &name, "--confirm", &db.name, "--json"])
        .json();
    assert_eq!(db.count("items"), 100);
    assert_eq!(
        db.psql("SELECT count(*) FROM items WHERE label = 'item ' || id"),
        "100"
    );
    assert_eq!(restored["database"], db.name.as_str());
    assert_eq!(restored["checksumVerified"], true);
    let safety = restored["safetyBackup"]
        .as_str()
        .unwrap_or_else(|| panic!("a safety backup is named: {restored}"))
        .to_owned();
    assert!(safety.starts_with("pre-restore-"), "{safety}");
    let entries = cli.list();
    let names: Vec<&str> = entries
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, [safety.as_str(), name.as_str()], "newest first");
    assert_eq!(entries[0]["type"], "pre-restore");
    assert!(time_of(&entries[0]["createdAt"]) > time_of(&entries[1]["createdAt"]));

    // Rolling back through the safety backup brings the changed state back.
    db.wait_idle();
    cli.run(&["restore", &safety, "--confirm", &db.name, "--json"])
        .json();
    assert_eq!(db.count("items"), 40);
    assert_eq!(
        db.psql("SELECT count(*) FROM items WHERE label = 'changed'"),
        "40"
    );

    restore_file_offline(&db, &file, &storage);

    // verify restores into a scratch database and counts rows.
    let verified = cli.run(&["verify", &name, "--json"]).json();
    assert_eq!(verified["checksumVerified"], true, "{verified}");
    assert_eq!(verified["ok"], true, "{verified}");
    let tables = verified["tables"].as_array().expect("tables");
    assert_eq!(tables.len(), 1, "{verified}");
    assert_eq!(tables[0]["schema"], "public");
    assert_eq!(tables[0]["table"], "items");
    assert_eq!(tables[0]["rows"], 100);

    // delete needs --yes (a usage error otherwise), then removes the backup.
    let refused = cli.run(&["delete", &name]);
    assert_eq!(refused.code, Some(2), "{refused:#?}");
    assert!(cli.list_names().contains(&name));
    let deleted = cli.run(&["delete", &name, "--yes"]);
    assert_eq!(deleted.code, Some(0), "{deleted:#?}");
    let left = cli.list_names();
    assert!(!left.contains(&name), "{left:?}");
    assert!(!left.is_empty(), "the safety backups stay");
    if let Some(dir) = storage.dir() {
        let files = file_names(dir);
        assert!(
            !files.iter().any(|f| f.starts_with(&name)),
            "file and sidecar gone: {files:?}"
        );
    }

    // Fresh backups are not due for retention.
    let pruned = cli.run(&["prune", "--dry-run", "--json"]).json();
    assert_eq!(pruned["dryRun"], true);
    assert_eq!(pruned["deleted"], Value::Array(vec![]), "{pruned}");
    assert_eq!(pruned["kept"], left.len());
    assert_eq!(cli.list_names(), left, "a dry run deletes nothing");
}

/// `backup --json`: checks its fields (and, for a local folder, the stored file).
fn backup_and_check(cli: &Cli, db: &TestDb, storage: &Storage) -> Value {
    let backup = cli.run(&["backup", "--json"]).json();
    let name = backup["name"].as_str().expect("name");
    assert!(
        name.starts_with("rythm-backup-") && name.ends_with(".sql.zst"),
        "{name}"
    );
    let sha256 = backup["sha256"].as_str().expect("sha256");
    assert!(
        sha256.len() == 64 && sha256.bytes().all(|b| b.is_ascii_hexdigit()),
        "{sha256}"
    );
    let size = backup["size"].as_u64().expect("size");
    assert!(size > 0);
    assert!(backup["rawSize"].as_u64().expect("rawSize") > 0);
    assert_eq!(backup["database"], db.name.as_str());
    assert_eq!(backup["format"], "plain");
    assert_eq!(backup["compression"], "zstd");
    assert_eq!(backup["type"], "manual");
    let age = time::OffsetDateTime::now_utc() - time_of(&backup["createdAt"]);
    assert!(
        age.whole_seconds().abs() < 300,
        "createdAt is now: {backup}"
    );
    if let Some(dir) = storage.dir() {
        let stored = dir.join(name);
        assert_eq!(std::fs::metadata(&stored).expect("stored file").len(), size);
        assert_eq!(sha256_file(&stored), sha256);
    }
    backup
}

/// Downloads `name`, checks it, checks that a second download needs `--force`; returns the
/// downloaded file's path (inside the CLI's working directory).
fn download_and_check(cli: &Cli, name: &str, sha256: &str) -> std::path::PathBuf {
    let path = cli.cwd().join("copy.sql.zst");
    let out = path.to_str().unwrap();
    let downloaded = cli.run(&["download", name, "-o", out, "--json"]).json();
    assert_eq!(downloaded["checksumVerified"], true, "{downloaded}");
    assert_eq!(downloaded["sha256"], sha256);
    assert_eq!(sha256_file(&path), sha256);
    assert_eq!(file_names(cli.cwd()), ["copy.sql.zst"], "no .part left");

    // Without --force an existing file stays as it is.
    std::fs::write(&path, b"keep me").unwrap();
    let again = cli.run(&["download", name, "-o", out, "--json"]);
    assert_eq!(again.error_code(), "already_exists");
    assert_eq!(std::fs::read(&path).unwrap(), b"keep me");
    let forced = cli.run(&["download", name, "-o", out, "--force"]);
    assert_eq!(forced.code, Some(0), "{forced:#?}");
    assert_eq!(sha256_file(&path), sha256);

    // Without -o it lands under the backup's own name in the working directory.
    let plain = cli.run(&["download", name]);
    assert_eq!(plain.code, Some(0), "{plain:#?}");
    assert_eq!(sha256_file(&cli.cwd().join(name)), sha256);
    std::fs::remove_file(cli.cwd().join(name)).unwrap();
    path
}

/// `restore --file` into a new database, with storage unreachable (a closed port) or empty.
fn restore_file_offline(db: &TestDb, file: &std::path::Path, storage: &Storage) {
    let empty = tempfile::tempdir().unwrap();
    let offline = match storage {
        Storage::Local(_) => Cli::bare()
            .db(db)
            .env("BACKUP_DIR", &empty.path().display().to_string()),
        Storage::Azure { container, .. } => {
            let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let port = closed.local_addr().unwrap().port();
            drop(closed);
            Cli::bare()
                .db(db)
                .env("AZURE_BACKUP_CONTAINER", container)
                .env(
                    "AZURE_STORAGE_CONNECTION_STRING",
                    &format!(
                        "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;\
                     AccountKey={};BlobEndpoint=http://127.0.0.1:{port}/devstoreaccount1",
                        crate::support::DEV_ACCOUNT_KEY
                    ),
                )
        }
    };
    let target = TestDb::named_fresh();
    let restored = offline
        .run(&[
            "restore",
            "--file",
            file.to_str().unwrap(),
            "--target-db",
            &target.name,
            "--create",
            "--confirm",
            &target.name,
            "--json",
        ])
        .json();
    assert!(target.exists());
    assert_eq!(restored["createdDatabase"], true, "{restored}");
    assert_eq!(restored["safetyBackup"], Value::Null, "{restored}");
    assert_eq!(restored["database"], target.name.as_str());
    assert_eq!(target.count("items"), 100);
    assert_eq!(
        db.count("items"),
        40,
        "the configured database is untouched"
    );
    assert!(
        file_names(empty.path()).is_empty(),
        "nothing written to storage"
    );
}
