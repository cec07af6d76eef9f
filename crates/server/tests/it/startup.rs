//! Starting the server: it refuses a missing or short JWT_SECRET, without echoing it.

use rythm_backup_core::{Engine, EngineConfig};
use rythm_backup_server::{BackupServer, ServerConfig};

#[test]
fn refuses_a_missing_or_short_jwt_secret() {
    let missing = ServerConfig::from_lookup(|_| None).unwrap_err().to_string();
    assert!(missing.contains("JWT_SECRET"), "{missing}");

    let short = "s3cr3t-but-only-31-bytes-long!!";
    assert_eq!(short.len(), 31);
    let error = ServerConfig::from_lookup(|k| (k == "JWT_SECRET").then(|| short.to_owned()))
        .unwrap_err()
        .to_string();
    assert!(error.contains("at least 32"), "{error}");
    assert!(!error.contains(short), "{error}");

    // A configuration built by hand is checked again when the server is built.
    let dir = tempfile::tempdir().unwrap();
    let mut config = ServerConfig::new("x".repeat(32).into()).unwrap();
    config.jwt_secret = short.to_owned().into();
    config.admins_file = dir.path().join("admins.json");
    config.schedule_file = dir.path().join("schedule.json");
    let engine_config = EngineConfig::from_lookup(|k| {
        (k == "BACKUP_DIR").then(|| dir.path().join("b").display().to_string())
    })
    .unwrap();
    let engine = Engine::new(engine_config).unwrap();
    let error = BackupServer::new(config.clone(), engine.clone()).unwrap_err();
    assert!(error.to_string().contains("at least 32"), "{error}");

    config.jwt_secret = "x".repeat(32).into();
    assert!(BackupServer::new(config, engine).is_ok());
}
