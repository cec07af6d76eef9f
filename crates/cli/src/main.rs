//! `rythm-backup`: the command-line front end of the engine. It parses arguments, builds an
//! `Engine` from the environment, runs one job with a progress bar and Ctrl-C cancellation,
//! and prints the result. Errors: one line on stderr (or `{code, message}` with --json),
//! exit 1; usage errors exit 2.

mod args;
mod logging;
mod output;
mod progress;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use rythm_backup_core::engine::RestoreOptions;
use rythm_backup_core::error::ErrorReport;
use rythm_backup_core::jobs::restore::RestoreSource;
use rythm_backup_core::pg::DbTarget;
use rythm_backup_core::{BackupKind, BackupName, Cancel, Engine, EngineConfig, Error};

use args::{Cli, Command};
use progress::ProgressView;

fn main() -> ExitCode {
    let cli = Cli::parse();
    logging::init();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("the async runtime starts");
    let json = cli.json;
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::debug!(code = ?error.code(), error = ?error, "command failed");
            let report = ErrorReport::from(&error);
            if json {
                eprintln!(
                    "{}",
                    serde_json::to_string(&report).expect("reports serialise")
                );
            } else {
                eprintln!("error: {}", one_line(&report.message));
            }
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<(), Error> {
    let mut config = EngineConfig::from_env()?;
    if let Command::Backup {
        format,
        compression,
    } = &cli.command
    {
        config.format = format.unwrap_or(config.format);
        config.compression = compression.unwrap_or(config.compression);
    }
    let engine = Engine::new(config)?;
    let cancel = cancel_on_ctrl_c(cli.json);
    let view = ProgressView::start(!cli.json);
    let progress = view.sink.clone();
    let json = cli.json;
    let result = async {
        match cli.command {
            Command::Backup { .. } => {
                let report = engine.backup(BackupKind::Manual, &progress, &cancel).await?;
                finish(view, json, &report, output::backup).await;
            }
            Command::List => {
                let entries = engine.list().await?;
                finish(view, json, &entries, |e| output::list(e)).await;
            }
            Command::Download { name, output: path, force } => {
                let name = BackupName::parse(&name)?;
                // A folder (existing, or written with a trailing separator) gets the name.
                let path = match path {
                    Some(p) if p.is_dir() || p.as_os_str().to_string_lossy().ends_with(std::path::MAIN_SEPARATOR) => {
                        p.join(name.as_str())
                    }
                    Some(p) => p,
                    None => PathBuf::from(name.as_str()),
                };
                let outcome = engine.download(&name, path, force, &progress, &cancel).await?;
                finish(view, json, &outcome, output::download).await;
            }
            Command::Restore {
                name,
                file,
                target_db,
                create,
                confirm,
                no_safety_backup,
                terminate_connections,
            } => {
                let source = match (name, file) {
                    (Some(name), None) => RestoreSource::Stored(BackupName::parse(&name)?),
                    (None, Some(file)) => RestoreSource::File(file),
                    _ => return Err(Error::InvalidInput("give either a backup name or --file PATH".into())),
                };
                let target = target_db.map(|t| resolve_target(&engine, &t)).transpose()?;
                let options = RestoreOptions {
                    target,
                    create,
                    confirm,
                    skip_safety_backup: no_safety_backup,
                    terminate_connections,
                };
                let outcome = engine.restore(source, options, &progress, &cancel).await?;
                finish(view, json, &outcome, output::restore).await;
            }
            Command::Delete { name, yes: _ } => {
                let name = BackupName::parse(&name)?;
                engine.delete(&name).await?;
                let deleted = serde_json::json!({ "success": true, "message": "Backup deleted successfully", "filename": name });
                finish(view, json, &deleted, |_| println!("Deleted {name}")).await;
            }
            Command::Prune { dry_run } => {
                let outcome = engine.prune(dry_run).await?;
                finish(view, json, &outcome, output::prune).await;
            }
            Command::Verify { name } => {
                let name = BackupName::parse(&name)?;
                let outcome = engine.verify(&name, &progress, &cancel).await?;
                finish(view, json, &outcome, output::verify).await;
            }
        }
        Ok(())
    }
    .await;
    result
}

/// Clears the progress bar, then prints the result.
async fn finish<T: serde::Serialize>(
    view: ProgressView,
    json: bool,
    value: &T,
    human: impl FnOnce(&T),
) {
    view.finish().await;
    if json {
        output::json(value);
    } else {
        human(value);
    }
}

/// `--target-db`: a postgresql:// URL, or a database name on the configured server.
fn resolve_target(engine: &Engine, value: &str) -> Result<DbTarget, Error> {
    if value.starts_with("postgres://") || value.starts_with("postgresql://") {
        let target =
            DbTarget::parse(value).map_err(|e| Error::Config(format!("--target-db: {e}")))?;
        if target.password().is_some() {
            tracing::warn!("--target-db carries a password, visible to other local users in the process list; prefer TARGET_DATABASE_URL");
        }
        return Ok(target);
    }
    let configured = engine.config().database.as_ref().ok_or_else(|| {
        Error::Config("--target-db names a database but DATABASE_URL is not set; give a full postgresql:// URL".into())
    })?;
    Ok(configured.with_database(value))
}

/// First Ctrl-C cancels the running job cleanly; a second one exits at once.
fn cancel_on_ctrl_c(json: bool) -> Cancel {
    let cancel = Cancel::new();
    let token = cancel.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            if !json {
                eprintln!("\nCancelling… (press Ctrl-C again to quit at once)");
            }
            token.cancel();
            if tokio::signal::ctrl_c().await.is_ok() {
                std::process::exit(130);
            }
        }
    });
    cancel
}

/// A multi-line message (a tool's stderr) as one line for the terminal.
fn one_line(message: &str) -> String {
    message
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ")
}
