use super::*;

fn hostile_table() -> TablePlan {
    TablePlan {
        name: TableName::new("we\"ird", "t\"; DROP TABLE x; --"),
        create: false,
        partitioned: false,
        columns: vec!["id".into(), "na\"me".into(), "tenant_id".into()],
        key: Some(vec!["id".into()]),
        update_columns: vec!["na\"me".into(), "tenant_id".into()],
        identity: true,
        scope: Some("\"tenant_id\" = 'x''); DROP TABLE y; --'".into()),
        sequences: vec![super::super::plan::SequenceSet {
            sequence: TableName::new("we\"ird", "s'q"),
            value: 42,
        }],
        quiet_triggers: true,
    }
}

/// Every double quote of an identifier is doubled, every quote of a literal too: no text
/// of ours leaves its quotes.
#[test]
fn identifiers_and_literals_are_quoted_everywhere() {
    let t = hostile_table();
    let table_sql = "\"we\"\"ird\".\"t\"\"; DROP TABLE x; --\"";
    for sql in [
        stage_and_copy(0, &t),
        delete(0, &t, None),
        update(0, &t).unwrap(),
        insert(0, &t),
        gone_table(0, 0, &t, &["id".into()]),
        locks(std::slice::from_ref(&t), &[]),
    ] {
        assert!(sql.contains(table_sql), "{sql}");
        assert!(!sql.contains("\"t\"; DROP"), "{sql}");
    }
    assert!(insert(0, &t).contains("\"na\"\"me\""));
    assert!(insert(0, &t).contains("OVERRIDING SYSTEM VALUE"));
    let seq = sequences(0, &t, false);
    assert!(seq.contains("'\"we\"\"ird\".\"s''q\"'"), "{seq}");
    // A restore never lowers a sequence (setval outlives a rollback).
    assert!(seq.contains("GREATEST(42,"), "{seq}");
    let off = triggers_off(&[&t.name]);
    assert!(
        off.contains("'\"we\"\"ird\".\"t\"\"; DROP TABLE x; --\"'::pg_catalog.regclass"),
        "{off}"
    );
}

/// A condition stands on lines of its own inside parentheses, so a trailing comment in it
/// cannot swallow what follows.
#[test]
fn conditions_stand_on_their_own_lines() {
    let mut t = hostile_table();
    t.scope = Some("id > 0 -- trailing".into());
    let sql = delete(0, &t, None);
    assert!(!sql.contains("trailing)"));
    let out = copy_out(&t.name, false, &t.columns, t.scope.as_deref());
    assert!(
        out.contains("WHERE (\nid > 0 -- trailing\n)) TO STDOUT"),
        "{out}"
    );
    assert!(out.starts_with("SET row_security = off;"));
}

#[test]
fn whole_tables_never_lower_sequences_either_and_need_no_key() {
    let mut t = hostile_table();
    t.scope = None;
    let seq = sequences(0, &t, false);
    assert!(
        seq.contains("pg_catalog.setval('\"we\"\"ird\".\"s''q\"', GREATEST(42, (SELECT last_value FROM \"we\"\"ird\".\"s'q\")), true)"),
        "{seq}"
    );
    t.key = None;
    assert!(update(0, &t).is_none());
    assert!(delete(0, &t, None).contains("WHERE true"));
    assert!(!insert(0, &t).contains("NOT EXISTS"));
}

#[test]
fn partitioned_tables_are_read_and_changed_through_their_partitions() {
    let mut t = hostile_table();
    t.partitioned = true;
    assert!(!delete(0, &t, None).contains("ONLY"));
    t.partitioned = false;
    assert!(delete(0, &t, None).contains("DELETE FROM ONLY"));
}

/// `setval` is not undone by a rollback: a dry run only reports the value it would set.
#[test]
fn a_dry_run_sets_no_sequence() {
    let t = hostile_table();
    let seq = sequences(0, &t, true);
    assert!(!seq.contains("setval"), "{seq}");
    assert!(seq.contains("'sequence', GREATEST(42,"), "{seq}");
}

/// A removed parent row that a staying child row still references waits for the second
/// delete; the first one leaves it.
#[test]
fn rows_still_referenced_wait_for_the_updates() {
    let parent = hostile_table();
    let mut child = hostile_table();
    child.name = TableName::new("public", "child");
    child.columns = vec!["cid".into(), "parent_id".into()];
    child.key = Some(vec!["cid".into()]);
    let tables = vec![parent, child];
    let inner = vec![InnerReference {
        child: 1,
        child_columns: vec!["parent_id".into()],
        parent: 0,
        parent_columns: vec!["id".into()],
    }];
    let kept = still_referenced(0, &tables, &inner).expect("a reference");
    assert!(
        kept.contains(
            "FROM ONLY \"public\".\"child\" AS rythm_k JOIN pg_temp.rythm_stage_1 AS rythm_s"
        ),
        "{kept}"
    );
    assert!(
        kept.contains("(rythm_k.\"cid\") = (rythm_s.rythm_c0)"),
        "{kept}"
    );
    assert!(
        kept.contains(
            "(rythm_k.\"parent_id\") = (\"we\"\"ird\".\"t\"\"; DROP TABLE x; --\".\"id\")"
        ),
        "{kept}"
    );
    let first = delete(0, &tables[0], Some(&kept));
    assert!(first.contains("AND NOT (EXISTS"), "{first}");
    assert!(still_referenced(1, &tables, &inner).is_none());
}
