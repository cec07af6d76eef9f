//! `profile notify` from the real binary: a profile's webhook URL is a secret (Slack's and
//! Teams' carry their key in the path), refused on the command line, read from stdin, kept
//! in the keychain rather than `notify.json` and never printed whole, while notifications
//! still reach the whole URL (`profile show` says only that one is set); many `profile notify` processes at once lose no profile's
//! settings.

use std::io::Write;
use std::path::Path;
use std::process::Stdio;

use serde_json::Value;

use super::receivers::HttpReceiver;
use crate::support::{random_hex, Cli, Outcome};

/// Runs the CLI with `input` (and a newline) on stdin.
fn run_with_stdin(cli: &Cli, args: &[&str], input: &str) -> Outcome {
    let mut child = cli
        .command(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the CLI starts");
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(format!("{input}\n").as_bytes()).unwrap();
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    Outcome {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Every file under `dir`, as text.
fn files_under(dir: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            let text = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
            out.push((path.display().to_string(), text));
        }
    }
    out
}

/// A direct profile over a database that is not there (no command here connects).
fn add_profile(cli: &Cli, name: &str, backups: &Path) {
    let added = run_with_stdin(
        cli,
        &[
            "profile",
            "add",
            name,
            "--database-url",
            "postgresql://rythm@127.0.0.1:1/rythm",
            "--backup-dir",
            backups.to_str().unwrap(),
            "--password-stdin",
        ],
        "db-password-1",
    );
    assert_eq!(added.code, Some(0), "{added:#?}");
}

#[test]
fn a_profiles_webhook_url_stays_out_of_argv_files_and_output() {
    let hook = HttpReceiver::start(|_| (204, vec![], String::new()));
    let config = tempfile::tempdir().unwrap();
    let backups = tempfile::tempdir().unwrap();
    let cli = Cli::bare().env("RYTHM_CONFIG_DIR", config.path().to_str().unwrap());
    let profile = format!("hook-{}", &random_hex()[..8]);
    let key = format!("path-key-{}", random_hex());
    let url = hook.url(&format!("/services/T0/{key}"));
    add_profile(&cli, &profile, backups.path());

    // On the command line: refused before anything is stored.
    let refused = cli.run(&[
        "profile",
        "notify",
        &profile,
        "--webhook-url",
        &url,
        "--json",
    ]);
    assert_eq!(refused.error_code(), "invalid_input");
    assert!(!refused.stderr.contains(&key), "{refused:#?}");
    assert!(!config.path().join("notify.json").exists());
    // A URL that is refused is not quoted either.
    let plain = format!("http://hooks.example.com/services/{key}");
    let bad = run_with_stdin(
        &cli,
        &[
            "profile",
            "notify",
            &profile,
            "--webhook-url-stdin",
            "--json",
        ],
        &plain,
    );
    assert_eq!(bad.code, Some(1), "{bad:#?}");
    assert!(!bad.stderr.contains(&key), "{bad:#?}");
    assert!(!config.path().join("notify.json").exists());

    let set = run_with_stdin(
        &cli,
        &[
            "profile",
            "notify",
            &profile,
            "--on",
            "all",
            "--webhook-url-stdin",
            "--json",
        ],
        &url,
    );
    assert_eq!(set.code, Some(0), "{set:#?}");
    assert!(
        !set.stdout.contains(&key) && !set.stderr.contains(&key),
        "{set:#?}"
    );
    let saved: Value = serde_json::from_str(&set.stdout).unwrap();
    assert_eq!(saved["webhook"], true, "{saved}");
    assert_eq!(saved["webhookTarget"], hook.url("/…"), "{saved}");
    assert!(saved.get("webhookUrl").is_none(), "{saved}");
    for (path, text) in files_under(config.path()) {
        assert!(!text.contains(&key), "the URL in {path}: {text}");
    }
    let file: Value =
        serde_json::from_str(&std::fs::read_to_string(config.path().join("notify.json")).unwrap())
            .unwrap();
    assert_eq!(file["profiles"][&profile]["webhook"], true, "{file}");

    // Another change keeps the stored URL, and the notification reaches all of it.
    let changed = cli.run(&["profile", "notify", &profile, "--on", "failure"]);
    assert_eq!(changed.code, Some(0), "{changed:#?}");
    let tested = cli.run(&["notify", "test", "--profile", &profile, "--json"]);
    assert_eq!(tested.code, Some(0), "{tested:#?}");
    assert!(!tested.stdout.contains(&key), "{tested:#?}");
    let requests = hook.requests();
    assert_eq!(requests.len(), 1, "{requests:#?}");
    assert_eq!(requests[0].target, format!("/services/T0/{key}"));

    // `profile show` tells the profile's settings, the webhook only as set.
    let shown = cli.run(&["profile", "show", &profile, "--json"]);
    assert_eq!(shown.code, Some(0), "{shown:#?}");
    assert!(!shown.stdout.contains(&key), "{shown:#?}");
    let view: Value = serde_json::from_str(&shown.stdout).unwrap();
    assert_eq!(view["notifications"]["on"], "failure", "{view}");
    assert_eq!(view["notifications"]["webhook"], true, "{view}");
    let text = cli.run(&["profile", "show", &profile]);
    assert!(
        text.stdout
            .contains("Notifications: on failure to 0 recipient(s), webhook"),
        "{text:#?}"
    );
    assert!(!text.stdout.contains(&key), "{text:#?}");
}

/// Each process reads `notify.json`, changes its profile and replaces the file: without the
/// lock, one that read before another wrote would write the other's change away.
#[test]
fn profile_notify_processes_at_once_lose_no_profiles_settings() {
    let config = tempfile::tempdir().unwrap();
    let backups = tempfile::tempdir().unwrap();
    let cli = Cli::bare().env("RYTHM_CONFIG_DIR", config.path().to_str().unwrap());
    let names: Vec<String> = (0..8).map(|i| format!("p{i}")).collect();
    for name in &names {
        add_profile(&cli, name, backups.path());
    }
    for round in 0..3 {
        let children: Vec<_> = names
            .iter()
            .map(|name| {
                let to = format!("{name}-{round}@example.com");
                let child = cli
                    .command(&["profile", "notify", name, "--on", "all", "--email-to", &to])
                    .stdout(Stdio::null())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap();
                (name, child)
            })
            .collect();
        for (name, child) in children {
            let out = child.wait_with_output().unwrap();
            assert!(out.status.success(), "{name}: {out:?}");
        }
        let file: Value = serde_json::from_str(
            &std::fs::read_to_string(config.path().join("notify.json")).unwrap(),
        )
        .unwrap();
        for name in &names {
            assert_eq!(
                file["profiles"][name]["emailTo"],
                serde_json::json!([format!("{name}-{round}@example.com")]),
                "round {round}: {file}"
            );
        }
    }
}
