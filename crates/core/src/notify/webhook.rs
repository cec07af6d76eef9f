//! A webhook: the event's JSON (`event`, `backup`, `database`, `server`, `ok`, `error`,
//! `durationMs`, `size`, `at` and a `text` line that Slack and Teams incoming webhooks
//! show) POSTed to `NOTIFY_WEBHOOK_URL`; with `NOTIFY_WEBHOOK_SECRET`, signed in
//! `X-Rythm-Signature: sha256=<hex HMAC-SHA256 of the body>`.

use async_trait::async_trait;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::config::{webhook_target, WebhookSettings};
use super::{http_failure, Channel, DeliveryError, Message};
use crate::secrets::Sensitive;

pub const SIGNATURE_HEADER: &str = "X-Rythm-Signature";

#[derive(Debug, Clone)]
pub struct WebhookChannel {
    settings: WebhookSettings,
    client: reqwest::Client,
}

impl WebhookChannel {
    pub fn new(settings: WebhookSettings) -> Self {
        WebhookChannel {
            settings,
            client: super::http_client(),
        }
    }
}

/// `sha256=<hex HMAC-SHA256(secret, body)>`.
pub fn signature_header(secret: &Sensitive<String>, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.expose().as_bytes())
        .expect("HMAC takes a key of any length");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

#[async_trait]
impl Channel for WebhookChannel {
    fn name(&self) -> &'static str {
        "webhook"
    }

    /// Scheme, host and port only: a webhook URL's path is often its secret (Slack's).
    fn target(&self) -> String {
        webhook_target(&self.settings.url)
    }

    async fn send(&self, message: &Message) -> Result<(), DeliveryError> {
        let body = serde_json::to_vec(&message.payload).expect("the payload serialises");
        let mut request = self
            .client
            .post(self.settings.url.clone())
            .header(reqwest::header::CONTENT_TYPE, "application/json");
        if let Some(secret) = &self.settings.secret {
            request = request.header(SIGNATURE_HEADER, signature_header(secret, &body));
        }
        let response = request.body(body).send().await.map_err(|e| {
            // reqwest's error names the URL, whose path may be a secret: name the host.
            DeliveryError::transient(format!("webhook {}: {}", self.target(), e.without_url()))
        })?;
        if response.status().is_success() {
            Ok(())
        } else {
            let mut error = http_failure(response).await;
            error.message = format!("webhook {}: {}", self.target(), error.message);
            Err(error)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_is_the_hex_hmac_of_the_body() {
        // printf '{"a":1}' | openssl dgst -sha256 -hmac topsecret
        let sig = signature_header(&Sensitive::new("topsecret".into()), br#"{"a":1}"#);
        assert_eq!(
            sig,
            "sha256=bf1e6501b7fa928ec2391fea9dd90af3c9ad1b7b1ef6ff319c25940cec746bf8"
        );
    }
}
