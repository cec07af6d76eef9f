//! Unit tests of `rules.rs`.

use super::super::lexer::{Event, Lexer};
use super::*;

/// Judges each statement of `script`; the kind of each refusal, or "ok".
fn judge(script: &str) -> Vec<String> {
    let mut lexer = Lexer::default();
    lexer.push(script.as_bytes());
    let mut results = Vec::new();
    let mut check = StatementCheck::default();
    let mut failed: Option<Refusal> = None;
    while let Some(event) = lexer.next(true) {
        let step = match event {
            Event::Token(lexed) => check.token(lexed.token),
            Event::BlockBegin { nested } => check.block_begin(nested),
            Event::GroupedSemicolon { in_parens, .. } => check.grouped_semicolon(in_parens),
            Event::StatementEnd { end } => {
                let finished = std::mem::take(&mut check).finish();
                results.push(match (failed.take(), finished) {
                    (Some(r), _) | (None, Err(r)) => r.kind,
                    (None, Ok(_)) => "ok".into(),
                });
                lexer.take(end);
                Ok(())
            }
            other => panic!("unexpected {other:?}"),
        };
        if let Err(r) = step {
            failed.get_or_insert(r);
        }
    }
    results
}

fn refused(statement: &str) -> String {
    let results = judge(statement);
    assert_eq!(results.len(), 1, "{statement}: {results:?}");
    assert_ne!(results[0], "ok", "{statement} was accepted");
    results[0].clone()
}

#[test]
fn pg_dump_statements_pass() {
    let script = r#"
SET statement_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET default_tablespace = '';
CREATE EXTENSION IF NOT EXISTS hstore WITH SCHEMA public;
COMMENT ON EXTENSION hstore IS 'data type for storing sets of (key, value) pairs';
CREATE SCHEMA billing;
ALTER SCHEMA billing OWNER TO postgres;
CREATE TYPE billing.plan AS ENUM ('free', 'pro');
CREATE FUNCTION billing.touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN COMMIT; END $$;
CREATE OR REPLACE FUNCTION f(a int) RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT a; SELECT CASE WHEN a > 0 THEN 1 END; END;
CREATE PROCEDURE p() LANGUAGE plpgsql AS $_$ BEGIN ROLLBACK; END $_$;
CREATE TABLE public.tenants (id bigint NOT NULL, name text DEFAULT 'x'::text, g int GENERATED ALWAYS AS (id + 1) STORED);
CREATE UNLOGGED TABLE t2 (a int);
CREATE MATERIALIZED VIEW billing.r AS SELECT 1 AS one WITH NO DATA;
CREATE RULE r AS ON INSERT TO t DO INSTEAD (INSERT INTO u VALUES (1); INSERT INTO v VALUES (2));
ALTER TABLE ONLY public.tenants ALTER COLUMN id SET DEFAULT nextval('public.tenants_id_seq'::regclass);
COPY public.tenants (id, name) FROM stdin;
SELECT pg_catalog.setval('public.tenants_id_seq', 5000, true);
SELECT pg_catalog.setval('public.neg_seq', -5, false);
SELECT pg_catalog.lo_create('987654');
BEGIN;
SELECT pg_catalog.lo_open('987654', 131072);
SELECT pg_catalog.lowrite(0, '\x6c61');
SELECT pg_catalog.lo_close(0);
COMMIT;
ALTER LARGE OBJECT 987654 OWNER TO postgres;
CREATE INDEX tenants_gin ON public.tenants USING gin (name);
CREATE TRIGGER t BEFORE UPDATE ON billing.invoices FOR EACH ROW EXECUTE FUNCTION billing.touch();
REFRESH MATERIALIZED VIEW billing.r;
GRANT SELECT ON TABLE public.tenants TO PUBLIC;
REVOKE ALL ON SCHEMA public FROM PUBLIC;
GRANT SELECT(name) ON TABLE public.tenants TO reader;
ALTER DEFAULT PRIVILEGES FOR ROLE postgres IN SCHEMA public GRANT SELECT ON TABLES TO reader;
CREATE POLICY p ON public.tenants USING ((id > 0));
CREATE USER MAPPING FOR postgres SERVER s OPTIONS (user 'x');
CREATE SUBSCRIPTION s CONNECTION 'host=x' PUBLICATION p WITH (connect = false, slot_name = 's');
ALTER SUBSCRIPTION s OWNER TO postgres;
SELECT pg_catalog.lo_unlink(oid) FROM pg_catalog.pg_largeobject_metadata WHERE oid = '987654';
DROP TABLE IF EXISTS public.tenants;
ALTER TABLE IF EXISTS ONLY billing.invoices DROP CONSTRAINT IF EXISTS fk;
DROP EXTENSION IF EXISTS hstore;
INSERT INTO public.t (a, "b c") VALUES (1, 'x'), (-2, NULL), (3, E'\\'), (4, DEFAULT);
INSERT INTO public.t OVERRIDING SYSTEM VALUE VALUES (1, true) ON CONFLICT DO NOTHING;
SET SESSION AUTHORIZATION 'postgres';
RESET SESSION AUTHORIZATION;
SECURITY LABEL FOR selinux ON TABLE t IS 'x';
;
"#;
    let results = judge(script);
    let failures: Vec<_> = results
        .iter()
        .enumerate()
        .filter(|(_, r)| *r != "ok")
        .collect();
    assert!(failures.is_empty(), "{failures:?}");
    assert_eq!(results.len(), 50);
}

#[test]
fn transaction_control_in_every_spelling_is_refused() {
    // A bare `COMMIT;` is pg_dump's end of a large-object block: the filter accepts it
    // only there (see the filter's tests).
    for statement in [
        "commit work;",
        "END;",
        "end transaction;",
        "ROLLBACK;",
        "ABORT;",
        "BEGIN ISOLATION LEVEL SERIALIZABLE;",
        "START TRANSACTION;",
        "SAVEPOINT a;",
        "RELEASE a;",
        "PREPARE TRANSACTION 'x';",
        "COMMIT PREPARED 'x';",
        "ROLLBACK PREPARED 'x';",
        "SET TRANSACTION READ ONLY;",
    ] {
        let kind = refused(statement);
        assert!(
            kind.contains("transaction") || kind.contains("PREPARE") || kind.contains("SET"),
            "{statement}: {kind}"
        );
    }
}

#[test]
fn cluster_level_and_side_effect_statements_are_refused() {
    for (statement, expected) in [
        ("ALTER SYSTEM SET work_mem = '1GB';", "ALTER SYSTEM"),
        ("CREATE DATABASE x;", "database DDL"),
        ("DROP DATABASE x;", "database DDL"),
        ("ALTER DATABASE x SET search_path = a;", "database DDL"),
        ("CREATE ROLE x SUPERUSER;", "role DDL"),
        ("CREATE USER x;", "role DDL"),
        ("ALTER USER postgres PASSWORD 'x';", "role DDL"),
        ("ALTER ROLE x SUPERUSER;", "role DDL"),
        ("DROP ROLE x;", "role DDL"),
        ("CREATE TABLESPACE t LOCATION '/tmp';", "tablespace DDL"),
        ("GRANT pg_read_server_files TO x;", "role membership"),
        ("GRANT ALL ON DATABASE x TO y;", "cluster-wide"),
        ("COPY t FROM PROGRAM 'id';", "COPY"),
        ("COPY t TO '/tmp/x';", "COPY"),
        ("COPY (SELECT 1) TO STDOUT;", "COPY"),
        ("COPY t FROM '/etc/passwd';", "COPY"),
        ("LOAD 'x';", "LOAD"),
        ("DO $$ BEGIN END $$;", "DO"),
        ("CALL p();", "CALL"),
        ("SET ROLE postgres;", "SET ROLE"),
        (
            "SET session_replication_role = replica;",
            "SET session_replication_role",
        ),
        (
            "SET standard_conforming_strings = off;",
            "standard_conforming_strings",
        ),
        ("SET client_encoding = 'SJIS';", "client_encoding"),
        (
            "SELECT pg_catalog.set_config('role', 'x', false);",
            "set_config",
        ),
        ("SELECT pg_read_file('/etc/passwd');", "SELECT"),
        ("SELECT pg_catalog.setval('s', (SELECT 1), true);", "SELECT"),
        ("SELECT pg_catalog.setval('s', 1 + 1, true);", "SELECT"),
        ("SELECT pg_catalog.lo_export(1, '/tmp/x');", "SELECT"),
        ("INSERT INTO t SELECT * FROM pg_authid;", "INSERT"),
        ("INSERT INTO t VALUES (pg_terminate_backend(1));", "INSERT"),
        ("CREATE TABLE t AS SELECT pg_sleep(1);", "CREATE TABLE"),
        (
            "CREATE SUBSCRIPTION s CONNECTION 'x' PUBLICATION p;",
            "subscription",
        ),
        ("COMMENT ON DATABASE x IS 'y';", "cluster-wide"),
        ("DROP OWNED BY x;", "DROP OWNED"),
        ("REASSIGN OWNED BY x TO y;", "pg_dump does not write"),
        ("VACUUM;", "pg_dump does not write"),
        ("TRUNCATE t;", "pg_dump does not write"),
        (
            "WITH x AS (DELETE FROM t) SELECT 1;",
            "pg_dump does not write",
        ),
        ("EXPLAIN ANALYZE SELECT 1;", "pg_dump does not write"),
        ("(SELECT 1);", "not a statement"),
    ] {
        let kind = refused(statement);
        assert!(kind.contains(expected), "{statement}: {kind}");
    }
}

#[test]
fn psql_grouping_tricks_are_refused() {
    // psql would send both statements in one message after `begin` as a name.
    let kind = refused("CREATE FUNCTION begin() RETURNS int AS 'x'; COMMIT; END;");
    assert!(kind.contains("BEGIN"), "{kind}");
    let kind = refused("SELECT (1; COMMIT; SELECT 2);");
    assert!(kind.contains("several statements"), "{kind}");
}
