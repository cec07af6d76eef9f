//! Signing in to an API profile's server (the token goes to the OS keychain, never to the
//! front end) and signing out.

use rythm_backup_core::api::TokenInfo;
use rythm_backup_core::secrets::Sensitive;
use tauri::State;

use crate::commands::activity::logged;
use crate::error::UiResult;
use crate::state::{Action, AppState};

#[tauri::command]
pub async fn sign_in(
    state: State<'_, AppState>,
    profile: String,
    password: String,
) -> UiResult<TokenInfo> {
    let password = Sensitive::new(password);
    let result = state.profiles.login(&profile, &password).await;
    logged(
        &state,
        &profile,
        Action::SignIn,
        result.map_err(Into::into),
        |info| format!("signed in as {}", info.email.as_deref().unwrap_or("?")),
    )
}

/// Forgets the profile's token; `false` when none was stored.
#[tauri::command]
pub async fn sign_out(state: State<'_, AppState>, profile: String) -> UiResult<bool> {
    let name = profile.clone();
    let result = state.with_profiles(move |p| p.logout(&name)).await;
    logged(&state, &profile, Action::SignOut, result, |_| {
        "signed out".into()
    })
}
