//! Helpers shared by the CLI's integration tests: the test services' settings (exported by
//! `scripts/test.sh`), fresh databases and storage per test, a psql runner, and a wrapper
//! that runs the real `rythm-backup` binary in a clean environment and returns its exit
//! code, stdout and stderr.

mod db;

pub use db::{pg, TestDb};

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use serde_json::Value;
use sha2::{Digest, Sha256};
use tempfile::TempDir;

/// A variable `scripts/test.sh` exports. Missing means the services are not running: the
/// test fails (never skips) and says how to run it.
pub fn required_env(name: &str) -> String {
    match std::env::var(name) {
        Ok(value) if !value.trim().is_empty() => value,
        _ => panic!(
            "{name} is not set. Run the tests through `bash scripts/test.sh` (it starts \
             PostgreSQL and Azurite and exports it), or start the services with \
             `bash scripts/test.sh --services-only` and export what it prints."
        ),
    }
}

/// 16 random hex digits, to keep parallel tests apart.
pub fn random_hex() -> String {
    format!("{:016x}", rand::random::<u64>())
}

/// Where one test keeps its backups.
pub enum Storage {
    Local(TempDir),
    Azure {
        connection: String,
        container: String,
    },
}

impl Storage {
    /// A fresh, empty local folder (BACKUP_DIR).
    pub fn local() -> Storage {
        Storage::Local(tempfile::tempdir().expect("a temp dir"))
    }

    /// A fresh Azurite container `cli-<random hex>` (created by the CLI on first use).
    pub fn azure() -> Storage {
        Storage::Azure {
            connection: required_env("RYTHM_TEST_AZURE_CONNECTION_STRING"),
            container: format!("cli-{}", random_hex()),
        }
    }

    /// The environment that points the CLI here.
    pub fn vars(&self) -> Vec<(&'static str, String)> {
        match self {
            Storage::Local(dir) => vec![("BACKUP_DIR", dir.path().display().to_string())],
            Storage::Azure {
                connection,
                container,
            } => vec![
                ("AZURE_STORAGE_CONNECTION_STRING", connection.clone()),
                ("AZURE_BACKUP_CONTAINER", container.clone()),
            ],
        }
    }

    /// The local folder, for local storage.
    pub fn dir(&self) -> Option<&Path> {
        match self {
            Storage::Local(dir) => Some(dir.path()),
            Storage::Azure { .. } => None,
        }
    }
}

impl Drop for Storage {
    fn drop(&mut self) {
        if let Storage::Azure {
            connection,
            container,
        } = self
        {
            use rythm_backup_core::storage::azure::AzureStore;
            let Ok(store) = AzureStore::from_connection_string(connection, container) else {
                return;
            };
            if let Ok(runtime) = tokio::runtime::Runtime::new() {
                let _ = runtime.block_on(store.delete_container());
            }
        }
    }
}

/// How to run the binary: a clean environment (PATH, HOME, a private TMPDIR, then only
/// what the test sets) and a working directory.
pub struct Cli {
    vars: BTreeMap<String, String>,
    cwd: PathBuf,
    tmp: TempDir,
    _cwd_dir: TempDir,
}

/// What one run of the CLI did.
#[derive(Debug)]
pub struct Outcome {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

/// Picks the Linux OS keychain (`kernel` or `secret-service`).
pub const KEYCHAIN_VAR: &str = "RYTHM_KEYCHAIN";

impl Cli {
    /// No database and no storage configured; runs in an empty temp dir.
    pub fn bare() -> Cli {
        let cwd_dir = tempfile::tempdir().expect("a temp dir");
        let path = format!(
            "{}:{}",
            pg().bin().display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let mut vars = BTreeMap::new();
        vars.insert("PATH".to_owned(), path);
        if let Ok(home) = std::env::var("HOME") {
            vars.insert("HOME".to_owned(), home);
        }
        let tmp = tempfile::tempdir().expect("a temp dir");
        vars.insert("TMPDIR".to_owned(), tmp.path().display().to_string());
        // The tests' choice of OS keychain: scripts/test.sh asks for the kernel keyring of
        // their session keyring, which is never chosen unasked (it forgets at reboot).
        if let Ok(store) = std::env::var(KEYCHAIN_VAR) {
            vars.insert(KEYCHAIN_VAR.to_owned(), store);
        }
        Cli {
            vars,
            cwd: cwd_dir.path().to_owned(),
            tmp,
            _cwd_dir: cwd_dir,
        }
    }

    /// Configured for `db` and `storage`.
    pub fn new(db: &TestDb, storage: &Storage) -> Cli {
        Cli::bare().db(db).storage(storage)
    }

    pub fn db(self, db: &TestDb) -> Cli {
        self.env("DATABASE_URL", &db.url())
    }

    pub fn storage(mut self, storage: &Storage) -> Cli {
        for (key, value) in storage.vars() {
            self = self.env(key, &value);
        }
        self
    }

    pub fn env(mut self, key: &str, value: &str) -> Cli {
        assert!(
            key != "PATH" && key != "HOME" && key != "TMPDIR",
            "{key} is set by Cli"
        );
        self.vars.insert(key.to_owned(), value.to_owned());
        self
    }

    /// Without the variable `key` (e.g. `RYTHM_KEYCHAIN`, passed on from the tests' own
    /// environment).
    pub fn without(mut self, key: &str) -> Cli {
        self.vars.remove(key);
        self
    }

    /// The child's working directory (empty at first).
    pub fn cwd(&self) -> &Path {
        &self.cwd
    }

    /// The child's TMPDIR (empty at first).
    pub fn tmp(&self) -> &Path {
        self.tmp.path()
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_rythm-backup"));
        command
            .env_clear()
            .envs(&self.vars)
            .args(args)
            .current_dir(&self.cwd)
            .stdin(Stdio::null());
        command
    }

    /// The command run through `wrapper` (e.g. `keyctl session NAME`), same environment.
    pub fn command_under(&self, wrapper: &[&str], args: &[&str]) -> Command {
        let inner = self.command(args);
        let mut command = Command::new(wrapper[0]);
        command
            .args(&wrapper[1..])
            .arg(inner.get_program())
            .args(inner.get_args())
            .env_clear()
            .envs(&self.vars)
            .current_dir(&self.cwd)
            .stdin(Stdio::null());
        command
    }

    /// Runs to the end.
    pub fn run(&self, args: &[&str]) -> Outcome {
        Outcome::from(self.command(args).output().expect("the CLI starts"))
    }

    /// Starts it with stdout and stderr piped, for tests that interrupt it.
    pub fn spawn(&self, args: &[&str]) -> Child {
        self.command(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the CLI starts")
    }

    /// `list --json`, asserted to succeed.
    pub fn list(&self) -> Vec<Value> {
        match self.run(&["list", "--json"]).json() {
            Value::Array(entries) => entries,
            other => panic!("list --json printed {other}"),
        }
    }

    /// The names `list --json` shows, newest first.
    pub fn list_names(&self) -> Vec<String> {
        self.list()
            .iter()
            .map(|e| e["name"].as_str().expect("entries have a name").to_owned())
            .collect()
    }
}

impl From<Output> for Outcome {
    fn from(output: Output) -> Self {
        Outcome {
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}

impl Outcome {
    /// Asserts success and parses stdout as JSON.
    pub fn json(&self) -> Value {
        assert_eq!(self.code, Some(0), "expected success: {self:#?}");
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {self:#?}"))
    }

    /// Asserts exit code `code` and that stderr is exactly one line holding a JSON object
    /// with a string `code` and `message` and nothing else; returns it.
    pub fn json_error(&self, code: i32) -> Value {
        assert_eq!(self.code, Some(code), "expected exit {code}: {self:#?}");
        assert_single_line(&self.stderr);
        let value: Value = serde_json::from_str(self.stderr.trim_end())
            .unwrap_or_else(|e| panic!("stderr is not one JSON value ({e}): {self:#?}"));
        let object = value.as_object().expect("the error is a JSON object");
        assert!(object["code"].is_string(), "{value}");
        assert!(object["message"].is_string(), "{value}");
        assert_eq!(object.len(), 2, "only code and message: {value}");
        assert!(self.stdout.is_empty(), "nothing on stdout: {self:#?}");
        value
    }

    /// The error code of a `--json` failure with exit 1.
    pub fn error_code(&self) -> String {
        self.json_error(1)["code"]
            .as_str()
            .expect("code is a string")
            .to_owned()
    }
}

/// Asserts `text` is one line ending in a newline.
pub fn assert_single_line(text: &str) {
    let body = text.strip_suffix('\n').unwrap_or(text);
    assert!(
        !body.is_empty() && !body.contains('\n') && !body.contains('\r'),
        "expected one line, got {text:?}"
    );
}

/// Hex sha256 of a file.
pub fn sha256_file(path: &Path) -> String {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    hex::encode(Sha256::digest(&bytes))
}

/// A folder's entries (recursively) with their sizes, to compare before and after.
pub fn snapshot(dir: &Path) -> BTreeMap<PathBuf, u64> {
    let mut found = BTreeMap::new();
    let mut pending = vec![dir.to_owned()];
    while let Some(current) = pending.pop() {
        for entry in std::fs::read_dir(&current).expect("read the folder") {
            let entry = entry.expect("a folder entry");
            let meta = entry.metadata().expect("entry metadata");
            if meta.is_dir() {
                pending.push(entry.path());
            }
            found.insert(entry.path(), meta.len());
        }
    }
    found
}

/// The file names directly in `dir`.
pub fn file_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("read the folder")
        .map(|e| {
            e.expect("a folder entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    names
}

/// Azurite's published development key (not a secret).
pub const DEV_ACCOUNT_KEY: &str =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

/// Parses an RFC 3339 time from JSON output.
pub fn time_of(value: &Value) -> time::OffsetDateTime {
    let text = value
        .as_str()
        .unwrap_or_else(|| panic!("not a time: {value}"));
    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|e| panic!("not an RFC 3339 time ({e}): {text}"))
}
