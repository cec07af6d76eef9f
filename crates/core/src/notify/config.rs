//! Which channels notify, read from the environment: `SMTP_*` and `NOTIFY_EMAIL_TO` for
//! e-mail, `ACS_CONNECTION_STRING` and `ACS_SENDER_ADDRESS` (the RYTHM API's names) for
//! Azure Communication Services, `NOTIFY_WEBHOOK_URL` and `NOTIFY_WEBHOOK_SECRET` for a
//! webhook, `NOTIFY_ON` for what is worth a message. Secrets stay `Sensitive`.

use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use url::Url;

use super::acs::AcsConnection;
use crate::error::{Error, Result};
use crate::secrets::Sensitive;

/// Which events are sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NotifyOn {
    /// Failures, stale backups and restores (the default once a channel is configured).
    #[default]
    Failure,
    /// Successes too (backups, rehearsals, retention).
    All,
    /// Nothing (but `notify test`).
    Never,
}

impl FromStr for NotifyOn {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "failure" | "failures" => Ok(NotifyOn::Failure),
            "all" => Ok(NotifyOn::All),
            "never" | "none" | "off" => Ok(NotifyOn::Never),
            other => Err(format!(
                "NOTIFY_ON must be failure, all or never, not {other:?}"
            )),
        }
    }
}

impl NotifyOn {
    pub fn as_str(self) -> &'static str {
        match self {
            NotifyOn::Failure => "failure",
            NotifyOn::All => "all",
            NotifyOn::Never => "never",
        }
    }
}

/// How the SMTP connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    /// Plain connection upgraded with STARTTLS, required (port 587).
    #[default]
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No encryption: only to a server on this machine.
    None,
}

impl FromStr for SmtpTls {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "starttls" => Ok(SmtpTls::Starttls),
            "tls" | "ssl" | "smtps" => Ok(SmtpTls::Tls),
            "none" | "plain" => Ok(SmtpTls::None),
            other => Err(format!(
                "SMTP_TLS must be starttls, tls or none, not {other:?}"
            )),
        }
    }
}

impl SmtpTls {
    pub fn default_port(self) -> u16 {
        match self {
            SmtpTls::Starttls => 587,
            SmtpTls::Tls => 465,
            SmtpTls::None => 25,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SmtpTls::Starttls => "starttls",
            SmtpTls::Tls => "tls",
            SmtpTls::None => "none",
        }
    }
}

#[derive(Debug, Clone)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub tls: SmtpTls,
    pub username: Option<String>,
    pub password: Option<Sensitive<String>>,
    pub from: String,
    /// A PEM file of certificate authorities to trust besides the system's (a private mail
    /// server's own CA): `SMTP_CA_FILE`.
    pub ca_file: Option<PathBuf>,
}

#[derive(Debug, Clone)]
pub struct AcsSettings {
    pub connection: AcsConnection,
    pub sender: String,
}

/// A webhook: its URL is a secret (Slack's and Teams' carry their key in the path), so it
/// is shown only as `scheme://host:port/…` (`webhook_target`), in `Debug` too.
#[derive(Clone)]
pub struct WebhookSettings {
    pub url: Url,
    pub secret: Option<Sensitive<String>>,
}

impl std::fmt::Debug for WebhookSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookSettings")
            .field("url", &webhook_target(&self.url))
            .field("secret", &self.secret)
            .finish()
    }
}

/// Where a webhook delivers, for people: scheme, host and port, never the path or query.
pub fn webhook_target(url: &Url) -> String {
    let host = url.host_str().unwrap_or("");
    match url.port() {
        Some(port) => format!("{}://{host}:{port}/…", url.scheme()),
        None => format!("{}://{host}/…", url.scheme()),
    }
}

/// Attempts per delivery and the wait before the first retry (doubled each time).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    pub attempts: u32,
    pub first_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 4,
            first_delay: Duration::from_secs(2),
        }
    }
}

/// Everything the notifier needs.
#[derive(Debug, Clone, Default)]
pub struct NotifyConfig {
    pub on: NotifyOn,
    /// Who gets e-mail (SMTP and ACS).
    pub recipients: Vec<String>,
    pub smtp: Option<SmtpSettings>,
    pub acs: Option<AcsSettings>,
    pub webhook: Option<WebhookSettings>,
    pub retry: RetryPolicy,
}

impl NotifyConfig {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self> {
        Self::from_lookup(|key| std::env::var(key).ok().filter(|v| !v.trim().is_empty()))
    }

    /// Reads configuration through `lookup` (the environment, or a test's map).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self> {
        let config_error = |e: String| Error::Config(e);
        let on = match lookup("NOTIFY_ON") {
            Some(v) => v.parse().map_err(config_error)?,
            None => NotifyOn::Failure,
        };
        let recipients = lookup("NOTIFY_EMAIL_TO")
            .map(|list| parse_recipients(&list))
            .transpose()?
            .unwrap_or_default();
        let smtp = match lookup("SMTP_HOST") {
            None => None,
            Some(host) => {
                let tls: SmtpTls = match lookup("SMTP_TLS") {
                    Some(v) => v.parse().map_err(config_error)?,
                    None => SmtpTls::Starttls,
                };
                let port = match lookup("SMTP_PORT") {
                    Some(v) => v.trim().parse().ok().filter(|p| *p > 0).ok_or_else(|| {
                        Error::Config(format!("SMTP_PORT must be a port number, not {v:?}"))
                    })?,
                    None => tls.default_port(),
                };
                let from = lookup("SMTP_FROM").ok_or_else(|| {
                    Error::Config(
                        "SMTP_HOST is set but SMTP_FROM (the sender address) is not".into(),
                    )
                })?;
                Some(SmtpSettings {
                    host: host.trim().to_owned(),
                    port,
                    tls,
                    username: lookup("SMTP_USERNAME"),
                    password: lookup("SMTP_PASSWORD").map(Sensitive::new),
                    from: from.trim().to_owned(),
                    ca_file: lookup("SMTP_CA_FILE").map(PathBuf::from),
                })
            }
        };
        let acs = match (
            lookup("ACS_CONNECTION_STRING"),
            lookup("ACS_SENDER_ADDRESS"),
        ) {
            (None, _) => None,
            (Some(_), None) => {
                return Err(Error::Config(
                    "ACS_CONNECTION_STRING is set but ACS_SENDER_ADDRESS is not".into(),
                ))
            }
            (Some(conn), Some(sender)) => Some(AcsSettings {
                connection: AcsConnection::parse(&conn)?,
                sender: sender.trim().to_owned(),
            }),
        };
        let webhook = match lookup("NOTIFY_WEBHOOK_URL") {
            None => None,
            Some(raw) => Some(WebhookSettings {
                url: parse_webhook_url(&raw)?,
                secret: lookup("NOTIFY_WEBHOOK_SECRET").map(Sensitive::new),
            }),
        };
        let mut retry = RetryPolicy::default();
        if let Some(ms) = lookup("NOTIFY_RETRY_DELAY_MS") {
            retry.first_delay = Duration::from_millis(ms.trim().parse().map_err(|_| {
                Error::Config(format!(
                    "NOTIFY_RETRY_DELAY_MS must be milliseconds, not {ms:?}"
                ))
            })?);
        }
        if let Some(n) = lookup("NOTIFY_RETRY_ATTEMPTS") {
            retry.attempts = n
                .trim()
                .parse()
                .ok()
                .filter(|n| (1..=10).contains(n))
                .ok_or_else(|| {
                    Error::Config(format!("NOTIFY_RETRY_ATTEMPTS must be 1 to 10, not {n:?}"))
                })?;
        }
        Ok(NotifyConfig {
            on,
            recipients,
            smtp,
            acs,
            webhook,
            retry,
        })
    }

    /// Whether any channel is configured.
    pub fn has_channels(&self) -> bool {
        self.smtp.is_some() || self.acs.is_some() || self.webhook.is_some()
    }

    /// E-mail goes to these when `NOTIFY_EMAIL_TO` names nobody (the server: its admins,
    /// as the RYTHM API mails every system admin).
    pub fn with_default_recipients(mut self, recipients: impl IntoIterator<Item = String>) -> Self {
        if self.recipients.is_empty() {
            self.recipients = recipients
                .into_iter()
                .filter(|r| valid_address(r))
                .collect();
        }
        self
    }

    /// The secret values, for scrubbing messages.
    pub fn secrets(&self) -> Vec<String> {
        let mut secrets = Vec::new();
        if let Some(p) = self.smtp.as_ref().and_then(|s| s.password.as_ref()) {
            secrets.push(p.expose().clone());
        }
        if let Some(acs) = &self.acs {
            secrets.push(acs.connection.access_key().expose().clone());
        }
        if let Some(webhook) = &self.webhook {
            // The URL's path is often the credential itself (Slack's, Teams').
            secrets.push(webhook.url.as_str().to_owned());
            if webhook.url.path().len() > 1 {
                secrets.push(webhook.url.path().to_owned());
            }
            if let Some(s) = &webhook.secret {
                secrets.push(s.expose().clone());
            }
        }
        secrets
    }
}

/// A comma (or semicolon) separated list of addresses, each checked.
pub fn parse_recipients(list: &str) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for raw in list.split([',', ';']) {
        let address = raw.trim();
        if address.is_empty() {
            continue;
        }
        if !valid_address(address) {
            return Err(Error::Config(format!(
                "NOTIFY_EMAIL_TO: {:?} is not an e-mail address",
                address.chars().take(80).collect::<String>()
            )));
        }
        if !out.iter().any(|a: &String| a.eq_ignore_ascii_case(address)) {
            out.push(address.to_owned());
        }
    }
    Ok(out)
}

fn valid_address(address: &str) -> bool {
    address.parse::<lettre::Address>().is_ok()
}

/// `https://…`, or `http://` to this machine only (the body may be signed, but it is not
/// encrypted).
pub fn parse_webhook_url(raw: &str) -> Result<Url> {
    let url = Url::parse(raw.trim())
        .map_err(|e| Error::Config(format!("NOTIFY_WEBHOOK_URL is not a URL: {e}")))?;
    match url.scheme() {
        "https" => Ok(url),
        "http" if is_loopback_host(url.host_str().unwrap_or_default()) => Ok(url),
        "http" => Err(Error::Config(
            "NOTIFY_WEBHOOK_URL must use https:// (http:// only to this machine)".into(),
        )),
        other => Err(Error::Config(format!(
            "NOTIFY_WEBHOOK_URL must be https://, not {other}://"
        ))),
    }
}

/// `localhost` or a loopback address.
pub fn is_loopback_host(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(pairs: &[(&str, &str)]) -> Result<NotifyConfig> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        NotifyConfig::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn nothing_configured_is_no_channel() {
        let c = config(&[]).unwrap();
        assert!(!c.has_channels());
        assert_eq!(c.on, NotifyOn::Failure);
    }

    #[test]
    fn smtp_defaults_and_recipients() {
        let c = config(&[
            ("SMTP_HOST", "mail.example.com"),
            ("SMTP_FROM", "backup@example.com"),
            (
                "NOTIFY_EMAIL_TO",
                "a@example.com, b@example.com;A@example.com",
            ),
            ("NOTIFY_ON", "all"),
        ])
        .unwrap();
        let smtp = c.smtp.unwrap();
        assert_eq!((smtp.port, smtp.tls), (587, SmtpTls::Starttls));
        assert_eq!(c.recipients, ["a@example.com", "b@example.com"]);
        assert_eq!(c.on, NotifyOn::All);
    }

    #[test]
    fn bad_values_are_clear_errors() {
        for pairs in [
            &[("NOTIFY_ON", "sometimes")][..],
            &[
                ("SMTP_HOST", "h"),
                ("SMTP_FROM", "a@b.c"),
                ("SMTP_TLS", "maybe"),
            ],
            &[("SMTP_HOST", "h")],
            &[
                ("SMTP_HOST", "h"),
                ("SMTP_FROM", "a@b.c"),
                ("SMTP_PORT", "x"),
            ],
            &[("NOTIFY_EMAIL_TO", "not an address")],
            &[("NOTIFY_WEBHOOK_URL", "http://hooks.example.com/x")],
            &[("NOTIFY_WEBHOOK_URL", "ftp://localhost/x")],
            &[(
                "ACS_CONNECTION_STRING",
                "endpoint=https://x/;accesskey=QUJD",
            )],
        ] {
            assert!(config(pairs).is_err(), "{pairs:?}");
        }
    }

    #[test]
    fn webhooks_over_http_only_to_loopback() {
        assert!(parse_webhook_url("http://127.0.0.1:9/x").is_ok());
        assert!(parse_webhook_url("http://localhost/x").is_ok());
        assert!(parse_webhook_url("http://[::1]:8/x").is_ok());
        assert!(parse_webhook_url("https://hooks.slack.com/services/x").is_ok());
        assert!(parse_webhook_url("http://10.0.0.1/x").is_err());
    }

    #[test]
    fn default_recipients_only_fill_an_empty_list() {
        let c = config(&[])
            .unwrap()
            .with_default_recipients(vec!["admin@example.com".to_owned(), "bad".to_owned()]);
        assert_eq!(c.recipients, ["admin@example.com"]);
        let c = config(&[("NOTIFY_EMAIL_TO", "x@example.com")])
            .unwrap()
            .with_default_recipients(vec!["admin@example.com".to_owned()]);
        assert_eq!(c.recipients, ["x@example.com"]);
    }
}
