//! The audit trail and log hygiene: state-changing calls leave an `audit` line naming the
//! admin; the password, the JWT secret, the token and the database password never appear
//! in any log line.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::support::{captured_logs, pg_password, TestServer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_lines_name_the_admin_and_no_secret_is_logged() {
    let server = TestServer::start().await;
    server.db.fill(5);
    let wrong_password = format!("wrong-{}", crate::support::random_hex());
    let (status, _) = server
        .json(
            Method::POST,
            "/api/auth/login",
            None,
            Some(json!({"email": server.admin_email, "password": wrong_password})),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let token = server.token().await;
    let name = server.create_backup(&token).await["name"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, _) = server
        .json(
            Method::DELETE,
            &format!("/api/backups/{name}"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = server
        .json(
            Method::PUT,
            "/api/backups/schedule/config",
            Some(&token),
            Some(json!({"enabled": false})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = server
        .json(
            Method::DELETE,
            &format!("/api/backups/{name}"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let logs = captured_logs();
    let audit_lines: Vec<&str> = logs
        .lines()
        .filter(|l| l.contains(" audit:") && l.contains(&server.admin_email))
        .collect();
    let has = |action: &str, object: Option<&str>, result: &str| {
        audit_lines.iter().any(|l| {
            l.contains(action)
                && object.is_none_or(|o| l.contains(o))
                && l.contains(&format!("result=\"{result}\""))
        })
    };
    assert!(has("login", None, "failed"), "{audit_lines:#?}");
    assert!(has("login", None, "ok"), "{audit_lines:#?}");
    assert!(has("create_backup", Some(&name), "ok"), "{audit_lines:#?}");
    assert!(has("delete_backup", Some(&name), "ok"), "{audit_lines:#?}");
    assert!(
        has("delete_backup", Some(&name), "failed"),
        "{audit_lines:#?}"
    );
    assert!(has("update_schedule", None, "ok"), "{audit_lines:#?}");

    for (what, secret) in [
        ("the admin password", server.admin_password.as_str()),
        ("the wrong password", wrong_password.as_str()),
        ("the JWT secret", server.jwt_secret.as_str()),
        ("the token", token.as_str()),
        ("the token's signature", token.rsplit('.').next().unwrap()),
        ("the database password", pg_password().as_str()),
    ] {
        assert!(!logs.contains(secret), "{what} appears in the logs");
    }
}
