//! Failures and interruptions of the real binary: a backup killed mid-upload or cancelled
//! with Ctrl-C leaves no listed backup; a restore killed (SIGKILL) or stopped (SIGTERM)
//! half-way leaves the database as it was; a wrong password is reported without being shown;
//! the password never appears in any process's argv; missing configuration names the
//! variable; `--json` errors are one JSON object on stderr.

use std::path::Path;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use crate::support::{
    assert_single_line, file_names, pg, random_hex, Cli, Outcome, Storage, TestDb,
};

/// How long a test waits for a moment in a backup before it gives up.
const PATIENCE: Duration = Duration::from_secs(60);

/// `(pid, parent pid, command name)` of every process visible in /proc.
fn processes() -> Vec<(u32, u32, String)> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|entry| {
        let pid: u32 = entry.ok()?.file_name().to_str()?.parse().ok()?;
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        // `pid (comm) state ppid ...`; comm may hold spaces and parentheses.
        let open = stat.find('(')?;
        let close = stat.rfind(')')?;
        let comm = stat[open + 1..close].to_owned();
        let ppid = stat[close + 1..].split_whitespace().nth(1)?.parse().ok()?;
        Some((pid, ppid, comm))
    })
    .collect()
}

/// The pid of a child of `parent` named `name`, if one runs.
fn child_named(parent: u32, name: &str) -> Option<u32> {
    processes()
        .into_iter()
        .find(|(_, ppid, comm)| *ppid == parent && comm == name)
        .map(|(pid, _, _)| pid)
}

/// Whether `pid` has ended (gone, or a zombie nobody reaped yet).
fn ended(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rfind(')')
            .and_then(|at| stat[at + 1..].split_whitespace().next())
            .is_some_and(|state| state == "Z" || state == "X"),
    }
}

/// Polls `found` until it returns something; panics if the CLI exits first (showing its
/// stderr: it failed, or it was too quick to interrupt and the table must grow) or time runs
/// out.
fn wait_for<T>(child: &mut Child, what: &str, mut found: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + PATIENCE;
    loop {
        if let Some(value) = found() {
            return value;
        }
        if let Some(status) = child.try_wait().expect("poll the CLI") {
            let mut stderr = String::new();
            if let Some(mut pipe) = child.stderr.take() {
                let _ = std::io::Read::read_to_string(&mut pipe, &mut stderr);
            }
            panic!("the CLI exited ({status}) before {what}; stderr: {stderr}");
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Waits for the CLI to exit (killing it after PATIENCE) and collects its output.
fn finish(mut child: Child) -> Outcome {
    let deadline = Instant::now() + PATIENCE;
    while child.try_wait().expect("poll the CLI").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the CLI did not exit");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Outcome::from(child.wait_with_output().expect("the CLI's output"))
}

/// An upload with data in it, in a local backup folder: a file other than a metadata
/// sidecar that is not empty (the store writes `NAME.partial`; any other name shows up in
/// the checks after the interruption).
fn upload_with_data(dir: &Path) -> Option<()> {
    file_names(dir)
        .iter()
        .any(|f| {
            !f.ends_with(".meta.json") && std::fs::metadata(dir.join(f)).is_ok_and(|m| m.len() > 0)
        })
        .then_some(())
}

fn sigint(pid: &str) {
    let status = Command::new("kill")
        .args(["-INT", "--", pid])
        .status()
        .expect("kill runs");
    assert!(status.success(), "kill -INT {pid} failed");
}

#[test]
fn backup_killed_mid_upload_leaves_nothing_listed_locally() {
    let storage = Storage::local();
    kill_mid_backup(&storage);
    let dir = storage.dir().unwrap();
    let left = file_names(dir);
    assert!(
        left.iter().all(|f| f.ends_with(".partial")),
        "only an unlisted .partial may remain: {left:?}"
    );
}

#[test]
fn backup_killed_mid_upload_leaves_nothing_listed_in_azure() {
    kill_mid_backup(&Storage::azure());
}

fn kill_mid_backup(storage: &Storage) {
    let db = TestDb::create();
    db.fill_big();
    let cli = Cli::new(&db, storage);
    let mut child = cli.spawn(&["backup", "--json"]);
    let pid = child.id();
    match storage.dir() {
        Some(dir) => wait_for(&mut child, "an upload with data", || upload_with_data(dir)),
        None => {
            wait_for(&mut child, "pg_dump", || child_named(pid, "pg_dump"));
            // Blocks are 4 MiB of compressed dump: by now some are staged.
            std::thread::sleep(Duration::from_millis(500));
        }
    }
    assert!(
        child.try_wait().unwrap().is_none(),
        "the backup ended before it could be killed"
    );
    child.kill().expect("SIGKILL the CLI");
    child.wait().unwrap();
    assert_eq!(cli.list(), Vec::<serde_json::Value>::new());
}

#[test]
fn sigint_cancels_a_backup_and_cleans_up() {
    let db = TestDb::create();
    db.fill_big();
    let storage = Storage::local();
    let dir = storage.dir().unwrap();
    let cli = Cli::new(&db, &storage);
    let mut child = cli.spawn(&["backup"]);
    let pid = child.id();
    wait_for(&mut child, "an upload with data", || upload_with_data(dir));
    let dump = child_named(pid, "pg_dump").expect("pg_dump runs during the upload");
    sigint(&pid.to_string());
    let out = finish(child);
    assert_ne!(out.code, Some(0), "{out:#?}");
    assert!(out.stderr.contains("cancelled"), "{out:#?}");
    assert!(out.stdout.is_empty(), "{out:#?}");
    assert!(cli.list().is_empty());
    assert_eq!(file_names(dir), Vec::<String>::new(), "no .partial is left");
    assert_eq!(
        file_names(cli.tmp()),
        Vec::<String>::new(),
        "no passfile is left"
    );
    assert!(ended(dump), "pg_dump {dump} was stopped");
}

/// A terminal's Ctrl-C signals the whole foreground process group, pg_dump included.
#[test]
fn ctrl_c_to_the_process_group_cancels_a_backup() {
    use std::os::unix::process::CommandExt;
    let db = TestDb::create();
    db.fill_big();
    let storage = Storage::local();
    let dir = storage.dir().unwrap();
    let cli = Cli::new(&db, &storage);
    let mut child = cli
        .command(&["backup", "--json"])
        .process_group(0)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the CLI starts");
    let pid = child.id();
    wait_for(&mut child, "an upload with data", || upload_with_data(dir));
    sigint(&format!("-{pid}"));
    let out = finish(child);
    let last = out.stderr.lines().last().unwrap_or_default();
    let error: serde_json::Value = serde_json::from_str(last)
        .unwrap_or_else(|e| panic!("the last stderr line is JSON ({e}): {out:#?}"));
    assert_eq!(error["code"], "cancelled", "{out:#?}");
    assert!(cli.list().is_empty());
    assert_eq!(file_names(dir), Vec::<String>::new(), "no .partial is left");
    // With --json, stderr holds the error object alone (no "Cancelling…" note).
    assert_eq!(out.json_error(1)["code"], "cancelled");
}

#[test]
fn wrong_password_is_reported_without_showing_it() {
    let db = TestDb::create();
    let storage = Storage::local();
    let wrong = format!("wrong{}", random_hex());
    let cli =
        Cli::new(&db, &storage).env("DATABASE_URL", &pg().url_with_password(&db.name, &wrong));
    for json in [false, true] {
        let out = if json {
            cli.run(&["backup", "--json"])
        } else {
            cli.run(&["backup"])
        };
        assert_eq!(out.code, Some(1), "{out:#?}");
        assert_single_line(&out.stderr);
        assert!(
            out.stderr.contains("password authentication failed"),
            "{out:#?}"
        );
        assert!(
            !out.stderr.contains(&wrong),
            "the password leaked: {out:#?}"
        );
        assert!(
            !out.stdout.contains(&wrong),
            "the password leaked: {out:#?}"
        );
        if json {
            out.json_error(1);
        }
    }
    assert!(file_names(storage.dir().unwrap()).is_empty());
}

/// Restores a backup over a changed database and interrupts it with `signal` while its
/// COPY runs; the database must be exactly as it was before the restore.
fn interrupted_restore(signal: &str) {
    let db = TestDb::create();
    db.fill_big();
    let storage = Storage::local();
    let cli = Cli::new(&db, &storage);
    let created = cli
        .run(&["backup", "--compression", "none", "--json"])
        .json();
    let name = created["name"].as_str().unwrap().to_owned();
    db.psql("CREATE TABLE sentinel (x int); INSERT INTO sentinel VALUES (42); DELETE FROM t WHERE id % 2 = 0;");
    let rows_before = db.count("t");
    // The session of that count can outlive its psql for a moment; the restore would see it
    // and refuse with database_in_use (seen once on a loaded machine).
    db.wait_idle();

    let mut child = cli.spawn(&[
        "restore",
        &name,
        "--confirm",
        &db.name,
        "--no-safety-backup",
    ]);
    let copying = format!(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = '{}' \
         AND application_name = 'rythm-backup' AND query ILIKE 'COPY%'",
        db.name
    );
    wait_for(&mut child, "the restore's COPY", || {
        (pg().psql("postgres", &copying) != "0").then_some(())
    });
    let status = Command::new("kill")
        .args([signal, "--", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
    let out = finish(child);
    assert_ne!(
        out.code,
        Some(0),
        "an interrupted restore does not succeed: {out:#?}"
    );
    db.wait_idle();
    assert_eq!(
        db.psql("SELECT x FROM sentinel"),
        "42",
        "the restore's changes were committed"
    );
    assert_eq!(
        db.count("t"),
        rows_before,
        "a half-restored table was committed"
    );
}

#[test]
fn restore_killed_half_way_leaves_the_database_as_it_was() {
    interrupted_restore("-KILL");
}

#[test]
fn restore_stopped_with_sigterm_rolls_back() {
    interrupted_restore("-TERM");
}

/// Runs the CLI with `args` and scans every process's argv every ~2 ms until it exits;
/// returns the names of its children seen and any argv holding `secret`.
fn scan_argv(cli: &Cli, args: &[&str], secret: &[u8]) -> (Vec<String>, Vec<String>) {
    let mut child = cli.spawn(args);
    let pid = child.id();
    let (mut children, mut leaks) = (Vec::new(), Vec::new());
    loop {
        let running = child.try_wait().unwrap().is_none();
        for (proc_pid, ppid, comm) in processes() {
            let Ok(cmdline) = std::fs::read(format!("/proc/{proc_pid}/cmdline")) else {
                continue;
            };
            if ppid == pid && !cmdline.is_empty() && !children.contains(&comm) {
                children.push(comm.clone());
            }
            if cmdline.windows(secret.len()).any(|w| w == secret) {
                leaks.push(String::from_utf8_lossy(&cmdline).replace('\0', " "));
            }
        }
        if !running {
            break;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    let out = finish(child);
    assert_eq!(out.code, Some(0), "{args:?}: {out:#?}");
    (children, leaks)
}

/// Every process's argv is readable by every local user: the password must not be in any,
/// whether it came as `user:password@` or as `?password=`, through backup, restore (with its
/// safety backup) and verify.
#[test]
fn the_password_never_appears_in_a_command_line() {
    let db = TestDb::create();
    db.fill_big();
    let storage = Storage::local();
    let password = pg().password();
    let in_query = db.url().replacen(&format!(":{password}@"), "@", 1) + "?password=" + password;
    for cli in [
        Cli::new(&db, &storage),
        Cli::bare().storage(&storage).env("DATABASE_URL", &in_query),
    ] {
        let (children, leaks) = scan_argv(&cli, &["backup", "--json"], password.as_bytes());
        assert!(
            children.iter().any(|c| c == "pg_dump"),
            "pg_dump was never seen: {children:?}"
        );
        assert!(
            leaks.is_empty(),
            "the password is in argv during backup: {leaks:?}"
        );
    }
    let cli = Cli::new(&db, &storage);
    let name = cli.list_names().remove(0);
    db.wait_idle();
    let (children, leaks) = scan_argv(
        &cli,
        &["restore", &name, "--confirm", &db.name],
        password.as_bytes(),
    );
    assert!(
        children.iter().any(|c| c == "psql"),
        "psql was never seen: {children:?}"
    );
    assert!(
        leaks.is_empty(),
        "the password is in argv during restore: {leaks:?}"
    );
    let (_, leaks) = scan_argv(&cli, &["verify", &name], password.as_bytes());
    assert!(
        leaks.is_empty(),
        "the password is in argv during verify: {leaks:?}"
    );
}

#[test]
fn backup_without_database_url_names_it() {
    let storage = Storage::local();
    let cli = Cli::bare().storage(&storage);
    let out = cli.run(&["backup"]);
    assert_eq!(out.code, Some(1), "{out:#?}");
    assert_single_line(&out.stderr);
    assert!(out.stderr.starts_with("error: "), "{out:#?}");
    assert!(out.stderr.contains("DATABASE_URL"), "{out:#?}");
    let json = cli.run(&["backup", "--json"]).json_error(1);
    assert_eq!(json["code"], "config");
    assert!(json["message"].as_str().unwrap().contains("DATABASE_URL"));
    assert!(file_names(storage.dir().unwrap()).is_empty());
}

#[test]
fn json_errors_are_one_object_on_stderr() {
    let db = TestDb::create();
    let storage = Storage::local();
    let cli = Cli::new(&db, &storage);
    let missing = "rythm-backup-2020-01-01T00-00-00-000Z.sql.zst";
    let cases: [(&Cli, Vec<&str>, &str); 4] = [
        (&cli, vec!["download", missing], "not_found"),
        (&cli, vec!["verify", missing], "not_found"),
        (
            &cli,
            vec!["restore", missing, "--confirm", &db.name],
            "not_found",
        ),
        (&cli, vec!["delete", missing, "--yes"], "not_found"),
    ];
    for (cli, mut args, code) in cases {
        args.push("--json");
        let out = cli.run(&args);
        assert_eq!(out.json_error(1)["code"], code, "{args:?}");
    }
    let bad_retention = Cli::new(&db, &storage).env("RETENTION_DAYS", "0");
    let out = bad_retention.run(&["list", "--json"]);
    assert_eq!(out.json_error(1)["code"], "config");
    let bad_url = Cli::bare()
        .storage(&storage)
        .env("DATABASE_URL", "mysql://u:secretpw@h/db");
    let out = bad_url.run(&["backup", "--json"]);
    let error = out.json_error(1);
    assert_eq!(error["code"], "config");
    assert!(!out.stderr.contains("secretpw"), "{out:#?}");
    assert!(file_names(cli.cwd()).is_empty());
}

/// A verify killed (SIGKILL) while it restores into its scratch database: the database goes
/// all the same (its watchdog session drops it once the lease of the dead process ends).
/// The CLI connects as a role of its own, so only its scratch databases are looked for.
#[test]
fn verify_killed_mid_restore_leaves_no_scratch_database() {
    let role = format!("verify_role_{}", random_hex());
    let password = format!("pw-{}", random_hex());
    pg().psql(
        "postgres",
        &format!("CREATE ROLE {role} LOGIN CREATEDB PASSWORD '{password}'"),
    );
    let db = TestDb::create();
    pg().psql(
        "postgres",
        &format!("ALTER DATABASE {} OWNER TO {role}", db.name),
    );
    let url = pg().url_as(&role, &password, &db.name);
    let storage = Storage::local();
    let cli = Cli::bare().storage(&storage).env("DATABASE_URL", &url);
    db.psql(&format!(
        "SET ROLE {role}; CREATE TABLE t (id int PRIMARY KEY, v text); \
        INSERT INTO t SELECT g, string_agg(md5(random()::text), '') \
        FROM generate_series(1, 150000) g, generate_series(1, 12) k GROUP BY g"
    ));
    let made = cli.run(&["backup", "--json", "--compression", "none"]);
    assert_eq!(made.code, Some(0), "{made:#?}");
    let name = made.json()["name"].as_str().unwrap().to_owned();
    let scratch = || {
        let found = pg().psql(
            "postgres",
            &format!(
                "SELECT datname FROM pg_database d JOIN pg_roles r ON r.oid = d.datdba \
                 WHERE r.rolname = '{role}' AND datname LIKE 'rythm\\_verify\\_%'"
            ),
        );
        (!found.is_empty()).then_some(found)
    };
    let mut child = cli.spawn(&["verify", &name]);
    let pid = child.id();
    let database = wait_for(&mut child, "the scratch database", scratch);
    wait_for(&mut child, "psql restoring", || child_named(pid, "psql"));
    child.kill().expect("SIGKILL");
    let _ = child.wait();
    let deadline = Instant::now() + Duration::from_secs(60);
    while scratch().is_some() {
        assert!(
            Instant::now() < deadline,
            "the scratch database {database} outlived the killed verify"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    drop(db);
    pg().psql("postgres", &format!("DROP ROLE IF EXISTS {role}"));
}
