//! The test PostgreSQL server (`RYTHM_TEST_PG_URL` and `RYTHM_TEST_PG_BIN`, exported by
//! scripts/lib/services.sh) and a fresh database per test, dropped afterwards.

use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

/// A variable the test cannot run without: a missing one fails the test (never skips it)
/// and says how to run it.
pub fn required_env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!(
            "{name} is not set: run the tests through scripts/test.sh, or start the services \
             with `bash scripts/test.sh --services-only` and export what it prints"
        )
    })
}

/// A database of its own on the test server.
pub struct TestDb {
    pub host: String,
    pub port: u16,
    pub user: String,
    pub password: String,
    pub name: String,
    bin: PathBuf,
}

impl TestDb {
    /// Creates `e2e_PID_N` (any leftover of that name is dropped first).
    pub fn create() -> TestDb {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let url = required_env("RYTHM_TEST_PG_URL");
        let rest = url
            .strip_prefix("postgresql://")
            .expect("RYTHM_TEST_PG_URL is a postgresql:// URL");
        let (userinfo, server) = rest.rsplit_once('@').expect("a user in RYTHM_TEST_PG_URL");
        let (user, password) = userinfo.split_once(':').expect("a password");
        let host_port = server.split('/').next().unwrap_or(server);
        let (host, port) = host_port.rsplit_once(':').expect("a port");
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let db = TestDb {
            host: host.to_owned(),
            port: port.parse().expect("a numeric port"),
            user: user.to_owned(),
            password: password.to_owned(),
            name: format!("e2e_{}_{n}", std::process::id()),
            bin: PathBuf::from(required_env("RYTHM_TEST_PG_BIN")),
        };
        db.psql(
            "postgres",
            &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", db.name),
        );
        db.psql("postgres", &format!("CREATE DATABASE {}", db.name));
        db
    }

    /// `postgresql://USER:PASSWORD@HOST:PORT/NAME`, e.g. a server's DATABASE_URL.
    pub fn url(&self) -> String {
        format!(
            "postgresql://{}:{}@{}:{}/{}",
            self.user, self.password, self.host, self.port, self.name
        )
    }

    /// Runs SQL in this database; returns psql's unaligned, tuples-only output.
    pub fn query(&self, sql: &str) -> String {
        self.psql(&self.name, sql)
    }

    fn psql(&self, database: &str, sql: &str) -> String {
        let output = Command::new(self.bin.join("psql"))
            .args(["-X", "-w", "-qAt", "-v", "ON_ERROR_STOP=1"])
            .args([
                "-h",
                &self.host,
                "-p",
                &self.port.to_string(),
                "-U",
                &self.user,
            ])
            .args(["-d", database, "-c", sql])
            .env("PGPASSWORD", &self.password)
            .env("PGPASSFILE", "/dev/null")
            .output()
            .expect("psql starts");
        assert!(
            output.status.success(),
            "psql failed: {sql}\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).trim().to_owned()
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let _ = Command::new(self.bin.join("psql"))
            .args([
                "-X",
                "-w",
                "-qAt",
                "-h",
                &self.host,
                "-p",
                &self.port.to_string(),
            ])
            .args(["-U", &self.user, "-d", "postgres", "-c"])
            .arg(format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
            .env("PGPASSWORD", &self.password)
            .env("PGPASSFILE", "/dev/null")
            .output();
    }
}
