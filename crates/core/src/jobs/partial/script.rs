//! The SQL a partial restore writes into its transaction, generated from the plan. Every
//! identifier is quoted (`quote_ident`) and every value a literal (`quote_literal`); the only
//! text taken as it comes is a `--where` condition, which `condition` has checked first and
//! which stands in parentheses on lines of its own. Blocks of PL/pgSQL have fixed bodies that
//! take their values as arguments. Functions and tables are named with their schema
//! (`pg_catalog`, `pg_temp`), since a dump's DDL run in the same session empties the
//! search_path.
//!
//! Rows are matched by key: rows of the scope that the backup lacks are deleted (children
//! first), rows that differ are updated, rows the target lacks are inserted (parents first),
//! and identical rows are left alone. A removed row that a staying row still references is
//! deleted only after that row was updated to its backup values, so no `ON DELETE` rule
//! fires on a row that stays. Foreign keys into unchanged rows never see them vanish, and
//! the report can say what was left as it was.

use super::plan::{CopyPlan, InnerReference, ReferenceCheck, TablePlan};
use super::request::TableName;
use crate::pg::{quote_ident, quote_literal};

/// Settings of the transaction; written again after DDL from the backup, which sets its own.
pub(super) fn settings(deferred: &[(String, String)]) -> String {
    let mut sql = String::from(
        "SET client_min_messages = warning;\n\
         SET row_security = off;\n\
         SET lock_timeout = '30s';\n",
    );
    if !deferred.is_empty() {
        let names: Vec<String> = deferred
            .iter()
            .map(|(s, n)| format!("{}.{}", quote_ident(s), quote_ident(n)))
            .collect();
        sql.push_str(&format!("SET CONSTRAINTS {} DEFERRED;\n", names.join(", ")));
    }
    sql
}

/// The tables and the function the rest of the script uses.
pub(super) const PRELUDE: &str = r#"
CREATE TEMP TABLE rythm_counts (idx int, what text, n bigint, detail text) ON COMMIT DROP;
CREATE TEMP TABLE rythm_stat0 ON COMMIT DROP AS
  SELECT relid, n_tup_ins, n_tup_upd, n_tup_del FROM pg_catalog.pg_stat_xact_user_tables;
CREATE FUNCTION pg_temp.rythm_dangling(con text, child text, parent text, n bigint, keys text[])
RETURNS void LANGUAGE plpgsql AS $rythm$
BEGIN
  RAISE EXCEPTION 'rythm-backup: % row(s) of % would reference rows of % that the restore removes (constraint %), for example %',
    n, child, parent, con, pg_catalog.array_to_string(keys, ', ')
    USING HINT = 'restore those rows too, or pass --cascade-to-referencing to delete them';
END
$rythm$;
"#;

/// `"s"."t"."c"`: a column of the table, unambiguous inside subqueries.
fn qualified(table: &TableName, column: &str) -> String {
    format!("{}.{}", table.sql(), quote_ident(column))
}

fn list(items: impl IntoIterator<Item = String>) -> String {
    items.into_iter().collect::<Vec<_>>().join(", ")
}

/// `ONLY` for ordinary tables (their inheritance children are other tables); none for
/// partitioned ones, whose rows live in their partitions.
fn from(table: &TableName, partitioned: bool) -> String {
    if partitioned {
        table.sql()
    } else {
        format!("ONLY {}", table.sql())
    }
}

/// A condition on its own lines, so a trailing comment cannot swallow what follows.
fn condition(scope: Option<&str>) -> String {
    match scope {
        Some(scope) => format!("(\n{scope}\n)"),
        None => "true".to_owned(),
    }
}

fn stage(i: usize) -> String {
    format!("pg_temp.rythm_stage_{i}")
}

fn stage_column(j: usize) -> String {
    format!("rythm_c{j}")
}

fn stage_columns_of(table: &TablePlan, columns: &[String]) -> Vec<String> {
    columns
        .iter()
        .map(|c| {
            let j = table
                .columns
                .iter()
                .position(|x| x == c)
                .expect("a copied column");
            format!("rythm_s.{}", stage_column(j))
        })
        .collect()
}

/// The staging table for the backup's rows of table `i`, then the start of their COPY; the
/// caller streams the rows and ends them with `\.`.
pub(super) fn stage_and_copy(i: usize, table: &TablePlan) -> String {
    let columns = list(
        table
            .columns
            .iter()
            .enumerate()
            .map(|(j, c)| format!("{} AS {}", quote_ident(c), stage_column(j))),
    );
    format!(
        "CREATE TEMP TABLE rythm_stage_{i} ON COMMIT DROP AS SELECT {columns} FROM {} WITH NO DATA;\n\
         COPY {} FROM STDIN;\n",
        from(&table.name, table.partitioned),
        stage(i)
    )
}

/// The statement run on the scratch database to send table `columns` rows of the backup.
pub(super) fn copy_out(
    table: &TableName,
    partitioned: bool,
    columns: &[String],
    scope: Option<&str>,
) -> String {
    format!(
        "SET row_security = off;\nCOPY (SELECT {} FROM {} WHERE {}) TO STDOUT;\n",
        list(columns.iter().map(|c| quote_ident(c))),
        from(table, partitioned),
        condition(scope)
    )
}

/// After the rows are staged: counted, analysed for the planner.
pub(super) fn staged(i: usize) -> String {
    format!(
        "INSERT INTO pg_temp.rythm_counts SELECT {i}, 'staged', pg_catalog.count(*), NULL FROM {};\n\
         ANALYZE {};\n",
        stage(i),
        stage(i)
    )
}

/// Locks: the restored tables against writes, the tables referencing them against new
/// references, until the COMMIT. Readers are never blocked.
pub(super) fn locks(tables: &[TablePlan], children: &[TableName]) -> String {
    let mut sql = String::new();
    let restored: Vec<String> = tables.iter().map(|t| t.name.sql()).collect();
    if !restored.is_empty() {
        sql.push_str(&format!(
            "LOCK TABLE {} IN SHARE ROW EXCLUSIVE MODE;\n",
            restored.join(", ")
        ));
    }
    let others: Vec<String> = children
        .iter()
        .filter(|c| !tables.iter().any(|t| &t.name == *c))
        .map(TableName::sql)
        .collect();
    if !others.is_empty() {
        sql.push_str(&format!(
            "LOCK TABLE {} IN SHARE MODE;\n",
            others.join(", ")
        ));
    }
    sql
}

/// The name of the table of keys (`columns`) of table `i` that its restore removes.
pub(super) fn gone(i: usize, k: usize) -> String {
    format!("pg_temp.rythm_gone_{i}_{k}")
}

/// Values of `columns` in table `i`'s scope that the backup's rows do not have.
pub(super) fn gone_table(i: usize, k: usize, table: &TablePlan, columns: &[String]) -> String {
    let target_cols = list(columns.iter().map(|c| qualified(&table.name, c)));
    format!(
        "CREATE TEMP TABLE rythm_gone_{i}_{k} ON COMMIT DROP AS SELECT {target_cols} FROM {} \
         WHERE {}\n AND NOT EXISTS (SELECT 1 FROM {} AS rythm_s WHERE ({}) = ({target_cols}));\n",
        from(&table.name, table.partitioned),
        condition(table.scope.as_deref()),
        stage(i),
        list(stage_columns_of(table, columns))
    )
}

/// The rows of a reference check's child that would point at removed keys.
fn dangling_rows(check: &ReferenceCheck, child_partitioned: bool, gone: &str) -> String {
    let child_cols = list(
        check
            .child_columns
            .iter()
            .map(|c| qualified(&check.child, c)),
    );
    let not_null = check
        .child_columns
        .iter()
        .map(|c| format!("{} IS NOT NULL", qualified(&check.child, c)))
        .collect::<Vec<_>>()
        .join(" AND ");
    let outside = match &check.child_scope {
        Some(scope) => format!(" AND NOT COALESCE({}, false)", condition(Some(scope))),
        None => String::new(),
    };
    format!(
        "FROM {} WHERE {not_null}{outside} AND ({child_cols}) IN (SELECT * FROM {gone})",
        from(&check.child, child_partitioned)
    )
}

/// Refuses (naming the constraint and a few keys) when rows outside the restore would
/// reference removed rows; or, asked to, deletes those rows (their own references then
/// follow their constraints' ON DELETE rules).
pub(super) fn reference_check(
    check: &ReferenceCheck,
    parent: &TableName,
    child_partitioned: bool,
    gone: &str,
    cascade: bool,
) -> String {
    let rows = dangling_rows(check, child_partitioned, gone);
    if cascade {
        let delete_from = rows.replacen("FROM ", "DELETE FROM ", 1);
        return format!("{delete_from};\n");
    }
    let key = format!(
        "ROW({})::text",
        list(
            check
                .child_columns
                .iter()
                .map(|c| qualified(&check.child, c))
        )
    );
    format!(
        "SELECT pg_temp.rythm_dangling({}, {}, {}, rythm_d.n, ARRAY(SELECT {key} {rows} LIMIT 5))\n\
         FROM (SELECT pg_catalog.count(*) AS n {rows}) AS rythm_d WHERE rythm_d.n > 0;\n",
        quote_literal(&check.constraint),
        quote_literal(&check.child.to_string()),
        quote_literal(&parent.to_string()),
    )
}

/// Deletes table `i`'s rows the backup lacks (by key), or its whole scope (no key); with
/// `keep`, not those rows that staying rows still reference (`still_referenced`): they go
/// in a second `delete` after the updates.
pub(super) fn delete(i: usize, table: &TablePlan, keep: Option<&str>) -> String {
    let target = from(&table.name, table.partitioned);
    let filter = match &table.key {
        Some(key) => format!(
            "({}) IN (SELECT * FROM {})",
            list(key.iter().map(|c| qualified(&table.name, c))),
            gone(i, 0)
        ),
        None => condition(table.scope.as_deref()),
    };
    let keep = keep
        .map(|k| format!("\n AND NOT ({k})"))
        .unwrap_or_default();
    format!(
        "WITH rythm_d AS (DELETE FROM {target} WHERE {filter}{keep} RETURNING 1)\n\
         INSERT INTO pg_temp.rythm_counts SELECT {i}, 'deleted', pg_catalog.count(*), NULL FROM rythm_d;\n"
    )
}

/// The condition, on a row of `tables[parent]`, that a row of a restored child which stays
/// (its key is among the backup's rows) references it through one of `inner`; none when no
/// such reference exists.
pub(super) fn still_referenced(
    parent: usize,
    tables: &[TablePlan],
    inner: &[InnerReference],
) -> Option<String> {
    let parent_table = &tables[parent];
    let tests: Vec<String> = inner
        .iter()
        .filter(|r| r.parent == parent)
        .filter_map(|r| {
            let child = &tables[r.child];
            let key = child.key.as_ref()?;
            let alias = |c: &String| format!("rythm_k.{}", quote_ident(c));
            Some(format!(
                "EXISTS (SELECT 1 FROM {} AS rythm_k JOIN {} AS rythm_s ON ({}) = ({}) \
                 WHERE ({}) = ({}))",
                from(&child.name, child.partitioned),
                stage(r.child),
                list(key.iter().map(alias)),
                list(stage_columns_of(child, key)),
                list(r.child_columns.iter().map(alias)),
                list(
                    r.parent_columns
                        .iter()
                        .map(|c| qualified(&parent_table.name, c))
                ),
            ))
        })
        .collect();
    (!tests.is_empty()).then(|| tests.join(" OR "))
}

/// Updates the rows of table `i`'s scope whose values differ from the backup's.
pub(super) fn update(i: usize, table: &TablePlan) -> Option<String> {
    let key = table.key.as_ref()?;
    if table.update_columns.is_empty() {
        return None;
    }
    let sets = list(
        table
            .update_columns
            .iter()
            .zip(stage_columns_of(table, &table.update_columns))
            .map(|(c, s)| format!("{} = {s}", quote_ident(c))),
    );
    let mine = list(
        table
            .update_columns
            .iter()
            .map(|c| qualified(&table.name, c)),
    );
    let theirs = list(stage_columns_of(table, &table.update_columns));
    Some(format!(
        "WITH rythm_u AS (UPDATE {} SET {sets} FROM {} AS rythm_s\n\
         WHERE ({}) = ({}) AND {}\n AND ROW({mine})::text IS DISTINCT FROM ROW({theirs})::text RETURNING 1)\n\
         INSERT INTO pg_temp.rythm_counts SELECT {i}, 'updated', pg_catalog.count(*), NULL FROM rythm_u;\n",
        from(&table.name, table.partitioned),
        stage(i),
        list(key.iter().map(|c| qualified(&table.name, c))),
        list(stage_columns_of(table, key)),
        condition(table.scope.as_deref()),
    ))
}

/// Inserts the backup's rows of table `i` whose key its scope lacks (all of them, without
/// a key). A key held by a row outside the scope makes the insert fail: that row is not
/// the restore's to change.
pub(super) fn insert(i: usize, table: &TablePlan) -> String {
    let overriding = if table.identity {
        " OVERRIDING SYSTEM VALUE"
    } else {
        ""
    };
    let missing = match &table.key {
        Some(key) => format!(
            " WHERE NOT EXISTS (SELECT 1 FROM {} WHERE ({}) = ({}) AND {})",
            from(&table.name, table.partitioned),
            list(key.iter().map(|c| qualified(&table.name, c))),
            list(stage_columns_of(table, key)),
            condition(table.scope.as_deref())
        ),
        None => String::new(),
    };
    format!(
        "WITH rythm_i AS (INSERT INTO {} ({}){overriding}\n SELECT {} FROM {} AS rythm_s{missing}\n RETURNING 1)\n\
         INSERT INTO pg_temp.rythm_counts SELECT {i}, 'inserted', pg_catalog.count(*), NULL FROM rythm_i;\n",
        table.name.sql(),
        list(table.columns.iter().map(|c| quote_ident(c))),
        list(stage_columns_of(table, &table.columns)),
        stage(i),
    )
}

/// Sequences owned by table `i`: the backup's values, never lower than they are. `setval`
/// is not undone by a rollback, so a value set here stays even when the transaction fails:
/// raised only, it can never hand out an id that live rows already use (after a whole table
/// was restored, the next ids merely skip the values it had used). A dry run reports the
/// value and sets nothing.
pub(super) fn sequences(i: usize, table: &TablePlan, dry_run: bool) -> String {
    let mut sql = String::new();
    for set in &table.sequences {
        let value = format!(
            "GREATEST({}, (SELECT last_value FROM {}))",
            set.value,
            set.sequence.sql()
        );
        let value = if dry_run {
            value
        } else {
            format!(
                "pg_catalog.setval({}, {value}, true)",
                quote_literal(&set.sequence.sql())
            )
        };
        sql.push_str(&format!(
            "INSERT INTO pg_temp.rythm_counts SELECT {i}, 'sequence', {value}, {};\n",
            quote_literal(&set.sequence.to_string())
        ));
    }
    sql
}

/// Switches off the enabled user triggers of `tables` (recorded), so restored rows are
/// written as they were, as pg_dump's own restores do.
pub(super) fn triggers_off(tables: &[&TableName]) -> String {
    if tables.is_empty() {
        return String::new();
    }
    let oids = list(
        tables
            .iter()
            .map(|t| format!("{}::pg_catalog.regclass", quote_literal(&t.sql()))),
    );
    format!(
        "CREATE TEMP TABLE rythm_triggers ON COMMIT DROP AS SELECT tgrelid, tgname, tgenabled \
         FROM pg_catalog.pg_trigger WHERE NOT tgisinternal AND tgenabled <> 'D' \
         AND tgrelid = ANY (ARRAY[{oids}]);\n\
         DO $rythm$ DECLARE r record; BEGIN\n\
         FOR r IN SELECT * FROM pg_temp.rythm_triggers LOOP\n\
         EXECUTE pg_catalog.format('ALTER TABLE %s DISABLE TRIGGER %I', r.tgrelid::pg_catalog.regclass, r.tgname);\n\
         END LOOP; END $rythm$;\n"
    )
}

/// Switches the triggers of `triggers_off` on again, each in its former mode.
pub(super) fn triggers_on(any: bool) -> &'static str {
    if !any {
        return "";
    }
    "DO $rythm$ DECLARE r record; BEGIN\n\
     FOR r IN SELECT * FROM pg_temp.rythm_triggers LOOP\n\
     EXECUTE pg_catalog.format('ALTER TABLE %s ENABLE %s TRIGGER %I', r.tgrelid::pg_catalog.regclass,\n\
     CASE r.tgenabled WHEN 'A' THEN 'ALWAYS' WHEN 'R' THEN 'REPLICA' ELSE '' END, r.tgname);\n\
     END LOOP; END $rythm$;\n"
}

pub(super) fn refresh(views: &[TableName]) -> String {
    views
        .iter()
        .map(|v| format!("REFRESH MATERIALIZED VIEW {};\n", v.sql()))
        .collect()
}

/// Prints the counts, and the rows of other tables the transaction changed (cascades,
/// triggers), as `count`/`other` rows for the report.
pub(super) fn report(restored: &[TableName]) -> String {
    let restored = list(
        restored
            .iter()
            .map(|t| format!("{}::pg_catalog.regclass", quote_literal(&t.sql()))),
    );
    let not_restored = if restored.is_empty() {
        String::new()
    } else {
        format!(" AND s.relid <> ALL (ARRAY[{restored}])")
    };
    format!(
        "SELECT 'count', idx, what, n, COALESCE(detail, '') FROM pg_temp.rythm_counts ORDER BY idx, what;\n\
         SELECT 'other', s.schemaname, s.relname, s.n_tup_ins - COALESCE(z.n_tup_ins, 0),\n\
           s.n_tup_upd - COALESCE(z.n_tup_upd, 0), s.n_tup_del - COALESCE(z.n_tup_del, 0)\n\
         FROM pg_catalog.pg_stat_xact_user_tables s LEFT JOIN pg_temp.rythm_stat0 z USING (relid)\n\
         WHERE s.schemaname !~ '^pg_(temp|toast)'{not_restored}\n\
           AND (s.n_tup_ins, s.n_tup_upd, s.n_tup_del) IS DISTINCT FROM (z.n_tup_ins, z.n_tup_upd, z.n_tup_del);\n"
    )
}

/// A new schema, and an empty copy of each table in it.
pub(super) fn create_copies(schema: &str, copies: &[CopyPlan]) -> String {
    let mut sql = format!("CREATE SCHEMA {};\n", quote_ident(schema));
    for copy in copies {
        let columns = list(
            copy.columns
                .iter()
                .map(|c| format!("{} {}", quote_ident(&c.name), c.type_name)),
        );
        sql.push_str(&format!("CREATE TABLE {} ({columns});\n", copy.copy.sql()));
    }
    sql
}

pub(super) fn copy_in(copy: &CopyPlan) -> String {
    format!(
        "COPY {} ({}) FROM STDIN;\n",
        copy.copy.sql(),
        list(copy.columns.iter().map(|c| quote_ident(&c.name)))
    )
}

pub(super) fn copied(i: usize, copy: &CopyPlan) -> String {
    format!(
        "INSERT INTO pg_temp.rythm_counts SELECT {i}, 'inserted', pg_catalog.count(*), NULL FROM {};\n",
        copy.copy.sql()
    )
}

#[cfg(test)]
mod tests;
