//! Tokens in the query string: refused with 401 on every route, even beside a valid
//! `Authorization` header, and never written to the log (the whole log of this test binary
//! is captured at trace level); other query strings are redacted from the log too.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::support::{captured_logs, random_hex, TestServer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_query_string_token_gets_401_and_appears_in_no_log() {
    let server = TestServer::start().await;
    let token = server.token().await;
    let signature = token.rsplit('.').next().unwrap().to_owned();
    let encoded_bearer = format!("Bearer%20{token}");
    let params = [
        ("token", token.as_str()),
        ("access_token", token.as_str()),
        ("jwt", token.as_str()),
        ("Authorization", encoded_bearer.as_str()),
        ("q", token.as_str()),
    ];
    let routes = [
        (Method::GET, "/api/backups"),
        (Method::POST, "/api/backups"),
        (
            Method::GET,
            "/api/backups/rythm-backup-2026-01-01T00-00-00-000Z.sql/download",
        ),
        (Method::GET, "/api/backups/schedule/config"),
        (Method::GET, "/api/health"),
        (Method::POST, "/api/auth/login"),
    ];
    for (name, value) in params {
        for (method, path) in &routes {
            for with_header in [false, true] {
                let url = format!("{}?{name}={value}", server.url(path));
                let mut request = server.http.request(method.clone(), url);
                if with_header {
                    request = request.bearer_auth(&token);
                }
                if *path == "/api/auth/login" {
                    request = request.json(
                        &json!({"email": server.admin_email, "password": server.admin_password}),
                    );
                }
                let response = request.send().await.unwrap();
                let what = format!("{method} {path}?{name}= (header: {with_header})");
                assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{what}");
                let body: Value = response.json().await.unwrap();
                assert_eq!(body["code"], "auth_required", "{what}");
                assert!(body.get("token").is_none(), "{what}");
            }
        }
    }
    // Nothing ran: no backup was taken.
    assert!(server.stored_names().await.is_empty());

    // An ordinary query string works, and is not logged either; the path is.
    let path_marker = format!("p{}", random_hex());
    let query_marker = format!("q{}", random_hex());
    let (status, _) = server
        .json(
            Method::GET,
            &format!("/api/backups?page={query_marker}"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = server
        .json(
            Method::GET,
            &format!("/api/{path_marker}?page={query_marker}"),
            None,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let logs = captured_logs();
    assert!(logs.contains(&path_marker), "requests are logged");
    assert!(!logs.contains(&query_marker), "a query string was logged");
    assert!(!logs.contains(&signature), "a token was logged");
    assert!(!logs.contains(&token), "a token was logged");
}
