//! `serve` (the backup REST API on the engine) and `admin add|remove|revoke|list` (the
//! server's argon2 admin file, which a running server re-reads when it changes: removing an
//! admin, a new password or a revocation ends their tokens at once).

use rythm_backup_core::{Cancel, Engine, EngineConfig, Error};
use rythm_backup_server::admins::{path_from_env, AddOutcome, AdminFile};
use rythm_backup_server::{config::parse_listen, ServerConfig, ServerError};

use super::Ctx;
use crate::args::AdminAction;
use crate::prompt::read_secret;

pub async fn serve(listen: Option<String>, cancel: Cancel) -> Result<(), Error> {
    let mut config = ServerConfig::from_env().map_err(server_error)?;
    if let Some(listen) = listen {
        config.listen = parse_listen(&listen).map_err(server_error)?;
    }
    let engine = Engine::new(EngineConfig::from_env()?)?;
    tracing::info!(listen = %config.listen, store = %engine.store().location(), "starting the backup API");
    rythm_backup_server::run(config, engine, async move { cancel.cancelled().await })
        .await
        .map_err(server_error)
}

pub async fn admin(ctx: &Ctx, action: AdminAction) -> Result<(), Error> {
    let path = path_from_env();
    let mut file = AdminFile::load(&path).map_err(|e| server_error(e.into()))?;
    match action {
        AdminAction::Add {
            email,
            password_stdin,
        } => {
            let password = read_secret(&format!("New password for {email}: "), password_stdin)?;
            let outcome = file
                .add(&email, password.expose())
                .map_err(|e| server_error(e.into()))?;
            let verb = match outcome {
                AddOutcome::Added => "added",
                AddOutcome::PasswordChanged => "password changed",
            };
            let answer = serde_json::json!({ "email": email, "result": verb, "file": path });
            ctx.finish(&answer, |_| {
                println!("Administrator {email} {verb} ({})", path.display());
                if outcome == AddOutcome::PasswordChanged {
                    println!("Their earlier tokens no longer work.");
                }
            })
            .await;
        }
        AdminAction::Remove { email } => {
            if !file.remove(&email).map_err(|e| server_error(e.into()))? {
                return Err(Error::InvalidInput(format!(
                    "{email} is not an administrator"
                )));
            }
            let answer = serde_json::json!({ "email": email, "result": "removed" });
            ctx.finish(&answer, |_| println!("Administrator {email} removed"))
                .await;
        }
        AdminAction::Revoke { email } => {
            if !file.revoke(&email).map_err(|e| server_error(e.into()))? {
                return Err(Error::InvalidInput(format!(
                    "{email} is not an administrator"
                )));
            }
            let answer = serde_json::json!({ "email": email, "result": "tokens revoked" });
            ctx.finish(&answer, |_| {
                println!("Every token issued to {email} so far no longer works")
            })
            .await;
        }
        AdminAction::List => {
            let emails: Vec<&str> = file.admins().iter().map(|a| a.email.as_str()).collect();
            ctx.finish(&emails, |all| {
                if all.is_empty() {
                    println!("No administrators yet. Add one with: rythm-backup admin add EMAIL");
                }
                for email in all {
                    println!("{email}");
                }
            })
            .await;
        }
    }
    Ok(())
}

/// The server's errors in the CLI's terms.
fn server_error(error: ServerError) -> Error {
    match error {
        ServerError::Engine(e) => e,
        ServerError::Config(message) => Error::Config(message),
        other => Error::InvalidInput(other.to_string()),
    }
}
