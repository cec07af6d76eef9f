//! `--where` conditions, checked before anything changes. The text is scanned as psql
//! scans it (the restore filter's lexer): one expression, no `;`, no psql meta-command or
//! variable, no unclosed quote, comment or parenthesis, so it cannot end the statement it
//! stands in. Then PostgreSQL itself parses it against the table (as a view's WHERE, in a
//! transaction that is rolled back, so nothing runs). Its subqueries may read tables, but
//! no view or foreign table: a view's query is only expanded when it runs (a foreign
//! table's reads run code of its own), so it would hide whatever that calls. Every function
//! it would call, operators (row comparisons' too), sort and equality operators, and the
//! checks of the domains it casts to included, must be PostgreSQL's or an extension's, and
//! not volatile: no `nextval`, `pg_terminate_backend`, `lo_unlink`, `dblink_exec`, or
//! function of the database's own that could write.

use std::collections::BTreeSet;

use super::request::TableName;
use crate::error::{Error, Result};
use crate::jobs::sql_filter::lexer::{Event, Lexer, Token};
use crate::pg::{quote_literal, SqlClient};

/// The longest condition accepted.
const CONDITION_MAX: usize = 8 * 1024;

fn refused(why: &str) -> Error {
    Error::InvalidInput(format!("the --where condition {why}; nothing was changed"))
}

/// Checks the text alone: one self-contained expression.
pub(crate) fn check_text(condition: &str) -> Result<()> {
    if condition.trim().is_empty() {
        return Err(refused("is empty"));
    }
    if condition.len() > CONDITION_MAX {
        return Err(refused("is longer than 8 KiB"));
    }
    if let Some(c) = condition
        .chars()
        .find(|&c| c.is_control() && !matches!(c, '\n' | '\t' | '\r'))
    {
        return Err(refused(&format!("holds the control character {:?}", c)));
    }
    // A `;` after the text must end the statement, right there: inside an unclosed quote,
    // comment or dollar quote it would not, and inside an open parenthesis it would not
    // end it either.
    let mut lexer = Lexer::default();
    lexer.push(condition.as_bytes());
    lexer.push(b"\n;");
    let sentinel_end = condition.len() + 2;
    let mut depth: i64 = 0;
    let mut ended = false;
    while let Some(event) = lexer.next(true) {
        if ended {
            return Err(refused("ends inside a quote or comment"));
        }
        match event {
            Event::Token(lexed) => match lexed.token {
                Token::Punct(b'(') => depth += 1,
                Token::Punct(b')') => {
                    depth -= 1;
                    if depth < 0 {
                        return Err(refused("closes a parenthesis it did not open"));
                    }
                }
                _ => {}
            },
            Event::StatementEnd { end } if end == sentinel_end => ended = true,
            Event::GroupedSemicolon { at, .. } if at + 1 == sentinel_end => {
                return Err(refused("leaves a parenthesis open"))
            }
            Event::StatementEnd { .. } | Event::GroupedSemicolon { .. } => {
                return Err(refused(
                    "contains a ; (it must be one condition, not statements)",
                ))
            }
            Event::MetaLine { .. } | Event::Backslash { .. } => {
                return Err(refused("contains a backslash command"))
            }
            Event::PsqlVariable { .. } => return Err(refused("contains a psql variable (:name)")),
            Event::BlockBegin { .. } => return Err(refused("opens a BEGIN … END block")),
            Event::Ambiguous { what, .. } => return Err(refused(&format!("contains {what}"))),
        }
    }
    if !ended {
        return Err(refused("ends inside a quote or comment"));
    }
    Ok(())
}

/// Has PostgreSQL parse `condition` on `table` (`ONLY` unless partitioned) and checks the
/// relations it reads and the functions it calls. Runs in a transaction that is rolled back.
pub(crate) fn check_on(
    sql: &SqlClient,
    table: &TableName,
    partitioned: bool,
    condition: &str,
) -> Result<()> {
    let only = if partitioned { "" } else { "ONLY " };
    let script = format!(
        "BEGIN;\nCREATE TEMP VIEW rythm_where_check AS SELECT 1 AS x FROM {only}{} WHERE (\n{condition}\n);\n\
         SELECT ev_action, ev_class::pg_catalog.oid, {}::pg_catalog.regclass::pg_catalog.oid \
         FROM pg_catalog.pg_rewrite \
         WHERE ev_class = 'pg_temp.rythm_where_check'::pg_catalog.regclass;\nROLLBACK;\n",
        table.sql(),
        quote_literal(&table.sql())
    );
    let rows = sql.query(&script).map_err(|e| {
        Error::InvalidInput(format!(
            "the condition does not work on {table}: {}; nothing was changed",
            postgres_message(&e.to_string())
        ))
    })?;
    let Some([tree, view, own]) = rows
        .into_iter()
        .find_map(|r| <[String; 3]>::try_from(r).ok())
    else {
        return Err(Error::Internal(format!(
            "PostgreSQL did not show how it reads the condition on {table}"
        )));
    };
    if tree.contains(":hasForUpdate true") || tree.contains(":rowMarks (") {
        return Err(refused("locks rows (FOR UPDATE/SHARE)"));
    }
    if tree.contains(":hasModifyingCTE true") {
        return Err(refused("modifies data"));
    }
    // The view's own entries (PostgreSQL 15 keeps OLD and NEW) and the table need no look.
    let known: BTreeSet<u32> = [&view, &own]
        .iter()
        .filter_map(|v| v.parse().ok())
        .collect();
    let others: BTreeSet<u32> = numbers_after(&tree, ":relid ")
        .filter(|id| *id != 0 && !known.contains(id))
        .collect();
    if !others.is_empty() {
        let hidden = sql.query(&format!(
            "SELECT c.oid::pg_catalog.regclass::text FROM pg_catalog.pg_class c \
             WHERE c.oid = ANY ('{{{}}}'::pg_catalog.oid[]) AND c.relkind NOT IN ('r', 'p', 'm') \
             ORDER BY 1",
            ids(&others)
        ))?;
        let names: Vec<String> = hidden.into_iter().flatten().collect();
        if !names.is_empty() {
            return Err(refused(&format!(
                "reads {}, a view or foreign table: what it runs is not known before the \
                 restore runs it (a subquery may read tables only)",
                names.join(", ")
            )));
        }
    }
    let (functions, operators, domains) = called(&tree);
    check_calls(sql, &functions, &operators, &domains)
}

/// Refuses volatile functions and functions of the database's own among `functions`, the
/// functions behind `operators`, and those the checks of `domains` call (their checks are
/// stored trees of their own, read the same way).
fn check_calls(
    sql: &SqlClient,
    functions: &BTreeSet<u32>,
    operators: &BTreeSet<u32>,
    domains: &BTreeSet<u32>,
) -> Result<()> {
    let mut functions = functions.clone();
    let mut operators = operators.clone();
    if !domains.is_empty() {
        // A domain's checks, and those of the domains it is based on.
        let checks = sql.query(&format!(
            "WITH RECURSIVE d(oid) AS (SELECT pg_catalog.unnest('{{{}}}'::pg_catalog.oid[]) \
               UNION SELECT t.typbasetype FROM pg_catalog.pg_type t JOIN d ON t.oid = d.oid \
               WHERE t.typtype = 'd') \
             SELECT c.conbin::text FROM pg_catalog.pg_constraint c JOIN d ON c.contypid = d.oid \
             WHERE c.conbin IS NOT NULL",
            ids(domains)
        ))?;
        for check in checks.into_iter().flatten() {
            let (f, o, _) = called(&check);
            functions.extend(f);
            operators.extend(o);
        }
    }
    if functions.is_empty() && operators.is_empty() {
        return Ok(());
    }
    let check = format!(
        "SELECT p.oid::pg_catalog.regprocedure::text, p.provolatile::text,\n\
           (p.oid < 16384 OR EXISTS (SELECT 1 FROM pg_catalog.pg_depend d\n\
             WHERE d.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass AND d.objid = p.oid\n\
               AND d.deptype = 'e'))::text\n\
         FROM pg_catalog.pg_proc p WHERE p.oid = ANY ('{{{}}}'::pg_catalog.oid[])\n\
           OR p.oid IN (SELECT oprcode FROM pg_catalog.pg_operator\n\
                        WHERE oid = ANY ('{{{}}}'::pg_catalog.oid[]))",
        ids(&functions),
        ids(&operators)
    );
    for row in sql.query(&check)? {
        let [name, volatility, known] = row.as_slice() else {
            continue;
        };
        if volatility == "v" {
            return Err(refused(&format!(
                "calls {name}, a volatile function (it may change something or differ from row \
                 to row)"
            )));
        }
        if known != "true" {
            return Err(refused(&format!(
                "calls {name}, a function of the database's own; only PostgreSQL's and \
                 extensions' functions are allowed"
            )));
        }
    }
    Ok(())
}

fn ids(set: &BTreeSet<u32>) -> String {
    set.iter().map(u32::to_string).collect::<Vec<_>>().join(",")
}

/// The function, operator and domain ids a stored query tree (`pg_rewrite.ev_action`, or a
/// constraint's `conbin`) calls or casts to.
fn called(tree: &str) -> (BTreeSet<u32>, BTreeSet<u32>, BTreeSet<u32>) {
    let mut functions = BTreeSet::new();
    let mut operators = BTreeSet::new();
    for field in [
        ":funcid ",
        ":opfuncid ",
        ":aggfnoid ",
        ":winfnoid ",
        ":hashfuncid ",
        ":negfuncid ",
        ":tsmhandler ",
    ] {
        functions.extend(numbers_after(tree, field));
    }
    for field in [":opno ", ":sortop ", ":eqop "] {
        operators.extend(numbers_after(tree, field));
    }
    // Row comparisons keep a list: `:opnos (o 96 97)`.
    operators.extend(lists_after(tree, ":opnos (o "));
    let domains: BTreeSet<u32> = tree
        .match_indices("{COERCETODOMAIN ")
        .filter_map(|(at, _)| numbers_after(&tree[at..], ":resulttype ").next())
        .collect();
    functions.remove(&0);
    operators.remove(&0);
    (functions, operators, domains)
}

fn numbers_after<'a>(tree: &'a str, field: &'a str) -> impl Iterator<Item = u32> + 'a {
    tree.match_indices(field).filter_map(move |(at, _)| {
        let digits: String = tree[at + field.len()..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        digits.parse().ok()
    })
}

/// Every number of the lists that follow `field` (up to their closing parenthesis).
fn lists_after<'a>(tree: &'a str, field: &'a str) -> impl Iterator<Item = u32> + 'a {
    tree.match_indices(field).flat_map(move |(at, _)| {
        let rest = &tree[at + field.len()..];
        let end = rest.find(')').unwrap_or(rest.len());
        rest[..end]
            .split_whitespace()
            .filter_map(|n| n.parse().ok())
            .collect::<Vec<u32>>()
    })
}

/// PostgreSQL's own words from a psql error (`ERROR:  column "x" does not exist`).
fn postgres_message(error: &str) -> String {
    error
        .lines()
        .filter_map(|l| l.split_once("ERROR:").map(|(_, m)| m.trim().to_owned()))
        .next()
        .unwrap_or_else(|| error.trim().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_self_contained_expression_passes() {
        for ok in [
            "id > 3",
            "created_at >= now() - interval '30 days'",
            "name = 'a;b' AND note <> $$x;y$$",
            "(a, b) IN ((1, 2), (3, 4))",
            "kind = 'it''s' -- a comment\n",
            "x = E'\\''",
        ] {
            check_text(ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
        }
    }

    #[test]
    fn anything_that_could_end_the_statement_is_refused() {
        for bad in [
            "",
            "  ",
            "1=1; drop table x",
            "1=1;",
            "true) OR (true",
            "(true",
            "true)",
            "name = 'open",
            "x = 1 /* open",
            "x = $$open",
            "x = :var",
            "x = :'var'",
            "\\! rm -rf ~",
            "x = 1 \\g",
            "a\u{0}b",
            "a\u{1b}b",
        ] {
            assert!(check_text(bad).is_err(), "{bad:?}");
        }
        assert!(check_text(&"x".repeat(CONDITION_MAX + 1)).is_err());
    }

    #[test]
    fn reads_the_calls_of_a_stored_tree() {
        let tree = "({QUERY :commandType 1 ... {FUNCEXPR :funcid 1598 :funcresulttype 701} \
                    {OPEXPR :opno 674 :opfuncid 0 ...} {OPEXPR :opno 96 :opfuncid 65}})";
        let (functions, operators, domains) = called(tree);
        assert_eq!(functions.into_iter().collect::<Vec<_>>(), vec![65, 1598]);
        assert_eq!(operators.into_iter().collect::<Vec<_>>(), vec![96, 674]);
        assert!(domains.is_empty());
    }

    /// Row comparisons keep their operators in a list, sorts and groups theirs apart, and a
    /// cast to a domain names the domain: all are read.
    #[test]
    fn reads_row_comparisons_sorts_and_domain_casts() {
        let tree = "({ROWCOMPAREEXPR :rctype 1 :opnos (o 97 521) :opfamilies (o 1976 1976) \
                    :inputcollids (o 0 0)} {SORTGROUPCLAUSE :tleSortGroupRef 1 :eqop 96 \
                    :sortop 97 :nulls_first false} {COERCETODOMAIN :arg {CONST :consttype 25} \
                    :resulttype 16500 :resulttypmod -1})";
        let (functions, operators, domains) = called(tree);
        assert!(functions.is_empty());
        assert_eq!(operators.into_iter().collect::<Vec<_>>(), vec![96, 97, 521]);
        assert_eq!(domains.into_iter().collect::<Vec<_>>(), vec![16500]);
    }

    #[test]
    fn postgres_words_are_kept() {
        assert_eq!(
            postgres_message(
                "psql failed: psql:<stdin>:2: ERROR:  column \"x\" does not exist\nLINE 1"
            ),
            "column \"x\" does not exist"
        );
    }
}
