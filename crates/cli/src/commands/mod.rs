//! Runs one parsed command: opens what it works on, gives it a progress view and a
//! cancellation token, and prints the result as text or JSON.

mod backups;
mod notify;
mod partial;
mod profile_notify;
mod profiles;
mod schedule;
mod secrets;
mod server;
mod status;

use std::sync::Mutex;
use std::time::Instant;

use rythm_backup_core::{Cancel, Error, Progress};
use serde::Serialize;

use crate::args::{Cli, Command, NotifyAction};
use crate::open::open_backups;
use crate::output;
use crate::progress::ProgressView;

pub use secrets::open_profiles;

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

/// Runs the command; `Ok(false)` when it ran but its result means exit status 1 (a failed
/// verification, stale backups, a notification channel that failed its test).
pub async fn run(cli: Cli, cancel: Cancel) -> Result<bool, Error> {
    let view = ProgressView::start(!cli.json);
    let ctx = Ctx {
        json: cli.json,
        progress: view.sink.clone(),
        cancel,
        view: Mutex::new(Some(view)),
    };
    let profile = cli.profile.as_deref();
    match cli.command {
        Command::Profile { action } => profiles::profile(&ctx, action).await.map(|()| true),
        Command::Secrets { action } => secrets::secrets(&ctx, action).await.map(|()| true),
        Command::Login { password_stdin } => profiles::login(&ctx, profile, password_stdin)
            .await
            .map(|()| true),
        Command::Logout => profiles::logout(&ctx, profile).await.map(|()| true),
        Command::Serve { listen } => server::serve(listen, ctx.cancel.clone())
            .await
            .map(|()| true),
        Command::Admin { action } => server::admin(&ctx, action).await.map(|()| true),
        command => {
            let backups = open_backups(profile, ctx.json).await?;
            let backups = backups.as_ref();
            match command {
                Command::Backup {
                    format,
                    compression,
                } => {
                    let notifier = notify::notifier_or_warn(profile, backups);
                    let started = Instant::now();
                    let result = backups::backup(&ctx, backups, profile, format, compression).await;
                    for event in notify::backup_event(notify::origin(backups), &result, started) {
                        notify::send(&notifier, event).await;
                    }
                    result.map(|_| true)
                }
                Command::List => backups::list(&ctx, backups).await.map(|()| true),
                Command::Download {
                    name,
                    output,
                    force,
                } => backups::download(&ctx, backups, &name, output, force)
                    .await
                    .map(|()| true),
                Command::Restore(args) => {
                    let notifier = notify::notifier_or_warn(profile, backups);
                    let label = args
                        .name
                        .clone()
                        .or_else(|| args.file.as_ref().map(|f| f.display().to_string()))
                        .unwrap_or_default();
                    let dry_run = args.dry_run;
                    let result = if args.is_partial() {
                        partial::restore(&ctx, backups, args).await
                    } else {
                        backups::restore(&ctx, backups, args).await
                    };
                    // Only a restore that ran is a security event: not a dry run, nor one
                    // refused before it began. The rule is the server's too.
                    let error = result.as_ref().err().map(Error::code);
                    if rythm_backup_core::notify::restore_is_announced(dry_run, error) {
                        let event = notify::restore_event(notify::origin(backups), &label, &result);
                        notify::send(&notifier, event).await;
                    }
                    result.map(|_| true)
                }
                Command::Contents {
                    name,
                    file,
                    tenant_column,
                } => partial::contents(&ctx, backups, name, file, &tenant_column)
                    .await
                    .map(|()| true),
                Command::Delete { name, yes: _ } => {
                    backups::delete(&ctx, backups, &name).await.map(|()| true)
                }
                Command::Prune { dry_run } => {
                    backups::prune(&ctx, backups, dry_run).await.map(|()| true)
                }
                Command::Verify { name, latest } => {
                    let notifier = notify::notifier_or_warn(profile, backups);
                    let name = backups::verify_target(backups, name, latest).await?;
                    let result = backups::verify(&ctx, backups, &name).await;
                    if let Some(event) =
                        notify::verify_event(notify::origin(backups), name.as_str(), &result)
                    {
                        notify::send(&notifier, event).await;
                    }
                    result.map(|v| v.ok)
                }
                Command::Status => status::status(&ctx, backups).await,
                Command::Notify {
                    action: NotifyAction::Test,
                } => notify::test(&ctx, profile, Some(backups)).await,
                Command::Schedule { action } => schedule::schedule(&ctx, backups, action)
                    .await
                    .map(|()| true),
                Command::Profile { .. }
                | Command::Login { .. }
                | Command::Logout
                | Command::Secrets { .. }
                | Command::Serve { .. }
                | Command::Admin { .. } => unreachable!("handled above"),
            }
        }
    }
}
