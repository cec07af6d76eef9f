//! The test PostgreSQL server: its settings, a psql runner, and a fresh database per test.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use super::{random_hex, required_env};

/// The PostgreSQL server of `RYTHM_TEST_PG_URL`, split so the password can travel apart.
pub struct Pg {
    user: String,
    password: String,
    host_port: String,
    bin: PathBuf,
}

/// The test server (parsed once).
pub fn pg() -> &'static Pg {
    static PG: OnceLock<Pg> = OnceLock::new();
    PG.get_or_init(|| {
        let url = required_env("RYTHM_TEST_PG_URL");
        let bin = PathBuf::from(required_env("RYTHM_TEST_PG_BIN"));
        let rest = url
            .strip_prefix("postgresql://")
            .or_else(|| url.strip_prefix("postgres://"))
            .expect("RYTHM_TEST_PG_URL is a postgresql:// URL");
        let (userinfo, server) = rest.rsplit_once('@').expect("RYTHM_TEST_PG_URL has a user");
        let (user, password) = userinfo
            .split_once(':')
            .expect("RYTHM_TEST_PG_URL has a password");
        let host_port = server.split('/').next().unwrap_or(server);
        Pg {
            user: user.to_owned(),
            password: password.to_owned(),
            host_port: host_port.to_owned(),
            bin,
        }
    })
}

impl Pg {
    /// The server's password (the tests check it never leaks).
    pub fn password(&self) -> &str {
        &self.password
    }

    /// A URL with the password, as DATABASE_URL carries it.
    pub fn url(&self, database: &str) -> String {
        self.url_with_password(database, &self.password)
    }

    /// A URL for another role of the server.
    pub fn url_as(&self, user: &str, password: &str, database: &str) -> String {
        format!(
            "postgresql://{user}:{password}@{}/{database}",
            self.host_port
        )
    }

    pub fn url_with_password(&self, database: &str, password: &str) -> String {
        format!(
            "postgresql://{}:{password}@{}/{database}",
            self.user, self.host_port
        )
    }

    /// The folder with psql and pg_dump.
    pub fn bin(&self) -> &Path {
        &self.bin
    }

    /// Runs one SQL text with psql (password in its environment, never argv); returns the
    /// unaligned, tuples-only output. Panics when psql fails.
    pub fn psql(&self, database: &str, sql: &str) -> String {
        let output = self
            .psql_command(database, sql)
            .output()
            .expect("psql starts");
        assert!(
            output.status.success(),
            "psql on {database} failed: {sql}\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout)
            .expect("psql prints UTF-8")
            .trim()
            .to_owned()
    }

    fn psql_command(&self, database: &str, sql: &str) -> Command {
        let mut command = Command::new(self.bin.join("psql"));
        command
            .env("PGPASSWORD", &self.password)
            .env_remove("PGSERVICE")
            .args(["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d"])
            .arg(format!(
                "postgresql://{}@{}/{database}",
                self.user, self.host_port
            ))
            .args(["-c", sql])
            .stdin(Stdio::null());
        command
    }
}

/// A database of one test, dropped (best effort) when it goes out of scope.
pub struct TestDb {
    pub name: String,
}

impl TestDb {
    /// Creates a fresh, empty database `cli_<random hex>`.
    pub fn create() -> TestDb {
        let db = TestDb::named_fresh();
        pg().psql("postgres", &format!("CREATE DATABASE {}", db.name));
        db
    }

    /// A fresh name, not created: for a database the CLI itself creates (dropped all the
    /// same at the end).
    pub fn named_fresh() -> TestDb {
        TestDb {
            name: format!("cli_{}", random_hex()),
        }
    }

    /// DATABASE_URL for it, password included.
    pub fn url(&self) -> String {
        pg().url(&self.name)
    }

    pub fn psql(&self, sql: &str) -> String {
        pg().psql(&self.name, sql)
    }

    pub fn count(&self, table: &str) -> i64 {
        self.psql(&format!("SELECT count(*) FROM {table}"))
            .parse()
            .expect("count(*) is a number")
    }

    pub fn exists(&self) -> bool {
        pg().psql(
            "postgres",
            &format!(
                "SELECT count(*) FROM pg_database WHERE datname = '{}'",
                self.name
            ),
        ) == "1"
    }

    /// Waits until no session of ours is left on the database (a psql that just exited
    /// may leave its backend for a moment, and a restore refuses while sessions remain).
    pub fn wait_idle(&self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        let sql = format!(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = '{}'",
            self.name
        );
        while pg().psql("postgres", &sql) != "0" {
            assert!(
                Instant::now() < deadline,
                "sessions on {} did not end",
                self.name
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Another client connected to the database (as the RYTHM application stays), until the
    /// child is killed or its session ended; returns once the server shows the session.
    pub fn hold_session(&self) -> std::process::Child {
        let child = pg()
            .psql_command(&self.name, "SELECT pg_sleep(600)")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("psql starts");
        let deadline = Instant::now() + Duration::from_secs(10);
        let sql = format!(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = '{}' AND query LIKE \
             '%pg_sleep(600)%' AND pid <> pg_backend_pid()",
            self.name
        );
        while pg().psql("postgres", &sql) != "1" {
            assert!(Instant::now() < deadline, "the session did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        child
    }

    /// A table `t(id, v)` of about 56 MB of poorly compressible text: a backup of it takes
    /// a second or two, long enough to interrupt.
    pub fn fill_big(&self) {
        self.psql(
            "CREATE TABLE t (id int PRIMARY KEY, v text); \
             INSERT INTO t SELECT g, string_agg(md5(random()::text), '') \
             FROM generate_series(1, 150000) g, generate_series(1, 12) k GROUP BY g",
        );
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        let _ = pg().psql_command("postgres", &sql).output();
    }
}
