//! Login and tokens: the peer's answers and messages, the rate limit, and every kind of bad
//! token refused with the right status.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::support::TestServer;

fn claims_of(token: &str) -> Value {
    let payload = token.split('.').nth(1).expect("three parts");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).expect("base64url")).expect("JSON")
}

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

fn sign(secret: &str, alg: Algorithm, claims: &Value) -> String {
    jsonwebtoken::encode(
        &Header::new(alg),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

fn claims(role: &str, iat: i64, exp: i64) -> Value {
    json!({"userId": "u1", "tenantId": null, "role": role, "email": "x@example.test", "iat": iat, "exp": exp})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_answers_with_the_peers_shape_and_a_seven_day_token() {
    let server = TestServer::start().await;
    let (status, body) = server
        .json(
            Method::POST,
            "/api/auth/login",
            None,
            Some(json!({"email": server.admin_email.to_uppercase(), "password": server.admin_password})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let user = &body["user"];
    let mut keys: Vec<&str> = user
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.as_str())
        .collect();
    keys.sort();
    assert_eq!(
        keys,
        ["email", "firstName", "id", "lastName", "role", "tenantId"]
    );
    assert_eq!(user["email"], server.admin_email.as_str());
    assert_eq!(user["role"], "system_admin");

    let token = body["token"].as_str().unwrap();
    let claims = claims_of(token);
    let mut keys: Vec<&str> = claims
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.as_str())
        .collect();
    keys.sort();
    // The platform's claims, plus the admin's generation (a compatible superset).
    assert_eq!(
        keys,
        ["email", "exp", "gen", "iat", "role", "tenantId", "userId"]
    );
    assert_eq!(
        claims["gen"].as_str(),
        server.admin_record().generation.as_deref()
    );
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        7 * 24 * 3600
    );
    assert_eq!(claims["userId"], user["id"]);
    assert_eq!(claims["role"], "system_admin");
    let header: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(token.split('.').next().unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(header["alg"], "HS256");

    let (status, _) = server
        .json(Method::GET, "/api/backups", Some(token), None)
        .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_without_fields_is_400_and_bad_credentials_are_one_401() {
    let server = TestServer::start().await;
    for body in [
        json!({}),
        json!({"email": server.admin_email}),
        json!({"password": "x"}),
        json!({"email": "", "password": "x"}),
        json!({"email": server.admin_email, "password": ""}),
        json!({"email": 5, "password": "x"}),
    ] {
        let (status, answer) = server
            .json(Method::POST, "/api/auth/login", None, Some(body.clone()))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(answer["error"], "Missing required fields");
        assert_eq!(answer["success"], false);
    }
    let response = server
        .http
        .post(server.url("/api/auth/login"))
        .body("not json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);

    let (wrong_status, wrong) = server
        .json(
            Method::POST,
            "/api/auth/login",
            None,
            Some(json!({"email": server.admin_email, "password": "wrong password"})),
        )
        .await;
    let (unknown_status, unknown) = server
        .json(
            Method::POST,
            "/api/auth/login",
            None,
            Some(json!({"email": "nobody@example.test", "password": server.admin_password})),
        )
        .await;
    assert_eq!(wrong_status, StatusCode::UNAUTHORIZED);
    assert_eq!(unknown_status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        wrong, unknown,
        "unknown email and wrong password answer the same"
    );
    assert_eq!(wrong["error"], "Invalid credentials");
    assert!(wrong.get("token").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_failed_logins_bring_429_with_retry_after() {
    let server = TestServer::start().await;
    let wrong = json!({"email": server.admin_email, "password": "wrong password"});
    for _ in 0..5 {
        let (status, _) = server
            .json(Method::POST, "/api/auth/login", None, Some(wrong.clone()))
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    // Even the right password waits now.
    let response = server
        .http
        .post(server.url("/api/auth/login"))
        .json(&json!({"email": server.admin_email, "password": server.admin_password}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=15 * 60).contains(&retry_after), "{retry_after}");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["success"], false);
    assert_eq!(body["code"], "rate_limited");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_tokens_are_refused_with_the_peers_messages() {
    let server = TestServer::start().await;
    let secret = server.jwt_secret.clone();
    let admin = server.admin_record();
    let mut good = claims("system_admin", now(), now() + 3600);
    good["userId"] = json!(admin.id);
    good["email"] = json!(admin.email);
    good["gen"] = json!(admin.generation);
    let alg_none = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#),
        URL_SAFE_NO_PAD.encode(good.to_string())
    );
    let signed_good = sign(&secret, Algorithm::HS256, &good);
    let stripped_signature = format!("{}.", signed_good.rsplit_once('.').unwrap().0);
    let cases: Vec<(&str, Option<String>, StatusCode, &str)> = vec![
        (
            "no header",
            None,
            StatusCode::UNAUTHORIZED,
            "Access token required",
        ),
        (
            "basic scheme",
            Some("Basic YTpi".into()),
            StatusCode::UNAUTHORIZED,
            "Access token required",
        ),
        (
            "empty bearer",
            Some("Bearer ".into()),
            StatusCode::UNAUTHORIZED,
            "Access token required",
        ),
        (
            "malformed",
            Some("Bearer not.a.token".into()),
            StatusCode::UNAUTHORIZED,
            "Invalid or expired token",
        ),
        (
            "garbage",
            Some("Bearer abc".into()),
            StatusCode::UNAUTHORIZED,
            "Invalid or expired token",
        ),
        (
            "alg none",
            Some(format!("Bearer {alg_none}")),
            StatusCode::UNAUTHORIZED,
            "Invalid or expired token",
        ),
        (
            "no signature",
            Some(format!("Bearer {stripped_signature}")),
            StatusCode::UNAUTHORIZED,
            "Invalid or expired token",
        ),
        (
            "wrong key",
            Some(format!(
                "Bearer {}",
                sign(&"w".repeat(40), Algorithm::HS256, &good)
            )),
            StatusCode::UNAUTHORIZED,
            "Invalid or expired token",
        ),
        (
            "HS512 with our key",
            Some(format!("Bearer {}", sign(&secret, Algorithm::HS512, &good))),
            StatusCode::UNAUTHORIZED,
            "Invalid or expired token",
        ),
        (
            "expired",
            Some(format!(
                "Bearer {}",
                sign(
                    &secret,
                    Algorithm::HS256,
                    &claims("system_admin", now() - 7200, now() - 3600)
                )
            )),
            StatusCode::UNAUTHORIZED,
            "Invalid or expired token",
        ),
        (
            "no exp",
            Some(format!(
                "Bearer {}",
                sign(
                    &secret,
                    Algorithm::HS256,
                    &json!({"userId": "u", "role": "system_admin", "email": "e@x", "iat": now()})
                )
            )),
            StatusCode::UNAUTHORIZED,
            "Invalid or expired token",
        ),
        (
            "no role",
            Some(format!(
                "Bearer {}",
                sign(
                    &secret,
                    Algorithm::HS256,
                    &json!({"userId": "u", "email": "e@x", "iat": now(), "exp": now() + 60})
                )
            )),
            StatusCode::UNAUTHORIZED,
            "Invalid or expired token",
        ),
        (
            "wrong role",
            Some(format!(
                "Bearer {}",
                sign(
                    &secret,
                    Algorithm::HS256,
                    &claims("tenant_admin", now(), now() + 3600)
                )
            )),
            StatusCode::FORBIDDEN,
            "Admin access required",
        ),
    ];
    let routes = [
        (Method::GET, "/api/backups"),
        (Method::POST, "/api/backups"),
        (
            Method::POST,
            "/api/backups/rythm-backup-2026-01-01T00-00-00-000Z.sql/restore",
        ),
        (
            Method::DELETE,
            "/api/backups/rythm-backup-2026-01-01T00-00-00-000Z.sql",
        ),
        (
            Method::GET,
            "/api/backups/rythm-backup-2026-01-01T00-00-00-000Z.sql/download",
        ),
        (Method::GET, "/api/backups/schedule/config"),
        (Method::PUT, "/api/backups/schedule/config"),
    ];
    for (what, header, expected_status, message) in &cases {
        for (method, path) in &routes {
            let mut request = server.http.request(method.clone(), server.url(path));
            if let Some(header) = header {
                request = request.header("authorization", header);
            }
            if *method == Method::PUT {
                request = request.json(&json!({"enabled": true}));
            }
            let response = request.send().await.unwrap();
            assert_eq!(
                response.status(),
                *expected_status,
                "{what}: {method} {path}"
            );
            let body: Value = response.json().await.unwrap();
            assert_eq!(body["error"], *message, "{what}: {method} {path}");
            assert_eq!(body["success"], false);
            let code = if *expected_status == StatusCode::FORBIDDEN {
                "not_admin"
            } else {
                "auth_required"
            };
            assert_eq!(body["code"], code, "{what}: {method} {path}");
        }
    }
    // The right token of the right role passes.
    let (status, _) = server
        .json(Method::GET, "/api/backups", Some(&signed_good), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    // Nothing was touched by any refused call.
    assert!(server.stored_names().await.is_empty());
    assert!(!server.config.schedule_file.exists());
}
