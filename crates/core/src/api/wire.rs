//! The REST contract's JSON bodies, shared by our server and our client so the two cannot
//! drift. Field names are the RYTHM API's (camelCase, with its snake_case exceptions);
//! fields only our server sends are optional, so the peer's leaner answers parse too.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `POST /api/auth/login` body.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
}

/// `POST /api/auth/login` 200 answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LoginResponse {
    pub token: String,
    pub user: User,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct User {
    /// A number or a string, depending on the server.
    pub id: Value,
    pub email: String,
    pub role: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<Value>,
}

/// The claims of the HS256 token both servers issue.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Claims {
    pub user_id: Value,
    #[serde(default)]
    pub tenant_id: Option<Value>,
    pub role: String,
    pub email: String,
    pub iat: i64,
    pub exp: i64,
}

/// The role allowed to manage backups.
pub const ADMIN_ROLE: &str = "system_admin";

/// Every error answer: `{success:false, error}` (the auth middleware omits `success`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub success: Option<bool>,
    pub error: String,
    /// Our server's machine-readable code; absent from the peer's answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
}

/// `POST /api/backups` 201 answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateBackupResponse {
    pub success: bool,
    pub message: String,
    pub data: CreatedBackup,
}

/// The peer sends `filename`/`timestamp`; ours adds the list's `name`/`createdAt`/`url`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct CreatedBackup {
    pub filename: String,
    pub timestamp: String,
    pub size: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw_size: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
}

/// `GET /api/backups` 200 answer.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ListBackupsResponse {
    pub success: bool,
    pub data: Vec<ListedBackup>,
    pub count: usize,
}

/// One entry of the list: the peer's fields, then ours.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ListedBackup {
    pub name: String,
    pub size: u64,
    pub created_at: String,
    /// Relative (`/api/backups/NAME/download`) on both servers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// manual, scheduled or pre-restore.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(
        rename = "duration_seconds",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub duration_seconds: Option<f64>,
    #[serde(
        rename = "initiated_by",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub initiated_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compression: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw_size: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legacy: Option<bool>,
    /// Our server: the tables and rows counted in the dump's snapshot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub row_counts: Option<crate::catalog::RowCountSummary>,
    /// Our server: the last restore rehearsal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verification: Option<crate::catalog::Verification>,
}

/// `POST /api/backups/{name}/restore` body, which only our server reads: when present,
/// `confirm` must equal the target database's name.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct RestoreRequestBody {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confirm: Option<String>,
    /// Skip the safety backup (our server; default false).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub skip_safety_backup: bool,
    /// End other sessions on the database instead of answering 409 (our server; default
    /// false): the RYTHM application itself stays connected to its database.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub terminate_connections: bool,
    /// A partial restore: these tables only (`schema.table`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tables: Vec<String>,
    /// A partial restore: these tables whole (`schema.table`), beside a tenant's or a
    /// condition's rows of the others (a partial restore's roll back).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub whole_tables: Vec<String>,
    /// A partial restore: this tenant's rows only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    /// The tenant column (default `tenant_id`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_column: Option<String>,
    /// A partial restore: the rows of the tables that match this SQL condition.
    #[serde(rename = "where", default, skip_serializing_if = "Option::is_none")]
    pub where_sql: Option<String>,
    /// Copies into this new schema instead of replacing anything.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub into_schema: Option<String>,
    /// Report what a partial restore would change; change nothing.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub dry_run: bool,
    /// Delete rows of other tables that would reference removed rows, instead of failing.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub cascade_to_referencing: bool,
}

impl RestoreRequestBody {
    /// The partial restore's choice the body carries (`is_partial` says whether it asks for
    /// one; else it is a full restore).
    pub fn selection_text(&self) -> crate::jobs::partial::SelectionText {
        crate::jobs::partial::SelectionText {
            tables: self.tables.clone(),
            whole_tables: self.whole_tables.clone(),
            tenant: self.tenant.clone(),
            tenant_column: self.tenant_column.clone(),
            where_sql: self.where_sql.clone(),
            into_schema: self.into_schema.clone(),
            cascade_to_referencing: self.cascade_to_referencing,
            dry_run: self.dry_run,
        }
    }

    /// The body of a partial restore (with the confirmation and options set apart).
    pub fn partial(text: crate::jobs::partial::SelectionText) -> Self {
        RestoreRequestBody {
            tables: text.tables,
            whole_tables: text.whole_tables,
            tenant: text.tenant,
            tenant_column: text.tenant_column,
            where_sql: text.where_sql,
            into_schema: text.into_schema,
            dry_run: text.dry_run,
            cascade_to_referencing: text.cascade_to_referencing,
            ..RestoreRequestBody::default()
        }
    }
}

/// `POST /api/backups/{name}/verify` answer (our server): the rehearsal's report.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VerifyResponse {
    pub success: bool,
    pub message: String,
    pub data: crate::jobs::verify::VerifyOutcome,
}

/// Restore and delete answers.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ActionResponse {
    pub success: bool,
    pub message: String,
    pub filename: String,
    /// Our server, after a restore: the safety backup taken first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub safety_backup: Option<String>,
    /// Our server, after a restore: the role the backup's SQL ran as.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restored_as: Option<crate::pg::RoleInfo>,
    /// Our server, after a partial restore: what it did per table.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub partial: Option<crate::jobs::partial::PartialRestoreOutcome>,
}

/// `GET /api/backups/restore-role` (our server): the role its restores run as.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RoleResponse {
    pub success: bool,
    pub data: crate::pg::RoleInfo,
}

/// `GET /api/backups/{name}/contents` answer (our server).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ContentsResponse {
    pub success: bool,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub data: crate::catalog::contents::BackupContents,
}

/// The daily schedule (`GET`/`PUT /api/backups/schedule/config`), snake_case as the peer.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ScheduleConfig {
    #[serde(default)]
    #[cfg_attr(feature = "ts", ts(type = "number | string | null"))]
    pub schedule_id: Value,
    pub enabled: bool,
    /// `HH:MM:SS`, UTC.
    pub schedule_time: String,
    pub retention_days: u32,
    #[serde(default)]
    pub last_run_at: Option<String>,
    #[serde(default)]
    pub next_run_at: Option<String>,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub updated_at: Option<String>,
    /// Our server: rehearse a restore of each scheduled backup after it is taken (default
    /// true when a scratch server, VERIFY_DATABASE_URL, is configured).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verify_after_backup: Option<bool>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ScheduleResponse {
    pub success: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    pub data: ScheduleConfig,
}

/// `PUT /api/backups/schedule/config` body.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ScheduleUpdate {
    pub enabled: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention_days: Option<u32>,
    /// Our server: see `ScheduleConfig::verify_after_backup`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verify_after_backup: Option<bool>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_peers_answers() {
        let created: CreateBackupResponse = serde_json::from_str(
            r#"{"success":true,"message":"Backup created successfully","data":{"filename":"rythm-backup-2026-01-15T10-30-00-851Z.sql","timestamp":"2026-01-15T10:30:00.851Z","size":1048576,"databaseName":"rythm","status":"completed"}}"#,
        )
        .unwrap();
        assert_eq!(
            created.data.filename,
            "rythm-backup-2026-01-15T10-30-00-851Z.sql"
        );
        assert_eq!(created.data.name, None);
        let listed: ListBackupsResponse = serde_json::from_str(
            r#"{"success":true,"data":[{"name":"a.sql","size":1,"createdAt":"2026-01-15T10:30:00.851Z","url":"/api/backups/a.sql/download","type":"manual","status":"completed","duration_seconds":1.5,"initiated_by":"admin@x"}],"count":1}"#,
        )
        .unwrap();
        assert_eq!(listed.data[0].kind.as_deref(), Some("manual"));
        assert_eq!(listed.data[0].duration_seconds, Some(1.5));
        let claims: Claims = serde_json::from_str(
            r#"{"userId":"u1","tenantId":"t1","role":"system_admin","email":"a@b","iat":1,"exp":2}"#,
        )
        .unwrap();
        assert_eq!(claims.role, ADMIN_ROLE);
    }

    #[test]
    fn list_entries_keep_the_peers_snake_case_fields() {
        let entry = ListedBackup {
            name: "a.sql".into(),
            size: 1,
            created_at: "t".into(),
            url: None,
            kind: Some("scheduled".into()),
            status: None,
            duration_seconds: Some(2.0),
            initiated_by: Some("x".into()),
            format: None,
            compression: None,
            sha256: None,
            raw_size: None,
            database: None,
            expires_at: None,
            legacy: None,
            row_counts: None,
            verification: None,
        };
        let json = serde_json::to_value(&entry).unwrap();
        assert_eq!(json["createdAt"], "t");
        assert_eq!(json["type"], "scheduled");
        assert_eq!(json["duration_seconds"], 2.0);
        assert_eq!(json["initiated_by"], "x");
    }
}
