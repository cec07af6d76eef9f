//! Connection profiles: list them (without secrets, with their sign-in state), save one with
//! its secrets (straight into the OS keychain, never returned), remove one, test one.

use rythm_backup_core::api::TokenInfo;
use rythm_backup_core::profile::{
    Profile, ProfileMode, ProfileSettings, Profiles, StorageSettings,
};
use rythm_backup_core::secrets::{SecretKind, Sensitive};
use rythm_backup_core::{Error, ErrorCode};
use serde::{Deserialize, Serialize};
use tauri::State;
use time::OffsetDateTime;
use ts_rs::TS;

use crate::commands::activity::logged;
use crate::commands::checks::{self, Check};
use crate::commands::settings;
use crate::error::{UiError, UiResult};
use crate::state::{Action, AppState};

/// A profile as the front end sees it: no secret, only whether each is stored.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ProfileView {
    pub name: String,
    pub mode: ProfileMode,
    pub settings: ProfileSettings,
    /// Direct mode: a database password is stored.
    pub has_password: bool,
    /// Direct mode with Azure: a connection string is stored.
    pub has_connection_string: bool,
    /// API mode: what the stored sign-in says (expired ones included).
    pub session: Option<TokenInfo>,
    /// API mode: a sign-in is stored, is a system admin's and has not expired.
    pub signed_in: bool,
}

/// A profile to save. Absent secrets keep the stored ones.
#[derive(Clone, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ProfileInput {
    pub name: String,
    pub mode: ProfileMode,
    /// Absent: the profile's current settings, or for a new profile the app's defaults.
    #[serde(default)]
    #[ts(optional)]
    pub settings: Option<ProfileSettings>,
    /// Direct mode: the database password. API mode: the password to sign in with now.
    #[serde(default)]
    #[ts(optional)]
    pub password: Option<String>,
    /// Direct mode with Azure: the storage account's connection string.
    #[serde(default)]
    #[ts(optional)]
    pub azure_connection_string: Option<String>,
}

#[tauri::command]
pub async fn list_profiles(state: State<'_, AppState>) -> UiResult<Vec<ProfileView>> {
    state
        .with_profiles(|p| {
            p.list()?
                .into_iter()
                .map(|profile| view(p, profile))
                .collect()
        })
        .await
}

fn view(profiles: &Profiles, profile: Profile) -> Result<ProfileView, Error> {
    let name = &profile.name;
    let (has_password, has_connection_string, session) = match &profile.mode {
        ProfileMode::Direct { storage, .. } => (
            profiles.has_secret(name, SecretKind::DbPassword)?,
            matches!(storage, StorageSettings::Azure { .. })
                && profiles.has_secret(name, SecretKind::AzureConnectionString)?,
            None,
        ),
        // A locked encrypted secret store: the sign-in is unknown until it is unlocked (the
        // page asks for the master password, then reads the list again).
        ProfileMode::Api { .. } => match profiles.session(name) {
            Err(e) if e.code() == ErrorCode::SecretsLocked => (false, false, None),
            other => (false, false, other?),
        },
    };
    let now = OffsetDateTime::now_utc();
    let signed_in = session
        .as_ref()
        .is_some_and(|s| s.is_admin() && !s.is_expired(now));
    Ok(ProfileView {
        name: profile.name,
        mode: profile.mode,
        settings: profile.settings,
        has_password,
        has_connection_string,
        session,
        signed_in,
    })
}

/// Saves the profile and its secrets; an API profile given a password signs in right away
/// (the profile stays saved when that fails, and the error says why).
#[tauri::command]
pub async fn save_profile(
    state: State<'_, AppState>,
    input: ProfileInput,
) -> UiResult<ProfileView> {
    let name = input.name.clone();
    if let ProfileMode::Api { base_url, .. } = &input.mode {
        refuse_unencrypted(base_url)?;
    }
    let _slot = state.jobs.start(&name, None, Action::SaveProfile)?;
    // A settings file that cannot be read must not block profiles: the built-in defaults.
    let defaults = settings::load(&state)
        .map(|s| s.defaults)
        .unwrap_or_default();
    let password = input.password.filter(|p| !p.is_empty()).map(Sensitive::new);
    let connection_string = input
        .azure_connection_string
        .filter(|c| !c.trim().is_empty())
        .map(|c| Sensitive::new(c.trim().to_owned()));
    let is_api = matches!(input.mode, ProfileMode::Api { .. });
    let db_password = password.clone().filter(|_| !is_api);
    let (mode, settings) = (input.mode, input.settings);
    let saved = state
        .with_profiles(move |p| {
            let settings = match settings {
                Some(settings) => settings,
                None => p.get(&name).map(|old| old.settings).unwrap_or(defaults),
            };
            p.save(&Profile {
                name: name.clone(),
                mode,
                settings,
                // Learned from the server, kept by `save` while the server stays the same.
                server_database: None,
            })?;
            if let Some(secret) = &db_password {
                p.set_secret(&name, SecretKind::DbPassword, secret)?;
            }
            if let Some(secret) = &connection_string {
                p.set_secret(&name, SecretKind::AzureConnectionString, secret)?;
            }
            Ok(())
        })
        .await;
    let name = input.name;
    let api_password = password.filter(|_| is_api);
    let result = async {
        saved?;
        if let Some(password) = api_password {
            state.profiles.login(&name, &password).await?;
        }
        let key = name.clone();
        state.with_profiles(move |p| view(p, p.get(&key)?)).await
    }
    .await;
    logged(&state, &name, Action::SaveProfile, result, |_| {
        "profile saved".into()
    })
}

/// Removes the profile and its keychain entries; `false` when there was none.
#[tauri::command]
pub async fn remove_profile(state: State<'_, AppState>, name: String) -> UiResult<bool> {
    let _slot = state.jobs.start(&name, None, Action::RemoveProfile)?;
    let key = name.clone();
    let result = state.with_profiles(move |p| p.remove(&key)).await;
    logged(&state, &name, Action::RemoveProfile, result, |_| {
        "profile removed".into()
    })
}

/// Checks both ends of a profile and says how each went (see `checks`).
#[tauri::command]
pub async fn test_connection(state: State<'_, AppState>, name: String) -> UiResult<Vec<Check>> {
    let key = name.clone();
    let profile = state.with_profiles(move |p| p.get(&key)).await?;
    Ok(match &profile.mode {
        ProfileMode::Direct { .. } => checks::direct(&state.profiles, &profile).await,
        ProfileMode::Api { base_url, .. } => checks::api(&state.profiles, &name, base_url).await,
    })
}

/// The password and then the session token travel to an API profile's server: over plain
/// `http://` only to this computer itself. The rule is the engine's, the one the CLI warns
/// with; an address that is not http(s) at all is refused by the profile's own check.
fn refuse_unencrypted(base_url: &str) -> UiResult<()> {
    if rythm_backup_core::api::is_unencrypted_remote(base_url) {
        return Err(UiError::invalid_input(
            "use https://: over http:// the password and the session token would cross the \
             network unencrypted (http:// is accepted for this computer only)",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use rythm_backup_core::profile::{Profile, ProfileMode, ProfileSettings};

    use super::refuse_unencrypted;

    fn api_profile(base_url: &str) -> Profile {
        Profile {
            name: "p".into(),
            mode: ProfileMode::Api {
                base_url: base_url.into(),
                email: "a@b.c".into(),
            },
            settings: ProfileSettings::default(),
            server_database: None,
        }
    }

    #[test]
    fn http_is_for_this_computer_only() {
        for ok in [
            "https://rythm.example.com",
            "https://10.0.0.5:8443/base",
            "http://localhost:3000",
            "http://127.0.0.1:8080",
            "http://[::1]:8080",
        ] {
            assert!(refuse_unencrypted(ok).is_ok(), "{ok}");
            assert!(api_profile(ok).validate().is_ok(), "{ok}");
        }
        for unencrypted in [
            "http://rythm.example.com",
            "http://10.0.0.5:3000",
            "http://localhost.evil.example",
        ] {
            let error = refuse_unencrypted(unencrypted).unwrap_err();
            assert!(error.message.contains("unencrypted"), "{}", error.message);
        }
        // Not http(s) at all: the profile's own check refuses it before anything is sent.
        for invalid in ["ftp://rythm.example.com", "not a url"] {
            assert!(api_profile(invalid).validate().is_err(), "{invalid}");
        }
    }
}
