//! `profile add|list|show|remove`, `login` and `logout`: connection profiles, with their
//! secrets in the OS keychain.

use rythm_backup_core::profile::{
    DatabaseSettings, Profile, ProfileMode, ProfileSettings, Profiles, StorageSettings,
};
use rythm_backup_core::secrets::{SecretKind, Sensitive};
use rythm_backup_core::Error;
use serde::Serialize;
use url::Url;

use super::Ctx;
use crate::args::{ProfileAction, ProfileAddArgs};
use crate::prompt::read_secret;

pub async fn profile(ctx: &Ctx, action: ProfileAction) -> Result<(), Error> {
    let profiles = Profiles::open_default()?;
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
            let view = ProfileView::of(&profiles, profiles.get(&name)?);
            ctx.finish(&view, |v| {
                println!("{} ({} mode): {}", v.profile.name, v.mode, v.location);
                if let Some(user) = &v.signed_in_as {
                    println!("Signed in as {user}");
                }
                for (what, stored) in &v.secrets {
                    println!(
                        "{what}: {}",
                        if *stored {
                            "in the keychain"
                        } else {
                            "not stored"
                        }
                    );
                }
            })
            .await;
            Ok(())
        }
        ProfileAction::Notify(args) => super::profile_notify::set(ctx, &profiles, args).await,
        ProfileAction::Remove { name } => {
            rythm_backup_core::notify::settings::NotifyProfiles::beside(&profiles).remove(&name)?;
            let removed = profiles.remove(&name)?;
            if !removed {
                return Err(Error::InvalidInput(format!(
                    "there is no profile named {name:?}"
                )));
            }
            let answer = serde_json::json!({ "removed": name });
            ctx.finish(&answer, |_| {
                println!("Removed profile {name} and its keychain entries")
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
                    StorageSettings::Azure { container } => format!("azure container {container}"),
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
        }
    }
}

async fn add(ctx: &Ctx, profiles: &Profiles, args: ProfileAddArgs) -> Result<(), Error> {
    let mut settings = ProfileSettings::default();
    settings.retention_days = args.retention_days.unwrap_or(settings.retention_days);
    settings.format = args.format.unwrap_or(settings.format);
    settings.compression = args.compression.unwrap_or(settings.compression);
    let mut secrets: Vec<(SecretKind, Sensitive<String>)> = Vec::new();
    let mode = match (args.api_url, args.database_url) {
        (Some(base_url), None) => {
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
                    StorageSettings::Azure { container }
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
    };
    profiles.save(&profile)?;
    for (kind, secret) in &secrets {
        profiles.set_secret(&profile.name, *kind, secret)?;
    }
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

/// Host, port, database, user and sslmode from a URL that must not carry a password.
fn database_settings(raw: &str) -> Result<DatabaseSettings, Error> {
    let invalid = |why: &str| Error::InvalidInput(format!("--database-url: {why}"));
    let url = Url::parse(raw).map_err(|_| invalid("not a postgresql:// URL"))?;
    if !matches!(url.scheme(), "postgres" | "postgresql") {
        return Err(invalid("not a postgresql:// URL"));
    }
    if url.password().is_some() {
        return Err(invalid(
            "leave the password out; it is asked for and kept in the OS keychain",
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
    let profiles = Profiles::open_default()?;
    let email = match profiles.get(name)?.mode {
        ProfileMode::Api { email, .. } => email,
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
            .map(|t| format!(" until {t}"))
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
    let forgotten = Profiles::open_default()?.logout(name)?;
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
