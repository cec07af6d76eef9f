//! What the server tells people: the notifier (built from `SMTP_*`, `ACS_*`, `NOTIFY_*`,
//! mailing the admins when `NOTIFY_EMAIL_TO` names nobody, as the RYTHM API mails every
//! system admin), the origin of its events (its database's host and name), and sending
//! without holding up an HTTP answer.

use rythm_backup_core::notify::{Event, Notifier, NotifyConfig, Origin};
use rythm_backup_core::{Engine, StorageConfig};

use crate::error::ServerError;

/// The server's notifier: e-mail recipients default to `admins`.
pub fn notifier(
    config: &NotifyConfig,
    admins: Vec<String>,
    engine: &Engine,
    jwt_secret: &str,
) -> Result<Notifier, ServerError> {
    let config = config.clone().with_default_recipients(admins);
    let mut secrets = vec![jwt_secret.to_owned()];
    if let Some(password) = engine.config().database.as_ref().and_then(|d| d.password()) {
        secrets.push(password.expose().clone());
    }
    if let StorageConfig::Azure {
        connection_string, ..
    } = &engine.config().storage
    {
        secrets.push(connection_string.expose().clone());
    }
    let notifier = Notifier::new(&config, secrets)
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
