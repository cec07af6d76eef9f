//! The daily schedule: GET/PUT with validation, persistence across a restart, a run driven
//! by the manual clock (a `scheduled` backup, retention, last/next run times), and a failed
//! run reported by `/api/health`.

use bytes::Bytes;
use reqwest::{Method, StatusCode};
use rythm_backup_core::BackupName;
use serde_json::{json, Value};
use time::macros::datetime;

use crate::support::{eventually, Options, TestDb, TestServer};

const CONFIG: &str = "/api/backups/schedule/config";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schedule_validates_and_survives_a_restart() {
    let mut server = TestServer::start().await;
    let token = server.token().await;

    let (status, body) = server.json(Method::GET, CONFIG, Some(&token), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["success"], true);
    let data = &body["data"];
    let mut keys: Vec<&str> = data
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.as_str())
        .collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "created_at",
            "enabled",
            "last_run_at",
            "next_run_at",
            "retention_days",
            "schedule_id",
            "schedule_time",
            "updated_at",
            "verify_after_backup"
        ]
    );
    assert_eq!(data["enabled"], false);
    assert_eq!(data["schedule_time"], "02:00:00");
    assert_eq!(data["retention_days"], 10);
    assert_eq!(data["next_run_at"], Value::Null);
    assert_eq!(data["last_run_at"], Value::Null);

    for bad in [
        json!({}),
        json!({"schedule_time": "03:00"}),
        json!({"enabled": "true"}),
        json!({"enabled": true, "schedule_time": "25:00"}),
        json!({"enabled": true, "schedule_time": "3:00"}),
        json!({"enabled": true, "schedule_time": "03:00:99"}),
        json!({"enabled": true, "schedule_time": 300}),
        json!({"enabled": true, "retention_days": 0}),
        json!({"enabled": true, "retention_days": 91}),
        json!({"enabled": true, "retention_days": -3}),
        json!({"enabled": true, "retention_days": "7"}),
        json!([true]),
    ] {
        let (status, answer) = server
            .json(Method::PUT, CONFIG, Some(&token), Some(bad.clone()))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {answer}");
        assert_eq!(answer["success"], false, "{bad}");
        assert!(
            answer["error"].as_str().is_some_and(|e| !e.is_empty()),
            "{bad}"
        );
    }
    assert!(
        !server.config.schedule_file.exists(),
        "bad input is not saved"
    );

    let (status, body) = server
        .json(
            Method::PUT,
            CONFIG,
            Some(&token),
            Some(json!({"enabled": true, "schedule_time": "03:15", "retention_days": 5})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["success"], true);
    assert!(body["message"].as_str().is_some());
    let saved = body["data"].clone();
    assert_eq!(saved["enabled"], true);
    assert_eq!(saved["schedule_time"], "03:15:00");
    assert_eq!(saved["retention_days"], 5);
    // The manual clock stands at 2026-03-01 01:59 UTC.
    assert_eq!(saved["next_run_at"], "2026-03-01T03:15:00.000Z");

    // Only `enabled` given: the rest stays.
    let (_, body) = server
        .json(
            Method::PUT,
            CONFIG,
            Some(&token),
            Some(json!({"enabled": true})),
        )
        .await;
    assert_eq!(body["data"]["schedule_time"], "03:15:00");
    assert_eq!(body["data"]["retention_days"], 5);
    let saved = body["data"].clone();

    server.restart().await;
    let token = server.token().await;
    let (status, body) = server.json(Method::GET, CONFIG, Some(&token), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body["data"], saved,
        "a new server instance reads the schedule back"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scheduled_run_takes_a_backup_and_applies_retention() {
    let server = TestServer::start().await;
    server.db.fill(20);
    let token = server.token().await;

    // An old backup retention must remove (legacy: no metadata, time from its name).
    let old = BackupName::parse("rythm-backup-2020-01-01T00-00-00-000Z.sql").unwrap();
    let store = server.engine.store();
    store.ensure_ready().await.unwrap();
    let mut upload = store.begin_upload(&old).await.unwrap();
    upload
        .put_block(Bytes::from_static(b"SELECT 1;\n"))
        .await
        .unwrap();
    upload.commit(Default::default()).await.unwrap();
    assert_eq!(server.stored_names().await, [old.to_string()]);

    let (status, body) = server
        .json(
            Method::PUT,
            CONFIG,
            Some(&token),
            Some(json!({"enabled": true, "schedule_time": "02:00", "retention_days": 1})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["data"]["next_run_at"], "2026-03-01T02:00:00.000Z");

    server.clock.set(datetime!(2026-03-01 02:00:05 UTC));
    let data = eventually(120, "the scheduled run", || async {
        let (_, body) = server.json(Method::GET, CONFIG, Some(&token), None).await;
        (!body["data"]["last_run_at"].is_null()).then(|| body["data"].clone())
    })
    .await;
    assert_eq!(data["last_run_at"], "2026-03-01T02:00:05.000Z");
    assert_eq!(data["next_run_at"], "2026-03-02T02:00:00.000Z");

    let list = server.list(&token).await;
    assert_eq!(list.len(), 1, "retention removed the old backup: {list:?}");
    assert_eq!(list[0]["type"], "scheduled");
    assert_eq!(list[0]["initiated_by"], "scheduler");
    assert!(!server.stored_names().await.contains(&old.to_string()));

    let (status, health) = server
        .json(Method::GET, "/api/health", Some(&token), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(health["status"], "ok");
    let run = &health["detail"]["lastScheduledRun"];
    assert_eq!(run["ok"], true);
    assert_eq!(run["at"], "2026-03-01T02:00:05.000Z");
    assert_eq!(run["backup"], list[0]["name"]);
    assert_eq!(run["pruned"], json!([old.to_string()]));
    assert_eq!(
        health["detail"]["schedule"]["nextRunAt"],
        "2026-03-02T02:00:00.000Z"
    );

    // The clock standing still, nothing runs twice.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(server.list(&token).await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_scheduled_run_shows_in_health() {
    let doomed = TestDb::create();
    let server = TestServer::start_with(Options {
        database_url: Some(doomed.url()),
        ..Options::default()
    })
    .await;
    doomed.drop_now();
    let token = server.token().await;
    let (status, health) = server
        .json(Method::GET, "/api/health", Some(&token), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(health["status"], "ok");
    assert_eq!(health["detail"]["lastScheduledRun"], Value::Null);

    let (status, _) = server
        .json(
            Method::PUT,
            CONFIG,
            Some(&token),
            Some(json!({"enabled": true, "schedule_time": "02:00:00"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    server.clock.set(datetime!(2026-03-01 02:01:00 UTC));
    let health = eventually(60, "the failed run in /api/health", || async {
        let (_, health) = server
            .json(Method::GET, "/api/health", Some(&token), None)
            .await;
        (!health["detail"]["lastScheduledRun"].is_null()).then_some(health)
    })
    .await;
    assert_eq!(health["status"], "degraded");
    let run = &health["detail"]["lastScheduledRun"];
    assert_eq!(run["ok"], false);
    assert_eq!(run["at"], "2026-03-01T02:01:00.000Z");
    let error = run["error"].as_str().expect("an error message");
    assert!(!error.is_empty());
    assert!(!error.contains(&crate::support::pg_password()), "{error}");
    assert!(server.stored_names().await.is_empty());

    let (_, body) = server.json(Method::GET, CONFIG, Some(&token), None).await;
    assert_eq!(body["data"]["last_run_at"], "2026-03-01T02:01:00.000Z");
    assert_eq!(body["data"]["next_run_at"], "2026-03-02T02:00:00.000Z");
}
