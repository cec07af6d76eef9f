//! The CLI in API mode against our own server (`rythm-backup serve`, started here as a real
//! process on loopback): backup, list, download, restore with confirmation and delete give
//! the same results as direct mode on the same store; `--terminate-connections` ends another
//! session through the server; profiles sign in with the token kept in the OS keychain and
//! drive the server's schedule.

use std::io::Write;
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use tempfile::TempDir;

use crate::support::TestDb;
use crate::support::{random_hex, sha256_file, Cli, Storage};

const ADMIN: &str = "admin@example.com";

/// Our server on a free loopback port, over one database and one store.
pub(crate) struct ServerProcess {
    child: Child,
    url: String,
    password: String,
    _state: TempDir,
}

impl ServerProcess {
    pub(crate) fn start(db: &TestDb, storage: &Storage) -> ServerProcess {
        ServerProcess::start_with(db, storage, &[])
    }

    /// `start`, with more of the server's environment.
    pub(crate) fn start_with(
        db: &TestDb,
        storage: &Storage,
        env: &[(&str, &str)],
    ) -> ServerProcess {
        let state = tempfile::tempdir().unwrap();
        let admins = state.path().join("admins.json");
        let password = format!("pw-{}", random_hex());
        let base = Cli::new(db, storage)
            .env("ADMINS_FILE", admins.to_str().unwrap())
            .env(
                "SCHEDULE_FILE",
                state.path().join("schedule.json").to_str().unwrap(),
            )
            .env(
                "JWT_SECRET",
                &format!("{}{}{}", random_hex(), random_hex(), random_hex()),
            );
        let base = env.iter().fold(base, |cli, (k, v)| cli.env(k, v));
        let added = run_with_stdin(
            &base,
            &["admin", "add", ADMIN, "--password-stdin"],
            &password,
        );
        assert_eq!(added.0, Some(0), "admin add: {}", added.2);
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = base
            .command(&["serve", "--listen", &format!("127.0.0.1:{port}")])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the server starts");
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "the server did not start listening"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        ServerProcess {
            child,
            url: format!("http://127.0.0.1:{port}"),
            password,
            _state: state,
        }
    }

    /// A CLI configured for API mode through the environment.
    pub(crate) fn cli(&self) -> Cli {
        Cli::bare()
            .env("BACKUP_API_URL", &self.url)
            .env("BACKUP_API_EMAIL", ADMIN)
            .env("BACKUP_API_PASSWORD", &self.password)
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs the CLI with `input` on stdin; (exit code, stdout, stderr).
fn run_with_stdin(cli: &Cli, args: &[&str], input: &str) -> (Option<i32>, String, String) {
    let mut child = cli
        .command(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the CLI starts");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{input}\n").as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The fields both modes must agree on.
fn essentials(entry: &Value) -> Value {
    let keep = [
        "name",
        "size",
        "createdAt",
        "format",
        "compression",
        "sha256",
        "type",
    ];
    keep.iter()
        .map(|k| (k.to_string(), entry[*k].clone()))
        .collect::<serde_json::Map<_, _>>()
        .into()
}

#[test]
fn api_mode_gives_the_same_results_as_direct_mode() {
    let db = TestDb::create();
    db.psql("CREATE TABLE t (id int PRIMARY KEY, s text); INSERT INTO t SELECT g, md5(g::text) FROM generate_series(1, 500) g;");
    let storage = Storage::local();
    let server = ServerProcess::start(&db, &storage);
    let api = server.cli();
    let direct = Cli::new(&db, &storage);

    let created = api.run(&["backup", "--json"]).json();
    let name = created["name"]
        .as_str()
        .expect("the created backup's name")
        .to_owned();
    assert!(name.starts_with("rythm-backup-"), "{created}");
    assert_eq!(created["type"], "manual");
    assert!(created["size"].as_u64().unwrap() > 0);

    let api_list = api.list();
    let direct_list = direct.list();
    assert_eq!(api_list.len(), 1);
    assert_eq!(
        essentials(&api_list[0]),
        essentials(&direct_list[0]),
        "both modes list the same backup"
    );
    let sha = api_list[0]["sha256"]
        .as_str()
        .expect("our server reports the sha256")
        .to_owned();

    let downloaded = api
        .run(&["download", &name, "-o", "copy.sql.zst", "--json"])
        .json();
    assert_eq!(downloaded["checksumVerified"], true, "{downloaded}");
    assert_eq!(sha256_file(&api.cwd().join("copy.sql.zst")), sha);

    db.psql("DELETE FROM t WHERE id > 100");
    let refused = api.run(&["restore", &name, "--confirm", "not-the-database", "--json"]);
    assert_eq!(refused.error_code(), "confirmation_mismatch");
    assert_eq!(db.count("t"), 100, "a refused restore changes nothing");
    // That count's session may linger a moment; the restore would refuse to run beside it.
    db.wait_idle();

    let restored = api
        .run(&["restore", &name, "--confirm", &db.name, "--json"])
        .json();
    assert_eq!(db.count("t"), 500, "the restore brought the rows back");
    let safety = restored["safetyBackup"]
        .as_str()
        .expect("the server took a safety backup");
    assert!(safety.starts_with("pre-restore-"), "{restored}");
    assert!(direct.list_names().contains(&safety.to_owned()));

    // A rehearsal through the server's endpoint, and the result in the list.
    let verified = api.run(&["verify", &name, "--json"]).json();
    assert_eq!(verified["ok"], true, "{verified}");
    assert_eq!(verified["verification"]["compared"], true, "{verified}");
    let listed = api.list();
    let entry = listed.iter().find(|e| e["name"] == name.as_str()).unwrap();
    assert_eq!(entry["verification"]["ok"], true, "{entry}");

    let deleted = api.run(&["delete", &name, "--yes", "--json"]).json();
    assert_eq!(deleted["filename"], name.as_str());
    assert!(
        !direct.list_names().contains(&name),
        "deleted through the API"
    );
    let missing = api.run(&["download", &name, "-o", "again.sql.zst", "--json"]);
    assert_eq!(missing.error_code(), "not_found");
    assert!(!api.cwd().join("again.sql.zst").exists());
}

#[test]
fn terminate_connections_ends_another_session_through_our_server() {
    let db = TestDb::create();
    db.psql("CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t SELECT generate_series(1, 300);");
    let storage = Storage::local();
    let server = ServerProcess::start(&db, &storage);
    let api = server.cli();
    let name = api.run(&["backup", "--json"]).json()["name"]
        .as_str()
        .unwrap()
        .to_owned();
    db.psql("DELETE FROM t WHERE id > 10");
    db.wait_idle();

    // The RYTHM application stays connected to its database.
    let mut app = db.hold_session();
    let refused = api.run(&["restore", &name, "--confirm", &db.name, "--json"]);
    assert_eq!(refused.error_code(), "database_in_use", "{refused:#?}");
    assert!(
        app.try_wait().unwrap().is_none(),
        "the session was left alone"
    );

    let restored = api.run(&[
        "restore",
        &name,
        "--confirm",
        &db.name,
        "--terminate-connections",
    ]);
    assert_eq!(restored.code, Some(0), "{restored:#?}");
    assert!(restored.stdout.contains("Restored"), "{}", restored.stdout);
    assert!(
        restored
            .stdout
            .contains("Safety backup of the previous contents: pre-restore-"),
        "{}",
        restored.stdout
    );
    let ended = app.wait().unwrap();
    assert!(!ended.success(), "the other session was ended: {ended:?}");
    assert_eq!(db.count("t"), 300, "the restore brought the rows back");
}

#[test]
fn wrong_api_password_is_a_clear_error() {
    let db = TestDb::create();
    let storage = Storage::local();
    let server = ServerProcess::start(&db, &storage);
    let cli = server
        .cli()
        .env("BACKUP_API_PASSWORD", "wrong-password-123");
    let out = cli.run(&["list"]);
    assert_eq!(out.code, Some(1), "{out:#?}");
    assert!(
        out.stderr.to_lowercase().contains("invalid credentials"),
        "{}",
        out.stderr
    );
    assert!(!out.stderr.contains("wrong-password-123"));
}

#[test]
fn api_profile_signs_in_keeps_its_token_in_the_keychain_and_drives_the_schedule() {
    let db = TestDb::create();
    let storage = Storage::local();
    let server = ServerProcess::start(&db, &storage);
    let config = tempfile::tempdir().unwrap();
    let cli = Cli::bare().env("RYTHM_CONFIG_DIR", config.path().to_str().unwrap());
    let profile = format!("srv-{}", &random_hex()[..8]);
    let p = profile.as_str();

    let added = cli
        .run(&[
            "profile",
            "add",
            p,
            "--api-url",
            &server.url,
            "--email",
            ADMIN,
            "--json",
        ])
        .json();
    assert_eq!(added["name"], p);
    let signed_out = cli.run(&["list", "--profile", p, "--json"]);
    assert_eq!(signed_out.error_code(), "auth_required", "no sign-in yet");

    let bad = run_with_stdin(
        &cli,
        &["login", "--profile", p, "--password-stdin"],
        "not-it-at-all",
    );
    assert_eq!(bad.0, Some(1), "{bad:?}");
    assert!(
        bad.2.to_lowercase().contains("invalid credentials"),
        "{}",
        bad.2
    );
    let good = run_with_stdin(
        &cli,
        &["login", "--profile", p, "--password-stdin", "--json"],
        &server.password,
    );
    assert_eq!(good.0, Some(0), "{good:?}");
    let info: Value = serde_json::from_str(&good.1).unwrap();
    assert_eq!(info["role"], "system_admin");

    // The token is in the keychain, not in the profile file.
    let file = std::fs::read_to_string(config.path().join("profiles.json")).unwrap();
    assert!(
        !file.contains("eyJ"),
        "no token in the profile file: {file}"
    );
    let shown = cli.run(&["profile", "show", p, "--json"]).json();
    assert_eq!(shown["signedInAs"], ADMIN);
    assert!(
        !shown.to_string().contains("eyJ"),
        "show never prints the token"
    );

    assert_eq!(
        cli.run(&["list", "--profile", p, "--json"]).json(),
        Value::Array(vec![])
    );
    let set = cli
        .run(&[
            "schedule",
            "set",
            "--enabled",
            "true",
            "--time",
            "02:30",
            "--retention-days",
            "7",
            "--profile",
            p,
            "--json",
        ])
        .json();
    assert_eq!(set["enabled"], true);
    assert_eq!(set["schedule_time"], "02:30:00");
    assert_eq!(set["retention_days"], 7);
    assert!(set["next_run_at"].is_string(), "{set}");
    let shown = cli
        .run(&["schedule", "show", "--profile", p, "--json"])
        .json();
    assert_eq!(shown, set);
    let invalid = cli.run(&[
        "schedule",
        "set",
        "--enabled",
        "true",
        "--retention-days",
        "0",
        "--profile",
        p,
        "--json",
    ]);
    assert_eq!(invalid.code, Some(1), "{invalid:#?}");

    cli.run(&["logout", "--profile", p, "--json"]).json();
    assert_eq!(
        cli.run(&["list", "--profile", p, "--json"]).error_code(),
        "auth_required"
    );
    cli.run(&["profile", "remove", p, "--json"]).json();
    assert_eq!(
        cli.run(&["profile", "list", "--json"]).json(),
        Value::Array(vec![])
    );
}

#[test]
fn direct_profile_keeps_its_password_in_the_keychain() {
    let db = TestDb::create();
    db.psql("CREATE TABLE t (x int); INSERT INTO t VALUES (1), (2);");
    let backups = tempfile::tempdir().unwrap();
    let config = tempfile::tempdir().unwrap();
    let cli = Cli::bare().env("RYTHM_CONFIG_DIR", config.path().to_str().unwrap());
    let with_password = db.url();
    let password = crate::support::pg().password().to_owned();
    let url = with_password.replacen(&format!(":{password}@"), "@", 1);
    assert!(!url.contains(&password));
    let profile = format!("db-{}", &random_hex()[..8]);
    let dir = backups.path().to_str().unwrap();

    let refused = cli.run(&[
        "profile",
        "add",
        &profile,
        "--database-url",
        &with_password,
        "--backup-dir",
        dir,
        "--json",
    ]);
    assert_eq!(
        refused.error_code(),
        "invalid_input",
        "a password in the URL is refused"
    );
    assert!(!refused.stderr.contains(&password));

    let added = run_with_stdin(
        &cli,
        &[
            "profile",
            "add",
            &profile,
            "--database-url",
            &url,
            "--backup-dir",
            dir,
            "--password-stdin",
            "--json",
        ],
        &password,
    );
    assert_eq!(added.0, Some(0), "{added:?}");
    let file = std::fs::read_to_string(config.path().join("profiles.json")).unwrap();
    assert!(
        !file.contains(&password),
        "the password is not in the profile file"
    );

    let created = cli.run(&["backup", "--profile", &profile, "--json"]).json();
    let listed = cli.run(&["list", "--profile", &profile, "--json"]).json();
    assert_eq!(listed[0]["name"], created["name"]);
    assert!(Path::new(dir)
        .join(created["name"].as_str().unwrap())
        .exists());
}

/// `status` in API mode judges freshness by the server's `STALE_AFTER_HOURS` (from its
/// `/api/health`, asked signed in), unless the local environment sets one.
#[test]
fn status_in_api_mode_follows_the_servers_stale_threshold() {
    let db = TestDb::create();
    let storage = Storage::local();
    let server = ServerProcess::start_with(&db, &storage, &[("STALE_AFTER_HOURS", "48")]);
    let cli = server.cli();
    let empty = cli.run(&["status", "--json"]);
    assert_eq!(empty.code, Some(1), "no backup yet is stale: {empty:#?}");
    let status: Value = serde_json::from_str(&empty.stdout).unwrap();
    assert_eq!(status["staleAfterHours"], 48, "{status}");
    assert_eq!(status["stale"], true);

    cli.run(&["backup", "--json"]).json();
    let fresh = cli.run(&["status", "--json"]).json();
    assert_eq!(fresh["staleAfterHours"], 48, "{fresh}");
    assert_eq!(fresh["stale"], false, "{fresh}");
    let local = cli
        .env("STALE_AFTER_HOURS", "5")
        .run(&["status", "--json"])
        .json();
    assert_eq!(
        local["staleAfterHours"], 5,
        "the local setting wins: {local}"
    );
}
