//! Attacks on a partial restore's promises: `--where` values that try to end the
//! statement, call functions with side effects or read what they should not, tenant ids
//! of the wrong type, a cycle of constraints that cannot be deferred, and a role that
//! row-level security would show only part of the rows. Each is refused before anything
//! changes.

use rythm_backup_core::catalog::DumpFormat;
use rythm_backup_core::engine::RestoreOptions;
use rythm_backup_core::jobs::partial::{PartialSelection, TableName};
use rythm_backup_core::jobs::restore::RestoreSource;
use rythm_backup_core::pg::DbTarget;
use rythm_backup_core::{Cancel, ErrorCode, Progress};

use super::*;
use crate::support::pg::admin_target;
use crate::support::random_hex;

fn sessions_where(condition: &str) -> PartialSelection {
    PartialSelection {
        tables: vec![TableName::new("public", "sessions")],
        where_sql: Some(condition.into()),
        ..PartialSelection::default()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn hostile_where_values_are_refused_before_anything_changes() {
    let db = tenant_db("partial_where");
    db.execute(
        "CREATE TABLE side_effects (at timestamptz DEFAULT now());
         CREATE FUNCTION public.bump() RETURNS boolean LANGUAGE plpgsql AS
           $$ BEGIN INSERT INTO side_effects DEFAULT VALUES; RETURN true; END $$;
         CREATE FUNCTION public.looks_stable() RETURNS boolean LANGUAGE sql STABLE AS
           $$ SELECT true $$;
         -- A view hides what it calls until a query runs it.
         CREATE VIEW public.sneaky AS SELECT user_id FROM users WHERE public.bump();
         -- A row comparison keeps its operators in a list of their own.
         CREATE FUNCTION public.uuid_lt_bump(uuid, uuid) RETURNS boolean LANGUAGE plpgsql AS
           $$ BEGIN INSERT INTO side_effects DEFAULT VALUES; RETURN $1 < $2; END $$;
         CREATE OPERATOR public.<<< (LEFTARG = uuid, RIGHTARG = uuid,
           FUNCTION = public.uuid_lt_bump);
         CREATE OPERATOR CLASS public.sneaky_uuid_ops FOR TYPE uuid USING btree AS
           OPERATOR 1 public.<<<, FUNCTION 1 uuid_cmp(uuid, uuid);",
    );
    let engine = engine_for(&db, StoreKind::Local, DumpFormat::Plain);
    let name = backup(&engine).await;
    db.execute(&format!("DELETE FROM sessions WHERE tenant_id = '{B}'"));
    let before = all_but(&db, &[]);
    let sequence = "SELECT last_value FROM announcements_announcement_id_seq";
    for hostile in [
        "1=1; drop table x",
        "true); DROP TABLE users; --",
        "true) OR (true",
        "started_at > now() /* unterminated",
        "notes = 'unterminated",
        "\\! touch /tmp/rythm-pwned",
        "tenant_id = :'tenant'",
        "public.bump()",
        "public.looks_stable()",
        "nextval('announcements_announcement_id_seq') > 0",
        "pg_terminate_backend(pg_backend_pid())",
        "random() < 0.5",
        "EXISTS (SELECT 1 FROM users FOR UPDATE)",
        "user_id IN (SELECT user_id FROM public.sneaky)",
        "(user_id, session_id) OPERATOR(public.<<<) (user_id, session_id)",
        "no_such_column = 1",
        "42",
    ] {
        let refused = partial(
            &engine,
            &db,
            RestoreSource::Stored(name.clone()),
            sessions_where(hostile),
        )
        .await
        .expect_err(hostile);
        assert_eq!(
            refused.code(),
            ErrorCode::InvalidInput,
            "{hostile}: {refused}"
        );
        assert!(
            refused.to_string().contains("nothing was changed"),
            "{hostile}: {refused}"
        );
    }
    assert_eq!(all_but(&db, &[]), before, "nothing changed");
    assert_eq!(
        db.query("SELECT count(*) FROM side_effects")[0][0],
        "0",
        "bump() never ran"
    );
    assert_eq!(db.query(sequence)[0][0], "500", "nextval never ran");
    assert!(!std::path::Path::new("/tmp/rythm-pwned").exists());
    no_scratch_left(&db);

    // A harmless condition (stable functions, subqueries) works, on exactly its rows.
    let outcome = partial(
        &engine,
        &db,
        RestoreSource::Stored(name),
        sessions_where(&format!(
            "tenant_id = '{B}' AND started_at < now() AND user_id IN (SELECT user_id FROM users WHERE role = 'admin')"
        )),
    )
    .await
    .expect("a harmless condition");
    assert_eq!(table(&outcome, "sessions").inserted, 8);
    assert_eq!(
        db.query(&format!(
            "SELECT count(*) FROM sessions WHERE tenant_id = '{B}'"
        ))[0][0],
        "8"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tenant_id_of_the_wrong_type_is_refused() {
    let db = tenant_db("partial_badtenant");
    let engine = engine_for(&db, StoreKind::Local, DumpFormat::Plain);
    let name = backup(&engine).await;
    let before = all_but(&db, &[]);
    let refused = partial(
        &engine,
        &db,
        RestoreSource::Stored(name),
        PartialSelection {
            tenant: Some("B'; DROP TABLE users; --".into()),
            ..PartialSelection::default()
        },
    )
    .await
    .unwrap_err();
    assert!(
        refused
            .to_string()
            .contains("invalid input syntax for type uuid"),
        "{refused}"
    );
    assert_eq!(all_but(&db, &[]), before);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cycle_of_constraints_that_cannot_be_deferred_is_refused_by_name() {
    let db = TestDb::create("partial_cycle");
    db.execute(
        "CREATE TABLE a (id int PRIMARY KEY, b_id int);
         CREATE TABLE b (id int PRIMARY KEY, a_id int REFERENCES a);
         ALTER TABLE a ADD CONSTRAINT a_b_fk FOREIGN KEY (b_id) REFERENCES b;
         INSERT INTO a VALUES (1, NULL); INSERT INTO b VALUES (1, 1); UPDATE a SET b_id = 1;",
    );
    let engine = engine_for(&db, StoreKind::Local, DumpFormat::Plain);
    let name = backup(&engine).await;
    let selection = PartialSelection {
        tables: vec![TableName::new("public", "a"), TableName::new("public", "b")],
        ..PartialSelection::default()
    };
    let refused = partial(
        &engine,
        &db,
        RestoreSource::Stored(name.clone()),
        selection.clone(),
    )
    .await
    .unwrap_err();
    let message = refused.to_string();
    assert!(
        message.contains("public.a_b_fk") && message.contains("DEFERRABLE"),
        "{message}"
    );
    // Made deferrable, the same cycle is restored with its constraints deferred.
    db.execute(
        "ALTER TABLE a ALTER CONSTRAINT a_b_fk DEFERRABLE;
         ALTER TABLE b ALTER CONSTRAINT b_a_id_fkey DEFERRABLE;
         DELETE FROM a WHERE false;",
    );
    let name = backup(&engine).await;
    db.execute("UPDATE a SET b_id = NULL; DELETE FROM b; DELETE FROM a;");
    partial(&engine, &db, RestoreSource::Stored(name), selection)
        .await
        .expect("a deferrable cycle");
    assert_eq!(
        db.query("SELECT count(*) FROM a JOIN b ON a.b_id = b.id")[0][0],
        "1"
    );
}

/// The fixture loaded by a role of its own that owns everything: its tables' FORCEd
/// policies apply to it.
fn owned_by_a_role(prefix: &str) -> (TestDb, DbTarget) {
    let role = format!("rythm_owner_{}", &random_hex()[..8]);
    let password = random_hex();
    let db = TestDb::adopt(&crate::support::pg::fresh_name(prefix));
    let server = rythm_backup_core::pg::Server::probe(&admin_target()).unwrap();
    server
        .sql(&admin_target())
        .execute(&format!(
            "CREATE ROLE {role} LOGIN CREATEDB PASSWORD '{password}';
             CREATE DATABASE \"{}\" OWNER {role};",
            db.name()
        ))
        .unwrap();
    let url = admin_target().url_without_password().to_owned();
    let parsed = url::Url::parse(&url).unwrap();
    let as_role = DbTarget::parse(&format!(
        "postgresql://{role}:{password}@{}:{}/{}",
        parsed.host_str().unwrap(),
        parsed.port().unwrap_or(5432),
        db.name()
    ))
    .unwrap();
    server.sql(&as_role).execute(TENANT_SCHEMA).unwrap();
    (db, as_role)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_role_under_forced_row_level_security_gets_a_clear_error() {
    let (db, as_role) = owned_by_a_role("partial_rls");
    // The backup is taken by the superuser (pg_dump as the owner would be refused too).
    let engine = engine_for(&db, StoreKind::Local, DumpFormat::Plain);
    let name = backup(&engine).await;
    db.execute(&format!("DELETE FROM sessions WHERE tenant_id = '{B}'"));
    let before = all_but(&db, &[]);
    let (progress, cancel) = (Progress::none(), Cancel::new());
    let as_owner = |name| {
        db.wait_idle();
        engine.engine.partial_restore(
            RestoreSource::Stored(name),
            PartialSelection {
                tenant: Some(B.into()),
                ..PartialSelection::default()
            },
            RestoreOptions {
                target: Some(as_role.clone()),
                confirm: db.name(),
                ..RestoreOptions::default()
            },
            &progress,
            &cancel,
        )
    };
    // Reading the backup already meets the policies (its materialized view reads sets).
    let message = as_owner(name).await.unwrap_err().to_string();
    assert!(message.contains("row-level security"), "{message}");
    assert!(message.contains("BYPASSRLS"), "{message}");
    assert!(message.contains("unchanged"), "{message}");
    assert_eq!(all_but(&db, &[]), before, "not a partial restore: nothing");
    // Without it, the plan refuses, naming the tables, before anything changes.
    db.execute("DROP MATERIALIZED VIEW tenant_volume");
    let name = backup(&engine).await;
    let message = as_owner(name).await.unwrap_err().to_string();
    assert!(
        message.contains("row-level security policies on"),
        "{message}"
    );
    assert!(message.contains("public.sessions"), "{message}");
    assert!(message.contains("Nothing was changed"), "{message}");
    assert_eq!(all_but(&db, &[]), before);
    no_scratch_left(&db);
}
