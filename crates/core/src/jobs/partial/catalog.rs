//! What a partial restore needs to know of a database, read from its catalog in one query
//! (as JSON): the ordinary and partitioned tables with their columns, primary keys and
//! row-level security, the foreign keys between them, the sequences they own, the
//! materialized views built on them, and the role we work as. Read from both the target
//! and the scratch database the backup was restored into.

use serde::Deserialize;

use super::request::TableName;
use crate::error::{Error, Result};
use crate::pg::SqlClient;

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub(crate) struct Column {
    pub name: String,
    /// `format_type`, schema-qualified (e.g. `public.citext`, `app.mood[]`, `integer`).
    #[serde(rename = "type")]
    pub type_name: String,
    /// A stored generated column (never written).
    pub generated: bool,
    /// `a` GENERATED ALWAYS AS IDENTITY, `d` BY DEFAULT, empty otherwise.
    pub identity: String,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub(crate) struct Table {
    pub schema: String,
    pub name: String,
    /// `r` ordinary, `p` partitioned.
    pub kind: String,
    pub owner: String,
    /// The role we work as owns the table (or is a member of its owner).
    pub owned: bool,
    pub rls: bool,
    pub force_rls: bool,
    pub columns: Vec<Column>,
    pub primary_key: Option<Vec<String>>,
    /// User triggers that are enabled.
    pub triggers: u32,
}

impl Table {
    pub fn table_name(&self) -> TableName {
        TableName::new(&self.schema, &self.name)
    }

    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub(crate) struct ForeignKey {
    pub schema: String,
    pub name: String,
    pub deferrable: bool,
    pub child_schema: String,
    pub child_table: String,
    pub child_columns: Vec<String>,
    pub parent_schema: String,
    pub parent_table: String,
    pub parent_columns: Vec<String>,
    /// `ON DELETE`: `a` no action, `r` restrict, `c` cascade, `n` set null, `d` set default.
    #[serde(default = "no_action")]
    pub on_delete: String,
}

fn no_action() -> String {
    "a".to_owned()
}

impl ForeignKey {
    /// Deleting a parent row changes child rows (deletes or updates them) instead of failing.
    pub fn acts_on_delete(&self) -> bool {
        matches!(self.on_delete.as_str(), "c" | "n" | "d")
    }

    pub fn child(&self) -> TableName {
        TableName::new(&self.child_schema, &self.child_table)
    }

    pub fn parent(&self) -> TableName {
        TableName::new(&self.parent_schema, &self.parent_table)
    }
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub(crate) struct OwnedSequence {
    pub table_schema: String,
    pub table_name: String,
    pub column: String,
    pub schema: String,
    pub name: String,
    /// None when the sequence was never used (or cannot be read).
    pub last_value: Option<i64>,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub(crate) struct MaterializedView {
    pub schema: String,
    pub name: String,
    pub owned: bool,
    /// The tables it is built on.
    pub tables: Vec<TableName>,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub(crate) struct Role {
    pub name: String,
    pub superuser: bool,
    pub bypass_rls: bool,
}

/// One database's catalog, as far as a partial restore cares.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub(crate) struct Catalog {
    pub tables: Vec<Table>,
    pub foreign_keys: Vec<ForeignKey>,
    pub sequences: Vec<OwnedSequence>,
    pub materialized_views: Vec<MaterializedView>,
    pub role: Role,
}

impl Catalog {
    pub fn table(&self, name: &TableName) -> Option<&Table> {
        self.tables
            .iter()
            .find(|t| t.schema == name.schema && t.name == name.name)
    }

    pub fn read(sql: &SqlClient) -> Result<Catalog> {
        let json = sql.query_value(CATALOG_SQL, "the catalog")?;
        serde_json::from_str(&json).map_err(|e| {
            Error::Internal(format!(
                "cannot read the catalog of {}: {e}",
                sql.target().describe()
            ))
        })
    }
}

/// Tables outside PostgreSQL's own schemas and not part of an extension; partitions are
/// reached through their partitioned table.
const CATALOG_SQL: &str = r#"
SET search_path = '';
WITH tables AS (
  SELECT c.oid, n.nspname, c.relname, c.relkind, c.relowner, c.relrowsecurity,
         c.relforcerowsecurity
  FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
  WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
    AND n.nspname NOT IN ('pg_catalog', 'information_schema')
    AND n.nspname !~ '^pg_(toast|temp_|toast_temp_)'
    AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                    WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
                      AND d.objid = c.oid AND d.deptype = 'e')
)
SELECT pg_catalog.json_build_object(
  'tables', COALESCE((SELECT pg_catalog.json_agg(pg_catalog.json_build_object(
      'schema', t.nspname, 'name', t.relname, 'kind', t.relkind::text,
      'owner', pg_catalog.pg_get_userbyid(t.relowner),
      'owned', pg_catalog.pg_has_role(t.relowner, 'USAGE'),
      'rls', t.relrowsecurity, 'force_rls', t.relforcerowsecurity,
      'columns', COALESCE((SELECT pg_catalog.json_agg(pg_catalog.json_build_object(
            'name', a.attname, 'type', pg_catalog.format_type(a.atttypid, a.atttypmod),
            'generated', a.attgenerated <> '', 'identity', a.attidentity::text)
            ORDER BY a.attnum)
          FROM pg_catalog.pg_attribute a
          WHERE a.attrelid = t.oid AND a.attnum > 0 AND NOT a.attisdropped), '[]'),
      'primary_key', (SELECT pg_catalog.json_agg(a.attname ORDER BY k.n)
          FROM pg_catalog.pg_index i
          CROSS JOIN LATERAL pg_catalog.unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, n)
          JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
          WHERE i.indrelid = t.oid AND i.indisprimary),
      'triggers', (SELECT pg_catalog.count(*) FROM pg_catalog.pg_trigger g
          WHERE g.tgrelid = t.oid AND NOT g.tgisinternal AND g.tgenabled <> 'D'))
      ORDER BY t.nspname, t.relname) FROM tables t), '[]'),
  'foreign_keys', COALESCE((SELECT pg_catalog.json_agg(pg_catalog.json_build_object(
      'schema', cn.nspname, 'name', con.conname, 'deferrable', con.condeferrable,
      'on_delete', con.confdeltype::text,
      'child_schema', cn.nspname, 'child_table', cc.relname,
      'child_columns', (SELECT pg_catalog.json_agg(a.attname ORDER BY k.n)
          FROM pg_catalog.unnest(con.conkey) WITH ORDINALITY AS k(attnum, n)
          JOIN pg_catalog.pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum),
      'parent_schema', pn.nspname, 'parent_table', pc.relname,
      'parent_columns', (SELECT pg_catalog.json_agg(a.attname ORDER BY k.n)
          FROM pg_catalog.unnest(con.confkey) WITH ORDINALITY AS k(attnum, n)
          JOIN pg_catalog.pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum))
      ORDER BY cn.nspname, con.conname)
    FROM pg_catalog.pg_constraint con
    JOIN pg_catalog.pg_class cc ON cc.oid = con.conrelid
    JOIN pg_catalog.pg_namespace cn ON cn.oid = cc.relnamespace
    JOIN pg_catalog.pg_class pc ON pc.oid = con.confrelid
    JOIN pg_catalog.pg_namespace pn ON pn.oid = pc.relnamespace
    WHERE con.contype = 'f' AND con.conparentid = 0 AND NOT cc.relispartition), '[]'),
  'sequences', COALESCE((SELECT pg_catalog.json_agg(pg_catalog.json_build_object(
      'table_schema', tn.nspname, 'table_name', t.relname, 'column', a.attname,
      'schema', sn.nspname, 'name', s.relname, 'last_value', ps.last_value))
    FROM pg_catalog.pg_depend d
    JOIN pg_catalog.pg_class s ON s.oid = d.objid AND s.relkind = 'S'
    JOIN pg_catalog.pg_namespace sn ON sn.oid = s.relnamespace
    JOIN pg_catalog.pg_class t ON t.oid = d.refobjid
    JOIN pg_catalog.pg_namespace tn ON tn.oid = t.relnamespace
    JOIN pg_catalog.pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid
    LEFT JOIN pg_catalog.pg_sequences ps ON ps.schemaname = sn.nspname
                                        AND ps.sequencename = s.relname
    WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass
      AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass
      AND d.deptype IN ('a', 'i')), '[]'),
  'materialized_views', COALESCE((SELECT pg_catalog.json_agg(pg_catalog.json_build_object(
      'schema', mn.nspname, 'name', mv.relname,
      'owned', pg_catalog.pg_has_role(mv.relowner, 'USAGE'),
      'tables', COALESCE((SELECT pg_catalog.json_agg(DISTINCT pg_catalog.jsonb_build_object(
            'schema', dn.nspname, 'name', dc.relname))
          FROM pg_catalog.pg_rewrite r
          JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass
               AND d.objid = r.oid
               AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass
          JOIN pg_catalog.pg_class dc ON dc.oid = d.refobjid AND dc.relkind IN ('r', 'p')
          JOIN pg_catalog.pg_namespace dn ON dn.oid = dc.relnamespace
          WHERE r.ev_class = mv.oid), '[]')))
    FROM pg_catalog.pg_class mv JOIN pg_catalog.pg_namespace mn ON mn.oid = mv.relnamespace
    WHERE mv.relkind = 'm'), '[]'),
  'role', (SELECT pg_catalog.json_build_object('name', rolname, 'superuser', rolsuper,
      'bypass_rls', rolbypassrls)
    FROM pg_catalog.pg_roles WHERE rolname = current_user))
"#;
