//! The `Notifier`: renders an event once, sends it to every channel at the same time, retries
//! each with exponential backoff, and keeps each channel's last delivery for health checks.
//! It never fails: what could not be delivered is logged and recorded.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;
use time::OffsetDateTime;

use super::acs::AcsChannel;
use super::config::{NotifyConfig, NotifyOn, RetryPolicy};
use super::event::{Event, Origin, Severity};
use super::smtp::SmtpChannel;
use super::webhook::WebhookChannel;
use super::Channel;
use crate::error::Result;
use crate::redact::Redactor;

/// How one delivery ended (after its retries).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct Delivery {
    /// `smtp`, `acs` or `webhook`.
    pub channel: String,
    /// The recipient and server, or the webhook's host.
    pub target: String,
    /// The event's kind (`backup.failed`, …).
    pub event: String,
    pub ok: bool,
    pub attempts: u32,
    pub error: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub at: OffsetDateTime,
}

/// Cheap to clone; clones share the delivery records.
#[derive(Debug, Clone, Default)]
pub struct Notifier {
    inner: Arc<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    channels: Vec<Arc<dyn Channel>>,
    on: NotifyOn,
    retry: RetryPolicy,
    redactor: Redactor,
    last: Mutex<BTreeMap<(String, String), Delivery>>,
}

impl Notifier {
    /// Builds the channels of `config`. `redactor` scrubs every message and delivery error
    /// (the front end's secrets: the database password, the storage key, …); the channels'
    /// own secrets are added to it.
    pub fn new(config: &NotifyConfig, redactor: &Redactor) -> Result<Self> {
        let mut channels: Vec<Arc<dyn Channel>> = Vec::new();
        if let Some(smtp) = &config.smtp {
            for channel in SmtpChannel::for_recipients(smtp, &config.recipients)? {
                channels.push(Arc::new(channel));
            }
        }
        if let Some(acs) = &config.acs {
            for channel in
                AcsChannel::for_recipients(&acs.connection, &acs.sender, &config.recipients)?
            {
                channels.push(Arc::new(channel));
            }
        }
        if let Some(webhook) = &config.webhook {
            channels.push(Arc::new(WebhookChannel::new(webhook.clone())));
        }
        let mut redactor = redactor.clone();
        redactor.add(config.secrets());
        Ok(Self::with_channels(
            channels,
            config.on,
            config.retry,
            redactor,
        ))
    }

    /// A notifier over given channels (tests, custom front ends).
    pub fn with_channels(
        channels: Vec<Arc<dyn Channel>>,
        on: NotifyOn,
        retry: RetryPolicy,
        redactor: Redactor,
    ) -> Self {
        Notifier {
            inner: Arc::new(Inner {
                channels,
                on,
                retry,
                redactor,
                last: Mutex::default(),
            }),
        }
    }

    /// A notifier with no channel: every event goes nowhere.
    pub fn disabled() -> Self {
        Notifier::default()
    }

    pub fn is_configured(&self) -> bool {
        !self.inner.channels.is_empty()
    }

    pub fn on(&self) -> NotifyOn {
        self.inner.on
    }

    /// Every channel as (name, target).
    pub fn channels(&self) -> Vec<(String, String)> {
        self.inner
            .channels
            .iter()
            .map(|c| (c.name().to_owned(), c.target()))
            .collect()
    }

    /// Whether `NOTIFY_ON` lets `event` out.
    pub fn wants(&self, event: &Event) -> bool {
        match (self.inner.on, event.severity()) {
            (NotifyOn::Never, _) => matches!(event, Event::Test { .. }),
            (NotifyOn::All, _) => true,
            (NotifyOn::Failure, Severity::Info) => false,
            (NotifyOn::Failure, _) => true,
        }
    }

    /// Sends `event` through every channel if `NOTIFY_ON` wants it; returns each delivery
    /// (none when it was not wanted or nothing is configured).
    pub async fn notify(&self, event: &Event) -> Vec<Delivery> {
        if !self.is_configured() || !self.wants(event) {
            return Vec::new();
        }
        self.send(event).await
    }

    /// Sends a test message through every channel, whatever `NOTIFY_ON` says.
    pub async fn send_test(&self, origin: Origin) -> Vec<Delivery> {
        self.send(&Event::Test { origin }).await
    }

    async fn send(&self, event: &Event) -> Vec<Delivery> {
        let message = event.render(&self.inner.redactor);
        let sends = self.inner.channels.iter().map(|channel| {
            let message = &message;
            async move {
                let mut attempt = 0;
                let mut delay = self.inner.retry.first_delay;
                let error = loop {
                    attempt += 1;
                    match channel.send(message).await {
                        Ok(()) => break None,
                        Err(e) => {
                            let text = self.inner.redactor.redact(&e.message);
                            tracing::warn!(channel = channel.name(), target = %channel.target(),
                                event = event.kind(), attempt, error = %text,
                                "a notification could not be delivered");
                            if e.permanent || attempt >= self.inner.retry.attempts {
                                break Some(text);
                            }
                            let wait = e.retry_after.unwrap_or(delay).max(delay);
                            tokio::time::sleep(wait).await;
                            delay = (delay * 2).min(Duration::from_secs(60));
                        }
                    }
                };
                if error.is_none() {
                    tracing::info!(channel = channel.name(), target = %channel.target(),
                        event = event.kind(), attempt, "notification delivered");
                }
                Delivery {
                    channel: channel.name().to_owned(),
                    target: channel.target(),
                    event: event.kind().to_owned(),
                    ok: error.is_none(),
                    attempts: attempt,
                    error,
                    at: OffsetDateTime::now_utc(),
                }
            }
        });
        let deliveries = futures::future::join_all(sends).await;
        let mut last = self.inner.last.lock().unwrap_or_else(|e| e.into_inner());
        for delivery in &deliveries {
            last.insert(
                (delivery.channel.clone(), delivery.target.clone()),
                delivery.clone(),
            );
        }
        deliveries
    }

    /// The last delivery of each channel that sent anything, for health checks.
    pub fn last_deliveries(&self) -> Vec<Delivery> {
        let last = self.inner.last.lock().unwrap_or_else(|e| e.into_inner());
        last.values().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notify::{DeliveryError, Message};
    use async_trait::async_trait;
    use std::sync::atomic::{AtomicU32, Ordering};

    /// Fails `failures` times, then delivers; records what it got.
    #[derive(Debug)]
    struct Flaky {
        failures: u32,
        calls: AtomicU32,
        permanent: bool,
        seen: Mutex<Vec<Message>>,
    }

    #[async_trait]
    impl Channel for Flaky {
        fn name(&self) -> &'static str {
            "flaky"
        }
        fn target(&self) -> String {
            "somewhere".into()
        }
        async fn send(&self, message: &Message) -> std::result::Result<(), DeliveryError> {
            self.seen.lock().unwrap().push(message.clone());
            let n = self.calls.fetch_add(1, Ordering::SeqCst);
            if n < self.failures {
                let mut e = DeliveryError::transient("HTTP 429 with key sekrit-value-123");
                e.permanent = self.permanent;
                Err(e)
            } else {
                Ok(())
            }
        }
    }

    fn flaky(failures: u32, permanent: bool) -> Arc<Flaky> {
        Arc::new(Flaky {
            failures,
            calls: AtomicU32::new(0),
            permanent,
            seen: Mutex::default(),
        })
    }

    fn notifier(channel: Arc<Flaky>, on: NotifyOn) -> Notifier {
        Notifier::with_channels(
            vec![channel],
            on,
            RetryPolicy {
                attempts: 3,
                first_delay: Duration::from_millis(1),
            },
            Redactor::new(["sekrit-value-123".to_owned()]),
        )
    }

    fn failed() -> Event {
        Event::BackupFailed {
            origin: Origin::new("db", "rythm"),
            error: vec!["boom".into()],
            duration_ms: 1,
        }
    }

    #[tokio::test]
    async fn retries_then_records_success() {
        let channel = flaky(2, false);
        let n = notifier(channel.clone(), NotifyOn::Failure);
        let deliveries = n.notify(&failed()).await;
        assert_eq!(deliveries.len(), 1);
        assert!(deliveries[0].ok);
        assert_eq!(deliveries[0].attempts, 3);
        assert_eq!(n.last_deliveries(), deliveries);
    }

    #[tokio::test]
    async fn gives_up_after_the_attempts_and_scrubs_the_error() {
        let channel = flaky(10, false);
        let n = notifier(channel.clone(), NotifyOn::Failure);
        let d = n.notify(&failed()).await.remove(0);
        assert!(!d.ok);
        assert_eq!(d.attempts, 3);
        let error = d.error.unwrap();
        assert!(!error.contains("sekrit-value-123"), "{error}");
        // Permanent errors are not retried.
        let channel = flaky(10, true);
        let d = notifier(channel, NotifyOn::Failure)
            .notify(&failed())
            .await
            .remove(0);
        assert_eq!(d.attempts, 1);
    }

    #[tokio::test]
    async fn notify_on_filters_events() {
        let ok = Event::BackupSucceeded {
            origin: Origin::new("db", "rythm"),
            backup: "b.sql".into(),
            size: 1,
            duration_ms: 1,
        };
        let channel = flaky(0, false);
        let n = notifier(channel.clone(), NotifyOn::Failure);
        assert!(n.notify(&ok).await.is_empty());
        assert_eq!(n.notify(&failed()).await.len(), 1);
        let n = notifier(channel.clone(), NotifyOn::All);
        assert_eq!(n.notify(&ok).await.len(), 1);
        let n = notifier(channel.clone(), NotifyOn::Never);
        assert!(n.notify(&failed()).await.is_empty());
        assert_eq!(n.send_test(Origin::new("db", "rythm")).await.len(), 1);
        assert!(Notifier::disabled().notify(&failed()).await.is_empty());
    }
}
