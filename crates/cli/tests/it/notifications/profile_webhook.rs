//! A profile's webhook URL is a secret (Slack's and Teams' carry their key in the path):
//! `profile notify` refuses it on the command line, reads it from stdin, keeps it in the
//! keychain rather than `notify.json`, and never prints it whole; notifications still reach
//! the whole URL.

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

#[test]
fn a_profiles_webhook_url_stays_out_of_argv_files_and_output() {
    let hook = HttpReceiver::start(|_| (204, vec![], String::new()));
    let config = tempfile::tempdir().unwrap();
    let backups = tempfile::tempdir().unwrap();
    let cli = Cli::bare().env("RYTHM_CONFIG_DIR", config.path().to_str().unwrap());
    let profile = format!("hook-{}", &random_hex()[..8]);
    let key = format!("path-key-{}", random_hex());
    let url = hook.url(&format!("/services/T0/{key}"));
    let added = run_with_stdin(
        &cli,
        &[
            "profile",
            "add",
            &profile,
            "--database-url",
            "postgresql://rythm@127.0.0.1:1/rythm",
            "--backup-dir",
            backups.path().to_str().unwrap(),
            "--password-stdin",
        ],
        "db-password-1",
    );
    assert_eq!(added.code, Some(0), "{added:#?}");

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
}
