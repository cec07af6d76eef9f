//! One job at a time: two backups at once give one 201 and one 409; a restore while a
//! backup runs is 409 too; the lock is free again afterwards. A session holding an
//! exclusive table lock keeps the first backup's pg_dump waiting, so the overlap is certain
//! whatever the machine's speed.

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::support::{eventually, sql, SessionHolder, TestServer};

const HOLD_LOCK: &str = "BEGIN; LOCK TABLE items IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(120)";

/// Waits until the engine's pg_dump of `database` (application `rythm-backup`) waits for a
/// lock, so its backup holds the job lock.
async fn wait_for_blocked_dump(database: &str) {
    let query = format!(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = '{database}' \
         AND application_name = 'rythm-backup' AND wait_event_type = 'Lock'"
    );
    eventually(30, "pg_dump waiting for the lock", || {
        let query = query.clone();
        async move { (sql("postgres", &query)[0][0] != "0").then_some(()) }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_backups_at_once_one_201_one_409() {
    let server = TestServer::start().await;
    server.db.fill(100);
    let token = server.token().await;

    let post = || {
        let request = server
            .http
            .post(server.url("/api/backups"))
            .bearer_auth(&token);
        async move {
            let response = request.send().await.unwrap();
            let status = response.status();
            (status, response.json::<Value>().await.unwrap())
        }
    };

    let holder = SessionHolder::start(&server.db, HOLD_LOCK).await;
    let both = async {
        let (a, b) = tokio::join!(post(), post());
        (a, b)
    };
    let release = async {
        wait_for_blocked_dump(&server.db.name).await;
        // While the first backup waits: a restore is refused as well.
        let (status, body) = server
            .json(
                Method::POST,
                "/api/backups/rythm-backup-2026-01-01T00-00-00-000Z.sql/restore",
                Some(&token),
                None,
            )
            .await;
        assert_eq!(status, StatusCode::CONFLICT, "{body}");
        assert_eq!(body["code"], "busy");
        holder.release();
    };
    let ((a, b), ()) = tokio::join!(both, release);
    let mut statuses = [a.0, b.0];
    statuses.sort();
    assert_eq!(
        statuses,
        [StatusCode::CREATED, StatusCode::CONFLICT],
        "{} / {}",
        a.1,
        b.1
    );
    let refused = if a.0 == StatusCode::CONFLICT {
        &a.1
    } else {
        &b.1
    };
    assert_eq!(refused["success"], false);
    assert_eq!(refused["code"], "busy");
    assert_eq!(server.stored_names().await.len(), 1);

    // Free again.
    let (status, _) = server
        .json(Method::POST, "/api/backups", Some(&token), None)
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(server.stored_names().await.len(), 2);
}
