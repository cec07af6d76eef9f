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
        delete(0, &t),
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
    let seq = sequences(0, &t);
    assert!(seq.contains("'\"we\"\"ird\".\"s''q\"'"), "{seq}");
    // Restoring some rows never lowers a sequence.
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
    let sql = delete(0, &t);
    assert!(!sql.contains("trailing)"));
    let out = copy_out(&t.name, false, &t.columns, t.scope.as_deref());
    assert!(
        out.contains("WHERE (\nid > 0 -- trailing\n)) TO STDOUT"),
        "{out}"
    );
    assert!(out.starts_with("SET row_security = off;"));
}

#[test]
fn whole_tables_take_the_backups_sequence_values_and_need_no_key() {
    let mut t = hostile_table();
    t.scope = None;
    assert!(sequences(0, &t).contains("pg_catalog.setval('\"we\"\"ird\".\"s''q\"', 42, true)"));
    t.key = None;
    assert!(update(0, &t).is_none());
    assert!(delete(0, &t).contains("WHERE true"));
    assert!(!insert(0, &t).contains("NOT EXISTS"));
}

#[test]
fn partitioned_tables_are_read_and_changed_through_their_partitions() {
    let mut t = hostile_table();
    t.partitioned = true;
    assert!(!delete(0, &t).contains("ONLY"));
    t.partitioned = false;
    assert!(delete(0, &t).contains("DELETE FROM ONLY"));
}
