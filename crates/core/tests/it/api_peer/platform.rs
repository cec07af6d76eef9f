//! What the RYTHM platform's real API does that our client must make up for: each test
//! first shows the platform's behaviour with a raw request (so the stand-in is held to it),
//! then that the client does the right thing anyway. `HH:MM` is refused (the client sends
//! `HH:MM:SS`), a retention of 0 is ignored (the client refuses it), a restore checks no
//! confirmation (the client does) and takes no safety backup (the summary says so), the
//! retention is 30 days (from the schedule config), and `type: "unknown"` and `status`
//! are kept.

use rythm_backup_core::backups::{NoSafetyBackup, RestoreFeatures};
use rythm_backup_core::{BackupKind, BackupName};
use serde_json::{json, Value};

use super::*;

/// A request to the stand-in as a client that checks nothing would send it.
async fn raw(peer: &Peer, method: reqwest::Method, path: &str, body: Value) -> (u16, Value) {
    let token = token(SECRET, "system_admin", ADMIN_EMAIL, 3600);
    let answer = reqwest::Client::new()
        .request(method, format!("{}{path}", peer.url))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = answer.status().as_u16();
    (status, answer.json().await.unwrap_or(Value::Null))
}

fn puts(peer: &Peer) -> Vec<Value> {
    peer.backup_requests()
        .into_iter()
        .filter(|r| r.method == "PUT")
        .map(|r| r.body)
        .collect()
}

fn restores_sent(peer: &Peer) -> usize {
    peer.backup_requests()
        .iter()
        .filter(|r| r.path.ends_with("/restore"))
        .count()
}

#[tokio::test]
async fn the_platform_refuses_hh_mm_so_the_client_sends_hh_mm_ss() {
    let peer = Peer::start().await;
    let (status, body) = raw(
        &peer,
        reqwest::Method::PUT,
        "/api/backups/schedule/config",
        json!({"enabled": true, "schedule_time": "03:15"}),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"], "schedule_time must be in HH:MM:SS format");

    let c = signed_in(&peer).await;
    let update = ScheduleUpdate {
        enabled: true,
        schedule_time: Some("03:15".into()),
        retention_days: None,
        verify_after_backup: None,
    };
    let set = c.set_schedule(&update).await.unwrap();
    assert_eq!(set.schedule_time, "03:15:00");
    assert_eq!(puts(&peer).last().unwrap()["schedule_time"], "03:15:00");

    // Not a time of day: refused before any request, in words.
    let sent = puts(&peer).len();
    for bad in ["25:00", "03:60", "3:15", "noon"] {
        let update = ScheduleUpdate {
            schedule_time: Some(bad.into()),
            ..update.clone()
        };
        let error = c.set_schedule(&update).await.unwrap_err();
        assert_eq!(error.code(), ErrorCode::InvalidInput, "{bad}: {error}");
        assert!(error.to_string().contains("HH:MM"), "{error}");
    }
    assert_eq!(puts(&peer).len(), sent, "nothing was sent");
}

#[tokio::test]
async fn the_platform_takes_a_retention_of_0_as_absent_so_the_client_refuses_it() {
    let peer = Peer::start().await;
    peer.with(|s| s.schedule["retention_days"] = json!(30));
    let (status, body) = raw(
        &peer,
        reqwest::Method::PUT,
        "/api/backups/schedule/config",
        json!({"enabled": true, "retention_days": 0}),
    )
    .await;
    assert_eq!(status, 200, "the platform says success: {body}");
    assert_eq!(body["data"]["retention_days"], 30, "and keeps 30 days");

    let c = signed_in(&peer).await;
    let sent = puts(&peer).len();
    let zero = ScheduleUpdate {
        enabled: true,
        schedule_time: None,
        retention_days: Some(0),
        verify_after_backup: None,
    };
    let error = c.set_schedule(&zero).await.unwrap_err();
    assert_eq!(error.code(), ErrorCode::InvalidInput, "{error}");
    assert!(error.to_string().contains("1 to 90 days"), "{error}");
    assert_eq!(puts(&peer).len(), sent, "nothing was sent");
    let seven = ScheduleUpdate {
        retention_days: Some(7),
        ..zero
    };
    assert_eq!(c.set_schedule(&seven).await.unwrap().retention_days, 7);
}

#[tokio::test]
async fn the_platform_checks_no_confirmation_so_the_client_does() {
    let peer = Peer::start().await;
    let (status, body) = raw(
        &peer,
        reqwest::Method::POST,
        &format!("/api/backups/{OLDER}/restore"),
        json!({"confirm": "not-the-db-name"}),
    )
    .await;
    assert_eq!(
        status, 200,
        "the platform restores whatever was typed: {body}"
    );
    let restored_by_the_platform = restores_sent(&peer);

    let c = signed_in(&peer).await;
    // The platform has named no database yet: the backup's own name is the confirmation.
    for wrong in ["not-the-db-name", "rythm", "", NEWER] {
        let error = c
            .restore(
                &name(OLDER),
                confirm(wrong),
                &Progress::none(),
                &Cancel::new(),
            )
            .await
            .unwrap_err();
        assert_eq!(
            error.code(),
            ErrorCode::ConfirmationMismatch,
            "{wrong}: {error}"
        );
        assert!(error.to_string().contains(OLDER), "{error}");
    }
    assert_eq!(
        restores_sent(&peer),
        restored_by_the_platform,
        "nothing was sent"
    );

    // Its create answer names the database: from then on that name confirms, as with ours.
    let created = c.create(&Progress::none(), &Cancel::new()).await.unwrap();
    assert_eq!(created.database.as_deref(), Some(peer::DATABASE_NAME));
    let listed = c.list().await.unwrap();
    assert!(
        listed
            .iter()
            .all(|e| e.database.as_deref() == Some("rythm")),
        "the list names the server's database too: {listed:?}"
    );
    let newest = &listed[0].name;
    let error = c
        .restore(
            newest,
            confirm(newest.as_str()),
            &Progress::none(),
            &Cancel::new(),
        )
        .await
        .unwrap_err();
    assert_eq!(error.code(), ErrorCode::ConfirmationMismatch, "{error}");
    assert!(error.to_string().contains("\"rythm\""), "{error}");
    assert_eq!(restores_sent(&peer), restored_by_the_platform);
    let summary = c
        .restore(newest, confirm("rythm"), &Progress::none(), &Cancel::new())
        .await
        .unwrap();
    assert_eq!(summary.database.as_deref(), Some("rythm"));
    assert_eq!(restores_sent(&peer), restored_by_the_platform + 1);

    // A client that was told the database before (a profile remembers it) asks for it too.
    let options = ApiClientOptions {
        known_database: Some("rythm".into()),
        ..ApiClientOptions::default()
    };
    let fresh = ApiClient::with_options(&peer.url, options).unwrap();
    fresh
        .login(ADMIN_EMAIL, &password(ADMIN_PASSWORD))
        .await
        .unwrap();
    let error = fresh
        .restore(
            newest,
            confirm("rythm-x"),
            &Progress::none(),
            &Cancel::new(),
        )
        .await
        .unwrap_err();
    assert_eq!(error.code(), ErrorCode::ConfirmationMismatch);
}

#[tokio::test]
async fn the_platform_takes_no_safety_backup_and_the_summary_says_so() {
    let peer = Peer::start().await;
    let (status, body) = raw(
        &peer,
        reqwest::Method::POST,
        &format!("/api/backups/{OLDER}/restore"),
        Value::Null,
    )
    .await;
    assert_eq!(status, 200);
    assert!(
        body.get("safetyBackup").is_some_and(Value::is_null),
        "{body}"
    );

    let c = signed_in(&peer).await;
    assert_eq!(c.restore_features().await.unwrap(), RestoreFeatures::NONE);
    let summary = c
        .restore(
            &name(OLDER),
            confirm(OLDER),
            &Progress::none(),
            &Cancel::new(),
        )
        .await
        .unwrap();
    assert_eq!(summary.safety_backup, None);
    assert_eq!(summary.no_safety_backup, Some(NoSafetyBackup::NotOffered));

    // It cannot end other sessions: asking for it is refused rather than ignored.
    let sent = restores_sent(&peer);
    let terminate = RestoreOptions {
        terminate_connections: true,
        ..confirm(OLDER)
    };
    let error = c
        .restore(&name(OLDER), terminate, &Progress::none(), &Cancel::new())
        .await
        .unwrap_err();
    assert_eq!(error.code(), ErrorCode::Unsupported, "{error}");
    assert!(error.to_string().contains("end other sessions"), "{error}");
    assert_eq!(restores_sent(&peer), sent);
    // Skipping a safety backup it never takes changes nothing.
    let skip = RestoreOptions {
        skip_safety_backup: true,
        ..confirm(OLDER)
    };
    let summary = c
        .restore(&name(OLDER), skip, &Progress::none(), &Cancel::new())
        .await
        .unwrap();
    assert_eq!(summary.no_safety_backup, Some(NoSafetyBackup::NotOffered));
}

#[tokio::test]
async fn expiry_follows_the_retention_in_the_servers_schedule_config() {
    let peer = Peer::start_empty().await;
    let created = OffsetDateTime::now_utc() - time::Duration::days(2);
    let backup = peer.put(created, "scheduled", b"SELECT 1;\n".to_vec());
    let c = signed_in(&peer).await;
    let entry = c.list().await.unwrap().remove(0);
    assert_eq!(entry.name.as_str(), backup);
    let days = (entry.expires_at - entry.created_at).whole_days();
    assert_eq!(days, 30, "the platform's 30 days, not our default 10");
    peer.with(|s| s.schedule["retention_days"] = json!(7));
    let entry = c.list().await.unwrap().remove(0);
    assert_eq!((entry.expires_at - entry.created_at).whole_days(), 7);
}

#[tokio::test]
async fn the_platforms_type_and_status_are_kept_and_only_sql_is_listed() {
    let peer = Peer::start_empty().await;
    let now = OffsetDateTime::now_utc();
    let unknown = peer.put(now - time::Duration::hours(3), "unknown", b"x".to_vec());
    let failed = peer.put(now - time::Duration::hours(2), "scheduled", b"y".to_vec());
    peer.with(|s| s.backups.get_mut(&failed).unwrap().status = "failed".into());
    // A compressed blob of ours in the same container: the platform does not list it.
    let ours = format!("{}.zst", peer::backup_name(now));
    let blob = peer::StoredBackup::new(b"z".to_vec(), now, "manual");
    peer.with(|s| s.backups.insert(ours.clone(), blob));
    let c = signed_in(&peer).await;
    let entries = c.list().await.unwrap();
    let names: Vec<&str> = entries.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, [failed.as_str(), unknown.as_str()]);
    assert_eq!(entries[0].kind, BackupKind::Scheduled);
    assert_eq!(entries[0].status.as_deref(), Some("failed"));
    assert_eq!(entries[1].kind, BackupKind::Unknown, "not shown as manual");
    assert_eq!(entries[1].status.as_deref(), Some("completed"));
    let json = serde_json::to_value(&entries[1]).unwrap();
    assert_eq!(json["type"], "unknown");
    assert_eq!(json["status"], "completed");
    assert!(BackupName::parse(&ours).is_ok());
}

#[tokio::test]
async fn a_schedule_that_has_not_run_yet_gets_its_next_run() {
    let peer = Peer::start().await;
    peer.with(|s| {
        s.schedule["last_run_at"] = Value::Null;
        s.schedule["next_run_at"] = Value::Null;
        s.schedule["schedule_time"] = json!("04:30:00");
    });
    let c = signed_in(&peer).await;
    let schedule = c.schedule().await.unwrap();
    assert_eq!(schedule.last_run_at, None);
    let next = schedule.next_run_at.expect("computed");
    let next =
        OffsetDateTime::parse(&next, &time::format_description::well_known::Rfc3339).unwrap();
    let now = OffsetDateTime::now_utc();
    assert!(
        next > now && next - now <= time::Duration::days(1),
        "{next}"
    );
    assert_eq!((next.hour(), next.minute(), next.second()), (4, 30, 0));
    // Disabled: no next run.
    peer.with(|s| s.schedule["enabled"] = json!(false));
    assert_eq!(c.schedule().await.unwrap().next_run_at, None);
}

/// Only a missing OpenAPI document (the platform's 404) means a server without restore
/// options. A proxy's 502 or 503 in front of our server is an error: read as "no options" it
/// would refuse `--terminate-connections` for a wrong reason and say that no safety backup is
/// taken. Errors are asked again next time; a known answer is remembered.
#[tokio::test]
async fn only_a_missing_openapi_document_means_no_restore_options() {
    use tokio::io::AsyncWriteExt;
    let server = crate::support::FakeServer::start(|index, head, mut socket| async move {
        assert!(head.starts_with("GET /api/openapi.json "), "{head}");
        let answer = match index {
            0 => {
                "HTTP/1.1 502 Bad Gateway\r\nContent-Length: 16\r\nConnection: close\r\n\r\n\
                  upstream is down"
            }
            1 => {
                "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            }
            _ => {
                "HTTP/1.1 404 Not Found\r\nContent-Length: 36\r\nConnection: close\r\n\r\n\
                  Cannot GET /api/openapi.json (sorry)"
            }
        };
        let _ = socket.write_all(answer.as_bytes()).await;
    })
    .await;
    let client = ApiClient::new(&server.url()).unwrap();
    for status in ["502", "503"] {
        let error = client.restore_features().await.unwrap_err();
        assert_eq!(error.code(), ErrorCode::Unreachable, "{error}");
        let message = error.to_string();
        assert!(message.contains(status), "{message}");
        assert!(message.contains("OpenAPI document"), "{message}");
    }
    assert_eq!(
        client.restore_features().await.unwrap(),
        RestoreFeatures::NONE
    );
    assert_eq!(
        client.restore_features().await.unwrap(),
        RestoreFeatures::NONE
    );
    assert_eq!(server.requests(), 3, "the 404 is remembered");
}
