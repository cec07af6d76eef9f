//! Runs one parsed command: opens what it works on, gives it a progress view and a
//! cancellation token, and prints the result as text or JSON.

mod backups;
mod partial;
mod profiles;
mod schedule;
mod server;

use std::sync::Mutex;

use rythm_backup_core::{Cancel, Error, Progress};
use serde::Serialize;

use crate::args::{Cli, Command};
use crate::open::open_backups;
use crate::output;
use crate::progress::ProgressView;

/// What every command shares: output mode, progress sink and cancellation.
pub struct Ctx {
    pub json: bool,
    pub progress: Progress,
    pub cancel: Cancel,
    view: Mutex<Option<ProgressView>>,
}

impl Ctx {
    /// Clears the progress bar, then prints the result.
    pub async fn finish<T: Serialize>(&self, value: &T, human: impl FnOnce(&T)) {
        let view = self.view.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(view) = view {
            view.finish().await;
        }
        if self.json {
            output::json(value);
        } else {
            human(value);
        }
    }
}

pub async fn run(cli: Cli, cancel: Cancel) -> Result<(), Error> {
    let view = ProgressView::start(!cli.json);
    let ctx = Ctx {
        json: cli.json,
        progress: view.sink.clone(),
        cancel,
        view: Mutex::new(Some(view)),
    };
    let profile = cli.profile.as_deref();
    match cli.command {
        Command::Profile { action } => profiles::profile(&ctx, action).await,
        Command::Login { password_stdin } => profiles::login(&ctx, profile, password_stdin).await,
        Command::Logout => profiles::logout(&ctx, profile).await,
        Command::Serve { listen } => server::serve(listen, ctx.cancel.clone()).await,
        Command::Admin { action } => server::admin(&ctx, action).await,
        command => {
            let backups = open_backups(profile, ctx.json).await?;
            let backups = backups.as_ref();
            match command {
                Command::Backup {
                    format,
                    compression,
                } => backups::backup(&ctx, backups, profile, format, compression).await,
                Command::List => backups::list(&ctx, backups).await,
                Command::Download {
                    name,
                    output,
                    force,
                } => backups::download(&ctx, backups, &name, output, force).await,
                Command::Restore(args) if args.is_partial() => {
                    partial::restore(&ctx, backups, args).await
                }
                Command::Restore(args) => backups::restore(&ctx, backups, args).await,
                Command::Contents {
                    name,
                    file,
                    tenant_column,
                } => partial::contents(&ctx, backups, name, file, &tenant_column).await,
                Command::Delete { name, yes: _ } => backups::delete(&ctx, backups, &name).await,
                Command::Prune { dry_run } => backups::prune(&ctx, backups, dry_run).await,
                Command::Verify { name } => backups::verify(&ctx, backups, &name).await,
                Command::Schedule { action } => schedule::schedule(&ctx, backups, action).await,
                Command::Profile { .. }
                | Command::Login { .. }
                | Command::Logout
                | Command::Serve { .. }
                | Command::Admin { .. } => unreachable!("handled above"),
            }
        }
    }
}
