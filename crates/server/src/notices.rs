//! What the server tells people: the notifier (built from `SMTP_*`, `ACS_*`, `NOTIFY_*`,
//! mailing the admins when `NOTIFY_EMAIL_TO` names nobody, as the RYTHM API mails every
//! system admin; scrubbed by the server's one redactor), the origin of its events (its
//! database's host and name), and sending without holding up an HTTP answer.

use rythm_backup_core::notify::{Event, Notifier, NotifyConfig, Origin};
use rythm_backup_core::redact::Redactor;
use rythm_backup_core::Engine;

use crate::error::ServerError;

/// The server's notifier: e-mail recipients default to `admins`; `redactor` is the server's
/// (see `redact`).
pub fn notifier(
    config: &NotifyConfig,
    admins: Vec<String>,
    redactor: &Redactor,
) -> Result<Notifier, ServerError> {
    let config = config.clone().with_default_recipients(admins);
    let notifier = Notifier::new(&config, redactor)
        .map_err(|e| ServerError::Config(format!("notifications: {e}")))?;
    if notifier.is_configured() {
        tracing::info!(
            channels = notifier.channels().len(),
            on = notifier.on().as_str(),
            "notifications configured"
        );
    }
    Ok(notifier)
}

/// Where the server's events happen.
pub fn origin(engine: &Engine) -> Origin {
    Origin::of(engine.config().database.as_ref())
}

/// Sends `event` on its own task: an HTTP answer never waits for a mail server.
pub fn send_detached(notifier: &Notifier, event: Event) {
    let notifier = notifier.clone();
    tokio::spawn(async move {
        notifier.notify(&event).await;
    });
}
