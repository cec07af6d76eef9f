//! PostgreSQL for the integration tests: fresh databases on the server `scripts/test.sh`
//! started, loaded with the rich fixture, queried and dumped for comparison, and dropped
//! when the test ends.

use std::io::Read;
use std::process::Stdio;

use rythm_backup_core::pg::{DbTarget, PgCommand, Server, SqlClient, ToolKind};

use super::{random_hex, required_env};

/// The fixture every round trip restores: see `tests/fixtures/rich_schema.sql`.
pub const RICH_SCHEMA: &str = include_str!("../../fixtures/rich_schema.sql");

/// The superuser connection to the test server's `postgres` database.
pub fn admin_target() -> DbTarget {
    DbTarget::parse(&required_env("RYTHM_TEST_PG_URL"))
        .expect("RYTHM_TEST_PG_URL is a postgres URL")
}

/// A database that is dropped when the test ends.
pub struct TestDb {
    pub target: DbTarget,
    server: Server,
}

impl TestDb {
    /// A fresh, empty database named `PREFIX_<random>`.
    pub fn create(prefix: &str) -> TestDb {
        let db = TestDb::adopt(&fresh_name(prefix));
        db.admin()
            .execute(&format!("CREATE DATABASE \"{}\"", db.name()))
            .expect("create test database");
        db
    }

    /// A fresh database loaded with the rich fixture.
    pub fn with_fixture(prefix: &str) -> TestDb {
        let db = TestDb::create(prefix);
        db.sql_client()
            .execute(RICH_SCHEMA)
            .expect("load the fixture");
        db
    }

    /// Takes charge of dropping a database something else created (or will create).
    pub fn adopt(name: &str) -> TestDb {
        let admin = admin_target();
        let server = Server::probe(&admin).expect("the test PostgreSQL server answers");
        TestDb {
            target: admin.with_database(name),
            server,
        }
    }

    pub fn name(&self) -> String {
        self.target.database()
    }

    fn admin(&self) -> SqlClient {
        self.server.sql(&admin_target())
    }

    pub fn sql_client(&self) -> SqlClient {
        self.server.sql(&self.target)
    }

    /// Rows of a query, as text.
    pub fn query(&self, sql: &str) -> Vec<Vec<String>> {
        self.sql_client().query(sql).expect("test query")
    }

    pub fn execute(&self, sql: &str) {
        self.sql_client().execute(sql).expect("test statement");
    }

    /// A plain pg_dump of the database without the random `\restrict` key lines, for
    /// comparing two databases.
    pub fn dump(&self) -> String {
        normalise_dump(&self.raw_dump(&["--format=plain"]))
    }

    /// pg_dump output as it comes (for building legacy blobs and damaged backups).
    pub fn raw_dump(&self, args: &[&str]) -> Vec<u8> {
        raw_dump(&self.target, args)
    }

    /// Waits until no session is connected to the database (a client's backend can outlive
    /// the client by a moment, and a restore refuses to run beside other sessions).
    pub fn wait_idle(&self) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        let sql = format!(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = '{}'",
            self.name()
        );
        while self.admin().query(&sql).expect("pg_stat_activity")[0][0] != "0" {
            assert!(
                std::time::Instant::now() < deadline,
                "sessions on {} did not end",
                self.name()
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    pub fn exists(&self) -> bool {
        self.server
            .database_exists(&admin_target(), &self.name())
            .expect("query pg_database")
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let sql = format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name());
        let _ = self.admin().execute(&sql);
    }
}

/// pg_dump output of `target` (connecting as its role) as it comes.
pub fn raw_dump(target: &DbTarget, args: &[&str]) -> Vec<u8> {
    let tools = rythm_backup_core::pg::PgTools::newest().expect("pg tools");
    let mut command = PgCommand::new(&tools.path(ToolKind::PgDump), target.password())
        .arg("--no-password")
        .arg(format!("--dbname={}", target.url_without_password()))
        .stdout(Stdio::piped());
    for arg in args {
        command = command.arg(*arg);
    }
    let mut child = command.spawn().expect("pg_dump starts");
    let mut out = Vec::new();
    child
        .take_stdout()
        .unwrap()
        .read_to_end(&mut out)
        .expect("read pg_dump output");
    child.wait().expect("pg_dump succeeds");
    out
}

pub fn fresh_name(prefix: &str) -> String {
    format!("{prefix}_{}", &random_hex()[..10])
}

pub fn normalise_dump(raw: &[u8]) -> String {
    String::from_utf8_lossy(raw)
        .lines()
        .filter(|line| !line.starts_with("\\restrict") && !line.starts_with("\\unrestrict"))
        .collect::<Vec<_>>()
        .join("\n")
}
