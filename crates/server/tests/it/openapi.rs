//! `GET /api/openapi.json`: valid JSON, OpenAPI 3, listing every route with its methods,
//! the wire types and the limits' statuses.

use reqwest::{Method, StatusCode};

use crate::support::TestServer;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_document_lists_every_route() {
    let server = TestServer::start().await;
    let (status, doc) = server
        .json(Method::GET, "/api/openapi.json", None, None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3."),
        "{}",
        doc["openapi"]
    );
    let paths = doc["paths"].as_object().expect("paths");
    for (path, methods) in [
        ("/api/auth/login", &["post"][..]),
        ("/api/backups", &["get", "post"]),
        ("/api/backups/{name}", &["delete"]),
        ("/api/backups/{name}/restore", &["post"]),
        ("/api/backups/{name}/verify", &["post"]),
        ("/api/backups/{name}/download", &["get"]),
        ("/api/backups/{name}/contents", &["get"]),
        ("/api/backups/schedule/config", &["get", "put"]),
        ("/api/health", &["get"]),
        ("/api/openapi.json", &["get"]),
    ] {
        let item = paths
            .get(path)
            .unwrap_or_else(|| panic!("{path} is missing"));
        for method in methods {
            assert!(item.get(*method).is_some(), "{method} {path} is missing");
        }
    }
    let schemas = doc["components"]["schemas"].as_object().expect("schemas");
    for schema in [
        "LoginRequest",
        "LoginResponse",
        "CreateBackupResponse",
        "ListBackupsResponse",
        "ListedBackup",
        "ActionResponse",
        "RestoreRequestBody",
        "ScheduleConfig",
        "ScheduleUpdate",
        "ScheduleResponse",
        "ErrorBody",
        "Health",
        "VerifyResponse",
        "Verification",
        "ContentsResponse",
    ] {
        assert!(schemas.contains_key(schema), "schema {schema} is missing");
    }
    // The wire names, not the Rust ones.
    let listed = &schemas["ListedBackup"]["properties"];
    for field in [
        "createdAt",
        "type",
        "duration_seconds",
        "initiated_by",
        "expiresAt",
    ] {
        assert!(
            listed.get(field).is_some(),
            "ListedBackup.{field} is missing"
        );
    }
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    // The limits a client can meet: per address (429), server-wide (503), slow bodies (408).
    let login = &doc["paths"]["/api/auth/login"]["post"]["responses"];
    for status in ["200", "400", "401", "408", "413", "429", "503"] {
        assert!(login.get(status).is_some(), "login {status} is missing");
    }
    for (path, method) in [
        ("/api/backups/{name}/restore", "post"),
        ("/api/backups/schedule/config", "put"),
    ] {
        let responses = &doc["paths"][path][method]["responses"];
        assert!(responses.get("408").is_some(), "{method} {path} 408");
    }
    // Health: the summary for anyone, the detail with a token (and a bad token refused).
    for schema in ["HealthDetail", "ChannelHealth", "ChannelDelivery"] {
        assert!(schemas.contains_key(schema), "schema {schema} is missing");
    }
    let health = &schemas["Health"]["properties"];
    for field in [
        "status",
        "lastSuccessAt",
        "stale",
        "lastVerificationOk",
        "notifications",
        "detail",
    ] {
        assert!(health.get(field).is_some(), "Health.{field} is missing");
    }
    for field in ["lastScheduledRun", "lastVerification", "deliveries"] {
        assert!(health.get(field).is_none(), "Health.{field} is public");
    }
    let get_health = &doc["paths"]["/api/health"]["get"];
    for status in ["200", "401", "403"] {
        assert!(
            get_health["responses"].get(status).is_some(),
            "health {status}"
        );
    }
    let security = get_health["security"]
        .as_array()
        .expect("health's security");
    assert!(
        security.contains(&serde_json::json!({}))
            && security.iter().any(|s| s.get("bearer").is_some()),
        "without a token or with one: {security:?}"
    );
    let description = doc["info"]["description"].as_str().unwrap();
    assert!(description.contains("query string"), "{description}");
    // Downloads are binary, ranged or not.
    let download = &doc["paths"]["/api/backups/{name}/download"]["get"]["responses"];
    for status in ["200", "206"] {
        let schema = &download[status]["content"]["application/octet-stream"]["schema"];
        let schema = match schema["$ref"].as_str() {
            Some(reference) => &schemas[reference.rsplit('/').next().unwrap()],
            None => schema,
        };
        assert_eq!(schema["type"], "string", "{status}: {schema}");
        assert_eq!(schema["format"], "binary", "{status}: {schema}");
    }
}
