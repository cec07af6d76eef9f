//! Revocation: a token dies when its admin is removed, changes password or has their tokens
//! revoked, seen by the running server at once (the admin file is edited beside it, as
//! `rythm-backup admin` does); a removed admin added again does not revive old tokens;
//! tokens issued before generations existed keep working until the admin's next change.

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::{Method, StatusCode};
use rythm_backup_server::admins::AdminFile;
use serde_json::{json, Value};

use crate::support::TestServer;

/// The status of `GET /api/backups` and of `PUT /api/backups/schedule/config` with `token`.
async fn statuses(server: &TestServer, token: &str) -> (StatusCode, StatusCode) {
    let (list, _) = server
        .json(Method::GET, "/api/backups", Some(token), None)
        .await;
    let (put, _) = server
        .json(
            Method::PUT,
            "/api/backups/schedule/config",
            Some(token),
            Some(json!({"enabled": false})),
        )
        .await;
    (list, put)
}

const OK: (StatusCode, StatusCode) = (StatusCode::OK, StatusCode::OK);
const REFUSED: (StatusCode, StatusCode) = (StatusCode::UNAUTHORIZED, StatusCode::UNAUTHORIZED);

fn edit(server: &TestServer) -> AdminFile {
    AdminFile::load(&server.config.admins_file).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_removed_admins_token_gets_401_at_once() {
    let server = TestServer::start().await;
    let token = server.token().await;
    assert_eq!(statuses(&server, &token).await, OK);

    assert!(edit(&server).remove(&server.admin_email).unwrap());
    assert_eq!(statuses(&server, &token).await, REFUSED);
    let (_, body) = server
        .json(Method::GET, "/api/backups", Some(&token), None)
        .await;
    assert_eq!(body["error"], "Invalid or expired token");
    assert_eq!(body["code"], "auth_required");

    // Added again with the same email and password: a new admin, the old token stays dead.
    edit(&server)
        .add(&server.admin_email, &server.admin_password)
        .unwrap();
    assert_eq!(statuses(&server, &token).await, REFUSED);
    let fresh = server.token().await;
    assert_eq!(statuses(&server, &fresh).await, OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_password_or_a_revocation_ends_earlier_tokens() {
    let server = TestServer::start().await;
    let first = server.token().await;
    let second = server.token().await;
    assert_eq!(statuses(&server, &first).await, OK);

    let new_password = format!("{}-new", server.admin_password);
    edit(&server)
        .add(&server.admin_email, &new_password)
        .unwrap();
    assert_eq!(statuses(&server, &first).await, REFUSED);
    assert_eq!(statuses(&server, &second).await, REFUSED);
    let (status, _) = server
        .json(
            Method::POST,
            "/api/auth/login",
            None,
            Some(json!({"email": server.admin_email, "password": new_password})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = server
        .json(
            Method::POST,
            "/api/auth/login",
            None,
            Some(json!({"email": server.admin_email, "password": new_password})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let current = body["token"].as_str().unwrap().to_owned();
    assert_eq!(statuses(&server, &current).await, OK);

    assert!(edit(&server).revoke(&server.admin_email).unwrap());
    assert_eq!(statuses(&server, &current).await, REFUSED);
    // The password itself still works.
    let (status, _) = server
        .json(
            Method::POST,
            "/api/auth/login",
            None,
            Some(json!({"email": server.admin_email, "password": new_password})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_from_before_generations_work_until_the_admins_next_change() {
    let server = TestServer::start().await;
    // An admin file as the previous version wrote it: no generation.
    let path = &server.config.admins_file;
    let mut contents: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    contents["admins"][0]
        .as_object_mut()
        .unwrap()
        .remove("generation");
    std::fs::write(path, contents.to_string()).unwrap();
    let admin = server.admin_record();
    assert_eq!(admin.generation, None);

    // A token as the previous version issued it: the platform's claims, no `gen`.
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let old_token = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &json!({"userId": admin.id, "tenantId": null, "role": "system_admin",
                "email": admin.email, "iat": now - 3600, "exp": now - 3600 + 7 * 24 * 3600}),
        &EncodingKey::from_secret(server.jwt_secret.as_bytes()),
    )
    .unwrap();
    assert_eq!(statuses(&server, &old_token).await, OK);
    // Logins from that file issue tokens without `gen` too, and they work.
    let issued = server.token().await;
    assert_eq!(statuses(&server, &issued).await, OK);

    // A token claiming some generation the admin never had is refused.
    let forged_generation = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &json!({"userId": admin.id, "role": "system_admin", "email": admin.email,
                "iat": now, "exp": now + 3600, "gen": "0123"}),
        &EncodingKey::from_secret(server.jwt_secret.as_bytes()),
    )
    .unwrap();
    assert_eq!(statuses(&server, &forged_generation).await, REFUSED);

    assert!(edit(&server).revoke(&server.admin_email).unwrap());
    assert_eq!(statuses(&server, &old_token).await, REFUSED);
    assert_eq!(statuses(&server, &issued).await, REFUSED);
}
