//! Partial restores and `contents` over HTTP: the OpenAPI document says the server has
//! them (so clients offer them), a restore body with `tables` or `tenant` restores only
//! those and answers per table, `dryRun` changes nothing, and bodies or queries that mean
//! nothing or carry bad names are 400 before anything runs.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::support::TestServer;

async fn with_backup() -> (TestServer, String, String) {
    let server = TestServer::start().await;
    server.db.sql(
        "CREATE TABLE t (id int PRIMARY KEY, tenant_id int NOT NULL, v text); \
         CREATE TABLE other (id int PRIMARY KEY); INSERT INTO other VALUES (1); \
         INSERT INTO t SELECT g, g % 3, md5(g::text) FROM generate_series(1, 300) g",
    );
    let token = server.token().await;
    let name = server.create_backup(&token).await["name"]
        .as_str()
        .unwrap()
        .to_owned();
    (server, token, name)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_document_describes_partial_restores_and_contents() {
    let server = TestServer::start().await;
    let (_, doc) = server
        .json(Method::GET, "/api/openapi.json", None, None)
        .await;
    let schemas = &doc["components"]["schemas"];
    for field in [
        "tables",
        "wholeTables",
        "tenant",
        "tenantColumn",
        "where",
        "intoSchema",
        "dryRun",
        "cascadeToReferencing",
    ] {
        assert!(
            schemas["RestoreRequestBody"]["properties"]
                .get(field)
                .is_some(),
            "RestoreRequestBody.{field}"
        );
    }
    assert!(schemas["ActionResponse"]["properties"]
        .get("partial")
        .is_some());
    let features = rythm_backup_core::api::features_from_openapi(&doc);
    assert!(
        features.partial_restore && features.contents,
        "{features:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contents_and_a_tenants_rows_over_http() {
    let (server, token, name) = with_backup().await;
    let path = format!("/api/backups/{name}/contents?tenantColumn=tenant_id");
    let (status, body) = server.json(Method::GET, &path, Some(&token), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let tables = body["data"]["tables"].as_array().unwrap();
    let t = tables.iter().find(|t| t["name"] == "t").unwrap();
    assert_eq!(t["rows"], 300);
    assert_eq!(t["hasTenantColumn"], true);
    assert_eq!(
        body["data"]["tenants"]["tenants"].as_array().unwrap().len(),
        3
    );
    let (status, _) = server.json(Method::GET, &path, None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let missing = "/api/backups/rythm-backup-2020-01-01T00-00-00-000Z.sql.zst/contents";
    let (status, _) = server.json(Method::GET, missing, Some(&token), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let bad = format!(
        "/api/backups/{name}/contents?tenantColumn={}",
        "x".repeat(64)
    );
    let (status, _) = server.json(Method::GET, &bad, Some(&token), None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    server
        .db
        .sql("DELETE FROM t WHERE tenant_id = 1; UPDATE other SET id = 2");
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
    assert_eq!(dry["partial"]["tables"][0]["inserted"], 100);
    assert_eq!(server.db.value("SELECT count(*) FROM t"), "200");
    server.db.wait_idle().await;
    let (status, done) = server
        .json(
            Method::POST,
            &restore,
            Some(&token),
            Some(json!({"tenant": "1", "confirm": server.db.name})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(server.db.value("SELECT count(*) FROM t"), "300");
    assert_eq!(
        server.db.value("SELECT id FROM other"),
        "2",
        "other tables untouched"
    );
    let safety = done["safetyBackup"].as_str().unwrap();
    assert!(safety.starts_with("pre-restore-tables-"), "{done}");
    assert_eq!(done["partial"]["safetyBackup"], safety);
    assert_eq!(done["partial"]["tables"][0]["name"], "t");
    // The engine says how to roll back: the same tenant's rows of the same table.
    let rollback = &done["partial"]["rollback"];
    assert_eq!(rollback["backup"], safety, "{done}");
    assert_eq!(rollback["selection"]["tenant"], "1");
    assert_eq!(rollback["selection"]["tables"], json!(["public.t"]));

    // The safety backup holds t's rows only: `other` shows none (no count of rows that
    // are not there), and restoring it from there is refused.
    let path = format!("/api/backups/{safety}/contents");
    let (status, held) = server.json(Method::GET, &path, Some(&token), None).await;
    assert_eq!(status, StatusCode::OK, "{held}");
    let tables = held["data"]["tables"].as_array().unwrap();
    let other = tables.iter().find(|t| t["name"] == "other").unwrap();
    assert_eq!(
        (&other["hasData"], &other["rows"]),
        (&json!(false), &json!(0))
    );
    let t = tables.iter().find(|t| t["name"] == "t").unwrap();
    // Taken before the restore: tenant 1's rows were gone then.
    assert_eq!((&t["hasData"], &t["rows"]), (&json!(true), &json!(200)));
    let (status, refused) = server
        .json(
            Method::POST,
            &format!("/api/backups/{safety}/restore"),
            Some(&token),
            Some(json!({"tables": ["public.other"], "dryRun": true})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    assert!(
        refused["error"]
            .as_str()
            .unwrap()
            .contains("holds none of its rows"),
        "{refused}"
    );
    assert_eq!(server.db.value("SELECT id FROM other"), "2");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_that_mean_nothing_are_400_before_anything_runs() {
    let (server, token, name) = with_backup().await;
    server.db.sql("DELETE FROM t");
    let restore = format!("/api/backups/{name}/restore");
    for body in [
        json!({"tables": ["a.b.c"]}),
        json!({"tables": ["\"unclosed"]}),
        json!({"where": "id > 1"}),
        json!({"dryRun": true}),
        json!({"cascadeToReferencing": true}),
        json!({"tables": ["public.t"], "where": "1=1; DROP TABLE other"}),
        json!({"tenant": "1", "where": "true"}),
        json!({"tenant": "1", "tenantColumn": ""}),
        json!({"intoSchema": "pg_nope"}),
        json!({"tables": ["public.t"], "confirm": "not-the-database"}),
        json!({"tables": "public.t"}),
    ] {
        let (status, answer): (StatusCode, Value) = server
            .json(Method::POST, &restore, Some(&token), Some(body.clone()))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {answer}");
        assert_eq!(answer["success"], false, "{body}");
    }
    assert_eq!(
        server.db.value("SELECT count(*) FROM t"),
        "0",
        "nothing ran"
    );
    assert_eq!(server.db.value("SELECT count(*) FROM other"), "1");
    assert_eq!(
        server.stored_names().await.len(),
        1,
        "no safety backup was taken"
    );
}

/// Contents reads of a backup big enough to take a while: clients that hang up free their
/// slots (the next reads run, none gets 503), and while two reads run a third gets 503
/// with Retry-After, and the two complete.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contents_reads_are_bounded_and_freed_when_clients_go_away() {
    let server = TestServer::start().await;
    server.db.fill_big(40);
    let token = server.token().await;
    let name = server.create_backup(&token).await["name"]
        .as_str()
        .unwrap()
        .to_owned();
    let url = format!("{}/api/backups/{name}/contents", server.base);
    let get = |timeout: Option<std::time::Duration>| {
        let mut request = server.http.get(&url).bearer_auth(&token);
        if let Some(timeout) = timeout {
            request = request.timeout(timeout);
        }
        request.send()
    };

    // Two clients hang up in the middle of their reads.
    let short = Some(std::time::Duration::from_millis(80));
    let (a, b) = tokio::join!(get(short), get(short));
    for gone in [a, b] {
        let err = gone.expect_err("the read takes longer than the client waits");
        assert!(err.is_timeout(), "{err}");
    }
    // Their slots are free again as soon as the server sees the connections close.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let (a, b) = tokio::join!(get(None), get(None));
    for read in [a, b] {
        assert_eq!(read.unwrap().status(), StatusCode::OK);
    }

    // Two reads running: a third is turned away.
    let first = tokio::spawn(get(None));
    let second = tokio::spawn(get(None));
    tokio::time::sleep(std::time::Duration::from_millis(150)).await;
    assert!(
        !first.is_finished() && !second.is_finished(),
        "the backup is too small to hold two reads running"
    );
    let third = get(None).await.unwrap();
    assert_eq!(third.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        third
            .headers()
            .get("retry-after")
            .map(|v| v.to_str().unwrap()),
        Some("1")
    );
    for read in [first, second] {
        assert_eq!(read.await.unwrap().unwrap().status(), StatusCode::OK);
    }
}
