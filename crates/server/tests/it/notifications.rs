//! The server's notifications, health and freshness alarm on the manual clock, with mail
//! through a real SMTP server (aiosmtpd with STARTTLS and AUTH; the receivers are the CLI
//! tests'): a scheduled run mails the admins its success, a failing run its failure; a
//! rehearsal after the backup shows in health; a clock moved past `STALE_AFTER_HOURS` makes
//! health `stale` and sends one alarm, not one per minute; a slot missed while the server
//! was down is caught up at start-up. Health tells anyone only what monitoring needs (no
//! recipient, error or table name) and a system admin the detail; a rehearsal that fails
//! with an error turns it `degraded`; a restore's dry run sends no restore notice.

// The CLI tests' receivers; the server tests use only the SMTP server.
#[allow(dead_code)]
#[path = "../../../cli/tests/it/notifications/receivers.rs"]
mod receivers;

use std::io::{Read, Write};

use bytes::Bytes;
use futures::TryStreamExt;
use reqwest::{Method, StatusCode};
use rythm_backup_core::BackupName;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use time::macros::datetime;

use crate::support::{captured_logs, eventually, Backend, Options, TestDb, TestServer};
use receivers::{HttpReceiver, SmtpServer};

const CONFIG: &str = "/api/backups/schedule/config";

/// Mail to the admins (no NOTIFY_EMAIL_TO), through `smtp`.
fn mail_env(smtp: &SmtpServer, extra: &[(&'static str, &str)]) -> Vec<(&'static str, String)> {
    let mut env: Vec<(&'static str, String)> = smtp
        .vars("")
        .into_iter()
        .filter(|(k, _)| *k != "NOTIFY_EMAIL_TO")
        .collect();
    env.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
    env
}

async fn enable(server: &TestServer, token: &str, body: Value) {
    let (status, answer) = server
        .json(Method::PUT, CONFIG, Some(token), Some(body))
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
}

async fn health(server: &TestServer) -> Value {
    let (status, health) = server.json(Method::GET, "/api/health", None, None).await;
    assert_eq!(status, StatusCode::OK, "{health}");
    health
}

async fn admin_health(server: &TestServer, token: &str) -> Value {
    let (status, health) = server
        .json(Method::GET, "/api/health", Some(token), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{health}");
    health
}

/// Replaces a stored backup's bytes with `change(bytes)` and re-stamps its sha256, as
/// someone with write access to the storage could.
async fn tamper(server: &TestServer, name: &str, change: impl Fn(String) -> String) {
    let store = server.engine.store();
    let name = BackupName::parse(name).unwrap();
    let bytes: Vec<u8> = store
        .get_from(&name, 0)
        .await
        .unwrap()
        .try_fold(Vec::new(), |mut all, chunk| async move {
            all.extend_from_slice(&chunk);
            Ok(all)
        })
        .await
        .unwrap();
    // Stored zstd-compressed, by the name's extension.
    let compression = rythm_backup_core::Compression::Zstd;
    assert!(name.as_str().ends_with(".zst"), "{name}");
    let mut dump = String::new();
    rythm_backup_core::codec::decoder(compression, &bytes[..])
        .unwrap()
        .read_to_string(&mut dump)
        .unwrap();
    let mut encoder = rythm_backup_core::codec::Encoder::new(compression, Vec::new()).unwrap();
    encoder.write_all(change(dump).as_bytes()).unwrap();
    let changed = encoder.finish().unwrap();
    let mut metadata = store.head(&name).await.unwrap().metadata;
    metadata.insert("sha256".into(), hex::encode(Sha256::digest(&changed)));
    let mut upload = store.begin_upload(&name).await.unwrap();
    upload.put_block(Bytes::from(changed)).await.unwrap();
    upload.commit(metadata).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scheduled_run_mails_the_admins_and_rehearses_the_backup() {
    let smtp = SmtpServer::start();
    let server = TestServer::start_with(Options {
        env: mail_env(&smtp, &[("NOTIFY_ON", "all")]),
        ..Options::default()
    })
    .await;
    server.db.fill(30);
    let token = server.token().await;
    enable(
        &server,
        &token,
        json!({"enabled": true, "schedule_time": "02:00", "verify_after_backup": true}),
    )
    .await;
    server.clock.set(datetime!(2026-03-01 02:00:05 UTC));
    let verified = eventually(180, "the rehearsal in /api/health", || async {
        let h = health(&server).await;
        (!h["lastVerificationOk"].is_null()).then_some(h)
    })
    .await;
    assert_eq!(verified["status"], "ok", "{verified}");
    assert_eq!(verified["lastVerificationOk"], true);
    assert_eq!(verified["lastSuccessAt"], "2026-03-01T02:00:05.000Z");
    let detail = admin_health(&server, &token).await["detail"].clone();
    assert_eq!(detail["lastVerification"]["verification"]["ok"], true);

    let mails = smtp.wait_for(2);
    let subjects: Vec<&str> = mails.iter().map(|m| m.header("subject")).collect();
    let place = format!("127.0.0.1/{}", server.db.name);
    assert!(
        subjects.contains(&format!("[RYTHM backup] backup OK on {place}").as_str()),
        "{subjects:?}"
    );
    assert!(
        subjects.contains(&format!("[RYTHM backup] restore rehearsal OK on {place}").as_str()),
        "{subjects:?}"
    );
    assert!(mails.iter().all(|m| m.header("to") == server.admin_email));
    let list = server.list(&token).await;
    assert_eq!(list[0]["verification"]["ok"], true, "{list:?}");
    assert_eq!(list[0]["rowCounts"]["rows"], 30, "{list:?}");

    // On demand, through the endpoint.
    let name = list[0]["name"].as_str().unwrap().to_owned();
    let (status, answer) = server
        .json(
            Method::POST,
            &format!("/api/backups/{name}/verify"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert_eq!(answer["success"], true);
    assert_eq!(answer["data"]["verification"]["compared"], true);
    let channels = health(&server).await["notifications"].clone();
    assert_eq!(
        channels,
        json!([{"channel": "smtp", "ok": true, "attempts": 1}])
    );
    let deliveries = admin_health(&server, &token).await["detail"]["deliveries"].clone();
    assert!(
        deliveries
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["ok"] == true && d["channel"] == "smtp"),
        "{deliveries}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_run_mails_its_failure_and_staleness_alarms_once() {
    let smtp = SmtpServer::start();
    let doomed = TestDb::create();
    let server = TestServer::start_with(Options {
        database_url: Some(doomed.url()),
        env: mail_env(&smtp, &[("STALE_AFTER_HOURS", "26")]),
        ..Options::default()
    })
    .await;
    doomed.drop_now();
    let token = server.token().await;
    // The clock stands at 2026-03-01 01:59: the schedule is on from then.
    enable(
        &server,
        &token,
        json!({"enabled": true, "schedule_time": "02:00:00"}),
    )
    .await;
    server.clock.set(datetime!(2026-03-01 02:00:05 UTC));
    let failed = smtp.wait_for(1);
    assert_eq!(failed.len(), 1, "{failed:#?}");
    assert!(failed[0]
        .header("subject")
        .starts_with("[RYTHM backup] FAILED on 127.0.0.1/"));
    assert!(
        failed[0].text.contains("does not exist"),
        "the cause: {}",
        failed[0].text
    );
    assert!(!failed[0].text.contains(&crate::support::pg_password()));

    // A day later the next run fails too; 26 hours are not up yet.
    server.clock.set(datetime!(2026-03-02 03:00 UTC));
    assert_eq!(smtp.wait_for(2).len(), 2);
    assert_eq!(health(&server).await["status"], "degraded");

    // Past 26 hours: stale, and one alarm however long it lasts.
    server.clock.set(datetime!(2026-03-02 04:00 UTC));
    let stale = eventually(60, "stale in /api/health", || async {
        let h = health(&server).await;
        (h["status"] == "stale").then_some(h)
    })
    .await;
    assert_eq!(stale["stale"], true);
    assert_eq!(stale["staleAfterHours"], 26);
    assert_eq!(stale["lastSuccessAt"], Value::Null);
    for minute in 1..=5 {
        server
            .clock
            .set(datetime!(2026-03-02 04:00 UTC) + time::Duration::minutes(minute));
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    server.clock.set(datetime!(2026-03-02 20:00 UTC));
    let mails = smtp.wait_for(3);
    let alarms: Vec<_> = mails
        .iter()
        .filter(|m| m.header("subject").contains("STALE"))
        .collect();
    assert_eq!(alarms.len(), 1, "one alarm per episode: {mails:#?}");
    assert!(
        alarms[0].text.contains("no successful backup"),
        "{}",
        alarms[0].text
    );
    assert_eq!(mails.len(), 3, "two failures and one alarm");
    assert_eq!(health(&server).await["status"], "stale");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slot_missed_while_down_is_caught_up_at_start() {
    let mut server = TestServer::start().await;
    server.db.fill(5);
    let token = server.token().await;
    enable(
        &server,
        &token,
        json!({"enabled": true, "schedule_time": "02:00"}),
    )
    .await;
    server.stop().await;
    // Down over two scheduled times.
    server.clock.set(datetime!(2026-03-03 12:00 UTC));
    server.restart().await;
    let token = server.token().await;
    let data = eventually(120, "the caught-up run", || async {
        let (_, body) = server.json(Method::GET, CONFIG, Some(&token), None).await;
        (!body["data"]["last_run_at"].is_null()).then(|| body["data"].clone())
    })
    .await;
    assert_eq!(data["last_run_at"], "2026-03-03T12:00:00.000Z");
    assert_eq!(data["next_run_at"], "2026-03-04T02:00:00.000Z");
    let list = server.list(&token).await;
    assert_eq!(
        list.len(),
        1,
        "one catch-up, not one per missed day: {list:?}"
    );
    assert_eq!(list[0]["type"], "scheduled");
    assert!(captured_logs().contains("catching up the missed backup"));
    // A restart at the same time does not catch up again.
    server.restart().await;
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    assert_eq!(server.list(&token).await.len(), 1);
}

/// A backup that does not restore at all (the worst case): the rehearsal fails with an
/// error, and health turns `degraded`. Health tells anyone only the verdicts; the error,
/// the admins' addresses (the mail's recipients) and the schedule go to an admin's token.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rehearsal_that_fails_with_an_error_degrades_health_and_only_admins_see_why() {
    let smtp = SmtpServer::start();
    let server = TestServer::start_with(Options {
        backend: Backend::Local,
        env: mail_env(&smtp, &[]),
        ..Options::default()
    })
    .await;
    server.db.sql(
        "CREATE TABLE secret_table_name (id int PRIMARY KEY); \
         INSERT INTO secret_table_name SELECT generate_series(1, 5)",
    );
    let token = server.token().await;
    let name = server.create_backup(&token).await["name"]
        .as_str()
        .unwrap()
        .to_owned();
    // A duplicate key: the primary key cannot be built, the rehearsal's restore fails.
    tamper(&server, &name, |dump| dump.replacen("3\n", "3\n3\n", 1)).await;
    let (status, answer) = server
        .json(
            Method::POST,
            &format!("/api/backups/{name}/verify"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR, "{answer}");
    let mails = smtp.wait_for(1);
    assert!(
        mails[0].header("subject").contains("FAILED"),
        "{:?}",
        mails[0].headers
    );

    let public = eventually(30, "the delivery in /api/health", || async {
        let h = health(&server).await;
        (!h["notifications"].as_array().unwrap().is_empty()).then_some(h)
    })
    .await;
    assert_eq!(public["status"], "degraded", "{public}");
    assert_eq!(public["lastVerificationOk"], false);
    assert_eq!(public["stale"], false);
    assert!(!public["lastSuccessAt"].is_null());
    assert_eq!(
        public["notifications"],
        json!([{"channel": "smtp", "ok": true, "attempts": 1}])
    );
    assert!(public.get("detail").is_none(), "{public}");
    let text = public.to_string();
    for hidden in [
        server.admin_email.as_str(),
        "secret_table_name",
        "duplicated",
        "127.0.0.1",
        "lastScheduledRun",
        "nextRunAt",
    ] {
        assert!(!text.contains(hidden), "{hidden} without a token: {text}");
    }

    let admin = admin_health(&server, &token).await;
    assert_eq!(admin["status"], "degraded");
    let detail = &admin["detail"];
    let verification = &detail["lastVerification"];
    assert_eq!(verification["backup"], name.as_str());
    assert_eq!(verification["verification"]["ok"], false);
    let error = verification["verification"]["error"].as_str().unwrap();
    assert!(error.contains("is duplicated"), "{error}");
    assert!(!error.contains(&crate::support::pg_password()), "{error}");
    let delivery = &detail["deliveries"][0];
    assert!(
        delivery["target"]
            .as_str()
            .unwrap()
            .starts_with(&server.admin_email),
        "{delivery}"
    );
    assert_eq!(delivery["event"], "verification.failed");
    assert_eq!(detail["schedule"]["enabled"], false);

    // A token that is sent must be good: the detail is never quietly withheld.
    let (status, _) = server
        .json(Method::GET, "/api/health", Some("not-a-token"), None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let viewer = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &json!({"userId": "u1", "tenantId": null, "role": "tenant_admin",
            "email": "x@example.test", "iat": now(), "exp": now() + 600}),
        &jsonwebtoken::EncodingKey::from_secret(server.jwt_secret.as_bytes()),
    )
    .unwrap();
    let (status, body) = server
        .json(Method::GET, "/api/health", Some(&viewer), None)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// A partial restore's dry run changes nothing and announces nothing; a restore refused
/// before it began neither; a restore that ran does, once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dry_run_sends_no_restore_notice_and_a_restore_does() {
    let hook = HttpReceiver::start(|_| (204, vec![], String::new()));
    let server = TestServer::start_with(Options {
        env: vec![("NOTIFY_WEBHOOK_URL", hook.url("/hook"))],
        ..Options::default()
    })
    .await;
    server.db.sql(
        "CREATE TABLE t (id int PRIMARY KEY, tenant_id int NOT NULL); \
         INSERT INTO t SELECT g, g % 3 FROM generate_series(1, 30) g",
    );
    let token = server.token().await;
    let name = server.create_backup(&token).await["name"]
        .as_str()
        .unwrap()
        .to_owned();
    let restore = format!("/api/backups/{name}/restore");
    let (status, dry) = server
        .json(
            Method::POST,
            &restore,
            Some(&token),
            Some(json!({"tenant": "1", "dryRun": true})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{dry}");
    assert_eq!(dry["message"], "Dry run: nothing was changed");
    let (status, refused) = server
        .json(
            Method::POST,
            &restore,
            Some(&token),
            Some(json!({"confirm": "another_database"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    server.db.wait_idle().await;
    let (status, done) = server
        .json(
            Method::POST,
            &restore,
            Some(&token),
            Some(json!({"confirm": server.db.name})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{done}");

    let restores = || {
        hook.requests()
            .into_iter()
            .map(|r| serde_json::from_slice::<Value>(&r.body).unwrap())
            .filter(|body| body["event"] == "restore.performed")
            .collect::<Vec<_>>()
    };
    eventually(30, "the restore's notice", || async {
        (!restores().is_empty()).then_some(())
    })
    .await;
    // Time for a notice of the dry run or the refusal to arrive too, had one been sent.
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    let notices = restores();
    assert_eq!(notices.len(), 1, "only the restore that ran: {notices:#?}");
    assert_eq!(notices[0]["ok"], true);
    assert_eq!(notices[0]["backup"], name.as_str());
}
