//! Path traversal in every `{name}` route, sent byte for byte (no client normalisation):
//! refused with 400 (or 404 where no route can match), and nothing in storage or on disk
//! is touched.

use crate::support::{raw_request, tree, Backend, Options, TestServer};

/// Single path segments that decode to something dangerous.
const SEGMENTS: &[&str] = &[
    "..",
    "..%2F..%2Fetc%2Fpasswd.sql",
    "..%2fvictim.sql",
    "%2e%2e",
    "%2e%2e%2fvictim.sql",
    "%2E%2E%2Fbackups%2Fvictim.sql",
    "..%5Cvictim.sql",
    "a%5Cb.sql",
    "..%252F..%252Fvictim.sql",
    "%252e%252e%252fvictim.sql",
    ".%2e",
    "..sql",
    "..%00.sql",
    "victim.sql%00.sql",
    "%2Fetc%2Fpasswd.sql",
    "%C0%AE%C0%AE%2Fvictim.sql",
    "%FF.sql",
    "schedule",
    "schedule%2Fconfig",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn traversal_in_every_name_route_is_refused_and_touches_nothing() {
    let server = TestServer::start_with(Options {
        backend: Backend::Local,
        ..Options::default()
    })
    .await;
    server.db.fill(10);
    let token = server.token().await;
    let name = server.create_backup(&token).await["name"]
        .as_str()
        .unwrap()
        .to_owned();
    // Bait beside and above the backup folder.
    std::fs::write(server.dir.path().join("victim.sql"), "bait").unwrap();
    let files_before = tree(server.dir.path());
    let stored_before = server.stored_names().await;
    let auth = format!("Bearer {token}");
    let headers = [("Authorization", auth.as_str())];

    for segment in SEGMENTS {
        for (method, target) in [
            ("DELETE", format!("/api/backups/{segment}")),
            ("POST", format!("/api/backups/{segment}/restore")),
            ("GET", format!("/api/backups/{segment}/download")),
        ] {
            let (status, body) = raw_request(server.addr, method, &target, &headers).await;
            assert_eq!(status, 400, "{method} {target}: {body}");
            let body: serde_json::Value = serde_json::from_str(&body)
                .unwrap_or_else(|_| panic!("{method} {target}: not JSON: {body}"));
            assert_eq!(body["success"], false);
            assert_eq!(body["code"], "invalid_name", "{method} {target}: {body}");
        }
    }

    // Several raw segments: no `{name}` route can match; 404 (or 400 from the HTTP layer).
    for target in [
        "/api/backups/../victim.sql".to_owned(),
        "/api/backups/../victim.sql/download".to_owned(),
        "/api/backups/../../victim.sql/restore".to_owned(),
        format!("/api/backups/x/../{name}"),
        "/api/backups/..\\victim.sql".to_owned(),
    ] {
        for method in ["DELETE", "GET", "POST"] {
            let (status, _) = raw_request(server.addr, method, &target, &headers).await;
            assert!(
                matches!(status, 400 | 404 | 405),
                "{method} {target}: {status}"
            );
        }
    }

    assert_eq!(
        tree(server.dir.path()),
        files_before,
        "no file created or removed"
    );
    assert_eq!(server.stored_names().await, stored_before);
    assert_eq!(
        std::fs::read_to_string(server.dir.path().join("victim.sql")).unwrap(),
        "bait"
    );
    // The real backup is still there and still served.
    let (status, _) = raw_request(
        server.addr,
        "GET",
        &format!("/api/backups/{name}/download"),
        &headers,
    )
    .await;
    assert_eq!(status, 200);
}
