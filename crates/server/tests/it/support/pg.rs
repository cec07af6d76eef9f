//! PostgreSQL for the tests: one fresh database per test, SQL through the engine's psql
//! client, and a session that holds a lock or a connection until released.

use std::path::PathBuf;
use std::time::Duration;

use rythm_backup_core::pg::{DbTarget, SqlClient};

use super::{eventually, random_hex, required_env};

fn psql_path() -> PathBuf {
    PathBuf::from(required_env("RYTHM_TEST_PG_BIN")).join("psql")
}

/// `RYTHM_TEST_PG_URL` (a superuser, password auth) on another database.
pub fn pg_url(database: &str) -> String {
    let url = required_env("RYTHM_TEST_PG_URL");
    let mut parsed = url::Url::parse(&url).expect("RYTHM_TEST_PG_URL is a URL");
    parsed.set_path(&format!("/{database}"));
    parsed.to_string()
}

/// The test server's password (the tests check it never leaks).
pub fn pg_password() -> String {
    let url = url::Url::parse(&required_env("RYTHM_TEST_PG_URL")).expect("a URL");
    url.password().unwrap_or_default().to_owned()
}

pub fn sql(database: &str, statement: &str) -> Vec<Vec<String>> {
    let target = DbTarget::parse(&pg_url(database)).expect("the test URL parses");
    SqlClient::new(psql_path(), target)
        .query(statement)
        .unwrap_or_else(|e| panic!("SQL on {database} failed: {statement}: {e}"))
}

/// A database of one test, `srv_<random hex>`, dropped when it goes out of scope.
pub struct TestDb {
    pub name: String,
}

impl TestDb {
    pub fn create() -> TestDb {
        let db = TestDb {
            name: format!("srv_{}", random_hex()),
        };
        sql("postgres", &format!("CREATE DATABASE {}", db.name));
        db
    }

    pub fn url(&self) -> String {
        pg_url(&self.name)
    }

    pub fn sql(&self, statement: &str) -> Vec<Vec<String>> {
        sql(&self.name, statement)
    }

    pub fn value(&self, statement: &str) -> String {
        self.sql(statement)[0][0].clone()
    }

    /// A small table `items(id, label)` with `rows` rows.
    pub fn fill(&self, rows: u32) {
        self.sql(&format!(
            "CREATE TABLE items (id int PRIMARY KEY, label text NOT NULL); \
             INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, {rows}) g"
        ));
    }

    /// About `mb` MB of poorly compressible text, so a backup takes a moment.
    pub fn fill_big(&self, mb: u32) {
        let rows = mb * 2730;
        self.sql(&format!(
            "CREATE TABLE big (id int PRIMARY KEY, v text); \
             INSERT INTO big SELECT g, string_agg(md5(random()::text), '') \
             FROM generate_series(1, {rows}) g, generate_series(1, 12) k GROUP BY g"
        ));
    }

    pub fn drop_now(&self) {
        sql(
            "postgres",
            &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
        );
    }

    /// Waits until no session is left on the database (a restore refuses while any is).
    pub async fn wait_idle(&self) {
        for _ in 0..500 {
            let n = sql(
                "postgres",
                &format!(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = '{}'",
                    self.name
                ),
            );
            if n[0][0] == "0" {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("sessions on {} did not end", self.name);
    }
}

/// A psql session that runs `statement` (e.g. takes a lock and sleeps) until released.
pub struct SessionHolder {
    child: std::process::Child,
    database: String,
    marker: String,
}

impl SessionHolder {
    /// Starts psql on `db` with `statement` (which should end in a long `pg_sleep`) and waits
    /// until the session is visible in `pg_stat_activity`.
    pub async fn start(db: &TestDb, statement: &str) -> SessionHolder {
        let marker = format!("holder_{}", random_hex());
        let mut url = url::Url::parse(&db.url()).unwrap();
        url.set_password(None).unwrap();
        let child = std::process::Command::new(psql_path())
            .env("PGPASSWORD", pg_password())
            .env("PGAPPNAME", &marker)
            .args(["-X", "-q", "-d", url.as_str(), "-c", statement])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("psql starts");
        let holder = SessionHolder {
            child,
            database: db.name.clone(),
            marker,
        };
        let query = format!(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = '{}' \
             AND query LIKE '%pg_sleep%'",
            holder.marker
        );
        eventually(20, "the holding session", || {
            let query = query.clone();
            async move { (sql("postgres", &query)[0][0] == "1").then_some(()) }
        })
        .await;
        holder
    }

    /// Ends the session (its backend too, which would otherwise sleep on).
    pub fn release(self) {
        drop(self);
    }

    fn end(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = try_sql(
            "postgres",
            &format!(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                 WHERE application_name = '{}' AND datname = '{}'",
                self.marker, self.database
            ),
        );
    }
}

impl Drop for SessionHolder {
    fn drop(&mut self) {
        self.end();
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let _ = try_sql(
            "postgres",
            &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
        );
    }
}

/// SQL for cleanups: never panics (it may run while a failed test unwinds).
pub fn try_sql(database: &str, statement: &str) -> Result<Vec<Vec<String>>, String> {
    let url = std::env::var("RYTHM_TEST_PG_URL").map_err(|e| e.to_string())?;
    let bin = std::env::var("RYTHM_TEST_PG_BIN").map_err(|e| e.to_string())?;
    let mut url = url::Url::parse(&url).map_err(|e| e.to_string())?;
    url.set_path(&format!("/{database}"));
    let target = DbTarget::parse(url.as_str()).map_err(|e| e.to_string())?;
    SqlClient::new(PathBuf::from(bin).join("psql"), target)
        .query(statement)
        .map_err(|e| e.to_string())
}
