//! The times in a token: `nbf` honoured, `iat` required and not in the future, and a token
//! accepted at most the server's own lifetime after its `iat`, whatever its `exp` says.
//! Every token here is signed with the server's secret for its real admin, so the time is
//! the only thing wrong with the refused ones.

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::support::TestServer;

const DAY: i64 = 24 * 3600;
const CENTURY: i64 = 100 * 365 * DAY;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn future_nbf_future_iat_and_overlong_lifetimes_get_401() {
    let server = TestServer::start().await;
    let admin = server.admin_record();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let ttl = server.config.token_ttl.as_secs() as i64;
    assert_eq!(ttl, 7 * DAY);
    let token = |times: Value| {
        let mut claims = json!({"userId": admin.id, "tenantId": null, "role": "system_admin",
            "email": admin.email, "gen": admin.generation});
        for (key, value) in times.as_object().unwrap() {
            claims[key] = value.clone();
        }
        jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(server.jwt_secret.as_bytes()),
        )
        .unwrap()
    };
    let cases = [
        (
            "fresh",
            json!({"iat": now, "exp": now + 3600}),
            StatusCode::OK,
        ),
        (
            "nbf passed",
            json!({"iat": now - 60, "nbf": now - 60, "exp": now + 3600}),
            StatusCode::OK,
        ),
        (
            "nbf in an hour",
            json!({"iat": now, "nbf": now + 3600, "exp": now + 7200}),
            StatusCode::UNAUTHORIZED,
        ),
        (
            "nbf in a minute",
            json!({"iat": now, "nbf": now + 60, "exp": now + 7200}),
            StatusCode::UNAUTHORIZED,
        ),
        (
            "iat in an hour",
            json!({"iat": now + 3600, "exp": now + 7200}),
            StatusCode::UNAUTHORIZED,
        ),
        (
            "no iat",
            json!({"exp": now + 3600}),
            StatusCode::UNAUTHORIZED,
        ),
        (
            "iat as text",
            json!({"iat": now.to_string(), "exp": now + 3600}),
            StatusCode::UNAUTHORIZED,
        ),
        (
            "a century, issued now: capped, still young",
            json!({"iat": now, "exp": now + CENTURY}),
            StatusCode::OK,
        ),
        (
            "a century, issued just over the lifetime ago",
            json!({"iat": now - ttl - 60, "exp": now + CENTURY}),
            StatusCode::UNAUTHORIZED,
        ),
        (
            "a century, issued years ago",
            json!({"iat": now - 3 * 365 * DAY, "exp": now + CENTURY}),
            StatusCode::UNAUTHORIZED,
        ),
        (
            "exp passed",
            json!({"iat": now - 7200, "exp": now - 3600}),
            StatusCode::UNAUTHORIZED,
        ),
    ];
    for (what, times, expected) in cases {
        let (status, body) = server
            .json(Method::GET, "/api/backups", Some(&token(times)), None)
            .await;
        assert_eq!(status, expected, "{what}: {body}");
        if expected == StatusCode::UNAUTHORIZED {
            assert_eq!(body["error"], "Invalid or expired token", "{what}");
        }
    }
}
