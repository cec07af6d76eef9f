//! Who restores a hostile backup (the database's owner or a superuser) into what (`Target`,
//! a small schema with data), and what an attack could leave behind outside it (`Traces`).

use std::path::PathBuf;
use std::process::Command;

use rythm_backup_core::catalog::DumpFormat;
use rythm_backup_core::pg::{DbTarget, PgTools, ToolKind};

use crate::support::pg::{admin_target, fresh_name, raw_dump, TestDb};
use crate::support::random_hex;

/// Who runs the restore.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Role {
    /// A login role that owns the database and everything in it (the recommended setup).
    Owner,
    /// The test server's superuser.
    Superuser,
}

/// A role that owns a test database, dropped with it.
struct OwnerRole {
    name: String,
    password: String,
}

impl OwnerRole {
    fn create() -> OwnerRole {
        let role = OwnerRole {
            name: fresh_name("owner"),
            password: random_hex(),
        };
        admin(&format!(
            "CREATE ROLE {} LOGIN PASSWORD '{}'",
            role.name, role.password
        ));
        role
    }

    /// `target` as this role.
    fn connect(&self, target: &DbTarget) -> DbTarget {
        let url = format!(
            "postgresql://{}:{}@{}:{}/{}",
            self.name,
            self.password,
            target.host(),
            target.port(),
            target.database()
        );
        DbTarget::parse(&url).expect("owner URL")
    }
}

impl Drop for OwnerRole {
    fn drop(&mut self) {
        let _ = try_admin(&format!("DROP ROLE IF EXISTS {}", self.name));
    }
}

fn try_admin(sql: &str) -> Result<Vec<Vec<String>>, rythm_backup_core::pg::PgError> {
    let admin = admin_target();
    let psql = PgTools::newest().unwrap().path(ToolKind::Psql);
    rythm_backup_core::pg::SqlClient::new(psql, admin).query(sql)
}

pub(super) fn admin(sql: &str) -> Vec<Vec<String>> {
    try_admin(sql).unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// The database an attack targets: a small schema with data, owned by `owner` when given
/// (then built as that role, so the owner can replace all of it).
pub(super) struct Target {
    pub(super) db: TestDb,
    /// The connection the restore uses.
    pub(super) restore_as: DbTarget,
    _owner: Option<OwnerRole>,
}

const SCHEMA: &str = "CREATE TABLE public.t (id integer PRIMARY KEY, note text); \
    INSERT INTO public.t SELECT g, 'row ' || g FROM generate_series(1, 200) g; \
    CREATE SEQUENCE public.s START 40; SELECT nextval('public.s'); \
    COMMENT ON TABLE public.t IS 'PRE_DATA_SLOT_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'; \
    COMMENT ON INDEX public.t_pkey IS 'POST_DATA_SLOT_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx';";

impl Target {
    pub(super) fn new(role: Role) -> Target {
        let db = TestDb::adopt(&fresh_name("hostile"));
        match role {
            Role::Superuser => {
                admin(&format!("CREATE DATABASE {}", db.name()));
                db.execute(SCHEMA);
                let restore_as = db.target.clone();
                Target {
                    db,
                    restore_as,
                    _owner: None,
                }
            }
            Role::Owner => {
                let owner = OwnerRole::create();
                admin(&format!(
                    "CREATE DATABASE {} OWNER {}",
                    db.name(),
                    owner.name
                ));
                let restore_as = owner.connect(&db.target);
                let psql = PgTools::newest().unwrap().path(ToolKind::Psql);
                rythm_backup_core::pg::SqlClient::new(psql, restore_as.clone())
                    .execute(SCHEMA)
                    .expect("build the schema as its owner");
                Target {
                    db,
                    restore_as,
                    _owner: Some(owner),
                }
            }
        }
    }

    /// The database's dump as its restore role makes it (`format`: plain or custom).
    pub(super) fn dump(&self, format: DumpFormat) -> Vec<u8> {
        let flag = match format {
            DumpFormat::Plain => "--format=plain",
            DumpFormat::Custom => "--format=custom",
        };
        raw_dump(&self.restore_as, &[flag, "--compress=0"])
    }
}

/// What an attack could leave behind outside the target database.
pub(super) struct Traces {
    pub(super) role: String,
    pub(super) database: String,
    pub(super) tablespace: String,
    pub(super) work_mem: String,
    pub(super) victim: TestDb,
    pub(super) program_marker: PathBuf,
    pub(super) tablespace_dir: tempfile::TempDir,
}

impl Traces {
    pub(super) fn new() -> Traces {
        let victim = TestDb::create("victim");
        let tablespace_dir = tempfile::tempdir().unwrap();
        Command::new("chown")
            .args(["postgres", &tablespace_dir.path().display().to_string()])
            .status()
            .ok();
        Traces {
            role: fresh_name("hostile_role"),
            database: fresh_name("hostile_db"),
            tablespace: fresh_name("hostile_ts"),
            work_mem: format!("{}kB", 4096 + rand::random::<u16>() as u32),
            victim,
            program_marker: std::env::temp_dir().join(fresh_name("hostile_program")),
            tablespace_dir,
        }
    }

    /// Statements that reach beyond the target database, with the kind the refusal names.
    pub(super) fn cluster_statements(&self) -> Vec<(&'static str, String)> {
        vec![
            (
                "role DDL",
                format!("CREATE ROLE {} SUPERUSER LOGIN;", self.role),
            ),
            (
                "database DDL",
                format!("CREATE DATABASE {};", self.database),
            ),
            (
                "database DDL",
                format!("DROP DATABASE {};", self.victim.name()),
            ),
            (
                "ALTER SYSTEM",
                format!("ALTER SYSTEM SET work_mem = '{}';", self.work_mem),
            ),
            (
                "COPY other than",
                format!(
                    "COPY (SELECT 1) TO PROGRAM 'touch {}';",
                    self.program_marker.display()
                ),
            ),
            (
                "tablespace DDL",
                format!(
                    "CREATE TABLESPACE {} LOCATION '{}';",
                    self.tablespace,
                    self.tablespace_dir.path().display()
                ),
            ),
        ]
    }

    /// Asserts that nothing of the attack persists.
    pub(super) fn assert_none(&self, label: &str) {
        let one = |sql: String| admin(&sql)[0][0].clone();
        assert_eq!(
            one(format!(
                "SELECT count(*) FROM pg_roles WHERE rolname = '{}'",
                self.role
            )),
            "0",
            "{label}: a role was left behind"
        );
        assert_eq!(
            one(format!(
                "SELECT count(*) FROM pg_database WHERE datname = '{}'",
                self.database
            )),
            "0",
            "{label}: a database was left behind"
        );
        assert!(self.victim.exists(), "{label}: a database was dropped");
        assert_eq!(
            one(format!(
                "SELECT count(*) FROM pg_tablespace WHERE spcname = '{}'",
                self.tablespace
            )),
            "0",
            "{label}: a tablespace was left behind"
        );
        assert_eq!(
            one(format!(
                "SELECT count(*) FROM pg_file_settings WHERE name = 'work_mem' AND setting = '{}'",
                self.work_mem
            )),
            "0",
            "{label}: ALTER SYSTEM took effect"
        );
        assert!(
            !self.program_marker.exists(),
            "{label}: COPY TO PROGRAM ran a command"
        );
    }
}

impl Drop for Traces {
    fn drop(&mut self) {
        // Only needed if an attack got through: leave the shared cluster clean.
        let _ = try_admin(&format!("DROP DATABASE IF EXISTS {}", self.database));
        let _ = try_admin(&format!("DROP ROLE IF EXISTS {}", self.role));
        let _ = try_admin(&format!("DROP TABLESPACE IF EXISTS {}", self.tablespace));
        if try_admin("SELECT 1 FROM pg_file_settings WHERE name = 'work_mem' AND sourcefile LIKE '%auto.conf'")
            .map(|rows| !rows.is_empty())
            .unwrap_or(false)
        {
            let _ = try_admin("ALTER SYSTEM RESET work_mem");
        }
        let _ = std::fs::remove_file(&self.program_marker);
    }
}
