//! `contents` and the partial `restore` (--table, --whole-table, --tenant, --where,
//! --into-schema, --dry-run), in either mode through the `Backups` trait; a local file or another target
//! database through the engine.

use std::path::PathBuf;

use rythm_backup_core::backups::Backups;
use rythm_backup_core::engine::RestoreOptions;
use rythm_backup_core::jobs::contents::ContentsSource;
use rythm_backup_core::{BackupName, Error};

use super::backups::source_and_target;
use super::Ctx;
use crate::args::RestoreArgs;
use crate::open::direct;
use crate::partial_text;

pub async fn contents(
    ctx: &Ctx,
    backups: &dyn Backups,
    name: Option<String>,
    file: Option<PathBuf>,
    tenant_column: &str,
) -> Result<(), Error> {
    let column = Some(tenant_column).filter(|c| !c.is_empty());
    let contents = match (name, file) {
        (Some(name), None) => {
            let name = BackupName::parse(&name)?;
            backups
                .contents(&name, column, &ctx.progress, &ctx.cancel)
                .await?
        }
        (None, Some(file)) => {
            direct(backups, "contents --file")?
                .contents(
                    ContentsSource::File(file),
                    column,
                    &ctx.progress,
                    &ctx.cancel,
                )
                .await?
        }
        _ => {
            return Err(Error::InvalidInput(
                "give either a backup name or --file PATH".into(),
            ))
        }
    };
    ctx.finish(&contents, partial_text::contents).await;
    Ok(())
}

/// Restores part of a backup; returns the database changed (none for a dry run).
pub async fn restore(
    ctx: &Ctx,
    backups: &dyn Backups,
    args: RestoreArgs,
) -> Result<Option<String>, Error> {
    if args.terminate_connections {
        return Err(Error::InvalidInput(
            "--terminate-connections has nothing to do with a partial restore: it runs beside \
             other sessions"
                .into(),
        ));
    }
    let selection = args.selection_text().selection()?;
    let confirm = args.confirm.clone().unwrap_or_default();
    let needs_engine = args.file.is_some() || args.target_db.is_some() || args.create;
    if args.create {
        return Err(Error::InvalidInput(
            "--create makes a new database for a full restore; a partial restore needs the \
             database it restores into (use --into-schema for copies)"
                .into(),
        ));
    }
    let outcome = if needs_engine {
        let engine = direct(backups, "a partial restore with --file or --target-db")?;
        let (source, target) = source_and_target(engine, args.name, args.file, args.target_db)?;
        let options = RestoreOptions {
            target,
            confirm,
            skip_safety_backup: args.no_safety_backup,
            ..RestoreOptions::default()
        };
        engine
            .partial_restore(source, selection, options, &ctx.progress, &ctx.cancel)
            .await?
    } else {
        let name = BackupName::parse(args.name.as_deref().unwrap_or_default())?;
        let options = RestoreOptions {
            confirm,
            skip_safety_backup: args.no_safety_backup,
            ..RestoreOptions::default()
        };
        backups
            .partial_restore(&name, selection, options, &ctx.progress, &ctx.cancel)
            .await?
    };
    let changed = (!outcome.dry_run).then(|| outcome.database.clone());
    ctx.finish(&outcome, partial_text::restored).await;
    Ok(changed)
}
