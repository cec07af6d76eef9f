//! The backup subcommands: backup, list, download, restore, delete, prune and verify, in
//! either mode through the `Backups` trait; the direct-only ones through the engine.

use std::path::PathBuf;

use rythm_backup_core::backups::{Backups, CreateOutcome};
use rythm_backup_core::engine::RestoreOptions;
use rythm_backup_core::jobs::backup::BackupRequest;
use rythm_backup_core::jobs::restore::RestoreSource;
use rythm_backup_core::jobs::verify::VerifyOutcome;
use rythm_backup_core::pg::DbTarget;
use rythm_backup_core::profile::Profiles;
use rythm_backup_core::{BackupKind, BackupName, Compression, DumpFormat, Engine, Error};

use super::Ctx;
use crate::args::RestoreArgs;
use crate::open::direct;
use crate::output;

pub async fn backup(
    ctx: &Ctx,
    backups: &dyn Backups,
    profile: Option<&str>,
    format: Option<DumpFormat>,
    compression: Option<Compression>,
) -> Result<CreateOutcome, Error> {
    let outcome: CreateOutcome = if format.is_some() || compression.is_some() {
        let engine = direct(backups, "choosing --format or --compression")?;
        let request = BackupRequest {
            format: format.unwrap_or(engine.config().format),
            compression: compression.unwrap_or(engine.config().compression),
            kind: BackupKind::Manual,
            created_by: engine.config().created_by.clone(),
        };
        engine
            .backup_with(&request, &ctx.progress, &ctx.cancel)
            .await?
            .into()
    } else {
        backups.create(&ctx.progress, &ctx.cancel).await?
    };
    // API mode: the database the server named is kept with the profile, so that later
    // restores are confirmed with it and lists name it (the RYTHM platform names it nowhere
    // else).
    if let (Some(name), Some(database), None) = (profile, &outcome.database, backups.as_engine()) {
        if let Err(e) = Profiles::open_default()?.remember_server_database(name, database) {
            output::warn(
                ctx.json,
                &format!("could not remember the server's database: {e}"),
            );
        }
    }
    ctx.finish(&outcome, output::created).await;
    Ok(outcome)
}

pub async fn list(ctx: &Ctx, backups: &dyn Backups) -> Result<(), Error> {
    let entries = backups.list().await?;
    ctx.finish(&entries, |e| output::list(e)).await;
    Ok(())
}

pub async fn download(
    ctx: &Ctx,
    backups: &dyn Backups,
    name: &str,
    path: Option<PathBuf>,
    force: bool,
) -> Result<(), Error> {
    let name = BackupName::parse(name)?;
    // A folder (existing, or written with a trailing separator) gets the backup's name.
    let path = match path {
        Some(p) if p.is_dir() || p.to_string_lossy().ends_with(std::path::MAIN_SEPARATOR) => {
            p.join(name.as_str())
        }
        Some(p) => p,
        None => PathBuf::from(name.as_str()),
    };
    let outcome = backups
        .download(&name, path, force, &ctx.progress, &ctx.cancel)
        .await?;
    ctx.finish(&outcome, output::download).await;
    Ok(())
}

/// Restores; returns the database restored into, when known.
pub async fn restore(
    ctx: &Ctx,
    backups: &dyn Backups,
    args: RestoreArgs,
) -> Result<Option<String>, Error> {
    if args.dry_run || args.where_sql.is_some() || args.cascade_to_referencing {
        return Err(Error::InvalidInput(
            "--dry-run, --where and --cascade-to-referencing belong to a partial restore: add \
             --table, --tenant or --into-schema"
                .into(),
        ));
    }
    let confirm = args.confirm.clone().unwrap_or_default();
    let needs_engine = args.file.is_some() || args.target_db.is_some() || args.create;
    if !needs_engine {
        let name = BackupName::parse(args.name.as_deref().unwrap_or_default())?;
        let options = RestoreOptions {
            confirm,
            skip_safety_backup: args.no_safety_backup,
            terminate_connections: args.terminate_connections,
            ..RestoreOptions::default()
        };
        let summary = backups
            .restore(&name, options, &ctx.progress, &ctx.cancel)
            .await?;
        let server = backups.describe().location;
        ctx.finish(&summary, |s| output::restored(s, &server)).await;
        return Ok(summary.database);
    }
    let engine = direct(backups, "restore with --file, --target-db or --create")?;
    let (source, target) = source_and_target(engine, args.name, args.file, args.target_db)?;
    let options = RestoreOptions {
        target,
        create: args.create,
        confirm,
        skip_safety_backup: args.no_safety_backup,
        terminate_connections: args.terminate_connections,
    };
    let outcome = engine
        .restore(source, options, &ctx.progress, &ctx.cancel)
        .await?;
    ctx.finish(&outcome, output::restore).await;
    Ok(Some(outcome.database))
}

pub async fn delete(ctx: &Ctx, backups: &dyn Backups, name: &str) -> Result<(), Error> {
    let name = BackupName::parse(name)?;
    backups.delete(&name).await?;
    let deleted = serde_json::json!({
        "success": true,
        "message": "Backup deleted successfully",
        "filename": name,
    });
    ctx.finish(&deleted, |_| println!("Deleted {name}")).await;
    Ok(())
}

pub async fn prune(ctx: &Ctx, backups: &dyn Backups, dry_run: bool) -> Result<(), Error> {
    let outcome = direct(backups, "prune")?.prune(dry_run).await?;
    ctx.finish(&outcome, output::prune).await;
    Ok(())
}

/// The backup `verify` works on: the one named, or with `--latest` the newest (safety
/// backups taken before restores left aside).
pub async fn verify_target(
    backups: &dyn Backups,
    name: Option<String>,
    latest: bool,
) -> Result<BackupName, Error> {
    match (name, latest) {
        (Some(name), false) => Ok(BackupName::parse(&name)?),
        (None, true) => backups
            .list()
            .await?
            .into_iter()
            .find(|e| e.kind != BackupKind::PreRestore)
            .map(|e| e.name)
            .ok_or_else(|| {
                Error::Storage(rythm_backup_core::storage::StorageError::NotFound {
                    name: "(the newest backup)".into(),
                    store: backups.describe().location,
                })
            }),
        _ => Err(Error::InvalidInput(
            "give either a backup name or --latest".into(),
        )),
    }
}

pub async fn verify(
    ctx: &Ctx,
    backups: &dyn Backups,
    name: &BackupName,
) -> Result<VerifyOutcome, Error> {
    let outcome = backups.verify(name, &ctx.progress, &ctx.cancel).await?;
    ctx.finish(&outcome, output::verify).await;
    Ok(outcome)
}

/// What a direct-mode restore (full or partial) reads, a stored backup's name or `--file`,
/// and where it writes, `--target-db` if given.
pub(super) fn source_and_target(
    engine: &Engine,
    name: Option<String>,
    file: Option<PathBuf>,
    target_db: Option<String>,
) -> Result<(RestoreSource, Option<DbTarget>), Error> {
    let source = match (name, file) {
        (Some(name), None) => RestoreSource::Stored(BackupName::parse(&name)?),
        (None, Some(file)) => RestoreSource::File(file),
        _ => {
            return Err(Error::InvalidInput(
                "give either a backup name or --file PATH".into(),
            ))
        }
    };
    let target = target_db.map(|t| resolve_target(engine, &t)).transpose()?;
    Ok((source, target))
}

/// `--target-db`: a postgresql:// URL, or a database name on the configured server.
fn resolve_target(engine: &Engine, value: &str) -> Result<DbTarget, Error> {
    if value.starts_with("postgres://") || value.starts_with("postgresql://") {
        let target =
            DbTarget::parse(value).map_err(|e| Error::Config(format!("--target-db: {e}")))?;
        if target.password().is_some() {
            tracing::warn!(
                "--target-db carries a password, visible to other local users in the process \
                 list; prefer a database name or TARGET_DATABASE_URL"
            );
        }
        return Ok(target);
    }
    let configured = engine.config().database.as_ref().ok_or_else(|| {
        Error::Config(
            "--target-db names a database but no database is configured; give a full \
             postgresql:// URL"
                .into(),
        )
    })?;
    Ok(configured.with_database(value))
}
