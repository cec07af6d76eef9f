//! Notifications from the command line: the notifier of a command (the profile's settings
//! from `profile notify`, else the environment's `SMTP_*`, `ACS_*`, `NOTIFY_*`), the events
//! the backup, restore and verify commands hand it (so a cron job gets alerts), and
//! `notify test`. A notification that fails is reported on stderr; the command's own result
//! and exit status stand.

use std::time::Instant;

use rythm_backup_core::backups::{Backups, CreateOutcome, Mode};
use rythm_backup_core::jobs::verify::VerifyOutcome;
use rythm_backup_core::notify::settings::NotifyProfiles;
use rythm_backup_core::notify::{cause_chain, Delivery, Event, Notifier, NotifyConfig, Origin};
use rythm_backup_core::profile::Profiles;
use rythm_backup_core::redact::Redactor;
use rythm_backup_core::Error;

use super::Ctx;

/// The notifier for this command. A configuration that cannot be used is reported on
/// stderr and sends nothing: the command itself still runs.
pub fn notifier(profile: Option<&str>, backups: Option<&dyn Backups>) -> Result<Notifier, Error> {
    let config = match profile {
        Some(name) => {
            let profiles = Profiles::open_default()?;
            match NotifyProfiles::beside(&profiles).config(name)? {
                Some(config) => config,
                None => NotifyConfig::from_env()?,
            }
        }
        None => NotifyConfig::from_env()?,
    };
    // The engine's secrets (the database password, the storage key), so no message quotes
    // them; API mode holds only its token, which never reaches a message.
    let redactor = match backups.and_then(|b| b.as_engine()) {
        Some(engine) => Redactor::for_engine(engine.config()),
        None => Redactor::default(),
    };
    Notifier::new(&config, &redactor)
}

/// The notifier, or a disabled one after saying on stderr why the configuration is unusable.
pub fn notifier_or_warn(profile: Option<&str>, backups: &dyn Backups) -> Notifier {
    match notifier(profile, Some(backups)) {
        Ok(n) => n,
        Err(e) => {
            eprintln!("warning: notifications are off: {e}");
            Notifier::disabled()
        }
    }
}

/// Where the command worked, for messages.
pub fn origin(backups: &dyn Backups) -> Origin {
    match backups.as_engine() {
        Some(engine) => Origin::of(engine.config().database.as_ref()),
        None => {
            let description = backups.describe();
            let host = url::Url::parse(&description.location)
                .ok()
                .and_then(|u| u.host_str().map(str::to_owned))
                .unwrap_or(description.location);
            let database = match description.mode {
                Mode::Api => "(its database)".to_owned(),
                Mode::Direct => description.database.unwrap_or_default(),
            };
            Origin::new(host, database)
        }
    }
}

/// Sends `event` and reports failed deliveries on stderr.
pub async fn send(notifier: &Notifier, event: Event) {
    report(&notifier.notify(&event).await);
}

fn report(deliveries: &[Delivery]) {
    for d in deliveries.iter().filter(|d| !d.ok) {
        eprintln!(
            "warning: the {} notification to {} could not be delivered after {} attempt(s): {}",
            d.channel,
            d.target,
            d.attempts,
            d.error.as_deref().unwrap_or("unknown error")
        );
    }
}

pub fn backup_event(
    origin: Origin,
    result: &Result<CreateOutcome, Error>,
    started: Instant,
) -> Vec<Event> {
    let duration_ms = started.elapsed().as_millis() as u64;
    match result {
        Ok(outcome) => {
            let mut origin = origin;
            if let Some(database) = &outcome.database {
                origin.database = database.clone();
            }
            let mut events = vec![Event::BackupSucceeded {
                origin: origin.clone(),
                backup: outcome.name.to_string(),
                size: outcome.size,
                duration_ms,
            }];
            if !outcome.pruned.is_empty() {
                events.push(Event::RetentionDeleted {
                    origin,
                    deleted: outcome.pruned.iter().map(|n| n.to_string()).collect(),
                });
            }
            events
        }
        Err(Error::Cancelled) => Vec::new(),
        Err(e) => vec![Event::BackupFailed {
            origin,
            error: cause_chain(e),
            duration_ms,
        }],
    }
}

pub fn restore_event(
    origin: Origin,
    backup: &str,
    result: &Result<Option<String>, Error>,
) -> Event {
    let mut origin = origin;
    if let Ok(Some(database)) = result {
        origin.database = database.clone();
    }
    Event::RestorePerformed {
        origin,
        backup: backup.to_owned(),
        actor: os_actor(),
        error: result.as_ref().err().map(|e| cause_chain(e)),
    }
}

pub fn verify_event(
    origin: Origin,
    backup: &str,
    result: &Result<VerifyOutcome, Error>,
) -> Option<Event> {
    match result {
        Ok(v) if v.ok => Some(Event::VerificationSucceeded {
            origin,
            backup: backup.to_owned(),
            restore_seconds: v.verification.restore_seconds,
            tables: v.tables.len(),
            rows: v.total_rows,
        }),
        Ok(v) => Some(Event::VerificationFailed {
            origin,
            backup: backup.to_owned(),
            error: vec![v
                .verification
                .error
                .clone()
                .unwrap_or_else(|| "the restored data differs from the backup".into())],
        }),
        Err(Error::Cancelled) => None,
        Err(e) => Some(Event::VerificationFailed {
            origin,
            backup: backup.to_owned(),
            error: cause_chain(e),
        }),
    }
}

/// Who ran this command: the OS account, and the host it ran on.
fn os_actor() -> String {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("USERNAME"))
        .unwrap_or_else(|_| "someone".into());
    let host = std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty());
    match host {
        Some(host) => format!("{user}@{host} (rythm-backup CLI)"),
        None => format!("{user} (rythm-backup CLI)"),
    }
}

/// `notify test`: every channel's result; `false` (exit 1) when any failed.
pub async fn test(
    ctx: &Ctx,
    profile: Option<&str>,
    backups: Option<&dyn Backups>,
) -> Result<bool, Error> {
    let notifier = notifier(profile, backups)?;
    if !notifier.is_configured() {
        return Err(Error::Config(
            "no notification channel is configured: set SMTP_HOST (with SMTP_FROM and \
             NOTIFY_EMAIL_TO), ACS_CONNECTION_STRING with ACS_SENDER_ADDRESS, or \
             NOTIFY_WEBHOOK_URL; or use `rythm-backup profile notify`"
                .into(),
        ));
    }
    let origin = match backups {
        Some(b) => origin(b),
        None => Origin::new("?", "?"),
    };
    let deliveries = notifier.send_test(origin).await;
    let all_ok = deliveries.iter().all(|d| d.ok);
    ctx.finish(&deliveries, |all| {
        for d in all {
            match &d.error {
                None => println!("ok      {:<8} {}", d.channel, d.target),
                Some(e) => println!("FAILED  {:<8} {}: {e}", d.channel, d.target),
            }
        }
    })
    .await;
    Ok(all_ok)
}
