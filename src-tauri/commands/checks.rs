//! "Test connection": checks both ends of a profile and reports each. Direct mode: the
//! database (reachable, its version), the PostgreSQL client tools (found, new enough for
//! that server), the store (listable), and for Azure whether the container is the RYTHM
//! platform's too (its backups in it, its `backup_history` table in the database) and the
//! profile says so. API mode: the server (answers), the sign-in (stored, current,
//! accepted), the role (system_admin).

use std::time::Duration;

use rythm_backup_core::api::ApiClient;
use rythm_backup_core::pg::{PgError, PgTools, Server, ToolError};
use rythm_backup_core::profile::{Profile, ProfileMode, Profiles, StorageSettings};
use rythm_backup_core::secrets::SecretKind;
use serde::Serialize;
use time::OffsetDateTime;
use ts_rs::TS;

/// One check's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct Check {
    pub id: CheckId,
    pub label: String,
    pub ok: bool,
    pub detail: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum CheckId {
    Database,
    PgTools,
    Storage,
    Server,
    SignIn,
    Role,
    /// Direct mode with Azure: the container is (or is not) shared with the RYTHM platform,
    /// as the profile says.
    Platform,
}

fn check(id: CheckId, label: &str, result: Result<String, String>) -> Check {
    let (ok, detail) = match result {
        Ok(detail) => (true, detail),
        Err(detail) => (false, detail),
    };
    Check {
        id,
        label: label.to_owned(),
        ok,
        detail,
    }
}

pub async fn direct(profiles: &Profiles, profile: &Profile) -> Vec<Check> {
    let ProfileMode::Direct { database, .. } = &profile.mode else {
        return Vec::new();
    };
    let (profiles_c, name, settings) = (profiles.clone(), profile.name.clone(), database.clone());
    let probed = tauri::async_runtime::spawn_blocking(move || {
        let password = profiles_c.keychain().load(&name, SecretKind::DbPassword)?;
        let target = settings.target(password.as_ref())?;
        Ok::<_, rythm_backup_core::Error>((target.describe(), Server::probe(&target)))
    })
    .await;
    let (database, tools) = match probed {
        Ok(Ok((at, Ok(server)))) => (
            Ok(format!("PostgreSQL {} at {at}", server.version)),
            Ok(format!(
                "pg_dump {} in {}",
                server.tools.version(),
                server.tools.dir().display()
            )),
        ),
        Ok(Ok((at, Err(PgError::Tool(error @ ToolError::TooOld { server_major, .. }))))) => (
            Ok(format!("PostgreSQL {server_major} at {at}")),
            Err(error.to_string()),
        ),
        Ok(Ok((_, Err(error @ PgError::Tool(ToolError::NotFound { .. }))))) => (
            Err("not checked: psql, which reaches the database, was not found".into()),
            Err(error.to_string()),
        ),
        Ok(Ok((_, Err(error)))) => (Err(error.to_string()), tools_unmatched()),
        Ok(Err(error)) => (Err(error.to_string()), tools_unmatched()),
        Err(error) => (Err(error.to_string()), tools_unmatched()),
    };
    let storage = match profiles.open(&profile.name).await {
        Ok(backups) => match backups.list().await {
            Ok(list) => Ok(format!(
                "{} backup(s) in {}",
                list.len(),
                backups.describe().location
            )),
            Err(error) => Err(error.to_string()),
        },
        Err(error) => Err(error.to_string()),
    };
    let mut checks = vec![
        check(CheckId::Database, "Database reachable", database),
        check(
            CheckId::PgTools,
            "PostgreSQL client tools match the server",
            tools,
        ),
        check(CheckId::Storage, "Backup storage reachable", storage),
    ];
    if let ProfileMode::Direct {
        storage: storage @ StorageSettings::Azure { .. },
        ..
    } = &profile.mode
    {
        let shared = storage.shared_with_platform();
        let result = platform(profiles, &profile.name, shared).await;
        checks.push(check(
            CheckId::Platform,
            "Sharing with the RYTHM platform",
            result,
        ));
    }
    checks
}

/// Whether the container looks like the RYTHM platform's too, and the profile agrees.
async fn platform(profiles: &Profiles, name: &str, shared: bool) -> Result<String, String> {
    let backups = profiles.open(name).await.map_err(|e| e.to_string())?;
    let engine = backups
        .as_engine()
        .ok_or("not checked: this profile uses a backup server")?;
    let signs = engine
        .platform_signs()
        .await
        .map_err(|e| format!("not checked: {e}"))?;
    let found = signs.describe();
    match (shared, signs.any()) {
        (true, true) => Ok(format!(
            "shared, as the profile says ({found}): backups are plain .sql that the \
             platform's admin page lists and restores"
        )),
        (true, false) => Ok(
            "the profile says shared (no sign of the platform found yet): backups are plain \
             .sql that its admin page lists and restores"
                .into(),
        ),
        (false, true) => Err(format!(
            "this container looks shared with the RYTHM platform ({found}), but the profile's \
             backups are compressed and will not appear in its admin page: edit the profile \
             and tick “Shared with the RYTHM platform”"
        )),
        (false, false) => Ok(
            "no sign of the RYTHM platform; this profile's compressed backups would not \
             appear in its admin page"
                .into(),
        ),
    }
}

/// The tools when the server could not be asked for its version.
fn tools_unmatched() -> Result<String, String> {
    match PgTools::newest() {
        Ok(tools) => Err(format!(
            "pg_dump {} found in {}, but not matched to the server, which was not reached",
            tools.version(),
            tools.dir().display()
        )),
        Err(error) => Err(error.to_string()),
    }
}

pub async fn api(profiles: &Profiles, name: &str, base_url: &str) -> Vec<Check> {
    let server = server_answers(base_url).await;
    let (profiles_c, key) = (profiles.clone(), name.to_owned());
    let session = tauri::async_runtime::spawn_blocking(move || profiles_c.session(&key)).await;
    let session = match session {
        Ok(Ok(session)) => Ok(session),
        Ok(Err(error)) => Err(error.to_string()),
        Err(error) => Err(error.to_string()),
    };
    let now = OffsetDateTime::now_utc();
    let sign_in = match &session {
        Err(error) => Err(error.clone()),
        Ok(None) => Err("not signed in: sign in with this account's password".into()),
        Ok(Some(info)) if info.is_expired(now) => {
            Err("the sign-in has expired: sign in again".into())
        }
        Ok(Some(info)) => match accepted(profiles, name).await {
            Ok(count) => Ok(format!(
                "signed in as {}; the server lists {count} backup(s)",
                info.email.as_deref().unwrap_or("?")
            )),
            Err(error) => Err(error),
        },
    };
    let role = match &session {
        Ok(Some(info)) if info.is_admin() => Ok("system_admin".to_owned()),
        Ok(Some(info)) => Err(format!(
            "the account's role is {}; backups need system_admin",
            info.role.as_deref().unwrap_or("unknown")
        )),
        _ => Err("unknown until signed in".into()),
    };
    vec![
        check(CheckId::Server, "Backup server reachable", server),
        check(CheckId::SignIn, "Signed in", sign_in),
        check(CheckId::Role, "Account is a system admin", role),
    ]
}

/// Whether the server answers at all: a backup API refuses `GET /api/backups` without a
/// token (401), which is answer enough.
async fn server_answers(base_url: &str) -> Result<String, String> {
    let client = ApiClient::new(base_url).map_err(|e| e.to_string())?;
    let mut url = client.base_url().clone();
    url.path_segments_mut()
        .map_err(|()| "the address cannot have a path".to_owned())?
        .pop_if_empty()
        .extend(["api", "backups"]);
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .map_err(|e| e.to_string())?;
    match http.get(url).send().await {
        Ok(answer) => match answer.status().as_u16() {
            200 | 401 | 403 => Ok(format!("a backup API answers at {}", client.base_url())),
            status => Err(format!(
                "{} answered HTTP {status} for /api/backups: is this a RYTHM backup API?",
                client.base_url()
            )),
        },
        Err(error) => Err(format!("cannot reach {}: {error}", client.base_url())),
    }
}

/// Whether the server accepts the stored sign-in: lists the backups with it.
async fn accepted(profiles: &Profiles, name: &str) -> Result<usize, String> {
    let backups = profiles.open(name).await.map_err(|e| e.to_string())?;
    backups
        .list()
        .await
        .map(|l| l.len())
        .map_err(|e| e.to_string())
}
