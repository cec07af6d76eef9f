//! Tauri's build step: embeds tauri.conf.json and the capabilities, and declares this app's
//! commands so that a capability must grant each one (none is allowed by default).

/// Every command of `lib.rs`'s `generate_handler!`, in the same order.
const COMMANDS: &[&str] = &[
    "list_profiles",
    "save_profile",
    "remove_profile",
    "test_connection",
    "secret_store",
    "unlock_secrets",
    "change_master_password",
    "move_secrets_to_keychain",
    "sign_in",
    "sign_out",
    "list_backups",
    "create_backup",
    "download_backup",
    "restore_features",
    "restoring_role",
    "restore_backup",
    "restore_local_copy",
    "backup_contents",
    "partial_restore",
    "delete_backup",
    "prune",
    "cancel_job",
    "verify_backup",
    "backup_freshness",
    "running_jobs",
    "get_schedule",
    "set_schedule",
    "list_local_copies",
    "remove_from_list",
    "show_in_folder",
    "get_settings",
    "save_settings",
    "list_activity",
    "check_for_update",
    "install_update",
    "restart_app",
];

fn main() {
    let attributes = tauri_build::Attributes::new()
        .capabilities_path_pattern("./src-tauri/capabilities/**/*")
        .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS));
    if let Err(error) = tauri_build::try_build(attributes) {
        panic!("tauri-build failed: {error:#}");
    }
}
