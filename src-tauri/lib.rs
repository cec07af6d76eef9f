//! RYTHM Backup Admin's desktop shell (Tauri 2): plugins, state and the commands the web
//! front end (`ui/`) calls. It stays thin: the engine, `rythm-backup-core`, does the work.

mod bindings;
mod close_guard;
mod commands;
mod error;
mod job_run;
mod json_file;
mod logging;
mod os_notify;
mod reads;
mod save_dialog;
mod state;
mod updater;

use rythm_backup_core::Profiles;
use tauri::Manager;

use crate::state::{AppPaths, AppState};

/// Runs the app until its window closes.
pub fn run() {
    tauri::Builder::default()
        .plugin(tauri_plugin_dialog::init())
        .plugin(tauri_plugin_opener::init())
        .plugin(tauri_plugin_notification::init())
        .plugin(tauri_plugin_updater::Builder::new().build())
        .setup(|app| {
            let path = app.path();
            let paths = AppPaths {
                config_dir: path.app_config_dir()?,
                data_dir: path.app_data_dir()?,
                log_dir: path.app_log_dir()?,
            };
            let log_guard = logging::init(&paths.log_dir)?;
            app.manage(log_guard);
            let profiles = Profiles::open_default()?;
            // Scripts may give the encrypted secret store's master password in a file.
            let unlocked = profiles.keychain().unlock_from_env();
            let store = profiles.keychain().info();
            tracing::info!(
                version = env!("CARGO_PKG_VERSION"),
                profiles = %profiles.file().display(),
                data = %paths.data_dir.display(),
                secret_store = %store.summary,
                unlocked = store.unlocked,
                "RYTHM Backup Admin started"
            );
            if let Err(error) = unlocked {
                tracing::warn!(%error, "the secret store could not be unlocked at start");
            }
            app.manage(AppState::new(profiles, paths));
            os_notify::install(app.handle().clone());
            Ok(())
        })
        .on_window_event(close_guard::on_window_event)
        .invoke_handler(tauri::generate_handler![
            commands::profiles::list_profiles,
            commands::profiles::save_profile,
            commands::profiles::remove_profile,
            commands::profiles::test_connection,
            commands::secrets::secret_store,
            commands::secrets::unlock_secrets,
            commands::secrets::change_master_password,
            commands::secrets::move_secrets_to_keychain,
            commands::session::sign_in,
            commands::session::sign_out,
            commands::backups::list_backups,
            commands::backups::create_backup,
            commands::backups::download_backup,
            commands::backups::restore_features,
            commands::backups::restoring_role,
            commands::backups::restore_backup,
            commands::backups::restore_local_copy,
            commands::partial::backup_contents,
            commands::partial::partial_restore,
            commands::backups::delete_backup,
            commands::backups::prune,
            commands::backups::cancel_job,
            commands::verify::verify_backup,
            commands::verify::backup_freshness,
            commands::backups::running_jobs,
            commands::schedule::get_schedule,
            commands::schedule::set_schedule,
            commands::local_copies::list_local_copies,
            commands::local_copies::remove_from_list,
            commands::local_copies::show_in_folder,
            commands::settings::get_settings,
            commands::settings::save_settings,
            commands::activity::list_activity,
            updater::check_for_update,
            updater::install_update,
            updater::restart_app,
        ])
        .run(tauri::generate_context!())
        .expect("the app could not start");
}
