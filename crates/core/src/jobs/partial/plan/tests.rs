use serde_json::json;

use super::*;

fn table(name: &str, columns: &[&str], key: &[&str]) -> serde_json::Value {
    json!({
        "schema": "public", "name": name, "kind": "r", "owner": "app", "owned": true,
        "rls": false, "force_rls": false, "triggers": 0,
        "columns": columns.iter().map(|c| json!({
            "name": c, "type": if c.ends_with("id") { "uuid" } else { "text" },
            "generated": false, "identity": ""
        })).collect::<Vec<_>>(),
        "primary_key": if key.is_empty() { serde_json::Value::Null } else { json!(key) },
    })
}

fn fk(
    name: &str,
    child: &str,
    column: &str,
    parent: &str,
    parent_column: &str,
) -> serde_json::Value {
    json!({
        "schema": "public", "name": name, "deferrable": false,
        "child_schema": "public", "child_table": child, "child_columns": [column],
        "parent_schema": "public", "parent_table": parent, "parent_columns": [parent_column],
    })
}

/// RYTHM's shape: tenants ← users ← sessions, a global `exercises` referenced from
/// sessions, and `audit` (no tenant column) referencing users.
fn rythm() -> Catalog {
    serde_json::from_value(json!({
        "tables": [
            table("sessions", &["session_id", "tenant_id", "user_id", "exercise_id", "notes"], &["session_id"]),
            table("users", &["user_id", "tenant_id", "email"], &["user_id"]),
            table("tenants", &["tenant_id", "name"], &["tenant_id"]),
            table("exercises", &["exercise_id", "name"], &["exercise_id"]),
            table("audit", &["user_id", "what"], &[]),
        ],
        "foreign_keys": [
            fk("sessions_user_fk", "sessions", "user_id", "users", "user_id"),
            fk("users_tenant_fk", "users", "tenant_id", "tenants", "tenant_id"),
            fk("sessions_exercise_fk", "sessions", "exercise_id", "exercises", "exercise_id"),
            fk("audit_user_fk", "audit", "user_id", "users", "user_id"),
        ],
        "sequences": [],
        "materialized_views": [{"schema": "public", "name": "volume", "owned": true,
            "tables": [{"schema": "public", "name": "sessions"}]}],
        "role": {"name": "app", "superuser": false, "bypass_rls": false},
    }))
    .unwrap()
}

fn tenant(id: &str) -> PartialSelection {
    PartialSelection {
        tenant: Some(id.into()),
        ..PartialSelection::default()
    }
}

fn replace(plan: &Plan) -> (&[TablePlan], &[ReferenceCheck], &[TableName]) {
    match &plan.kind {
        PlanKind::Replace {
            tables,
            references,
            refresh,
            ..
        } => (tables, references, refresh),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_tenant_is_every_table_with_the_column_parents_first() {
    let plan = build(&tenant("b'x"), &rythm(), &rythm(), None).unwrap();
    let (tables, references, refresh) = replace(&plan);
    let names: Vec<&str> = tables.iter().map(|t| t.name.name.as_str()).collect();
    assert_eq!(names, vec!["tenants", "users", "sessions"]);
    for t in tables {
        assert_eq!(t.scope.as_deref(), Some("\"tenant_id\" = 'b''x'"));
        assert!(!t.create);
    }
    // audit holds no tenant column but references users: all its rows are checked; other
    // tenants' sessions and users are checked for references into B's rows.
    let mut checks: Vec<(&str, &str, bool)> = references
        .iter()
        .map(|r| {
            let parent = tables[r.parent].name.name.as_str();
            (r.child.name.as_str(), parent, r.child_scope.is_some())
        })
        .collect();
    checks.sort();
    assert_eq!(
        checks,
        vec![
            ("audit", "users", false),
            ("sessions", "users", true),
            ("users", "tenants", true)
        ]
    );
    assert_eq!(refresh, &[TableName::new("public", "volume")]);
    // The safety backup holds the restored tables and what they reference.
    let data: Vec<&str> = plan.safety_data.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(data, vec!["exercises", "sessions", "tenants", "users"]);
}

#[test]
fn chosen_tables_check_only_references_from_outside() {
    let selection = PartialSelection {
        tables: vec![
            TableName::new("public", "users"),
            TableName::new("public", "sessions"),
        ],
        ..PartialSelection::default()
    };
    let plan = build(&selection, &rythm(), &rythm(), None).unwrap();
    let (tables, references, _) = replace(&plan);
    assert_eq!(tables[0].name.name, "users");
    assert!(tables.iter().all(|t| t.scope.is_none()));
    // sessions → users is inside the restore (both replaced whole); audit → users is not.
    let children: Vec<&str> = references.iter().map(|r| r.child.name.as_str()).collect();
    assert_eq!(children, vec!["audit"]);
}

#[test]
fn row_level_security_that_would_hide_rows_is_refused_up_front() {
    let mut target = rythm();
    for t in &mut target.tables {
        if t.name == "users" {
            t.rls = true;
            t.force_rls = true;
        }
    }
    let refused = build(&tenant("b"), &target, &rythm(), None)
        .unwrap_err()
        .to_string();
    assert!(
        refused.contains("public.users") && refused.contains("BYPASSRLS"),
        "{refused}"
    );
    target.role.bypass_rls = true;
    build(&tenant("b"), &target, &rythm(), None).unwrap();
    // Not forced, the owner is not subject to the policies; another role is.
    target.role.bypass_rls = false;
    for t in &mut target.tables {
        t.force_rls = false;
    }
    build(&tenant("b"), &target, &rythm(), None).unwrap();
    for t in &mut target.tables {
        t.owned = false;
    }
    assert!(build(&tenant("b"), &target, &rythm(), None).is_err());
}

#[test]
fn missing_tables_are_created_and_column_differences_noted() {
    let mut target = rythm();
    target.tables.retain(|t| t.name != "sessions");
    target
        .tables
        .iter_mut()
        .find(|t| t.name == "users")
        .unwrap()
        .columns
        .push(Column {
            name: "nickname".into(),
            type_name: "text".into(),
            generated: false,
            identity: String::new(),
        });
    let plan = build(&tenant("b"), &target, &rythm(), None).unwrap();
    let (tables, _, _) = replace(&plan);
    let sessions = tables.iter().find(|t| t.name.name == "sessions").unwrap();
    assert!(sessions.create);
    assert_eq!(sessions.key, Some(vec!["session_id".to_owned()]));
    let users = tables.iter().find(|t| t.name.name == "users").unwrap();
    assert!(!users.columns.contains(&"nickname".to_owned()));
    assert!(
        plan.notes
            .iter()
            .any(|n| n.contains("public.users.nickname")),
        "{:?}",
        plan.notes
    );
    assert!(!plan
        .safety_tables
        .contains(&TableName::new("public", "sessions")));
}

#[test]
fn names_outside_the_backup_and_tables_without_the_column_are_refused() {
    let unknown = PartialSelection {
        tables: vec![TableName::new("public", "nope")],
        ..PartialSelection::default()
    };
    assert!(build(&unknown, &rythm(), &rythm(), None)
        .unwrap_err()
        .to_string()
        .contains("public.nope"));
    let global = PartialSelection {
        tables: vec![TableName::new("public", "exercises")],
        ..tenant("b")
    };
    let refused = build(&global, &rythm(), &rythm(), None)
        .unwrap_err()
        .to_string();
    assert!(refused.contains("no column tenant_id"), "{refused}");
    let none = PartialSelection {
        tenant_column: Some("org_id".into()),
        ..tenant("b")
    };
    assert!(build(&none, &rythm(), &rythm(), None).is_err());
}

#[test]
fn tables_without_a_key_are_replaced_whole() {
    let selection = PartialSelection {
        tables: vec![TableName::new("public", "audit")],
        ..PartialSelection::default()
    };
    let plan = build(&selection, &rythm(), &rythm(), None).unwrap();
    let (tables, _, _) = replace(&plan);
    assert_eq!(tables[0].key, None);
    assert!(plan.notes.iter().any(|n| n.contains("no primary key")));
}

#[test]
fn copies_keep_clashing_names_apart() {
    let mut backup = rythm();
    let mut other = backup.tables[1].clone();
    other.schema = "auth".into();
    backup.tables.push(other);
    let selection = PartialSelection {
        tables: vec![
            TableName::new("public", "users"),
            TableName::new("auth", "users"),
        ],
        into_schema: Some("restored".into()),
        ..PartialSelection::default()
    };
    let plan = build(&selection, &rythm(), &backup, None).unwrap();
    let PlanKind::Into { schema, tables } = &plan.kind else {
        panic!("{plan:?}")
    };
    assert_eq!(schema, "restored");
    let copies: Vec<String> = tables.iter().map(|t| t.copy.to_string()).collect();
    assert_eq!(copies, vec!["restored.public_users", "restored.auth_users"]);
    assert!(plan.safety_tables.is_empty());
}

/// `rythm()` with `audit_notes` (no tenant column, no key) hanging off `audit` by ON DELETE
/// CASCADE: rows a `--cascade-to-referencing` removes from audit take theirs along.
fn with_audit_notes() -> Catalog {
    let mut catalog = rythm();
    catalog
        .tables
        .push(serde_json::from_value(table("audit_notes", &["user_id", "note"], &[])).unwrap());
    let mut cascade = fk(
        "audit_notes_fk",
        "audit_notes",
        "user_id",
        "audit",
        "user_id",
    );
    cascade["on_delete"] = json!("c");
    catalog
        .foreign_keys
        .push(serde_json::from_value(cascade).unwrap());
    catalog
}

#[test]
fn cascades_reach_into_the_safety_backup_and_the_roll_back() {
    let target = with_audit_notes();
    let selection = PartialSelection {
        cascade_to_referencing: true,
        ..tenant("b")
    };
    let plan = build(&selection, &target, &rythm(), None).unwrap();
    let reached: Vec<&str> = plan.reached.iter().map(|t| t.name.as_str()).collect();
    // audit's rows are deleted by the restore itself, audit_notes' by audit's rule; the
    // restored tables' own rows outside the tenant are checked too.
    assert_eq!(reached, vec!["audit", "audit_notes", "sessions", "users"]);
    let safety: Vec<&str> = plan.safety_tables.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(
        safety,
        vec!["audit", "audit_notes", "sessions", "tenants", "users"]
    );
    // The roll back: the same tenant's rows of the restored tables, and whole the tables
    // outside them that really lost rows.
    let changed = [
        TableName::new("public", "audit"),
        TableName::new("public", "audit_notes"),
    ];
    let back = super::super::safety::rollback(&selection, &plan, &changed).unwrap();
    let names = |l: &[TableName]| l.iter().map(|t| t.name.clone()).collect::<Vec<_>>();
    assert_eq!(names(&back.tables), vec!["tenants", "users", "sessions"]);
    assert_eq!(names(&back.whole_tables), vec!["audit", "audit_notes"]);
    assert_eq!(back.tenant.as_deref(), Some("b"));
    assert!(!back.cascade_to_referencing && !back.dry_run);
    back.check().unwrap();
    // Tables the cascade could have reached but did not change are left alone.
    let quiet = super::super::safety::rollback(&selection, &plan, &changed[..1]).unwrap();
    assert_eq!(names(&quiet.whole_tables), vec!["audit"]);
    // Without a tenant or condition, every table comes back whole.
    let whole = PartialSelection {
        tables: vec![TableName::new("public", "users")],
        cascade_to_referencing: true,
        ..PartialSelection::default()
    };
    let plan = build(&whole, &target, &rythm(), None).unwrap();
    let back = super::super::safety::rollback(&whole, &plan, &changed).unwrap();
    assert_eq!(names(&back.tables), vec!["users", "audit", "audit_notes"]);
    assert!(back.whole_tables.is_empty() && back.tenant.is_none());
}

#[test]
fn references_between_restored_tables_are_known_to_the_deletes() {
    let plan = build(&tenant("b"), &rythm(), &rythm(), None).unwrap();
    let PlanKind::Replace { tables, inner, .. } = &plan.kind else {
        panic!("{plan:?}")
    };
    let mut pairs: Vec<(&str, &str)> = inner
        .iter()
        .map(|r| {
            (
                tables[r.child].name.name.as_str(),
                tables[r.parent].name.name.as_str(),
            )
        })
        .collect();
    pairs.sort();
    assert_eq!(pairs, vec![("sessions", "users"), ("users", "tenants")]);
}

/// A partial restore's safety backup holds only some tables' rows: a tenant takes only
/// those, and a table outside them is refused instead of being emptied.
#[test]
fn a_backup_holding_some_tables_rows_restores_only_those() {
    let holds: BTreeSet<TableName> = [
        TableName::new("public", "tenants"),
        TableName::new("public", "users"),
    ]
    .into();
    let plan = build(&tenant("b"), &rythm(), &rythm(), Some(&holds)).unwrap();
    let (tables, _, _) = replace(&plan);
    let names: Vec<&str> = tables.iter().map(|t| t.name.name.as_str()).collect();
    assert_eq!(names, vec!["tenants", "users"]);
    assert!(
        plan.notes
            .iter()
            .any(|n| n.contains("public.sessions") && n.contains("holds none of its rows")),
        "{:?}",
        plan.notes
    );
    let outside = PartialSelection {
        tables: vec![TableName::new("public", "sessions")],
        ..PartialSelection::default()
    };
    let refused = build(&outside, &rythm(), &rythm(), Some(&holds))
        .unwrap_err()
        .to_string();
    assert!(
        refused.contains("public.sessions") && refused.contains("public.tenants, public.users"),
        "{refused}"
    );
}

/// Beside a tenant, a table chosen whole needs no tenant column and is restored entirely.
#[test]
fn whole_tables_beside_a_tenant_have_no_scope() {
    let selection = PartialSelection {
        tables: vec![TableName::new("public", "users")],
        whole_tables: vec![TableName::new("public", "audit")],
        ..tenant("b")
    };
    let plan = build(&selection, &rythm(), &rythm(), None).unwrap();
    let (tables, _, _) = replace(&plan);
    let scope = |n: &str| {
        tables
            .iter()
            .find(|t| t.name.name == n)
            .unwrap()
            .scope
            .clone()
    };
    assert_eq!(scope("users").as_deref(), Some("\"tenant_id\" = 'b'"));
    assert_eq!(scope("audit"), None);
}
