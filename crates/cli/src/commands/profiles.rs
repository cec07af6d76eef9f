//! `profile add|list|show|remove`, `login` and `logout`: connection profiles, with their
//! secrets in the OS keychain or the encrypted file (`show` says which, and why). Adding
//! one warns about what would go wrong unseen: plain http to another computer, and
//! compressed backups in a container the RYTHM platform also uses (its admin page lists
//! only plain `.sql`).

use std::time::Duration;

use rythm_backup_core::engine::PLATFORM_FORMAT;
use rythm_backup_core::notify::settings::{NotifyProfiles, ProfileNotify};
use rythm_backup_core::profile::{
    DatabaseSettings, Profile, ProfileMode, ProfileSettings, Profiles, StorageSettings,
};
use rythm_backup_core::secrets::{SecretKind, SecretStoreInfo, Sensitive};
use rythm_backup_core::{time_text, Error};
use serde::Serialize;
use url::Url;

use super::{open_profiles, Ctx};
use crate::args::{ProfileAction, ProfileAddArgs};
use crate::open::warn_if_unencrypted;
use crate::output;
use crate::prompt::read_secret;

pub async fn profile(ctx: &Ctx, action: ProfileAction) -> Result<(), Error> {
    let profiles = open_profiles()?;
    match action {
        ProfileAction::Add(args) => add(ctx, &profiles, args).await,
        ProfileAction::List => {
            let listed: Vec<ProfileView> = profiles
                .list()?
                .into_iter()
                .map(|p| ProfileView::of(&profiles, p))
                .collect();
            ctx.finish(&listed, |all| {
                if all.is_empty() {
                    println!("No profiles yet. Add one with: rythm-backup profile add NAME …");
                }
                for p in all {
                    println!("{:<20} {:<7} {}", p.profile.name, p.mode, p.location);
                }
            })
            .await;
            Ok(())
        }
        ProfileAction::Show { name } => {
            let mut view = ProfileView::of(&profiles, profiles.get(&name)?);
            view.secret_store = Some(profiles.keychain().info());
            view.notifications = Some(NotifyProfiles::beside(&profiles).get(&name)?);
            ctx.finish(&view, |v| {
                println!("{} ({} mode): {}", v.profile.name, v.mode, v.location);
                if let Some(user) = &v.signed_in_as {
                    println!("Signed in as {user}");
                }
                for (what, stored) in &v.secrets {
                    println!("{what}: {}", if *stored { "stored" } else { "not stored" });
                }
                match &v.notifications {
                    Some(Some(settings)) => println!(
                        "Notifications: {}",
                        super::profile_notify::describe(settings, None)
                    ),
                    Some(None) => println!(
                        "Notifications: from the environment (none set for this profile; see \
                         rythm-backup profile notify)"
                    ),
                    None => {}
                }
                if let Some(store) = &v.secret_store {
                    println!("Secret store: {}", store.summary);
                    if store.can_move {
                        println!(
                            "Move the secrets there with: rythm-backup secrets move-to-keychain"
                        );
                    }
                }
            })
            .await;
            Ok(())
        }
        ProfileAction::Notify(args) => super::profile_notify::set(ctx, &profiles, args).await,
        ProfileAction::Remove { name } => {
            NotifyProfiles::beside(&profiles).remove(&name)?;
            let removed = profiles.remove(&name)?;
            if !removed {
                return Err(Error::InvalidInput(format!(
                    "there is no profile named {name:?}"
                )));
            }
            let answer = serde_json::json!({ "removed": name });
            ctx.finish(&answer, |_| {
                println!("Removed profile {name} and its secrets")
            })
            .await;
            Ok(())
        }
    }
}

/// A profile as `list`/`show` print it: never a secret, only whether one is stored.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ProfileView {
    #[serde(flatten)]
    profile: Profile,
    #[serde(skip)]
    mode: &'static str,
    location: String,
    signed_in_as: Option<String>,
    secrets: Vec<(&'static str, bool)>,
    /// `show` only: where the secrets are kept, and why.
    #[serde(skip_serializing_if = "Option::is_none")]
    secret_store: Option<SecretStoreInfo>,
    /// `show` only: the profile's own notification settings (null: the environment's);
    /// their secrets stay in the store, a webhook shows only that it is set.
    #[serde(skip_serializing_if = "Option::is_none")]
    notifications: Option<Option<ProfileNotify>>,
}

impl ProfileView {
    fn of(profiles: &Profiles, profile: Profile) -> Self {
        let name = profile.name.clone();
        let stored = |kind| profiles.has_secret(&name, kind).unwrap_or(false);
        let (mode, location, secrets) = match &profile.mode {
            ProfileMode::Api { base_url, email } => (
                "api",
                format!("{base_url} as {email}"),
                vec![("sign-in token", stored(SecretKind::ApiToken))],
            ),
            ProfileMode::Direct { database, storage } => {
                let store = match storage {
                    StorageSettings::Azure {
                        container,
                        shared_with_platform: true,
                    } => format!("azure container {container}, shared with the RYTHM platform"),
                    StorageSettings::Azure { container, .. } => {
                        format!("azure container {container}")
                    }
                    StorageSettings::Local { dir } => format!("folder {}", dir.display()),
                };
                let mut secrets = vec![("database password", stored(SecretKind::DbPassword))];
                if matches!(storage, StorageSettings::Azure { .. }) {
                    secrets.push((
                        "azure connection string",
                        stored(SecretKind::AzureConnectionString),
                    ));
                }
                (
                    "direct",
                    format!(
                        "{}:{}/{} → {store}",
                        database.host, database.port, database.database
                    ),
                    secrets,
                )
            }
        };
        let signed_in_as = profiles
            .session(&name)
            .ok()
            .flatten()
            .filter(|s| !s.is_expired(time::OffsetDateTime::now_utc()))
            .and_then(|s| s.email);
        ProfileView {
            profile,
            mode,
            location,
            signed_in_as,
            secrets,
            secret_store: None,
            notifications: None,
        }
    }
}

async fn add(ctx: &Ctx, profiles: &Profiles, args: ProfileAddArgs) -> Result<(), Error> {
    let mut settings = ProfileSettings::default();
    settings.retention_days = args.retention_days.unwrap_or(settings.retention_days);
    settings.format = args.format.unwrap_or(settings.format);
    settings.compression = args.compression.unwrap_or(settings.compression);
    if args.shared_with_platform {
        let (format, compression) = PLATFORM_FORMAT;
        let asked = (
            args.format.unwrap_or(format),
            args.compression.unwrap_or(compression),
        );
        if asked != PLATFORM_FORMAT {
            return Err(Error::InvalidInput(
                "--shared-with-platform writes plain, uncompressed .sql (what the RYTHM \
                 platform lists and restores): leave out --format and --compression"
                    .into(),
            ));
        }
        (settings.format, settings.compression) = PLATFORM_FORMAT;
    }
    let mut secrets: Vec<(SecretKind, Sensitive<String>)> = Vec::new();
    let mode = match (args.api_url, args.database_url) {
        (Some(base_url), None) => {
            warn_if_unencrypted(&base_url, ctx.json);
            let email = args.email.unwrap_or_default();
            ProfileMode::Api { base_url, email }
        }
        (None, Some(database_url)) => {
            let database = database_settings(&database_url)?;
            let storage = match (args.backup_dir, args.azure_container) {
                (Some(dir), None) => StorageSettings::Local { dir },
                (None, Some(container)) => {
                    let conn = match std::env::var("AZURE_STORAGE_CONNECTION_STRING") {
                        Ok(conn) if !conn.trim().is_empty() => Sensitive::new(conn),
                        _ => read_secret("Azure storage connection string: ", false)?,
                    };
                    secrets.push((SecretKind::AzureConnectionString, conn));
                    StorageSettings::Azure {
                        container,
                        shared_with_platform: args.shared_with_platform,
                    }
                }
                _ => {
                    return Err(Error::InvalidInput(
                        "a direct profile needs --backup-dir DIR or --azure-container NAME".into(),
                    ))
                }
            };
            let prompt = format!("Password of {} on {}: ", database.user, database.host);
            secrets.push((
                SecretKind::DbPassword,
                read_secret(&prompt, args.password_stdin)?,
            ));
            ProfileMode::Direct { database, storage }
        }
        _ => unreachable!("clap requires exactly one of --api-url and --database-url"),
    };
    let profile = Profile {
        name: args.name.clone(),
        mode,
        settings,
        server_database: None,
    };
    profiles.save(&profile)?;
    for (kind, secret) in &secrets {
        profiles.set_secret(&profile.name, *kind, secret)?;
    }
    warn_if_hidden_from_platform(ctx, profiles, &profile).await;
    let view = ProfileView::of(profiles, profile);
    ctx.finish(&view, |v| {
        println!(
            "Saved profile {} ({} mode): {}",
            v.profile.name, v.mode, v.location
        );
        if v.mode == "api" {
            println!(
                "Sign in with: rythm-backup login --profile {}",
                v.profile.name
            );
        }
    })
    .await;
    Ok(())
}

/// Once, when a direct profile is added: its compressed backups will not appear in the RYTHM
/// platform's admin page, which lists only plain `.sql`. Said more firmly when the container
/// or the database shows signs of the platform (looked for briefly; unreachable is silent).
async fn warn_if_hidden_from_platform(ctx: &Ctx, profiles: &Profiles, profile: &Profile) {
    let ProfileMode::Direct { storage, .. } = &profile.mode else {
        return;
    };
    let compressed = (profile.settings.format, profile.settings.compression) != PLATFORM_FORMAT;
    if !matches!(storage, StorageSettings::Azure { .. }) || storage.shared_with_platform() {
        return;
    }
    if !compressed {
        return;
    }
    let signs = async {
        let backups = profiles.open(&profile.name).await.ok()?;
        backups.as_engine()?.platform_signs().await.ok()
    };
    let signs = tokio::time::timeout(Duration::from_secs(20), signs)
        .await
        .ok()
        .flatten()
        .filter(|s| s.any());
    let lead = match signs {
        Some(signs) => format!(
            "this container looks shared with the RYTHM platform ({}), but",
            signs.describe()
        ),
        None => "if this container is shared with the RYTHM platform,".to_owned(),
    };
    output::warn(
        ctx.json,
        &format!(
            "{lead} this profile's backups are compressed ({}/{}) and will not appear in the \
             platform's admin page, which lists only plain .sql. Add the profile again with \
             --shared-with-platform to write plain, uncompressed .sql (about three times the \
             size)",
            profile.settings.format.as_str(),
            profile.settings.compression.as_str()
        ),
    );
}

/// Host, port, database, user and sslmode from a URL that must not carry a password.
fn database_settings(raw: &str) -> Result<DatabaseSettings, Error> {
    let invalid = |why: &str| Error::InvalidInput(format!("--database-url: {why}"));
    let url = Url::parse(raw).map_err(|_| invalid("not a postgresql:// URL"))?;
    if !matches!(url.scheme(), "postgres" | "postgresql") {
        return Err(invalid("not a postgresql:// URL"));
    }
    if url.password().is_some() {
        return Err(invalid(
            "leave the password out; it is asked for and kept in the OS keychain (or the \
             encrypted secrets file)",
        ));
    }
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(s)
            .decode_utf8_lossy()
            .into_owned()
    };
    let database = decode(url.path().trim_start_matches('/'));
    if database.is_empty() || url.username().is_empty() {
        return Err(invalid(
            "it must name a user and a database: postgresql://USER@HOST:PORT/DB",
        ));
    }
    let sslmode = url
        .query_pairs()
        .find(|(k, _)| k == "sslmode")
        .map(|(_, v)| v.into_owned());
    Ok(DatabaseSettings {
        host: url.host_str().unwrap_or("localhost").to_owned(),
        port: url.port().unwrap_or(5432),
        database,
        user: decode(url.username()),
        sslmode,
    })
}

pub async fn login(ctx: &Ctx, profile: Option<&str>, password_stdin: bool) -> Result<(), Error> {
    let name = profile.ok_or_else(|| Error::InvalidInput("login needs --profile NAME".into()))?;
    let profiles = open_profiles()?;
    let email = match profiles.get(name)?.mode {
        ProfileMode::Api { email, base_url } => {
            warn_if_unencrypted(&base_url, ctx.json);
            email
        }
        ProfileMode::Direct { .. } => {
            return Err(Error::Unsupported(format!(
                "profile {name:?} works directly on the database; only API profiles sign in"
            )))
        }
    };
    let password = read_secret(&format!("Password for {email}: "), password_stdin)?;
    let info = profiles.login(name, &password).await?;
    ctx.finish(&info, |i| {
        let until = i
            .expires_at
            .map(|t| format!(" until {}", time_text::shown(t)))
            .unwrap_or_default();
        println!(
            "Signed in as {}{until}",
            i.email.as_deref().unwrap_or(&email)
        );
    })
    .await;
    Ok(())
}

pub async fn logout(ctx: &Ctx, profile: Option<&str>) -> Result<(), Error> {
    let name = profile.ok_or_else(|| Error::InvalidInput("logout needs --profile NAME".into()))?;
    let forgotten = open_profiles()?.logout(name)?;
    let answer = serde_json::json!({ "signedOut": forgotten });
    ctx.finish(&answer, |_| {
        println!(
            "{}",
            if forgotten {
                "Signed out"
            } else {
                "Was not signed in"
            }
        )
    })
    .await;
    Ok(())
}
