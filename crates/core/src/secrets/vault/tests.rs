//! The vault's locking protocol and its held key: no prompt under the lock, a bounded wait
//! for the lock, a key that stays held through other threads' writes and through failures,
//! a file removed by another program never replaced, and a move that undoes itself when the
//! file cannot be removed.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use super::*;

fn pw(s: &str) -> Sensitive<String> {
    Sensitive::new(s.to_owned())
}

fn given(p: &'static str) -> impl Fn(bool) -> MasterAnswer {
    move |_| MasterAnswer::Password(pw(p))
}

/// The desktop's way before its dialog is answered: nobody to ask.
fn nobody(_: bool) -> MasterAnswer {
    MasterAnswer::Unavailable {
        hint: "nobody to ask".into(),
    }
}

fn insert(name: &str, value: &str) -> impl FnOnce(&mut Entries) -> ((), bool) {
    let (name, value) = (name.to_owned(), value.to_owned());
    move |e| {
        e.insert(name, value);
        ((), true)
    }
}

fn temp_vault() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config/secrets.vault");
    (dir, path)
}

#[test]
fn short_master_passwords_are_refused_and_nothing_is_written() {
    let (_dir, path) = temp_vault();
    let vault = Vault::new(path);
    let error = vault.unlock(&pw("short")).err().unwrap();
    assert!(matches!(error, KeychainError::WeakMasterPassword));
    assert!(!vault.exists(), "nothing is written for a refused password");
}

/// A person who takes their time at the prompt (the CLI's "New master password:") holds no
/// lock: another program's change goes through meanwhile, and the slow one, finding the file
/// made under another password, is asked for that one.
#[test]
fn nobody_waits_for_a_person_at_a_prompt() {
    let (_dir, path) = temp_vault();
    let (at_prompt, prompt_reached) = mpsc::channel();
    let (answer, answered) = mpsc::channel::<&'static str>();
    let answered = Mutex::new(answered);
    let asks = Arc::new(Mutex::new(Vec::new()));
    let slow = {
        let (path, asks) = (path.clone(), asks.clone());
        std::thread::spawn(move || {
            let vault = Vault::new(path);
            let ask = |creating: bool| {
                asks.lock().unwrap().push(creating);
                let _ = at_prompt.send(());
                MasterAnswer::Password(pw(answered.lock().unwrap().recv().unwrap()))
            };
            vault.update(&ask, insert("slow:db-password", "s1"))
        })
    };
    prompt_reached.recv().unwrap();
    // While the slow one waits at its prompt, another handle creates the file and writes.
    let (done, finished) = mpsc::channel();
    let quick = {
        let path = path.clone();
        std::thread::spawn(move || {
            let vault = Vault::new(path);
            let result = vault.update(
                &given("the quick password"),
                insert("quick:db-password", "q1"),
            );
            let _ = done.send(());
            result
        })
    };
    let finished_in_time = finished.recv_timeout(Duration::from_secs(60)).is_ok();
    // Answer the slow prompt in any case, so the test ends (the file needs the quick password
    // once the quick writer made it).
    answer.send("the slow password").unwrap();
    answer.send("the quick password").unwrap();
    assert!(
        finished_in_time,
        "a change waited for a person at another program's prompt"
    );
    quick.join().unwrap().unwrap();
    slow.join().unwrap().unwrap();
    assert_eq!(
        *asks.lock().unwrap(),
        [true, false],
        "asked to create, then to unlock"
    );
    let entries = Vault::new(path)
        .read_all(&given("the quick password"))
        .unwrap();
    assert_eq!(
        entries.keys().collect::<Vec<_>>(),
        ["quick:db-password", "slow:db-password"]
    );
}

#[test]
fn a_lock_held_too_long_is_a_clear_error_not_a_hang() {
    let (_dir, path) = temp_vault();
    let mut vault = Vault::new(path.clone());
    vault.unlock(&pw("correct horse")).unwrap();
    let held = fsmode::lock_exclusive(&vault.lock_path, Duration::from_secs(1)).unwrap();
    vault.lock_wait = Duration::from_millis(300);
    let error = vault
        .update(&given("correct horse"), insert("a:db-password", "x"))
        .err()
        .unwrap();
    let message = error.to_string();
    assert!(
        message.contains("another rythm-backup program"),
        "{message}"
    );
    assert!(message.contains("secrets.vault.lock"), "{message}");
    assert!(message.contains("try again"), "{message}");
    assert!(vault.is_unlocked(), "a refused change forgets no key");
    drop(held);
    vault
        .update(&nobody, insert("a:db-password", "x"))
        .expect("the lock is free again, and the key is still held");
}

/// The desktop runs commands in parallel: a read while another thread writes must find the
/// key held, never a spurious "locked".
#[test]
fn the_key_stays_held_while_another_thread_writes() {
    let (_dir, path) = temp_vault();
    let vault = Arc::new(Vault::new(path));
    vault.unlock(&pw("correct horse")).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let reads = Arc::new(AtomicUsize::new(0));
    let reader = {
        let (vault, stop, reads) = (vault.clone(), stop.clone(), reads.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                assert!(
                    vault.is_unlocked(),
                    "the store looked locked during a write"
                );
                if let Err(e) = vault.read_all(&nobody) {
                    panic!("a read during a write failed: {e}");
                }
                reads.fetch_add(1, Ordering::Relaxed);
            }
        })
    };
    for i in 0..40 {
        vault
            .update(&nobody, insert(&format!("p{i}:db-password"), "v"))
            .unwrap();
    }
    stop.store(true, Ordering::Relaxed);
    reader.join().expect("the reader always found the key");
    assert!(reads.load(Ordering::Relaxed) > 0);
}

#[test]
fn a_failed_change_or_move_forgets_no_key() {
    let (_dir, path) = temp_vault();
    let vault = Vault::new(path.clone());
    vault
        .update(&given("correct horse"), insert("a:db-password", "x"))
        .unwrap();
    // A damaged file (same header, other ciphertext): the change fails, the key stays.
    let good = std::fs::read_to_string(&path).unwrap();
    let text = good.replacen("\"ciphertext\": \"", "\"ciphertext\": \"AAAA", 1);
    std::fs::write(&path, text).unwrap();
    assert!(vault.update(&nobody, insert("b:db-password", "y")).is_err());
    assert!(vault.is_unlocked());
    std::fs::write(&path, &good).unwrap();
    // A move whose work fails (the keychain refused): the key stays, the file too.
    let error = vault
        .drain(
            &nobody,
            |_| Err::<(), _>(KeychainError::Unavailable("refused".into())),
            |()| String::new(),
        )
        .err()
        .unwrap();
    assert!(error.to_string().contains("refused"), "{error}");
    assert!(
        vault.is_unlocked(),
        "a failed move forgets no master password"
    );
    assert!(path.is_file());
    vault
        .update(&nobody, insert("b:db-password", "y"))
        .expect("no master password asked again");
}

/// Another program moved the secrets away (to the OS keychain): this handle neither answers
/// "nothing stored" nor starts a new, empty file that would hide them.
#[test]
fn a_file_removed_by_another_program_is_never_replaced() {
    let (_dir, path) = temp_vault();
    Vault::new(path.clone())
        .update(&given("correct horse"), insert("a:db-password", "x"))
        .unwrap();
    // Opened on the existing file, still locked, as the desktop app at start.
    let locked = Vault::new(path.clone());
    // Another handle that has read the file, as a process that has been running a while.
    let reader = Vault::new(path.clone());
    reader.read_all(&given("correct horse")).unwrap();
    std::fs::remove_file(&path).unwrap();
    for vault in [&locked, &reader] {
        assert!(vault.was_removed());
        for error in [
            vault.unlock(&pw("correct horse")).err(),
            vault
                .update(&given("correct horse"), insert("b:x", "y"))
                .err(),
            vault.read_all(&given("correct horse")).err(),
            vault.entry_names().err(),
        ] {
            let error = error.expect("refused");
            assert!(matches!(error, KeychainError::Removed { .. }), "{error}");
            assert!(
                error.to_string().contains("start this program again"),
                "{error}"
            );
        }
        assert!(!path.exists(), "no new file was made");
    }
    // A handle opened after the move starts afresh (the store rule decides what it is).
    let fresh = Vault::new(path.clone());
    assert!(!fresh.was_removed());
    assert_eq!(fresh.entry_names().unwrap(), Vec::<String>::new());
}

/// A move whose keychain writes succeeded but whose file cannot be removed takes the writes
/// back: all or nothing.
#[test]
fn a_move_that_cannot_remove_the_file_undoes_its_work() {
    let (_dir, path) = temp_vault();
    let vault = Vault::new(path.clone());
    vault
        .update(&given("correct horse"), insert("a:db-password", "x"))
        .unwrap();
    let undone = AtomicBool::new(false);
    let error = vault
        .drain(
            &nobody,
            |entries| {
                assert_eq!(entries.len(), 1);
                // Something takes the file's place that cannot be removed as a file.
                std::fs::remove_file(&path).unwrap();
                std::fs::create_dir(&path).unwrap();
                std::fs::write(path.join("x"), b"x").unwrap();
                Ok("written")
            },
            |work| {
                assert_eq!(work, "written");
                undone.store(true, Ordering::SeqCst);
                "; the keychain entries it wrote were undone".into()
            },
        )
        .err()
        .unwrap();
    assert!(
        undone.load(Ordering::SeqCst),
        "the keychain writes were undone"
    );
    let message = error.to_string();
    assert!(message.contains("could not be removed"), "{message}");
    assert!(message.contains("stays the store in use"), "{message}");
    assert!(message.contains("were undone"), "{message}");
    assert!(vault.state().key.is_some(), "the key is still held");
}

/// Another program changed the master password: this handle's key no longer opens the file,
/// so it says it is locked (the desktop then asks for the new password) instead of claiming
/// to be unlocked and failing every command.
#[test]
fn a_key_that_no_longer_fits_is_not_unlocked() {
    let (_dir, path) = temp_vault();
    let this = Vault::new(path.clone());
    this.update(&given("correct horse"), insert("a:db-password", "x"))
        .unwrap();
    assert!(this.is_unlocked());
    Vault::new(path)
        .change_password(&pw("correct horse"), &pw("battery staple"))
        .unwrap();
    assert!(!this.is_unlocked());
    let error = this.read_all(&nobody).err().unwrap();
    assert!(matches!(error, KeychainError::Locked { .. }), "{error}");
    this.unlock(&pw("battery staple")).unwrap();
    assert!(this.is_unlocked());
    assert_eq!(this.read_all(&nobody).unwrap().len(), 1);
}
