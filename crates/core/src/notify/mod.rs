//! Notifications: tells people what happened to their backups. An `Event` (what happened,
//! plain data) is rendered once into a `Message` (subject, text, HTML, webhook JSON; secrets
//! scrubbed) and fanned out by the `Notifier` to every configured `Channel`: SMTP e-mail
//! (`smtp`), Azure Communication Services Email (`acs`, the RYTHM platform's own channel)
//! and a webhook (`webhook`), each retried with backoff and its last delivery recorded.
//!
//! Jobs never call a channel: the front ends (the CLI after a command, the server's
//! scheduler and routes) hand job outcomes to the notifier, and a failed notification is
//! logged and recorded, never turned into a failed job.

mod acs;
mod config;
mod event;
mod notifier;
mod restore_notice;
pub mod settings;
mod smtp;
mod webhook;

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;

pub use crate::redact::Redactor;
pub use acs::{AcsChannel, AcsConnection};
pub use config::{
    parse_webhook_url, webhook_target, AcsSettings, NotifyConfig, NotifyOn, RetryPolicy,
    SmtpSettings, SmtpTls, WebhookSettings,
};
pub use event::{cause_chain, Event, Message, Origin, Payload, Severity};
pub use notifier::{Delivery, Notifier};
pub use restore_notice::restore_is_announced;
pub use smtp::SmtpChannel;
pub use webhook::{signature_header, WebhookChannel};

/// Why one delivery attempt failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryError {
    pub message: String,
    /// Retrying cannot help (e.g. a recipient the server refuses for good).
    pub permanent: bool,
    /// What the receiver asked us to wait before the next attempt (HTTP `Retry-After`).
    pub retry_after: Option<Duration>,
}

impl DeliveryError {
    pub fn transient(message: impl Into<String>) -> Self {
        DeliveryError {
            message: message.into(),
            permanent: false,
            retry_after: None,
        }
    }

    pub fn permanent(message: impl Into<String>) -> Self {
        DeliveryError {
            message: message.into(),
            permanent: true,
            retry_after: None,
        }
    }
}

impl fmt::Display for DeliveryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// One place a message goes: one recipient of a mail channel, or one webhook.
#[async_trait]
pub trait Channel: Send + Sync + fmt::Debug {
    /// `smtp`, `acs` or `webhook`.
    fn name(&self) -> &'static str;
    /// Where it delivers, for people (a recipient and server, a URL's host); never a secret.
    fn target(&self) -> String;
    /// One attempt at delivering `message`.
    async fn send(&self, message: &Message) -> Result<(), DeliveryError>;
}

/// The HTTP client the REST channels share: a timeout per request, no redirects (a
/// signed request must not be replayed elsewhere).
pub(crate) fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("rythm-backup/", env!("CARGO_PKG_VERSION")))
        .build()
        .expect("the HTTP client builds")
}

/// An HTTP answer as a delivery error: 429 and 5xx are worth retrying (after `Retry-After`
/// when given), other 4xx are too (a key rotated meanwhile) but say what the receiver said.
pub(crate) async fn http_failure(response: reqwest::Response) -> DeliveryError {
    let status = response.status();
    let retry_after = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(|s| Duration::from_secs(s.min(60)));
    let body = response.text().await.unwrap_or_default();
    let body: String = body.chars().take(300).collect();
    DeliveryError {
        message: format!("HTTP {status}: {}", body.trim()),
        permanent: false,
        retry_after,
    }
}
