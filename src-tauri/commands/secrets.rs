//! The secret store: which one holds the profiles' secrets and why (the OS keychain, or the
//! encrypted file when none is reachable), unlocking that file with its master password (the
//! unlock dialog), changing the password, and moving the secrets into the OS keychain.
//! Master passwords come in once and never go back to the page or into a log.

use rythm_backup_core::secrets::{Keychain, MoveOutcome, SecretStoreInfo, Sensitive};
use rythm_backup_core::Error;
use tauri::State;

use crate::error::UiResult;
use crate::state::AppState;

/// Runs `work` on the store off the async runtime (argon2id and keychain calls block).
async fn with_keychain<T: Send + 'static>(
    state: &AppState,
    work: impl FnOnce(&Keychain) -> Result<T, Error> + Send + 'static,
) -> UiResult<T> {
    state.with_profiles(move |p| work(p.keychain())).await
}

#[tauri::command]
pub async fn secret_store(state: State<'_, AppState>) -> UiResult<SecretStoreInfo> {
    with_keychain(&state, |k| Ok(k.info())).await
}

/// Opens the encrypted file with its master password, kept for as long as the app runs;
/// with no file yet, `password` becomes the master password of a new one.
#[tauri::command]
pub async fn unlock_secrets(
    state: State<'_, AppState>,
    password: String,
) -> UiResult<SecretStoreInfo> {
    let password = Sensitive::new(password);
    let info = with_keychain(&state, move |k| {
        k.unlock(&password)?;
        Ok(k.info())
    })
    .await?;
    tracing::info!(entries = info.file_entries, "secret store unlocked");
    Ok(info)
}

/// Re-encrypts the encrypted file under a new master password (one atomic replace).
#[tauri::command]
pub async fn change_master_password(
    state: State<'_, AppState>,
    current: String,
    new: String,
) -> UiResult<SecretStoreInfo> {
    let (current, new) = (Sensitive::new(current), Sensitive::new(new));
    let info = with_keychain(&state, move |k| {
        k.change_master_password(&current, &new)?;
        Ok(k.info())
    })
    .await?;
    tracing::info!("master password of the secret store changed");
    Ok(info)
}

/// Moves every secret from the encrypted file into the OS keychain and deletes the file; all
/// or nothing.
#[tauri::command]
pub async fn move_secrets_to_keychain(state: State<'_, AppState>) -> UiResult<MoveOutcome> {
    with_keychain(&state, |k| Ok(k.move_to_os_keychain()?)).await
}
