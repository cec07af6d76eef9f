//! Create, list, delete and restore through the API, with the contract's exact field names
//! and status codes.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::support::{Backend, Options, SessionHolder, TestServer};

fn keys(value: &Value) -> Vec<String> {
    let mut keys: Vec<String> = value.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    keys
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_list_delete_with_the_contracts_fields() {
    let server = TestServer::start().await;
    server.db.fill(100);
    let token = server.token().await;

    let (status, body) = server
        .json(Method::POST, "/api/backups", Some(&token), None)
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["success"], true);
    assert_eq!(body["message"], "Backup created successfully");
    let data = &body["data"];
    for key in [
        "filename",
        "timestamp",
        "name",
        "createdAt",
        "url",
        "size",
        "databaseName",
        "status",
        "sha256",
    ] {
        assert!(data.get(key).is_some(), "data lacks {key}: {data}");
    }
    let name = data["name"].as_str().unwrap().to_owned();
    assert_eq!(data["filename"], name.as_str());
    assert_eq!(data["timestamp"], data["createdAt"]);
    assert!(name.starts_with("rythm-backup-"), "{name}");
    assert_eq!(data["url"], format!("/api/backups/{name}/download"));
    assert_eq!(data["databaseName"], server.db.name.as_str());
    assert_eq!(data["status"], "completed");
    assert_eq!(data["sha256"].as_str().unwrap().len(), 64);
    let timestamp = data["timestamp"].as_str().unwrap();
    assert!(
        timestamp.ends_with('Z') && timestamp.len() == 24,
        "{timestamp}"
    );

    let (status, list) = server
        .json(Method::GET, "/api/backups", Some(&token), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["success"], true);
    assert_eq!(list["count"], 1);
    let entry = &list["data"][0];
    for key in [
        "name",
        "size",
        "createdAt",
        "url",
        "type",
        "status",
        "duration_seconds",
        "initiated_by",
        "format",
        "compression",
        "sha256",
        "expiresAt",
    ] {
        assert!(entry.get(key).is_some(), "entry lacks {key}: {entry}");
    }
    assert_eq!(entry["name"], name.as_str());
    assert_eq!(entry["size"], data["size"]);
    assert_eq!(entry["createdAt"], data["createdAt"]);
    assert_eq!(entry["url"], data["url"]);
    assert_eq!(entry["type"], "manual");
    assert_eq!(entry["status"], "completed");
    assert_eq!(entry["initiated_by"], server.admin_email.as_str());
    assert_eq!(entry["sha256"], data["sha256"]);
    assert!(entry["duration_seconds"].as_f64().unwrap() >= 0.0);

    let (status, deleted) = server
        .json(
            Method::DELETE,
            &format!("/api/backups/{name}"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{deleted}");
    assert_eq!(keys(&deleted), ["filename", "message", "success"]);
    assert_eq!(deleted["filename"], name.as_str());
    assert_eq!(deleted["message"], "Backup deleted successfully");
    assert!(server.stored_names().await.is_empty());

    // Gone: 404 everywhere, with the engine's code.
    for (method, path) in [
        (Method::DELETE, format!("/api/backups/{name}")),
        (Method::GET, format!("/api/backups/{name}/download")),
        (Method::POST, format!("/api/backups/{name}/restore")),
    ] {
        let (status, body) = server.json(method.clone(), &path, Some(&token), None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path}: {body}");
        assert_eq!(keys(&body), ["code", "error", "success"]);
        assert_eq!(body["code"], "not_found");
        assert_eq!(body["success"], false);
    }
    let (status, body) = server
        .json(Method::GET, "/api/nothing", Some(&token), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["code"], "not_found");
    let (status, body) = server
        .json(Method::PATCH, "/api/backups", Some(&token), None)
        .await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(body["success"], false);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restore_brings_the_data_back_after_a_safety_backup() {
    let server = TestServer::start_with(Options {
        backend: Backend::Local,
        ..Options::default()
    })
    .await;
    server.db.fill(50);
    let token = server.token().await;
    let name = server.create_backup(&token).await["name"]
        .as_str()
        .unwrap()
        .to_owned();
    server
        .db
        .sql("DELETE FROM items WHERE id > 10; INSERT INTO items VALUES (1000, 'new')");
    server.db.wait_idle().await;

    // A confirmation naming another database is refused before anything happens.
    let path = format!("/api/backups/{name}/restore");
    let (status, body) = server
        .json(
            Method::POST,
            &path,
            Some(&token),
            Some(json!({"confirm": "other_db"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["code"], "confirmation_mismatch");
    let response = server
        .http
        .post(server.url(&path))
        .bearer_auth(&token)
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(server.db.value("SELECT count(*) FROM items"), "11");

    let (status, body) = server
        .json(
            Method::POST,
            &path,
            Some(&token),
            Some(json!({"confirm": server.db.name})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["success"], true);
    assert_eq!(body["message"], "Database restored successfully");
    assert_eq!(body["filename"], name.as_str());
    let safety = body["safetyBackup"]
        .as_str()
        .expect("a safety backup")
        .to_owned();
    assert!(safety.starts_with("pre-restore-"), "{safety}");
    assert_eq!(server.db.value("SELECT count(*) FROM items"), "50");
    assert_eq!(
        server
            .db
            .value("SELECT count(*) FROM items WHERE id = 1000"),
        "0"
    );

    let list = server.list(&token).await;
    let safety_entry = list
        .iter()
        .find(|e| e["name"] == safety.as_str())
        .expect("the safety backup is listed");
    assert_eq!(safety_entry["type"], "pre-restore");
    assert_eq!(safety_entry["initiated_by"], server.admin_email.as_str());

    // No body at all (the RYTHM admin page's call) restores too; skipSafetyBackup is honoured.
    server.db.wait_idle().await;
    let (status, body) = server
        .json(
            Method::POST,
            &path,
            Some(&token),
            Some(json!({"skipSafetyBackup": true})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.get("safetyBackup").is_none(), "{body}");
    server.db.wait_idle().await;
    let response = server
        .http
        .post(server.url(&path))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restore_while_the_database_is_in_use_is_409() {
    let server = TestServer::start().await;
    server.db.fill(5);
    let token = server.token().await;
    let name = server.create_backup(&token).await["name"]
        .as_str()
        .unwrap()
        .to_owned();
    // Hold a session open on the database while restoring.
    let holder = SessionHolder::start(&server.db, "SELECT pg_sleep(60)").await;
    let (status, body) = server
        .json(
            Method::POST,
            &format!("/api/backups/{name}/restore"),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(body["code"], "database_in_use");

    // Asked to, the server ends the other session and restores.
    let (status, body) = server
        .json(
            Method::POST,
            &format!("/api/backups/{name}/restore"),
            Some(&token),
            Some(serde_json::json!({ "terminateConnections": true })),
        )
        .await;
    holder.release();
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["success"], true);
}
