//! Unit tests of `lexer.rs`.

use super::*;

/// Every event of `script` fed `chunk` bytes at a time, with token texts instead of
/// offsets (offsets change when input arrives in pieces).
fn events(script: &str, chunk: usize) -> Vec<String> {
    let mut lexer = Lexer::default();
    let mut out = Vec::new();
    let mut base = 0usize;
    let bytes = script.as_bytes();
    let mut fed = 0;
    let mut collect = |lexer: &mut Lexer, eof: bool, out: &mut Vec<String>| {
        while let Some(event) = lexer.next(eof) {
            let line = match &event {
                Event::Token(lexed) => format!(
                    "{:?} {}",
                    lexed.token,
                    String::from_utf8_lossy(&lexer.buffer()[lexed.start..lexed.end])
                ),
                Event::StatementEnd { end } => {
                    let taken = lexer.take(*end);
                    base += taken.len();
                    format!("END {}", String::from_utf8_lossy(&taken).trim())
                }
                Event::MetaLine { start, end, .. } => format!(
                    "META {}",
                    String::from_utf8_lossy(&lexer.buffer()[*start..*end])
                ),
                other => format!("{other:?}")
                    .split_once(" {")
                    .map_or_else(|| format!("{other:?}"), |(k, _)| k.to_owned()),
            };
            out.push(line);
        }
    };
    while fed < bytes.len() {
        let n = chunk.min(bytes.len() - fed);
        lexer.push(&bytes[fed..fed + n]);
        fed += n;
        collect(&mut lexer, false, &mut out);
    }
    collect(&mut lexer, true, &mut out);
    out
}

fn same_in_every_chunking(script: &str) -> Vec<String> {
    let whole = events(script, script.len().max(1));
    for chunk in [1, 2, 3, 5, 8, 13] {
        assert_eq!(
            events(script, chunk),
            whole,
            "chunks of {chunk}: {script:?}"
        );
    }
    whole
}

fn ends(script: &str) -> Vec<String> {
    same_in_every_chunking(script)
        .into_iter()
        .filter_map(|e| e.strip_prefix("END ").map(str::to_owned))
        .collect()
}

#[test]
fn statements_end_at_semicolons_outside_quotes_and_comments() {
    let script = "SELECT 'a;b' ; SELECT \"x;y\";\n-- c; d\nSELECT /* e; /* f; */ g; */ 1;\n\
                  SELECT $$h;$$, $q$ $$; $q$; SELECT E'i\\';j';";
    assert_eq!(
        ends(script),
        vec![
            "SELECT 'a;b' ;",
            "SELECT \"x;y\";",
            "-- c; d\nSELECT /* e; /* f; */ g; */ 1;",
            "SELECT $$h;$$, $q$ $$; $q$;",
            "SELECT E'i\\';j';",
        ]
    );
}

#[test]
fn parentheses_and_function_bodies_group_semicolons_as_psql_does() {
    let script = "CREATE RULE r AS ON INSERT TO t DO INSTEAD (SELECT 1; SELECT 2);\n\
         CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT CASE WHEN true \
         THEN 1 END; SELECT 2; END;\nSELECT 3;";
    let events = same_in_every_chunking(script);
    assert_eq!(
        events
            .iter()
            .filter(|e| e.starts_with("GroupedSemicolon"))
            .count(),
        3
    );
    assert_eq!(
        events
            .iter()
            .filter(|e| e.starts_with("BlockBegin"))
            .count(),
        1
    );
    assert_eq!(ends(script).len(), 3);
    // psql counts `begin` after CREATE FUNCTION however it is meant.
    let tricky = "CREATE FUNCTION begin() RETURNS int AS 'x'; COMMIT; END;";
    assert_eq!(ends(tricky).len(), 1);
    // ... but not after other statements.
    assert_eq!(ends("SELECT begin; COMMIT; END;").len(), 3);
}

#[test]
fn string_continuation_across_a_newline_is_one_literal() {
    let events = same_in_every_chunking("SELECT 'a'\n  'b;' , 'c' 'd';");
    let strings = events.iter().filter(|e| e.starts_with("Str")).count();
    assert_eq!(strings, 3, "{events:?}");
    assert_eq!(ends("SELECT 'a' -- x\n'b;';").len(), 1);
}

#[test]
fn reports_what_psql_and_the_server_might_read_otherwise() {
    for (script, what) in [
        ("SELECT 'a\\';", "backslash before a quote"),
        ("SELECT '\u{e9}\\n';", "after a non-ASCII byte"),
        ("SELECT $\u{e9}$ x $\u{e9}$;", "dollar-quote tag"),
        ("SELECT 1;\0", "NUL"),
    ] {
        let events = same_in_every_chunking(script);
        assert!(
            events.iter().any(|e| e.starts_with("Ambiguous")),
            "{what}: {events:?}"
        );
    }
    // An even run of backslashes, or one not before a quote, reads the same both ways.
    let events = same_in_every_chunking("SELECT 'a\\\\', '\\x41';");
    assert!(
        !events.iter().any(|e| e.starts_with("Ambiguous")),
        "{events:?}"
    );
}

#[test]
fn backslashes_and_psql_variables_are_reported() {
    let events = same_in_every_chunking("\\restrict abc\nSELECT 1 \\g\nSELECT :'X', :Y, 1::int;");
    assert_eq!(events[0], "META \\restrict abc");
    assert!(events.contains(&"Backslash".to_owned()), "{events:?}");
    assert_eq!(
        events
            .iter()
            .filter(|e| e.starts_with("PsqlVariable"))
            .count(),
        2
    );
    assert!(events.iter().any(|e| e.starts_with("Op(\"::\")")));
}

#[test]
fn words_numbers_and_operators() {
    let events = same_in_every_chunking("SELECT -1.5e3, 1..2, a+-b, x--c\n, $1;");
    assert!(events.contains(&"Number 1.5e3".to_owned()), "{events:?}");
    assert!(events.contains(&"Op(\"..\") ..".to_owned()), "{events:?}");
    assert!(events.contains(&"Op(\"+\") +".to_owned()), "{events:?}");
    assert!(events.contains(&"Param $1".to_owned()), "{events:?}");
    assert!(!events.iter().any(|e| e.contains(" c")), "{events:?}");
}
