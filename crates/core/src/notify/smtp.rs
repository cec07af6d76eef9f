//! E-mail through an SMTP server with lettre: STARTTLS (required) or implicit TLS with the
//! OS's trusted roots plus `SMTP_CA_FILE`, certificates always verified; unencrypted only to
//! a server on this machine. One message per recipient, so recipients do not see each other
//! and a retry never repeats a mail someone already has.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use super::config::{is_loopback_host, SmtpSettings, SmtpTls};
use super::{Channel, DeliveryError, Message};
use crate::error::{Error, Result};

/// One recipient of the SMTP channel; the connection settings are shared.
#[derive(Clone)]
pub struct SmtpChannel {
    transport: Arc<AsyncSmtpTransport<Tokio1Executor>>,
    server: String,
    from: Mailbox,
    to: Mailbox,
}

impl std::fmt::Debug for SmtpChannel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpChannel")
            .field("server", &self.server)
            .field("to", &self.to.email.to_string())
            .finish_non_exhaustive()
    }
}

impl SmtpChannel {
    /// One channel per recipient, all over one transport.
    pub fn for_recipients(settings: &SmtpSettings, recipients: &[String]) -> Result<Vec<Self>> {
        let invalid = |what: &str| Error::Config(format!("SMTP: {what}"));
        if settings.tls == SmtpTls::None && !is_loopback_host(&settings.host) {
            return Err(invalid(
                "SMTP_TLS=none is allowed only to a server on this machine (localhost); \
                 use starttls or tls",
            ));
        }
        if settings.username.is_some() != settings.password.is_some() {
            return Err(invalid(
                "set both SMTP_USERNAME and SMTP_PASSWORD, or neither",
            ));
        }
        if recipients.is_empty() {
            return Err(invalid(
                "SMTP_HOST is set but nobody would receive mail: set NOTIFY_EMAIL_TO",
            ));
        }
        let from: Mailbox = settings
            .from
            .parse()
            .map_err(|e| invalid(&format!("SMTP_FROM {:?}: {e}", settings.from)))?;
        let tls = match settings.tls {
            SmtpTls::None => Tls::None,
            SmtpTls::Starttls => Tls::Required(tls_parameters(settings)?),
            SmtpTls::Tls => Tls::Wrapper(tls_parameters(settings)?),
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&settings.host)
            .port(settings.port)
            .tls(tls)
            .timeout(Some(Duration::from_secs(30)));
        if let (Some(user), Some(password)) = (&settings.username, &settings.password) {
            builder =
                builder.credentials(Credentials::new(user.clone(), password.expose().clone()));
        }
        let transport = Arc::new(builder.build());
        let server = format!("{}:{}", settings.host, settings.port);
        recipients
            .iter()
            .map(|r| {
                Ok(SmtpChannel {
                    transport: transport.clone(),
                    server: server.clone(),
                    from: from.clone(),
                    to: r
                        .parse()
                        .map_err(|e| invalid(&format!("recipient {r:?}: {e}")))?,
                })
            })
            .collect()
    }
}

fn tls_parameters(settings: &SmtpSettings) -> Result<TlsParameters> {
    let mut builder = TlsParameters::builder(settings.host.clone());
    if let Some(path) = &settings.ca_file {
        let pem =
            std::fs::read(path).map_err(|e| Error::io("cannot read SMTP_CA_FILE", path, e))?;
        let certificate = Certificate::from_pem(&pem).map_err(|e| {
            Error::Config(format!(
                "SMTP_CA_FILE {}: not a PEM certificate: {e}",
                path.display()
            ))
        })?;
        builder = builder.add_root_certificate(certificate);
    }
    builder
        .build_rustls()
        .map_err(|e| Error::Config(format!("SMTP TLS settings: {e}")))
}

#[async_trait]
impl Channel for SmtpChannel {
    fn name(&self) -> &'static str {
        "smtp"
    }

    fn target(&self) -> String {
        format!("{} via {}", self.to.email, self.server)
    }

    async fn send(&self, message: &Message) -> Result<(), DeliveryError> {
        let email = lettre::Message::builder()
            .from(self.from.clone())
            .to(self.to.clone())
            .subject(message.subject.clone())
            .multipart(MultiPart::alternative_plain_html(
                message.text.clone(),
                message.html.clone(),
            ))
            .map_err(|e| DeliveryError::permanent(format!("cannot build the mail: {e}")))?;
        match self.transport.send(email).await {
            Ok(_) => Ok(()),
            Err(e) => {
                let text = super::cause_chain(&e).join(": ");
                Err(DeliveryError {
                    message: format!("SMTP {}: {text}", self.server),
                    permanent: e.is_permanent() && !e.is_transient(),
                    retry_after: None,
                })
            }
        }
    }
}
