//! What the CLI promises about its surroundings: the PostgreSQL tools it starts see none of
//! our secrets in their environment; every file holding backup data is owner-only, in
//! folders it creates owner-only; a closed stdout ends a command quietly.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Duration;

use crate::support::{Cli, Storage, TestDb, DEV_ACCOUNT_KEY};

/// `(pid, ppid, comm)` of every process.
fn processes() -> Vec<(u32, u32, String)> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|entry| {
        let pid: u32 = entry.ok()?.file_name().to_str()?.parse().ok()?;
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        let open = stat.find('(')?;
        let close = stat.rfind(')')?;
        let comm = stat[open + 1..close].to_owned();
        let ppid = stat[close + 1..].split_whitespace().nth(1)?.parse().ok()?;
        Some((pid, ppid, comm))
    })
    .collect()
}

/// Runs the CLI with `args` and reads the environment of each process it starts (and
/// theirs) until it exits; returns the names seen and every variable that holds a secret.
fn scan_children(cli: &Cli, args: &[&str], secrets: &[&str]) -> (Vec<String>, Vec<String>) {
    let mut child = cli.spawn(args);
    let root = child.id();
    let (mut names, mut leaks) = (Vec::new(), Vec::new());
    loop {
        let running = child.try_wait().unwrap().is_none();
        let all = processes();
        let mut family = vec![root];
        // Descendants in a few passes (children, grandchildren).
        for _ in 0..3 {
            for (pid, ppid, _) in &all {
                if family.contains(ppid) && !family.contains(pid) {
                    family.push(*pid);
                }
            }
        }
        for (pid, _, comm) in all
            .iter()
            .filter(|(pid, _, _)| *pid != root && family.contains(pid))
        {
            // A child between fork and exec is still the CLI itself, with its environment.
            let exe = std::fs::read_link(format!("/proc/{pid}/exe")).unwrap_or_default();
            if exe == Path::new(env!("CARGO_BIN_EXE_rythm-backup")) {
                continue;
            }
            let Ok(environ) = std::fs::read(format!("/proc/{pid}/environ")) else {
                continue;
            };
            if environ.is_empty() {
                continue;
            }
            if !names.contains(comm) {
                names.push(comm.clone());
            }
            for variable in environ.split(|&b| b == 0) {
                let text = String::from_utf8_lossy(variable);
                let leaked = secrets.iter().any(|s| text.contains(s))
                    || text.starts_with("AZURE_STORAGE_CONNECTION_STRING=")
                    || text.starts_with("DATABASE_URL=");
                if leaked && !leaks.contains(&text.to_string()) {
                    leaks.push(format!("{comm}: {text}"));
                }
            }
        }
        if !running {
            break;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{args:?}: {out:?}");
    (names, leaks)
}

/// pg_dump, psql and pg_restore get what they need (their own password, the system's
/// basics) and nothing else: no storage key, no database URL, no token or password of other
/// services, whatever the CLI's environment holds.
#[test]
fn children_see_no_secret_of_ours() {
    let db = TestDb::create();
    db.psql("CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t SELECT g, md5(g::text) FROM generate_series(1, 20000) g;");
    let storage = Storage::azure();
    let secrets = [
        "jwt-secret-7c2f9d0e4b1a",
        "api-token-51e0aa93",
        "smtp-password-0f3c",
        "endpoint=https://acs.example/;accesskey=acs-key-9d1",
        "webhook-secret-e82b",
    ];
    let cli = Cli::new(&db, &storage)
        .env("JWT_SECRET", secrets[0])
        .env("BACKUP_API_TOKEN", secrets[1])
        .env("SMTP_PASSWORD", secrets[2])
        .env("ACS_CONNECTION_STRING", secrets[3])
        .env("NOTIFY_WEBHOOK_SECRET", secrets[4]);
    let mut all_secrets = secrets.to_vec();
    all_secrets.push(DEV_ACCOUNT_KEY);
    for format in ["plain", "custom"] {
        let (names, leaks) = scan_children(
            &cli,
            &["backup", "--format", format, "--json"],
            &all_secrets,
        );
        assert!(names.iter().any(|n| n == "pg_dump"), "{names:?}");
        assert!(leaks.is_empty(), "backup leaks: {leaks:?}");
    }
    let names = cli.list_names();
    db.wait_idle();
    // The newest is the custom archive: pg_restore runs too.
    let (children, leaks) = scan_children(
        &cli,
        &["restore", &names[0], "--confirm", &db.name, "--json"],
        &all_secrets,
    );
    assert!(children.iter().any(|n| n == "psql"), "{children:?}");
    assert!(children.iter().any(|n| n == "pg_restore"), "{children:?}");
    assert!(leaks.is_empty(), "restore leaks: {leaks:?}");
    let (_, leaks) = scan_children(&cli, &["verify", &names[1], "--json"], &all_secrets);
    assert!(leaks.is_empty(), "verify leaks: {leaks:?}");
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

/// Backups, their metadata, downloads: 0600; the folders the CLI creates for them: 0700.
#[test]
fn files_with_backup_data_are_owner_only() {
    let db = TestDb::create();
    db.psql("CREATE TABLE t (id int); INSERT INTO t VALUES (1);");
    let root = tempfile::tempdir().unwrap();
    let store = root.path().join("new/backups");
    let cli = Cli::bare()
        .db(&db)
        .env("BACKUP_DIR", &store.display().to_string());
    for compression in ["zstd", "none"] {
        let out = cli.run(&["backup", "--compression", compression, "--json"]);
        assert_eq!(out.code, Some(0), "{out:#?}");
    }
    assert_eq!(mode(&root.path().join("new")), 0o700);
    assert_eq!(mode(&store), 0o700);
    let files: Vec<_> = std::fs::read_dir(&store)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(files.len(), 4, "two backups and their metadata: {files:?}");
    for file in &files {
        assert_eq!(mode(file), 0o600, "{}", file.display());
    }
    let name = cli.list_names().remove(0);
    let out = cli.run(&["download", &name, "-o", "copy.sql", "--json"]);
    assert_eq!(out.code, Some(0), "{out:#?}");
    assert_eq!(mode(&cli.cwd().join("copy.sql")), 0o600);
}

/// `rythm-backup list | head -1`: the reader goes away, the CLI ends without a panic.
#[test]
fn a_closed_stdout_ends_quietly() {
    let db = TestDb::create();
    let storage = Storage::local();
    let cli = Cli::new(&db, &storage);
    for _ in 0..2 {
        assert_eq!(cli.run(&["backup", "--json"]).code, Some(0));
    }
    for args in [&["list"][..], &["list", "--json"], &["profile", "list"]] {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader); // closed before the CLI writes a byte
        let out = cli
            .command(args)
            .stdout(writer)
            .stderr(std::process::Stdio::piped())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
    }
}
