//! The API client against a stand-in of the RYTHM platform's backup API (the
//! `rythm-platform-standin` crate; where the two differ, our server's behaviour): sign-in and
//! token handling, every backup endpoint, and the peer's quirks (filename/timestamp,
//! relative URLs, 500 for a missing backup, 400 for a non-.sql name, downloads without
//! Range); `platform` covers what its real API does that our client must make up for.

mod downloads;
mod platform;

use std::path::Path;
use std::time::Duration;

use rythm_backup_core::api::wire::ScheduleUpdate;
use rythm_backup_core::api::{ApiClient, ApiClientOptions};
use rythm_backup_core::backups::{Backups, Mode};
use rythm_backup_core::engine::RestoreOptions;
use rythm_backup_core::jobs::download::part_path;
use rythm_backup_core::secrets::Sensitive;
use rythm_backup_core::{
    BackupKind, BackupName, Cancel, Compression, DumpFormat, ErrorCode, JobEvent, Progress,
};
use sha2::{Digest, Sha256};
use time::macros::datetime;
use time::OffsetDateTime;

use rythm_platform_standin as peer;

use peer::{token, Peer, ADMIN_EMAIL, ADMIN_PASSWORD, SECRET, USER_EMAIL, USER_PASSWORD};

const OLDER: &str = "rythm-backup-2026-01-15T10-30-00-851Z.sql";
const NEWER: &str = "rythm-backup-2026-01-16T02-00-00-000Z.sql";

fn name(raw: &str) -> BackupName {
    BackupName::parse(raw).unwrap()
}

fn password(p: &str) -> Sensitive<String> {
    Sensitive::new(p.to_owned())
}

fn client(peer: &Peer) -> ApiClient {
    let options = ApiClientOptions {
        retry_delay: Duration::from_millis(10),
        idle_timeout: Duration::from_secs(10),
        ..ApiClientOptions::default()
    };
    ApiClient::with_options(&peer.url, options).unwrap()
}

async fn signed_in(peer: &Peer) -> ApiClient {
    let c = client(peer);
    c.login(ADMIN_EMAIL, &password(ADMIN_PASSWORD))
        .await
        .unwrap();
    c
}

fn confirm(db: &str) -> RestoreOptions {
    RestoreOptions {
        confirm: db.into(),
        ..RestoreOptions::default()
    }
}

fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn stored(peer: &Peer, raw: &str) -> Vec<u8> {
    peer.with(|s| s.backups[raw].bytes.clone())
}

#[tokio::test]
async fn login_keeps_the_token_and_reads_role_and_expiry() {
    let peer = Peer::start().await;
    let c = client(&peer);
    let info = c
        .login(ADMIN_EMAIL, &password(ADMIN_PASSWORD))
        .await
        .unwrap();
    assert_eq!(info.role.as_deref(), Some("system_admin"));
    assert_eq!(info.email.as_deref(), Some(ADMIN_EMAIL));
    let in_a_week = OffsetDateTime::now_utc() + time::Duration::days(7);
    let exp = info.expires_at.expect("the peer's tokens expire");
    assert!((exp - in_a_week).whole_seconds().abs() < 60, "{exp}");
    assert_eq!(c.token_info(), Some(info));
    assert!(c.token().is_some());
    let description = c.describe();
    assert_eq!(description.mode, Mode::Api);
    assert_eq!(description.location, peer.url);
    assert_eq!(description.signed_in_as.as_deref(), Some(ADMIN_EMAIL));
    // The token travels as a bearer token.
    assert_eq!(c.list().await.unwrap().len(), 2);
}

#[tokio::test]
async fn login_errors_are_clear() {
    let peer = Peer::start().await;
    let c = client(&peer);
    let wrong = c.login(ADMIN_EMAIL, &password("nope")).await.unwrap_err();
    assert_eq!(wrong.code(), ErrorCode::AuthRequired, "{wrong}");
    assert!(wrong.to_string().contains("email or password"), "{wrong}");
    assert!(wrong.to_string().contains("Invalid credentials"), "{wrong}");
    let missing = c.login(ADMIN_EMAIL, &password("")).await.unwrap_err();
    assert_eq!(missing.code(), ErrorCode::InvalidInput, "{missing}");
    assert!(
        missing.to_string().contains("Missing required fields"),
        "{missing}"
    );
    assert!(c.token().is_none());
}

#[tokio::test]
async fn non_admin_accounts_are_refused_early() {
    let peer = Peer::start().await;
    let c = client(&peer);
    let refused = c
        .login(USER_EMAIL, &password(USER_PASSWORD))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), ErrorCode::NotAdmin, "{refused}");
    assert!(
        refused
            .to_string()
            .contains("this account is not a system admin"),
        "{refused}"
    );
    assert!(c.token().is_none(), "a non-admin token is not kept");
    let user_token = token(SECRET, "tenant_admin", USER_EMAIL, 3600);
    let refused = c.set_token(Sensitive::new(user_token)).unwrap_err();
    assert_eq!(refused.code(), ErrorCode::NotAdmin);
    assert_eq!(c.list().await.unwrap_err().code(), ErrorCode::AuthRequired);
    assert!(
        peer.backup_requests().is_empty(),
        "nothing reached the backup routes"
    );
}

#[tokio::test]
async fn an_expired_token_asks_for_a_new_sign_in_before_any_request() {
    let peer = Peer::start().await;
    let c = client(&peer);
    let expired = token(SECRET, "system_admin", ADMIN_EMAIL, -3600);
    let info = c.set_token(Sensitive::new(expired)).unwrap();
    assert!(info.is_expired(OffsetDateTime::now_utc()));
    let error = c.list().await.unwrap_err();
    assert_eq!(error.code(), ErrorCode::AuthRequired, "{error}");
    assert!(error.to_string().contains("expired"), "{error}");
    let error = c
        .create(&Progress::none(), &Cancel::new())
        .await
        .unwrap_err();
    assert_eq!(error.code(), ErrorCode::AuthRequired);
    assert!(
        peer.backup_requests().is_empty(),
        "an expired token is never sent"
    );
}

#[tokio::test]
async fn a_token_the_server_refuses_means_sign_in_again() {
    let peer = Peer::start().await;
    let c = client(&peer);
    // Valid in form and time, signed with another secret: the peer answers 403.
    let forged = token(
        b"another-secret-another-secret-1234",
        "system_admin",
        ADMIN_EMAIL,
        3600,
    );
    c.set_token(Sensitive::new(forged)).unwrap();
    let error = c.list().await.unwrap_err();
    assert_eq!(error.code(), ErrorCode::AuthRequired, "{error}");
    assert!(
        error.to_string().contains("Invalid or expired token"),
        "{error}"
    );
    // The refused token is dropped: the next call does not send it again.
    let sent = || {
        peer.backup_requests()
            .iter()
            .filter(|r| r.path == "/api/backups")
            .count()
    };
    assert_eq!(sent(), 1);
    assert_eq!(c.list().await.unwrap_err().code(), ErrorCode::AuthRequired);
    assert_eq!(sent(), 1);
}

#[tokio::test]
async fn create_returns_the_name_from_filename() {
    let peer = Peer::start().await;
    let c = signed_in(&peer).await;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let before = OffsetDateTime::now_utc();
    let created = c.create(&Progress::new(tx), &Cancel::new()).await.unwrap();
    assert!(
        created.name.as_str().starts_with("rythm-backup-"),
        "{}",
        created.name
    );
    assert!(peer.with(|s| s.backups.contains_key(created.name.as_str())));
    assert_eq!(
        (created.format, created.compression),
        (DumpFormat::Plain, Compression::None)
    );
    assert_eq!(created.kind, BackupKind::Manual);
    assert_eq!(created.database.as_deref(), Some("rythm"));
    assert_eq!(
        created.message.as_deref(),
        Some("Backup created successfully")
    );
    assert!((created.created_at - before).whole_seconds().abs() < 5);
    assert!(created.sha256.is_none());
    assert!(matches!(rx.try_recv(), Ok(JobEvent::PhaseStarted { .. })));
    assert_eq!(
        c.list().await.unwrap()[0].name,
        created.name,
        "the newest is listed first"
    );
}

#[tokio::test]
async fn list_builds_entries_from_the_peers_fields() {
    let peer = Peer::start().await;
    let c = signed_in(&peer).await;
    let entries = c.list().await.unwrap();
    let names: Vec<&str> = entries.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, [NEWER, OLDER]);
    let older = &entries[1];
    assert_eq!(older.created_at, datetime!(2026-01-15 10:30:00.851 UTC));
    assert_eq!(
        (older.format, older.compression),
        (DumpFormat::Plain, Compression::None)
    );
    assert_eq!(older.kind, BackupKind::Manual);
    assert_eq!(older.size, stored(&peer, OLDER).len() as u64);
    assert_eq!(older.created_by.as_deref(), Some(ADMIN_EMAIL));
    assert_eq!(older.duration_ms, Some(1500));
    assert!(
        !older.legacy,
        "the platform's own backups are not legacy ones of ours"
    );
    assert_eq!(older.sha256, None);
    assert_eq!(
        older.expires_at,
        older.created_at + time::Duration::days(30),
        "the platform's retention, from its schedule config"
    );
    assert_eq!(older.status.as_deref(), Some("completed"));
    assert_eq!(entries[0].kind, BackupKind::Scheduled);
}

#[tokio::test]
async fn restore_and_delete_answer_ok() {
    let peer = Peer::start().await;
    let c = signed_in(&peer).await;
    // The platform has not named its database yet: the backup's name confirms.
    let summary = c
        .restore(
            &name(OLDER),
            confirm(OLDER),
            &Progress::none(),
            &Cancel::new(),
        )
        .await
        .unwrap();
    assert_eq!(summary.name.as_str(), OLDER);
    assert_eq!(
        summary.message.as_deref(),
        Some(format!("Database restored successfully from {OLDER}").as_str())
    );
    assert_eq!(summary.safety_backup, None);
    let restore = peer.backup_requests().pop().unwrap();
    assert_eq!(restore.path, format!("/api/backups/{OLDER}/restore"));
    c.delete(&name(OLDER)).await.unwrap();
    assert!(!peer.with(|s| s.backups.contains_key(OLDER)));
    assert_eq!(c.list().await.unwrap().len(), 1);
}

#[tokio::test]
async fn restore_options_of_direct_mode_are_refused() {
    let peer = Peer::start().await;
    let c = signed_in(&peer).await;
    let create = RestoreOptions {
        create: true,
        ..confirm("rythm")
    };
    let error = c
        .restore(&name(OLDER), create, &Progress::none(), &Cancel::new())
        .await;
    assert_eq!(error.unwrap_err().code(), ErrorCode::Unsupported);
    let error = c
        .restore(
            &name(OLDER),
            confirm(" "),
            &Progress::none(),
            &Cancel::new(),
        )
        .await;
    assert_eq!(error.unwrap_err().code(), ErrorCode::ConfirmationMismatch);
    assert!(peer
        .backup_requests()
        .iter()
        .all(|r| !r.path.ends_with("/restore")));
}

#[tokio::test]
async fn a_missing_backup_is_not_found_despite_the_peers_500() {
    let peer = Peer::start().await;
    let c = signed_in(&peer).await;
    let missing = name("rythm-backup-2020-01-01T00-00-00-000Z.sql");
    // The list tells that the backup is missing before anything is restored.
    let error = c
        .restore(
            &missing,
            confirm(missing.as_str()),
            &Progress::none(),
            &Cancel::new(),
        )
        .await;
    let error = error.unwrap_err();
    assert_eq!(error.code(), ErrorCode::NotFound, "{error}");
    assert!(error.to_string().contains(missing.as_str()), "{error}");
    assert!(
        peer.backup_requests()
            .iter()
            .all(|r| !r.path.ends_with("/restore")),
        "nothing was sent to restore"
    );
    // Azure's raw "The specified blob does not exist. RequestId:… Time:…" becomes words.
    let error = c.delete(&missing).await.unwrap_err();
    assert_eq!(error.code(), ErrorCode::NotFound, "{error}");
    let text = error.to_string();
    assert!(
        text.contains(&format!("backup {missing} does not exist")),
        "{text}"
    );
    assert!(
        !text.contains("RequestId") && !text.contains("Time:"),
        "{text}"
    );
    let dir = tempfile::tempdir().unwrap();
    let error = c
        .download(
            &missing,
            dir.path().join("x.sql"),
            false,
            &Progress::none(),
            &Cancel::new(),
        )
        .await
        .unwrap_err();
    assert_eq!(error.code(), ErrorCode::NotFound, "{error}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[tokio::test]
async fn a_server_failure_on_an_existing_backup_stays_a_clear_server_error() {
    let peer = Peer::start().await;
    peer.with(|s| s.restore_failure = Some("psql: FATAL: database \"rythm\" is locked".into()));
    let c = signed_in(&peer).await;
    let error = c
        .restore(
            &name(OLDER),
            confirm(OLDER),
            &Progress::none(),
            &Cancel::new(),
        )
        .await
        .unwrap_err();
    assert_eq!(error.code(), ErrorCode::Internal, "{error}");
    let text = error.to_string();
    assert!(text.contains("500") && text.contains("is locked"), "{text}");
}

#[tokio::test]
async fn names_other_than_sql_get_the_peers_400() {
    let peer = Peer::start().await;
    let c = signed_in(&peer).await;
    let zst = name("rythm-backup-2026-01-15T10-30-00-851Z.sql.zst");
    // The platform lists no such name, so a restore of it is refused before it is sent.
    let error = c
        .restore(
            &zst,
            confirm(zst.as_str()),
            &Progress::none(),
            &Cancel::new(),
        )
        .await;
    assert_eq!(error.unwrap_err().code(), ErrorCode::NotFound);
    let error = c.delete(&zst).await.unwrap_err();
    assert_eq!(error.code(), ErrorCode::InvalidInput, "{error}");
    assert!(
        error.to_string().contains("Invalid backup filename"),
        "{error}"
    );
}

#[tokio::test]
async fn the_schedule_round_trips() {
    let peer = Peer::start().await;
    let c = signed_in(&peer).await;
    let schedule = c.schedule().await.unwrap();
    assert!(schedule.enabled);
    assert_eq!(schedule.schedule_time, "02:00:00");
    assert_eq!(schedule.retention_days, 30);
    let update = ScheduleUpdate {
        enabled: false,
        schedule_time: Some("03:30:00".into()),
        retention_days: Some(14),
        verify_after_backup: None,
    };
    let changed = c.set_schedule(&update).await.unwrap();
    assert!(!changed.enabled);
    assert_eq!(changed.schedule_time, "03:30:00");
    assert_eq!(changed.retention_days, 14);
    assert_eq!(c.schedule().await.unwrap(), changed);
    let put = peer
        .backup_requests()
        .into_iter()
        .find(|r| r.method == "PUT")
        .unwrap();
    assert_eq!(
        put.body,
        serde_json::json!({"enabled": false, "schedule_time": "03:30:00", "retention_days": 14})
    );
    let puts = || {
        peer.backup_requests()
            .iter()
            .filter(|r| r.method == "PUT")
            .count()
    };
    let bad = ScheduleUpdate {
        retention_days: Some(200),
        ..update
    };
    let error = c.set_schedule(&bad).await.unwrap_err();
    assert_eq!(error.code(), ErrorCode::InvalidInput, "{error}");
    assert!(error.to_string().contains("1 to 90 days"), "{error}");
    assert_eq!(puts(), 1, "refused before any request");
}

#[tokio::test]
async fn the_environment_signs_in_per_run() {
    let peer = Peer::start().await;
    let env = |pairs: Vec<(&'static str, String)>| {
        move |key: &str| {
            pairs
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| v.clone())
        }
    };
    let by_password = ApiClient::from_lookup(env(vec![
        ("BACKUP_API_URL", peer.url.clone()),
        ("BACKUP_API_EMAIL", ADMIN_EMAIL.into()),
        ("BACKUP_API_PASSWORD", ADMIN_PASSWORD.into()),
    ]))
    .await
    .unwrap()
    .expect("configured");
    assert_eq!(by_password.list().await.unwrap().len(), 2);
    let token = by_password.token().unwrap().expose().clone();
    let debug = format!("{by_password:?}");
    assert!(
        !debug.contains(&token) && !debug.contains(ADMIN_PASSWORD),
        "{debug}"
    );
    assert!(debug.contains(ADMIN_EMAIL), "{debug}");
    let by_token = ApiClient::from_lookup(env(vec![
        ("BACKUP_API_URL", peer.url.clone()),
        ("BACKUP_API_TOKEN", token),
    ]))
    .await
    .unwrap()
    .unwrap();
    assert_eq!(by_token.list().await.unwrap().len(), 2);
    let wrong = ApiClient::from_lookup(env(vec![
        ("BACKUP_API_URL", peer.url.clone()),
        ("BACKUP_API_EMAIL", ADMIN_EMAIL.into()),
        ("BACKUP_API_PASSWORD", "wrong".into()),
    ]))
    .await
    .unwrap_err();
    assert_eq!(wrong.code(), ErrorCode::AuthRequired);
    assert!(!wrong.to_string().contains("wrong"), "{wrong}");
}
