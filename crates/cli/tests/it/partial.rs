//! Partial restores and `contents` from the command line: in direct mode and through our
//! server (same results, the roll back with the safety backup, a dry run without a
//! confirmation), against the RYTHM platform's stand-in (refused, nothing sent), and a
//! partial restore killed with SIGKILL in the middle of its transaction (nothing changed,
//! no scratch database left).

use std::time::{Duration, Instant};

use rythm_platform_standin::{Peer, ADMIN_EMAIL, ADMIN_PASSWORD};
use serde_json::Value;

use crate::api_mode::ServerProcess;
use crate::support::{pg, Cli, Storage, TestDb};

const TENANT_SCHEMA: &str = include_str!("../../../core/tests/fixtures/tenant_schema.sql");
const B: &str = "00000000-0000-0000-0000-00000000000b";

fn tenant_db() -> TestDb {
    let db = TestDb::create();
    db.psql(TENANT_SCHEMA);
    db
}

fn b_sessions(db: &TestDb) -> i64 {
    db.count(&format!("sessions WHERE tenant_id = '{B}'"))
}

fn table<'a>(outcome: &'a Value, name: &str) -> &'a Value {
    outcome["tables"]
        .as_array()
        .and_then(|t| t.iter().find(|t| t["name"] == name))
        .unwrap_or_else(|| panic!("{name} in {outcome}"))
}

/// Scratch databases (the rehearsals' kind, `rythm_verify_…`) whose job has ended: those
/// without their lease session. (Tests running in parallel have theirs, with leases.)
fn scratch_databases() -> String {
    pg().psql(
        "postgres",
        "SELECT count(*) FROM pg_database d WHERE datname LIKE 'rythm\\_verify\\_%' \
         AND NOT EXISTS (SELECT 1 FROM pg_stat_activity a \
           WHERE a.application_name = 'rythm-verify-lease-' || substr(d.datname, 14))",
    )
}

#[test]
fn contents_and_partial_restores_in_direct_mode_and_through_our_server() {
    let db = tenant_db();
    let storage = Storage::local();
    let direct = Cli::new(&db, &storage);
    let name = direct.run(&["backup", "--json"]).json()["name"]
        .as_str()
        .unwrap()
        .to_owned();

    let contents = direct.run(&["contents", &name, "--json"]).json();
    let sets = contents["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "sets")
        .unwrap();
    assert_eq!(sets["rows"], 480);
    assert_eq!(contents["tenants"]["tenants"].as_array().unwrap().len(), 3);
    let text = direct.run(&["contents", &name]);
    assert!(text.stdout.contains("public.sets"), "{}", text.stdout);
    assert!(text.stdout.contains(B), "{}", text.stdout);

    db.psql(&format!("DELETE FROM sessions WHERE tenant_id = '{B}'"));
    // A dry run needs no confirmation and changes nothing.
    let dry = direct
        .run(&["restore", &name, "--tenant", B, "--dry-run", "--json"])
        .json();
    assert_eq!(dry["dryRun"], true);
    assert_eq!(table(&dry, "sessions")["inserted"], 40);
    assert_eq!(b_sessions(&db), 0);
    // A real one does.
    let refused = direct.run(&["restore", &name, "--tenant", B, "--json"]);
    assert_eq!(refused.code, Some(2), "--confirm is required: {refused:#?}");
    let refused = direct.run(&[
        "restore",
        &name,
        "--tenant",
        B,
        "--confirm",
        "nope",
        "--json",
    ]);
    assert_eq!(refused.error_code(), "confirmation_mismatch");
    db.wait_idle();
    let hostile = direct.run(&[
        "restore",
        &name,
        "--table",
        "public.sessions",
        "--where",
        "1=1; drop table users",
        "--confirm",
        &db.name,
        "--json",
    ]);
    assert_eq!(hostile.error_code(), "invalid_input");
    assert_eq!(db.count("users"), 15);

    // Through our server: the same contents, then the restore and its roll back.
    let server = ServerProcess::start(&db, &storage);
    let api = server.cli();
    let through = api.run(&["contents", &name, "--json"]).json();
    assert_eq!(through["tables"], contents["tables"]);
    assert_eq!(through["tenants"], contents["tenants"]);
    let api_dry = api
        .run(&["restore", &name, "--tenant", B, "--dry-run", "--json"])
        .json();
    assert_eq!(api_dry["tables"], dry["tables"]);
    db.wait_idle();
    let restored = api
        .run(&[
            "restore",
            &name,
            "--tenant",
            B,
            "--confirm",
            &db.name,
            "--json",
        ])
        .json();
    assert_eq!(b_sessions(&db), 40);
    let safety = restored["safetyBackup"].as_str().unwrap().to_owned();
    assert!(safety.starts_with("pre-restore-tables-"), "{restored}");
    let text = api.run(&["restore", &safety, "--tenant", B, "--dry-run"]);
    assert!(text.stdout.contains("Dry run"), "{}", text.stdout);
    // The safety backup is never restored whole.
    let whole = api.run(&["restore", &safety, "--confirm", &db.name, "--json"]);
    assert_eq!(whole.error_code(), "invalid_input");
    db.wait_idle();
    let rolled_back = direct.run(&["restore", &safety, "--tenant", B, "--confirm", &db.name]);
    assert_eq!(rolled_back.code, Some(0), "{rolled_back:#?}");
    assert!(rolled_back
        .stdout
        .contains("Roll back with: rythm-backup restore pre-restore-tables-"));
    assert_eq!(b_sessions(&db), 0, "rolled back");
    assert_eq!(
        restored["rollback"]["backup"],
        safety.as_str(),
        "{restored}"
    );
    assert_eq!(restored["rollback"]["selection"]["tenant"], B);

    // The command printed is the engine's roll back choice, and it works as printed: run
    // it, and the roll back is undone (B's rows are back).
    let command = rolled_back
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("Roll back with: rythm-backup "))
        .expect("a roll back command")
        .to_owned();
    assert!(
        !command.contains(['\'', '"']),
        "plain words only here: {command}"
    );
    assert!(command.contains(&format!("--tenant {B}")), "{command}");
    let words: Vec<&str> = command.split_whitespace().collect();
    db.wait_idle();
    let again = direct.run(&words);
    assert_eq!(again.code, Some(0), "{again:#?}");
    assert_eq!(b_sessions(&db), 40, "the printed roll back worked");
    assert_eq!(scratch_databases(), "0");
}

#[test]
fn the_platform_has_no_partial_restore_and_nothing_is_sent() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let peer = runtime.block_on(Peer::start());
    let cli = Cli::bare()
        .env("BACKUP_API_URL", &peer.url)
        .env("BACKUP_API_EMAIL", ADMIN_EMAIL)
        .env("BACKUP_API_PASSWORD", ADMIN_PASSWORD);
    let older = "rythm-backup-2026-01-15T10-30-00-851Z.sql";
    for args in [
        vec![
            "restore",
            older,
            "--table",
            "public.sessions",
            "--confirm",
            older,
            "--json",
        ],
        vec!["restore", older, "--tenant", B, "--dry-run", "--json"],
        vec!["contents", older, "--json"],
    ] {
        let refused = cli.run(&args);
        let error = refused.json_error(1);
        assert_eq!(error["code"], "unsupported", "{args:?}: {error}");
        let message = error["message"].as_str().unwrap();
        assert!(message.contains(&peer.url), "{message}");
    }
    let restores = peer
        .backup_requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path.ends_with("/restore"))
        .count();
    assert_eq!(restores, 0, "nothing reached the platform's restore");
}

/// SIGKILL in the middle of the transaction: psql reads the end of its input without a
/// COMMIT, so the server rolls back; the scratch database's watchdog drops it once the
/// lease session, fed by the killed process, ends.
#[cfg(target_os = "linux")]
#[test]
fn a_killed_partial_restore_changes_nothing_and_leaves_no_scratch_database() {
    let db = tenant_db();
    // Enough of B's rows that copying them takes a while.
    db.psql(&format!(
        "INSERT INTO sets (tenant_id, session_id, exercise_id, reps, weight_kg) \
         SELECT tenant_id, session_id, 1 + g % 30, 1 + g % 20, g % 100 \
         FROM sessions, generate_series(1, 4000) g WHERE tenant_id = '{B}'"
    ));
    let storage = Storage::local();
    let cli = Cli::new(&db, &storage);
    let name = cli.run(&["backup", "--json"]).json()["name"]
        .as_str()
        .unwrap()
        .to_owned();
    db.psql(&format!("DELETE FROM sessions WHERE tenant_id = '{B}'"));
    let before = db.count("sets");
    db.wait_idle();
    let mut child = cli.spawn(&["restore", &name, "--tenant", B, "--confirm", &db.name]);
    // Wait until the restore's transaction on the target is open and copying.
    let in_transaction = format!(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = '{}' \
         AND application_name = 'rythm-backup' AND xact_start IS NOT NULL \
         AND query LIKE 'COPY%'",
        db.name
    );
    let deadline = Instant::now() + Duration::from_secs(120);
    while pg().psql("postgres", &in_transaction) == "0" {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the restore ended before it was killed"
        );
        assert!(
            Instant::now() < deadline,
            "the restore's transaction never opened"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    // The server rolls the transaction back; the watchdog drops the scratch database.
    let deadline = Instant::now() + Duration::from_secs(30);
    while scratch_databases() != "0" {
        assert!(
            Instant::now() < deadline,
            "the scratch database was left behind"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    db.wait_idle();
    assert_eq!(db.count("sets"), before, "nothing changed");
    assert_eq!(b_sessions(&db), 0);
}
