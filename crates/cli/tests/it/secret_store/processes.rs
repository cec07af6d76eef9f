//! The secret store between processes and across reboots: a command waiting at the master
//! password prompt blocks no other command; with no `RYTHM_KEYCHAIN`, secrets never go to the
//! kernel keyring (it forgets them at reboot) even where it works, and do once it is asked
//! for; `change-master-password` asks for nothing when there is no master password.

use std::io::Read;
use std::process::Child;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::*;
use crate::support::KEYCHAIN_VAR;

/// `line` run by `sh` on a pseudo-terminal (`script`), through `wrapper`, with only PATH and
/// `vars` in its environment; stdin and stdout piped (stdout carries the terminal's output).
fn on_a_terminal(wrapper: Vec<String>, vars: &[(&str, &str)], line: &str) -> Child {
    let mut command = wrapper;
    command.extend(["script", "-qec", line, "/dev/null"].map(str::to_owned));
    let (program, args) = command.split_first().unwrap();
    std::process::Command::new(program)
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(vars.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("script runs (util-linux)")
}

fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// The binary and `args` as one shell line.
fn shell_line(cli: &Cli, args: &[&str]) -> String {
    let bin = cli
        .command(&[])
        .get_program()
        .to_string_lossy()
        .into_owned();
    std::iter::once(quote(&bin))
        .chain(args.iter().map(|a| quote(a)))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Collects a child's stdout on a thread, so the test can wait for a prompt.
fn capture(child: &mut Child) -> Arc<Mutex<String>> {
    let shown = Arc::new(Mutex::new(String::new()));
    let mut stdout = child.stdout.take().unwrap();
    let sink = shown.clone();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = stdout.read(&mut buf) {
            if n == 0 {
                break;
            }
            sink.lock()
                .unwrap()
                .push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    });
    shown
}

fn wait_for(shown: &Mutex<String>, needle: &str, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if shown.lock().unwrap().contains(needle) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

/// Waits for `child` at most `within`; `None` when it is still running.
fn wait_at_most(child: &mut Child, within: Duration) -> Option<std::process::ExitStatus> {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}

/// A person leaves one command at "New master password:"; another command (here with the
/// master password in a file) saves a profile meanwhile, because no lock is held while a
/// person is asked. The first, answered at last, finds the file made under the other master
/// password, asks for that one, and saves too: nothing is lost.
#[test]
fn a_command_waiting_at_the_master_password_prompt_blocks_no_other() {
    let (first_master, second_master) = ("the first one typed", "the master password in a file");
    let home = Home::new(second_master);
    let db_password = pg().password();
    let url = pg()
        .url("postgres")
        .replacen(&format!(":{db_password}@"), "@", 1);
    let (slow, quick) = (
        format!("slow-{}", &random_hex()[..8]),
        format!("quick-{}", &random_hex()[..8]),
    );
    let backups = home.backups.path().to_str().unwrap();
    let line = shell_line(
        &home.cli(false),
        &[
            "profile",
            "add",
            &slow,
            "--database-url",
            &url,
            "--backup-dir",
            backups,
            "--password-stdin",
        ],
    );
    let config = home.config.path().join("rythm-backup");
    let mut waiting = on_a_terminal(
        without_keyring(),
        &[("RYTHM_CONFIG_DIR", config.to_str().unwrap())],
        &line,
    );
    let shown = capture(&mut waiting);
    let mut typing = waiting.stdin.take().unwrap();
    writeln!(typing, "{db_password}").unwrap();
    assert!(
        wait_for(&shown, "New master password:", Duration::from_secs(60)),
        "no prompt: {}",
        shown.lock().unwrap()
    );

    // Meanwhile another command saves a profile (creating the file under its own password).
    let mut other = add_profile_spawned(&home.cli(true), &quick, home.backups.path());
    let finished = wait_at_most(&mut other, Duration::from_secs(90));
    if finished.is_none() {
        let _ = other.kill();
    }
    // Answer the waiting prompt in any case, so that the first command ends too.
    // (Writes may fail once `script` has ended; the assertions below say why.)
    let _ = writeln!(typing, "{first_master}\n{first_master}");
    let asked_again = wait_for(&shown, "Master password of", Duration::from_secs(60));
    let _ = writeln!(typing, "{second_master}");
    drop(typing);
    let first_status = wait_at_most(&mut waiting, Duration::from_secs(60));
    if first_status.is_none() {
        let _ = waiting.kill();
    }
    let other_output = other.wait_with_output().unwrap();
    assert!(
        finished.is_some(),
        "the second command waited for the person at the first one's prompt"
    );
    assert_eq!(other_output.status.code(), Some(0), "{other_output:#?}");
    let shown = shown.lock().unwrap().clone();
    assert!(
        asked_again,
        "the first command did not ask for the file's password: {shown}"
    );
    assert_eq!(first_status.and_then(|s| s.code()), Some(0), "{shown}");
    assert!(shown.contains(&format!("Saved profile {slow}")), "{shown}");
    // Both passwords are in the file, which opens with the password it was made with.
    let status = json(&run(
        &home.cli(true),
        Some(&without_keyring()),
        &["secrets", "status", "--json"],
        "",
    ));
    assert_eq!(status["fileEntries"], 2, "{status}");
    for name in [&slow, &quick] {
        json(&run(
            &home.cli(true),
            Some(&without_keyring()),
            &["backup", "--profile", name, "--json"],
            "",
        ));
    }
}

/// `profile add` started (not waited for), its database password on stdin, with no usable
/// keyring and no terminal.
fn add_profile_spawned(cli: &Cli, name: &str, dir: &Path) -> Child {
    let password = pg().password();
    let url = pg()
        .url("postgres")
        .replacen(&format!(":{password}@"), "@", 1);
    let wrapper = without_keyring();
    let wrapper: Vec<&str> = wrapper.iter().map(String::as_str).collect();
    let mut child = cli
        .command_under(
            &wrapper,
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
        )
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the CLI starts");
    writeln!(child.stdin.take().unwrap(), "{password}").unwrap();
    child
}

/// A headless server with a working kernel keyring (the tests' own session keyring here) but
/// no Secret Service: unasked, the kernel keyring is not used, since every secret in it would
/// be gone after the next reboot. The secrets go to the encrypted file, and the reason is
/// given. Asked for (`RYTHM_KEYCHAIN=kernel`), it can take them.
#[test]
fn unasked_the_kernel_keyring_never_holds_secrets() {
    let home = Home::new("a master password that outlives reboots");
    let name = format!("reboot-{}", &random_hex()[..8]);
    // In the tests' session keyring, with no keychain setting.
    let fresh_machine = home.cli(true).without(KEYCHAIN_VAR);
    json(&add_profile(
        &fresh_machine,
        None,
        &name,
        home.backups.path(),
    ));
    let status = json(&run(
        &fresh_machine,
        None,
        &["secrets", "status", "--json"],
        "",
    ));
    assert_eq!(status["kind"], "encrypted-file", "{status}");
    assert_eq!(status["fileEntries"], 1, "{status}");
    assert_eq!(status["osKeychain"], Value::Null, "{status}");
    let problem = status["osKeychainProblem"].as_str().unwrap_or_default();
    assert!(
        problem.contains("forgets its secrets at reboot"),
        "{status}"
    );
    assert!(problem.contains("RYTHM_KEYCHAIN=kernel"), "{status}");
    let shown = text(&run(&fresh_machine, None, &["profile", "show", &name], "").stdout);
    assert!(shown.contains("forgets its secrets at reboot"), "{shown}");

    // Asked for by name, the kernel keyring is an OS keychain: the secrets can move there.
    let asked = home.cli(true).env(KEYCHAIN_VAR, "kernel");
    let status = json(&run(&asked, None, &["secrets", "status", "--json"], ""));
    assert_eq!(status["osKeychain"], "kernel keyring", "{status}");
    assert_eq!(status["canMove"], true, "{status}");
    let moved = json(&run(
        &asked,
        None,
        &["secrets", "move-to-keychain", "--json"],
        "",
    ));
    assert_eq!(moved["moved"], 1, "{moved}");
    assert!(!home.vault().exists());
    json(&run(
        &asked,
        None,
        &["backup", "--profile", &name, "--json"],
        "",
    ));
    json(&run(
        &asked,
        None,
        &["profile", "remove", &name, "--json"],
        "",
    ));
}

/// With no master password to change (the OS keychain in use, or no file yet), the command
/// says so at once, on a terminal too, without asking for passwords first.
#[test]
fn change_master_password_asks_for_nothing_when_there_is_none() {
    let home = Home::new("unused master password");
    let config = home.config.path().join("rythm-backup");
    let line = shell_line(&home.cli(false), &["secrets", "change-master-password"]);
    for (store, expected) in [
        ("keychain", "there is no master password to change"),
        ("file", "no encrypted secrets file"),
    ] {
        let mut child = on_a_terminal(
            without_keyring(),
            &[
                ("RYTHM_CONFIG_DIR", config.to_str().unwrap()),
                ("RYTHM_SECRET_STORE", store),
            ],
            &line,
        );
        // Answers, should anything be asked, so that the old behaviour shows rather than hangs.
        child
            .stdin
            .take()
            .unwrap()
            .write_all(b"current password\nnew password 1\nnew password 1\n")
            .unwrap();
        let out = child.wait_with_output().unwrap();
        let shown = format!("{}{}", text(&out.stdout), text(&out.stderr));
        assert_eq!(out.status.code(), Some(1), "{store}: {shown}");
        assert!(shown.contains(expected), "{store}: {shown}");
        assert!(
            !shown.contains("assword of"),
            "{store}: asked for the current one: {shown}"
        );
        assert!(!shown.contains("New master password"), "{store}: {shown}");
        assert!(!home.vault().exists());
    }
}
