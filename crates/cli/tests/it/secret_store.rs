//! Life without an OS keychain: the binary run with no usable session keyring, no D-Bus and
//! no `RYTHM_KEYCHAIN` (the state of a plain SSH shell here; `keyctl session _uid_ses.UID`
//! puts a process back into it inside the tests' own session keyring). Profiles then keep
//! their secrets in the
//! encrypted file, unlocked by `RYTHM_MASTER_PASSWORD_FILE` (there is no terminal); `profile
//! show` and `secrets status` say so and why; a wrong master password is a clear error that
//! leaks nothing; parallel commands lose nothing; the master password changes; and, once a
//! keychain is there (the tests' session keyring), `secrets move-to-keychain` moves them.

mod processes;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};

use serde_json::Value;

use crate::support::{pg, random_hex, Cli};

/// `setsid -w keyctl session _uid_ses.UID env -u RYTHM_KEYCHAIN`: no terminal, the user's
/// default session keyring, in which the kernel keyring cannot keep keys (as in a login
/// without a session keyring), and no request for the kernel keyring (a fresh machine).
fn without_keyring() -> Vec<String> {
    let uid = std::process::Command::new("id")
        .arg("-u")
        .output()
        .expect("id runs");
    let uid = String::from_utf8_lossy(&uid.stdout).trim().to_owned();
    // setsid: no controlling terminal either, so nothing can prompt (as in CI).
    ["setsid", "-w", "keyctl", "session"]
        .into_iter()
        .map(str::to_owned)
        .chain([format!("_uid_ses.{uid}")])
        .chain(["env", "-u", crate::support::KEYCHAIN_VAR].map(str::to_owned))
        .collect()
}

struct Home {
    config: tempfile::TempDir,
    master_file: PathBuf,
    backups: tempfile::TempDir,
}

impl Home {
    fn new(master: &str) -> Home {
        let config = tempfile::tempdir().unwrap();
        let master_file = config.path().join("master-password");
        write_private(&master_file, master);
        Home {
            config,
            master_file,
            backups: tempfile::tempdir().unwrap(),
        }
    }

    fn vault(&self) -> PathBuf {
        self.config.path().join("rythm-backup/secrets.vault")
    }

    /// The CLI with this home's config folder and, when `master` is true, its master
    /// password file; no D-Bus variables (the environment is cleared).
    fn cli(&self, master: bool) -> Cli {
        let cli = Cli::bare().env(
            "RYTHM_CONFIG_DIR",
            self.config.path().join("rythm-backup").to_str().unwrap(),
        );
        if master {
            cli.env(
                "RYTHM_MASTER_PASSWORD_FILE",
                self.master_file.to_str().unwrap(),
            )
        } else {
            cli
        }
    }
}

fn write_private(path: &Path, text: &str) {
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(true)
        .write(true)
        .mode(0o600)
        .open(path)
        .unwrap();
    writeln!(file, "{text}").unwrap();
}

/// Runs `args` (under `wrapper` when given) with `stdin` as its input.
fn run(cli: &Cli, wrapper: Option<&[String]>, args: &[&str], stdin: &str) -> Output {
    let mut command = match wrapper {
        Some(w) => {
            let w: Vec<&str> = w.iter().map(String::as_str).collect();
            cli.command_under(&w, args)
        }
        None => cli.command(args),
    };
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the CLI starts");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{stdin}\n").as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn json(output: &Output) -> Value {
    assert_eq!(output.status.code(), Some(0), "{output:#?}");
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", text(&output.stdout)))
}

/// The `{code, message}` of a failed `--json` run (its last stderr line: `keyctl` writes
/// one of its own first).
fn json_error(output: &Output) -> Value {
    assert_eq!(output.status.code(), Some(1), "{output:#?}");
    let stderr = text(&output.stderr);
    let last = stderr.lines().last().unwrap_or_default();
    serde_json::from_str(last).unwrap_or_else(|e| panic!("not a JSON error ({e}): {stderr}"))
}

/// `profile add NAME` for the test database, the password on stdin.
fn add_profile(cli: &Cli, wrapper: Option<&[String]>, name: &str, dir: &Path) -> Output {
    let password = pg().password();
    let url = pg()
        .url("postgres")
        .replacen(&format!(":{password}@"), "@", 1);
    run(
        cli,
        wrapper,
        &[
            "profile",
            "add",
            name,
            "--database-url",
            &url,
            "--backup-dir",
            dir.to_str().unwrap(),
            "--password-stdin",
            "--json",
        ],
        pg().password(),
    )
}

fn assert_no_secret(output: &Output, secrets: &[&str]) {
    let all = format!("{}{}", text(&output.stdout), text(&output.stderr));
    for secret in secrets {
        assert!(!all.contains(secret), "a secret was printed: {all}");
    }
}

#[test]
fn without_a_keychain_profiles_keep_their_secrets_in_the_encrypted_file() {
    let master = format!("master {}", random_hex());
    let home = Home::new(&master);
    let no_keyring = without_keyring();
    let name = format!("nokey-{}", &random_hex()[..8]);

    // No terminal and no master password file: a clear error, nothing saved in clear.
    let refused = add_profile(
        &home.cli(false),
        Some(&no_keyring),
        &name,
        home.backups.path(),
    );
    let error = json_error(&refused);
    assert_eq!(error["code"], "secrets_locked", "{error}");
    let message = error["message"].as_str().unwrap();
    assert!(message.contains("no OS keychain is available"), "{message}");
    assert!(message.contains("RYTHM_MASTER_PASSWORD_FILE"), "{message}");
    assert!(!home.vault().exists());
    assert_no_secret(&refused, &[pg().password()]);

    // With the master password in a file: saved into the encrypted file.
    let cli = home.cli(true);
    let added = add_profile(&cli, Some(&no_keyring), &name, home.backups.path());
    json(&added);
    assert_no_secret(&added, &[pg().password(), &master]);
    let bytes = std::fs::read(home.vault()).expect("the encrypted file exists");
    let password = pg().password().as_bytes();
    assert!(!bytes.windows(password.len()).any(|w| w == password));

    // `profile show` and `secrets status` say where, and why.
    let shown = run(&cli, Some(&no_keyring), &["profile", "show", &name], "");
    let shown_text = text(&shown.stdout);
    assert_eq!(shown.status.code(), Some(0), "{shown:#?}");
    assert!(
        shown_text.contains("database password: stored"),
        "{shown_text}"
    );
    assert!(
        shown_text.contains("Secret store: Secrets are kept in an encrypted file"),
        "{shown_text}"
    );
    assert!(
        shown_text.contains("because no OS keychain is available"),
        "{shown_text}"
    );
    assert!(
        shown_text.contains("forgets its secrets at reboot"),
        "{shown_text}"
    );
    let status = json(&run(
        &cli,
        Some(&no_keyring),
        &["secrets", "status", "--json"],
        "",
    ));
    assert_eq!(status["kind"], "encrypted-file");
    assert_eq!(status["fileEntries"], 1);
    assert_eq!(status["canMove"], false);
    assert_eq!(status["osKeychain"], Value::Null);
    // Listing needs no master password.
    let listed = run(
        &home.cli(false),
        Some(&no_keyring),
        &["profile", "show", &name, "--json"],
        "",
    );
    assert_eq!(json(&listed)["secrets"][0][1], true);

    // The password comes back out of the file for a backup.
    let backup = run(
        &cli,
        Some(&no_keyring),
        &["backup", "--profile", &name, "--json"],
        "",
    );
    let created = json(&backup);
    assert!(created["name"]
        .as_str()
        .unwrap()
        .starts_with("rythm-backup-"));

    // A wrong master password: a clear error, no secret in it, nothing overwritten.
    let before = std::fs::read(home.vault()).unwrap();
    write_private(&home.master_file, "not the master password");
    for args in [
        vec!["backup", "--profile", &name, "--json"],
        vec!["profile", "remove", &name, "--json"],
    ] {
        let wrong = run(&cli, Some(&no_keyring), &args, "");
        let error = json_error(&wrong);
        assert_eq!(error["code"], "secrets_locked", "{error}");
        assert!(
            error["message"]
                .as_str()
                .unwrap()
                .contains("master password does not open"),
            "{error}"
        );
        assert_no_secret(
            &wrong,
            &[pg().password(), &master, "not the master password"],
        );
    }
    assert_eq!(std::fs::read(home.vault()).unwrap(), before);
}

#[test]
fn parallel_commands_on_one_encrypted_file_lose_nothing() {
    let home = Home::new("a master password for many");
    let no_keyring = without_keyring();
    let cli = home.cli(true);
    let names: Vec<String> = (0..6)
        .map(|i| format!("par{i}-{}", &random_hex()[..6]))
        .collect();
    std::thread::scope(|scope| {
        let handles: Vec<_> = names
            .iter()
            .map(|name| {
                let (cli, no_keyring) = (&cli, &no_keyring);
                let dir = home.backups.path();
                scope.spawn(move || add_profile(cli, Some(no_keyring), name, dir))
            })
            .collect();
        for handle in handles {
            json(&handle.join().unwrap());
        }
    });
    let status = json(&run(
        &cli,
        Some(&no_keyring),
        &["secrets", "status", "--json"],
        "",
    ));
    assert_eq!(status["fileEntries"], 6, "{status}");
    for name in &names {
        let shown = json(&run(
            &cli,
            Some(&no_keyring),
            &["profile", "show", name, "--json"],
            "",
        ));
        assert_eq!(shown["secrets"][0][1], true, "{name}: {shown}");
    }
}

#[test]
fn the_master_password_changes_and_the_secrets_move_to_the_keychain_when_one_appears() {
    let master = "first master password";
    let home = Home::new(master);
    let no_keyring = without_keyring();
    let cli = home.cli(true);
    let name = format!("mv-{}", &random_hex()[..8]);
    json(&add_profile(
        &cli,
        Some(&no_keyring),
        &name,
        home.backups.path(),
    ));

    // A new master password from stdin; the old one no longer opens the file.
    let new_master = "second master password";
    let changed = run(
        &cli,
        Some(&no_keyring),
        &[
            "secrets",
            "change-master-password",
            "--new-password-stdin",
            "--json",
        ],
        new_master,
    );
    assert_eq!(json(&changed)["reencrypted"], 1);
    assert_no_secret(&changed, &[master, new_master]);
    let old = run(
        &cli,
        Some(&no_keyring),
        &["backup", "--profile", &name, "--json"],
        "",
    );
    assert_eq!(json_error(&old)["code"], "secrets_locked");
    write_private(&home.master_file, new_master);
    json(&run(
        &cli,
        Some(&no_keyring),
        &["backup", "--profile", &name, "--json"],
        "",
    ));

    // Without a keychain there is nowhere to move them.
    let nowhere = run(
        &cli,
        Some(&no_keyring),
        &["secrets", "move-to-keychain", "--json"],
        "",
    );
    let error = json_error(&nowhere);
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("no OS keychain is available"),
        "{error}"
    );
    assert!(home.vault().exists());

    // In the tests' own session keyring the kernel keyring works: the file is still the
    // store in use (it holds the secrets), and `profile show` offers the move.
    let shown = run(&cli, None, &["profile", "show", &name], "");
    let shown_text = text(&shown.stdout);
    assert!(shown_text.contains("is available now"), "{shown_text}");
    assert!(
        shown_text.contains("rythm-backup secrets move-to-keychain"),
        "{shown_text}"
    );
    let moved = json(&run(
        &cli,
        None,
        &["secrets", "move-to-keychain", "--json"],
        "",
    ));
    assert_eq!(moved["moved"], 1, "{moved}");
    assert!(!home.vault().exists(), "no secret is left in the file");
    let status = json(&run(
        &home.cli(false),
        None,
        &["secrets", "status", "--json"],
        "",
    ));
    assert_eq!(status["kind"], "os-keychain", "{status}");
    // The password now comes from the keychain, with no master password at all.
    json(&run(
        &home.cli(false),
        None,
        &["backup", "--profile", &name, "--json"],
        "",
    ));
    json(&run(
        &home.cli(false),
        None,
        &["profile", "remove", &name, "--json"],
        "",
    ));
}

/// On a terminal (a pseudo-terminal from `script`) the CLI asks for a new master password
/// twice, then saves; the file opens with that password afterwards. (The terminal echoes what
/// the test types before the prompt turns echo off, so the output is not checked for it.)
#[test]
fn on_a_terminal_a_new_master_password_is_asked_for_twice() {
    let master = "typed master password";
    let home = Home::new(master);
    let name = format!("tty-{}", &random_hex()[..8]);
    let password = pg().password();
    let url = pg()
        .url("postgres")
        .replacen(&format!(":{password}@"), "@", 1);
    let cli = home.cli(false);
    let bin = cli
        .command(&[])
        .get_program()
        .to_string_lossy()
        .into_owned();
    let quote = |s: &str| format!("'{}'", s.replace('\'', r"'\''"));
    let line = [
        quote(&bin),
        "profile add".into(),
        quote(&name),
        "--database-url".into(),
        quote(&url),
        "--backup-dir".into(),
        quote(home.backups.path().to_str().unwrap()),
        "--password-stdin".into(),
    ]
    .join(" ");
    let mut wrapper = without_keyring();
    wrapper.extend(["script", "-qec", &line, "/dev/null"].map(str::to_owned));
    let (program, args) = wrapper.split_first().unwrap();
    let mut child = std::process::Command::new(program)
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("RYTHM_CONFIG_DIR", home.config.path().join("rythm-backup"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("script runs (util-linux)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{password}\n{master}\n{master}\n").as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let shown = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{out:#?}");
    assert!(shown.contains("New master password:"), "{shown}");
    assert!(shown.contains("Repeat the master password:"), "{shown}");
    assert!(shown.contains(&format!("Saved profile {name}")), "{shown}");
    let status = json(&run(
        &home.cli(true),
        Some(&without_keyring()),
        &["secrets", "status", "--json"],
        "",
    ));
    assert_eq!(status["fileEntries"], 1, "{status}");
    json(&run(
        &home.cli(true),
        Some(&without_keyring()),
        &["backup", "--profile", &name, "--json"],
        "",
    ));
}
