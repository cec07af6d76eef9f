//! The server's notifications and freshness alarm on the manual clock, with mail through a
//! real SMTP server (aiosmtpd with STARTTLS and AUTH; the receivers are the CLI tests'):
//! a scheduled run mails the admins its success, a failing run its failure; a rehearsal
//! after the backup shows in health; a clock moved past `STALE_AFTER_HOURS` makes health
//! `stale` and sends one alarm, not one per minute; a slot missed while the server was
//! down is caught up at start-up.

// The CLI tests' receivers; the server tests use only the SMTP server.
#[allow(dead_code)]
#[path = "../../../cli/tests/it/notifications/receivers.rs"]
mod receivers;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use time::macros::datetime;

use crate::support::{captured_logs, eventually, Options, TestDb, TestServer};
use receivers::SmtpServer;

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
    server.json(Method::GET, "/api/health", None, None).await.1
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
        (!h["lastVerification"].is_null()).then_some(h)
    })
    .await;
    assert_eq!(verified["status"], "ok", "{verified}");
    assert_eq!(verified["lastVerification"]["verification"]["ok"], true);
    assert_eq!(verified["lastSuccessAt"], "2026-03-01T02:00:05.000Z");

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
    let deliveries = health(&server).await["notifications"].clone();
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
