//! The filter over whole scripts, fed in pieces of every size.

use super::*;

/// What reaches psql, or the refusal; the same whatever the pieces' size.
fn filtered(script: &str) -> Result<String, Refused> {
    let whole = filter_in_chunks(script, script.len().max(1));
    for chunk in [1, 2, 3, 7, 64] {
        assert_eq!(
            filter_in_chunks(script, chunk),
            whole,
            "chunks of {chunk} for {script:?}"
        );
    }
    whole
}

fn filter_in_chunks(script: &str, chunk: usize) -> Result<String, Refused> {
    let mut filter = SqlFilter::new(Vec::new());
    for piece in script.as_bytes().chunks(chunk) {
        if filter.write_all(piece).is_err() {
            return Err(filter.refused().cloned().expect("a refusal"));
        }
    }
    match filter.finish() {
        Ok(()) => Ok(String::from_utf8(filter.into_inner()).unwrap()),
        Err(_) => Err(filter.refused().cloned().expect("a refusal")),
    }
}

fn refused_kind(script: &str) -> Refused {
    match filtered(script) {
        Ok(out) => panic!("accepted: {script:?} gave {out:?}"),
        Err(refused) => refused,
    }
}

const DUMP: &str = "--\n-- PostgreSQL database dump\n--\n\n\\restrict abcDEF123\n\n\
    SET standard_conforming_strings = on;\n\
    SELECT pg_catalog.set_config('search_path', '', false);\n\
    CREATE TABLE public.t (id integer, note text);\n\
    COPY public.t (id, note) FROM stdin;\n\
    1\tCOMMIT;\n\
    2\t\\\\.\n\
    3\t-- PostgreSQL database dump complete\n\
    4\t\\\\restrict x\n\
    \\.\n\n\
    SELECT pg_catalog.lo_create('42');\n\n\
    BEGIN;\n\n\
    SELECT pg_catalog.lo_open('42', 131072);\n\
    SELECT pg_catalog.lowrite(0, '\\x41');\n\
    SELECT pg_catalog.lo_close(0);\n\n\
    COMMIT;\n\n\
    CREATE PROCEDURE public.p() LANGUAGE plpgsql AS $$ BEGIN COMMIT; END $$;\n\
    CREATE FUNCTION public.f() RETURNS text LANGUAGE sql AS 'SELECT ''ROLLBACK;''';\n\
    --\n-- PostgreSQL database dump complete\n--\n\n\\unrestrict abcDEF123\n\n";

#[test]
fn a_dump_passes_minus_its_guard_lines_and_large_object_transaction() {
    let out = filtered(DUMP).unwrap();
    let expected = DUMP
        .replace("\\restrict abcDEF123\n", "")
        .replace("\\unrestrict abcDEF123\n", "")
        .replace("\n\nBEGIN;", "")
        .replace("\n\nCOMMIT;", "");
    assert_eq!(out, expected);
    assert!(out.contains("1\tCOMMIT;\n"), "COPY data passes: {out}");
    assert!(out.contains("BEGIN COMMIT; END"), "procedure bodies pass");
}

#[test]
fn transaction_control_is_refused_wherever_it_stands() {
    let cases = [
        ("COMMIT;\nSELECT 1/0;\n", 1),
        ("SET lock_timeout = 0;\nCOMMIT;\n", 2),
        (
            "SET lock_timeout = 0;\n  -- a comment\n\n   commit\n  ;\n",
            4,
        ),
        ("COPY t (a) FROM stdin;\n1\n\\.\nEND;\n", 4),
        ("/* x */ ROLLBACK;", 1),
        (
            "SELECT pg_catalog.lo_create('1');\nBEGIN;\nCREATE ROLE x;\nCOMMIT;\n",
            3,
        ),
        ("BEGIN;\nSELECT pg_catalog.lo_close(0);\n", 2),
        ("BEGIN;\nBEGIN;\n", 2),
        ("BEGIN;\nCOMMIT;\n", 2),
        ("CoMmIt\t;", 1),
        ("commit", 1),
    ];
    for (script, line) in cases {
        // The first statement that may not run is named (CREATE ROLE in a large-object
        // block is refused as role DDL, which it is).
        let refused = refused_kind(script);
        assert!(
            ["transaction", "COMMIT", "large-object", "role DDL"]
                .iter()
                .any(|k| refused.kind.contains(k)),
            "{script:?}: {refused}"
        );
        assert_eq!(refused.line, line, "{script:?}: {refused}");
    }
}

#[test]
fn meta_commands_and_tricks_psql_would_read_otherwise_are_refused() {
    for (script, expected) in [
        ("\\! rm -rf ~\n", "meta-command (\\!)"),
        (
            "SET lock_timeout = 0;\n\\connect other\n",
            "meta-command (\\connect)",
        ),
        ("SELECT 1 \\g\n", "meta-command"),
        ("SET lock_timeout = 0\\; COMMIT;\n", "meta-command"),
        (
            "SET lock_timeout = 0;\n\\unrestrict k1\n\nCOMMIT;\n",
            "\\unrestrict",
        ),
        (
            "SET lock_timeout = 0;\n\\restrict k2\n",
            "meta-command (\\restrict)",
        ),
        ("COPY t (a) FROM stdin; COMMIT;\n1\n\\.\n", "SQL after COPY"),
        ("COPY t (a) FROM stdin;\n1\0\n\\.\n", "NUL"),
        (
            "SELECT pg_catalog.setval(:'DBNAME', 1, true);",
            "psql variable",
        ),
        ("SET search_path = :USER;", "psql variable"),
        (
            "SELECT pg_catalog.lowrite(0, 'a\\');\nCOMMIT;\n",
            "backslash before a quote",
        ),
    ] {
        let refused = refused_kind(script);
        assert!(refused.kind.contains(expected), "{script:?}: {refused}");
    }
}

#[test]
fn copy_data_ends_only_at_a_line_that_is_exactly_the_marker() {
    let script =
        "COPY t (a) FROM stdin;\n x\\.\n\\.x\n\\.\r\nSELECT pg_catalog.setval('s', 1, true);\n";
    let out = filtered(script).unwrap();
    assert_eq!(out, script);
    // A marker in the middle of the data, then SQL: the SQL is judged.
    let refused = refused_kind("COPY t (a) FROM stdin;\n1\n\\.\nDROP ROLE x;\n2\n\\.\n");
    assert!(refused.kind.contains("role DDL"), "{refused}");
    assert_eq!(refused.line, 4);
}

#[test]
fn an_unterminated_last_statement_is_judged_too() {
    assert_eq!(
        filtered("SET lock_timeout = 0").unwrap(),
        "SET lock_timeout = 0"
    );
    assert!(
        refused_kind("SET lock_timeout = 0;\nALTER SYSTEM SET x = 1")
            .kind
            .contains("ALTER SYSTEM")
    );
}

#[test]
fn long_statements_stream_once_their_kind_is_known() {
    let body = "x".repeat(HOLD_MAX + 10);
    let script = format!(
        "CREATE FUNCTION f() RETURNS text LANGUAGE sql AS $${body}$$;\nSET lock_timeout = 0;\n"
    );
    let mut filter = SqlFilter::new(Vec::new());
    let mut streamed_early = false;
    for piece in script.as_bytes().chunks(1 << 20) {
        filter.write_all(piece).unwrap();
        streamed_early |= !filter.out.is_empty() && filter.lexer.held() < HOLD_MAX + (1 << 20);
    }
    assert!(streamed_early);
    filter.finish().unwrap();
    assert_eq!(String::from_utf8(filter.into_inner()).unwrap(), script);
}
