//! The shell's commands over the real IPC, as the front end calls them but without its UI:
//! a direct profile on the test PostgreSQL with a local folder store, through backup,
//! download, both restores, delete and prune, with progress over channels. The profile's
//! password goes to the OS keychain: run under `keyctl session -` (scripts/test.sh does).

use serde_json::{json, Value};

use crate::support::{App, TestDb};

fn code(error: &Value) -> &str {
    error["code"].as_str().unwrap_or_default()
}

#[test]
fn a_direct_profile_backs_up_downloads_restores_and_deletes() {
    let db = TestDb::create();
    db.query("CREATE TABLE t (id int); INSERT INTO t SELECT generate_series(1, 100)");
    let app = App::start();
    let store = app.data_dir().join("store");

    let profile = json!({
        "name": "local",
        "mode": {
            "type": "direct",
            "database": {"host": db.host, "port": db.port, "database": db.name, "user": db.user},
            "storage": {"type": "local", "dir": store},
        },
        "password": db.password,
    });
    let saved = app
        .invoke("save_profile", json!({"input": profile}))
        .expect("save_profile");
    assert_eq!(saved["hasPassword"], true, "{saved}");
    assert!(
        saved.get("password").is_none(),
        "a secret came back: {saved}"
    );

    let checks = app
        .invoke("test_connection", json!({"name": "local"}))
        .expect("checks");
    for check in checks.as_array().unwrap() {
        assert_eq!(check["ok"], true, "{check}");
    }

    // A backup, with its progress over the channel.
    let (created, events) = app.invoke_with_channel(
        "create_backup",
        json!({"profile": "local", "jobId": "job-create"}),
        "onEvent",
    );
    let created = created.expect("create_backup");
    let name = created["name"].as_str().unwrap().to_owned();
    assert!(
        events.iter().any(|e| e["event"] == "phaseStarted"),
        "no progress events: {events:?}"
    );
    let listed = app
        .invoke("list_backups", json!({"profile": "local"}))
        .unwrap();
    assert_eq!(listed[0]["name"], name.as_str());

    // The download lands where the test answers the save dialog, and is listed.
    let (downloaded, _) = app.invoke_with_channel(
        "download_backup",
        json!({"profile": "local", "name": name, "jobId": "job-download"}),
        "onEvent",
    );
    let downloaded = downloaded.expect("download_backup");
    let path = app.downloads_dir().join(&name);
    assert!(path.is_file(), "{downloaded}");
    let copies = app.invoke("list_local_copies", json!({})).unwrap();
    assert_eq!(copies[0]["exists"], true, "{copies}");

    // A direct profile does everything around a restore.
    let features = app
        .invoke("restore_features", json!({"profile": "local"}))
        .expect("restore_features");
    assert_eq!(
        features,
        json!({"safetyBackup": true, "skipSafetyBackup": true, "terminateConnections": true,
               "checksConfirmation": true, "reportsRole": true, "partialRestore": true,
               "contents": true})
    );
    // The test server's profile connects as its superuser: step 1 will say so.
    let role = app
        .invoke("restoring_role", json!({"profile": "local"}))
        .expect("restoring_role");
    assert_eq!(role["superuser"], true, "{role}");

    // A restore needs the database's name, then replaces the data after a safety backup.
    db.query("DELETE FROM t WHERE id > 10");
    let restore = |confirm: &str, job: &str| {
        app.invoke_with_channel(
            "restore_backup",
            json!({"profile": "local", "name": name, "jobId": job,
                   "options": {"confirm": confirm, "skipSafetyBackup": false,
                               "terminateConnections": true}}),
            "onEvent",
        )
        .0
    };
    let refused = restore("not-the-database", "job-restore-1").expect_err("wrong confirmation");
    assert_eq!(code(&refused), "confirmation_mismatch", "{refused}");
    let restored = restore(&db.name, "job-restore-2").expect("restore_backup");
    assert!(restored["safetyBackup"].is_string(), "{restored}");
    assert_eq!(db.query("SELECT count(*) FROM t"), "100");

    // The local copy restores offline too.
    db.query("DELETE FROM t");
    let (offline, _) = app.invoke_with_channel(
        "restore_local_copy",
        json!({"profile": "local", "path": path, "jobId": "job-restore-3",
               "options": {"confirm": db.name, "skipSafetyBackup": true,
                           "terminateConnections": true}}),
        "onEvent",
    );
    offline.expect("restore_local_copy");
    assert_eq!(db.query("SELECT count(*) FROM t"), "100");

    // Delete, a prune dry run, and the activity log of it all.
    app.invoke("delete_backup", json!({"profile": "local", "name": name}))
        .expect("delete_backup");
    let pruned = app
        .invoke("prune", json!({"profile": "local", "dryRun": true}))
        .expect("prune");
    assert_eq!(pruned["dryRun"], true);
    let activity = app.invoke("list_activity", json!({"limit": 20})).unwrap();
    let actions: Vec<&str> = activity
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap_or_default())
        .collect();
    for action in [
        "save-profile",
        "create-backup",
        "download-backup",
        "restore-backup",
    ] {
        assert!(
            actions.contains(&action),
            "{action} missing from {actions:?}"
        );
    }
    assert_eq!(
        activity[0]["action"], "delete-backup",
        "newest first: {activity}"
    );
    let failed = activity
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["result"] == "failed")
        .expect("the refused restore is logged");
    assert_eq!(failed["code"], "confirmation_mismatch");
    assert!(
        app.invoke("running_jobs", json!({}))
            .unwrap()
            .as_array()
            .unwrap()
            .is_empty(),
        "every job slot is free again"
    );
}

#[test]
fn an_api_profile_without_a_server_reports_its_checks() {
    let app = App::start();
    let profile = json!({
        "name": "remote",
        "mode": {"type": "api", "baseUrl": "http://127.0.0.1:9", "email": "admin@example.com"},
    });
    let saved = app
        .invoke("save_profile", json!({"input": profile}))
        .expect("save_profile");
    assert_eq!(saved["signedIn"], false, "{saved}");
    let checks = app
        .invoke("test_connection", json!({"name": "remote"}))
        .unwrap();
    let ids: Vec<&str> = checks
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["server", "sign_in", "role"]);
    assert!(
        checks.as_array().unwrap().iter().all(|c| c["ok"] == false),
        "{checks}"
    );
    let refused = app
        .invoke("prune", json!({"profile": "remote", "dryRun": true}))
        .expect_err("no prune through an API");
    assert_eq!(code(&refused), "unsupported");
    let schedule = app
        .invoke("get_schedule", json!({"profile": "remote"}))
        .expect_err("not signed in");
    assert_eq!(code(&schedule), "auth_required", "{schedule}");
}
