//! The CLI against a stand-in of the RYTHM platform's API (`rythm-platform-standin`, run in
//! this process on loopback), for what its real API does that the CLI must make up for: a
//! restore confirmed with the wrong name is refused here and says that no safety backup is
//! taken; `--time 03:15` is sent as `03:15:00` and impossible values never leave; a missing
//! backup is `not_found` in words; the list shows its type, status and 30-day expiry, and
//! the database its create answer named. Also: every time the CLI shows has one format,
//! plain http to another computer is warned about, and an address without a scheme says so.

use regex::Regex;
use rythm_platform_standin::{self as platform, Peer, ADMIN_EMAIL, ADMIN_PASSWORD};
use serde_json::Value;
use time::OffsetDateTime;

use crate::support::{random_hex, Cli, Outcome, Storage};

const OLDER: &str = "rythm-backup-2026-01-15T10-30-00-851Z.sql";
const MISSING: &str = "rythm-backup-2020-01-01T00-00-00-000Z.sql";

/// The stand-in on a runtime of its own, for the blocking tests.
struct Platform {
    peer: Peer,
    _runtime: tokio::runtime::Runtime,
}

impl Platform {
    fn start() -> Platform {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        let peer = runtime.block_on(Peer::start());
        Platform {
            peer,
            _runtime: runtime,
        }
    }

    /// A CLI signed in through the environment, as scripts use it.
    fn cli(&self) -> Cli {
        Cli::bare()
            .env("BACKUP_API_URL", &self.peer.url)
            .env("BACKUP_API_EMAIL", ADMIN_EMAIL)
            .env("BACKUP_API_PASSWORD", ADMIN_PASSWORD)
    }

    fn requests(&self, method: &str, suffix: &str) -> Vec<Value> {
        self.peer
            .backup_requests()
            .into_iter()
            .filter(|r| r.method == method && r.path.ends_with(suffix))
            .map(|r| r.body)
            .collect()
    }
}

/// A CLI with an API profile for the platform, signed in (run under `keyctl session -`);
/// with its config folder, the profile's name and what `login` printed.
fn signed_in_profile(platform: &Platform) -> (Cli, tempfile::TempDir, String, String) {
    let config = tempfile::tempdir().unwrap();
    let cli = Cli::bare().env("RYTHM_CONFIG_DIR", config.path().to_str().unwrap());
    let profile = format!("rythm-{}", &random_hex()[..8]);
    let url = platform.peer.url.as_str();
    cli.run(&[
        "profile",
        "add",
        &profile,
        "--api-url",
        url,
        "--email",
        ADMIN_EMAIL,
        "--json",
    ])
    .json();
    let mut login = cli
        .command(&["login", "--profile", &profile, "--password-stdin"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    let mut stdin = login.stdin.take().unwrap();
    writeln!(stdin, "{ADMIN_PASSWORD}").unwrap();
    drop(stdin);
    let out = Outcome::from(login.wait_with_output().unwrap());
    assert_eq!(out.code, Some(0), "{out:#?}");
    assert!(out.stdout.starts_with("Signed in as "), "{}", out.stdout);
    (cli, config, profile, out.stdout)
}

#[test]
fn a_restore_is_confirmed_here_and_says_that_no_safety_backup_was_taken() {
    let platform = Platform::start();
    let cli = platform.cli();
    let refused = cli.run(&["restore", OLDER, "--confirm", "not-the-db-name", "--json"]);
    assert_eq!(refused.error_code(), "confirmation_mismatch");
    assert!(refused.stderr.contains(OLDER), "{}", refused.stderr);
    let refused = cli.run(&["restore", OLDER, "--confirm", "rythm"]);
    assert_eq!(refused.code, Some(1));
    assert!(
        refused.stderr.contains("confirmed with the backup's name"),
        "{}",
        refused.stderr
    );
    assert!(
        platform.requests("POST", "/restore").is_empty(),
        "nothing reached the platform"
    );

    let restored = cli.run(&["restore", OLDER, "--confirm", OLDER]);
    assert_eq!(restored.code, Some(0), "{restored:#?}");
    let out = &restored.stdout;
    assert!(out.contains(&format!("Restored {OLDER}")), "{out}");
    assert!(out.contains("No safety backup was taken"), "{out}");
    assert!(
        out.contains("rythm-backup download"),
        "what to do instead: {out}"
    );
    assert_eq!(platform.requests("POST", "/restore").len(), 1);
    let json = cli
        .run(&["restore", OLDER, "--confirm", OLDER, "--json"])
        .json();
    assert_eq!(json["noSafetyBackup"], "not-offered");
    assert_eq!(json["safetyBackup"], Value::Null);

    // It cannot end other sessions: refused, not ignored.
    let terminate = cli.run(&[
        "restore",
        OLDER,
        "--confirm",
        OLDER,
        "--terminate-connections",
        "--json",
    ]);
    assert_eq!(terminate.error_code(), "unsupported");
    assert_eq!(platform.requests("POST", "/restore").len(), 2);
}

#[test]
fn schedules_are_sent_as_hh_mm_ss_and_impossible_values_never_leave() {
    let platform = Platform::start();
    let cli = platform.cli();
    let set = cli.run(&["schedule", "set", "--enabled", "true", "--time", "03:15"]);
    assert_eq!(set.code, Some(0), "{set:#?}");
    assert!(
        set.stdout.contains("at 03:15:00 UTC, keeping 30 days"),
        "{}",
        set.stdout
    );
    assert_eq!(
        platform.requests("PUT", "/config")[0]["schedule_time"],
        "03:15:00"
    );

    for bad in [
        ["--retention-days", "0"],
        ["--retention-days", "91"],
        ["--time", "25:00"],
        ["--time", "3pm"],
    ] {
        let mut args = vec!["schedule", "set", "--enabled", "true", "--json"];
        args.extend(bad);
        let refused = cli.run(&args);
        assert_eq!(refused.error_code(), "invalid_input", "{bad:?}");
    }
    assert_eq!(
        platform.requests("PUT", "/config").len(),
        1,
        "only the valid one"
    );
}

#[test]
fn a_missing_backup_is_not_found_in_words() {
    let platform = Platform::start();
    let cli = platform.cli();
    for args in [
        vec!["delete", MISSING, "--yes"],
        vec!["restore", MISSING, "--confirm", MISSING],
    ] {
        let out = cli.run(&args);
        assert_eq!(out.code, Some(1), "{out:#?}");
        assert!(
            out.stderr
                .contains(&format!("backup {MISSING} does not exist")),
            "{}",
            out.stderr
        );
        for raw in ["RequestId", "Time:", "specified blob"] {
            assert!(!out.stderr.contains(raw), "{raw} in {}", out.stderr);
        }
        let mut json = args.clone();
        json.push("--json");
        assert_eq!(cli.run(&json).error_code(), "not_found");
    }
}

#[test]
fn the_list_shows_the_platforms_type_status_expiry_and_database() {
    let platform = Platform::start();
    let now = OffsetDateTime::now_utc();
    let unknown = platform
        .peer
        .put(now - time::Duration::days(3), "unknown", b"x".to_vec());
    let failed = platform
        .peer
        .put(now - time::Duration::days(1), "scheduled", b"y".to_vec());
    platform
        .peer
        .with(|s| s.backups.get_mut(&failed).unwrap().status = "failed".into());
    let (cli, _config, profile, _) = signed_in_profile(&platform);
    let p = profile.as_str();

    let text = cli.run(&["list", "--profile", p]);
    assert_eq!(text.code, Some(0), "{text:#?}");
    let line = |name: &str| {
        text.stdout
            .lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_else(|| panic!("{name} in {}", text.stdout))
            .to_owned()
    };
    assert!(line(&unknown).contains(" unknown "), "{}", line(&unknown));
    assert!(
        line(&unknown).contains("26d"),
        "30-day expiry: {}",
        line(&unknown)
    );
    assert!(
        line(&failed).contains("scheduled (failed)"),
        "{}",
        line(&failed)
    );
    assert!(line(&failed).contains("not recorded"), "{}", line(&failed));
    assert!(!text.stdout.contains("legacy"), "{}", text.stdout);

    let before = cli.run(&["list", "--profile", p, "--json"]).json();
    assert!(before[0]["database"].is_null(), "not named yet: {before}");
    let created = cli.run(&["backup", "--profile", p, "--json"]).json();
    assert_eq!(created["database"], platform::DATABASE_NAME);
    let after = cli.run(&["list", "--profile", p, "--json"]).json();
    let entries = after.as_array().unwrap();
    assert!(
        entries.iter().all(|e| e["database"] == "rythm"),
        "the database the platform named, remembered by the profile: {after}"
    );
    let unknown_entry = entries
        .iter()
        .find(|e| e["name"] == unknown.as_str())
        .unwrap();
    assert_eq!(unknown_entry["type"], "unknown");
    assert_eq!(unknown_entry["status"], "completed");

    // Remembered: the database's name now confirms a restore, and the backup's no longer.
    let refused = cli.run(&[
        "restore",
        &failed,
        "--profile",
        p,
        "--confirm",
        &failed,
        "--json",
    ]);
    assert_eq!(refused.error_code(), "confirmation_mismatch");
    let restored = cli.run(&["restore", &failed, "--profile", p, "--confirm", "rythm"]);
    assert_eq!(restored.code, Some(0), "{restored:#?}");
    assert!(
        restored.stdout.contains("into rythm"),
        "{}",
        restored.stdout
    );
}

/// Every date in `text` that is not part of a backup's name, with what follows it.
fn shown_times(text: &str) -> Vec<String> {
    let date = Regex::new(r"(?m)(^|[^\w-])(\d{4}-\d{2}-\d{2}[^\s,;)]*( \S+)?( \S+)?)").unwrap();
    date.captures_iter(text).map(|c| c[2].to_owned()).collect()
}

#[test]
fn every_time_the_cli_shows_has_one_format() {
    let platform = Platform::start();
    platform.peer.with(|s| {
        s.schedule["next_run_at"] = Value::Null;
    });
    let (cli, _config, profile, login) = signed_in_profile(&platform);
    let p = profile.as_str();
    let one_format =
        Regex::new(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} (UTC|[+-]\d{2}:\d{2})$").unwrap();
    assert!(login.contains(" until "), "{login}");
    let list = cli.run(&["list", "--profile", p]);
    let schedule = cli.run(&["schedule", "show", "--profile", p]);
    assert!(
        schedule.stdout.contains("Next run: 2"),
        "computed, not never: {}",
        schedule.stdout
    );
    let expired = platform::token(platform::SECRET, "system_admin", ADMIN_EMAIL, -3600);
    let expired = Cli::bare()
        .env("BACKUP_API_URL", &platform.peer.url)
        .env("BACKUP_API_TOKEN", &expired)
        .run(&["list"]);
    assert!(expired.stderr.contains("expired at"), "{}", expired.stderr);
    let mut seen = Vec::new();
    for out in [&login, &list.stdout, &schedule.stdout, &expired.stderr] {
        seen.extend(shown_times(out));
    }
    assert!(seen.len() >= 6, "times were shown: {seen:?}");
    // The check catches what the issue saw, and an RFC 3339 time from a server.
    for other in [
        "Signed in as a@b until 2026-12-05 2:10:42.0 +00:00:00",
        "Next run: 2026-01-17T02:00:00.000Z",
    ] {
        let found = shown_times(other);
        assert!(
            !found.is_empty() && !one_format.is_match(&found[0]),
            "{found:?}"
        );
    }
    for time in &seen {
        assert!(
            one_format.is_match(time),
            "{time:?} is not in the one format"
        );
    }
}

#[test]
fn plain_http_to_another_computer_is_warned_about() {
    let config = tempfile::tempdir().unwrap();
    let cli = Cli::bare().env("RYTHM_CONFIG_DIR", config.path().to_str().unwrap());
    let add = |url: &str| {
        cli.run(&[
            "profile",
            "add",
            &format!("p{}", &random_hex()[..6]),
            "--api-url",
            url,
            "--email",
            "a@example.com",
        ])
    };
    let remote = add("http://192.0.2.10:3000");
    assert_eq!(remote.code, Some(0), "{remote:#?}");
    assert!(
        remote
            .stderr
            .contains("warning: http://192.0.2.10:3000 uses plain http://"),
        "{}",
        remote.stderr
    );
    assert!(remote.stderr.contains("unencrypted"), "{}", remote.stderr);
    for fine in [
        "https://rythm.example.com",
        "http://127.0.0.1:3000",
        "http://localhost:8080",
    ] {
        let out = add(fine);
        assert_eq!(out.code, Some(0), "{out:#?}");
        assert!(!out.stderr.contains("warning"), "{fine}: {}", out.stderr);
    }

    // Scripts too, before anything is sent (the schedule change is refused locally here).
    let token = platform::token(platform::SECRET, "system_admin", ADMIN_EMAIL, 3600);
    let out = Cli::bare()
        .env("BACKUP_API_URL", "http://192.0.2.10:9")
        .env("BACKUP_API_TOKEN", &token)
        .run(&[
            "schedule",
            "set",
            "--enabled",
            "true",
            "--retention-days",
            "0",
            "--json",
        ]);
    assert_eq!(out.code, Some(1), "{out:#?}");
    let lines: Vec<Value> = out
        .stderr
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(
        lines[0]["warning"]
            .as_str()
            .unwrap()
            .contains("plain http://"),
        "{lines:?}"
    );
    assert_eq!(lines[1]["code"], "invalid_input");
}

#[test]
fn an_address_without_a_scheme_says_what_is_wrong() {
    let config = tempfile::tempdir().unwrap();
    let cli = Cli::bare().env("RYTHM_CONFIG_DIR", config.path().to_str().unwrap());
    let out = cli.run(&[
        "profile",
        "add",
        "bare",
        "--api-url",
        "rythm.example.com",
        "--email",
        "a@example.com",
    ]);
    assert_eq!(out.code, Some(1), "{out:#?}");
    assert!(out.stderr.contains("no scheme"), "{}", out.stderr);
    assert!(out.stderr.contains("https://"), "{}", out.stderr);
    assert!(!out.stderr.contains("relative URL"), "{}", out.stderr);
}

/// `profile add NAME --database-url … --azure-container … [extra]`, the password on stdin.
fn add_direct_profile(
    cli: &Cli,
    db: &crate::support::TestDb,
    storage: &Storage,
    name: &str,
    extra: &[&str],
) -> Outcome {
    let Storage::Azure {
        container,
        connection,
    } = storage
    else {
        panic!("an Azure container");
    };
    let password = crate::support::pg().password().to_owned();
    let url = db.url().replacen(&format!(":{password}@"), "@", 1);
    let mut args = vec![
        "profile",
        "add",
        name,
        "--database-url",
        &url,
        "--azure-container",
        container,
        "--password-stdin",
    ];
    args.extend(extra);
    let mut command = cli.command(&args);
    command.env("AZURE_STORAGE_CONNECTION_STRING", connection);
    let mut child = command
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    writeln!(child.stdin.take().unwrap(), "{password}").unwrap();
    Outcome::from(child.wait_with_output().unwrap())
}

#[test]
fn a_profile_can_share_its_container_with_the_platform() {
    let db = crate::support::TestDb::create();
    db.psql("CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t SELECT generate_series(1, 20);");
    let storage = Storage::azure();
    let config = tempfile::tempdir().unwrap();
    let cli = Cli::bare().env("RYTHM_CONFIG_DIR", config.path().to_str().unwrap());

    let added = add_direct_profile(&cli, &db, &storage, "shared", &["--shared-with-platform"]);
    assert_eq!(added.code, Some(0), "{added:#?}");
    assert!(!added.stderr.contains("warning"), "{}", added.stderr);
    assert!(
        added.stdout.contains("shared with the RYTHM platform"),
        "{}",
        added.stdout
    );
    let created = cli.run(&["backup", "--profile", "shared", "--json"]).json();
    let name = created["name"].as_str().unwrap();
    assert!(
        name.ends_with(".sql") && rythm_platform_standin::platform::lists(name),
        "{name}"
    );
    assert_eq!(created["compression"], "none");
    let refused = cli.run(&[
        "backup",
        "--profile",
        "shared",
        "--compression",
        "zstd",
        "--json",
    ]);
    assert_eq!(refused.error_code(), "invalid_input");

    // Without the setting: warned once, when the profile is added.
    let added = add_direct_profile(&cli, &db, &storage, "compressed", &[]);
    assert_eq!(added.code, Some(0), "{added:#?}");
    assert!(
        added
            .stderr
            .contains("will not appear in the platform's admin page"),
        "{}",
        added.stderr
    );
    assert!(
        added.stderr.contains("--shared-with-platform"),
        "{}",
        added.stderr
    );
    assert!(!added.stderr.contains("looks shared"), "{}", added.stderr);
    // Said more firmly where the platform's table is in the database.
    db.psql("CREATE TABLE public.backup_history (id serial PRIMARY KEY, filename text)");
    let added = add_direct_profile(&cli, &db, &storage, "compressed2", &[]);
    assert!(
        added
            .stderr
            .contains("looks shared with the RYTHM platform"),
        "{}",
        added.stderr
    );
    assert!(added.stderr.contains("backup_history"), "{}", added.stderr);
}
