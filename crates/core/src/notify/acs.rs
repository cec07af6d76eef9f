//! E-mail through Azure Communication Services, the channel the RYTHM platform itself uses
//! (`ACS_CONNECTION_STRING`, `ACS_SENDER_ADDRESS`): `POST {endpoint}/emails:send` signed
//! with HMAC-SHA256 as Microsoft documents it (the base64-decoded access key over
//! `METHOD\npath?query\ndate;host;content-hash`), then the operation it answers with is
//! polled until the mail is sent.

use std::time::{Duration, Instant};

use async_trait::async_trait;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use reqwest::{Method, StatusCode};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use url::Url;

use super::config::is_loopback_host;
use super::{http_failure, Channel, DeliveryError, Message};
use crate::error::{Error, Result};
use crate::secrets::Sensitive;

pub const API_VERSION: &str = "2023-03-31";
/// How long a send is followed before it counts as accepted but unconfirmed.
const POLL_LIMIT: Duration = Duration::from_secs(60);

/// The two parts of an ACS connection string.
#[derive(Debug, Clone)]
pub struct AcsConnection {
    endpoint: Url,
    access_key: Sensitive<String>,
    key: Sensitive<Vec<u8>>,
}

impl AcsConnection {
    /// `endpoint=https://NAME.communication.azure.com/;accesskey=BASE64`. Errors never quote
    /// the key.
    pub fn parse(raw: &str) -> Result<Self> {
        let invalid = |why: &str| Error::Config(format!("ACS_CONNECTION_STRING: {why}"));
        let (mut endpoint, mut access_key) = (None, None);
        for part in raw.split(';') {
            let Some((name, value)) = part.split_once('=') else {
                continue;
            };
            match name.trim().to_ascii_lowercase().as_str() {
                "endpoint" => endpoint = Some(value.trim().to_owned()),
                "accesskey" => access_key = Some(value.trim().to_owned()),
                _ => {}
            }
        }
        let endpoint = endpoint.ok_or_else(|| invalid("no endpoint=…"))?;
        let access_key = access_key.ok_or_else(|| invalid("no accesskey=…"))?;
        let endpoint = Url::parse(&endpoint).map_err(|_| invalid("the endpoint is not a URL"))?;
        match endpoint.scheme() {
            "https" => {}
            "http" if is_loopback_host(endpoint.host_str().unwrap_or_default()) => {}
            _ => return Err(invalid("the endpoint must be https://")),
        }
        let key = base64::engine::general_purpose::STANDARD
            .decode(&access_key)
            .map_err(|_| invalid("the access key is not base64"))?;
        Ok(AcsConnection {
            endpoint,
            access_key: Sensitive::new(access_key),
            key: Sensitive::new(key),
        })
    }

    pub fn endpoint(&self) -> &Url {
        &self.endpoint
    }

    pub fn access_key(&self) -> &Sensitive<String> {
        &self.access_key
    }

    /// The headers of a signed request: `x-ms-date`, `x-ms-content-sha256`, `Authorization`.
    pub fn sign(
        &self,
        method: &Method,
        url: &Url,
        body: &[u8],
        at: OffsetDateTime,
    ) -> [(&'static str, String); 3] {
        let date = http_date(at);
        let content_hash = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(body));
        let path_and_query = match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_owned(),
        };
        let string_to_sign = format!(
            "{}\n{path_and_query}\n{date};{};{content_hash}",
            method.as_str(),
            host_header(url)
        );
        let mut mac = Hmac::<Sha256>::new_from_slice(self.key.expose())
            .expect("HMAC takes a key of any length");
        mac.update(string_to_sign.as_bytes());
        let signature =
            base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
        [
            ("x-ms-date", date),
            ("x-ms-content-sha256", content_hash),
            (
                "Authorization",
                format!(
                    "HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&Signature={signature}"
                ),
            ),
        ]
    }
}

/// The `Host` header as an HTTP client sends it: the port only when it is not the scheme's.
pub fn host_header(url: &Url) -> String {
    let host = url.host_str().unwrap_or_default();
    match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    }
}

/// RFC 1123, as `x-ms-date` wants: `Tue, 24 Nov 2026 02:00:00 GMT`.
pub fn http_date(at: OffsetDateTime) -> String {
    let at = at.to_offset(time::UtcOffset::UTC);
    let format = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    at.format(&format).expect("a UTC time formats")
}

/// Whether the operation a send answered with may be followed with a signed GET: only on
/// the endpoint's own origin (scheme, host and port), so the signature never travels to
/// another server, nor in clear over `http://` from an `https://` endpoint.
fn may_follow(endpoint: &Url, operation: &Url) -> bool {
    operation.origin() == endpoint.origin()
}

/// One recipient of the ACS channel.
#[derive(Debug, Clone)]
pub struct AcsChannel {
    connection: AcsConnection,
    sender: String,
    to: String,
    client: reqwest::Client,
}

impl AcsChannel {
    pub fn for_recipients(
        connection: &AcsConnection,
        sender: &str,
        recipients: &[String],
    ) -> Result<Vec<Self>> {
        if recipients.is_empty() {
            return Err(Error::Config(
                "ACS_CONNECTION_STRING is set but nobody would receive mail: set NOTIFY_EMAIL_TO"
                    .into(),
            ));
        }
        let client = super::http_client();
        Ok(recipients
            .iter()
            .map(|to| AcsChannel {
                connection: connection.clone(),
                sender: sender.to_owned(),
                to: to.clone(),
                client: client.clone(),
            })
            .collect())
    }

    async fn signed(
        &self,
        method: Method,
        url: Url,
        body: Vec<u8>,
    ) -> reqwest::Result<reqwest::Response> {
        let headers = self
            .connection
            .sign(&method, &url, &body, OffsetDateTime::now_utc());
        let mut request = self.client.request(method, url);
        for (name, value) in headers {
            request = request.header(name, value);
        }
        request
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await
    }

    /// Follows the send's operation until it succeeds or fails.
    async fn follow(&self, operation: Url) -> Result<(), DeliveryError> {
        let started = Instant::now();
        let mut wait = Duration::from_millis(500);
        loop {
            let response = self
                .signed(Method::GET, operation.clone(), Vec::new())
                .await
                .map_err(|e| {
                    DeliveryError::transient(format!("ACS: cannot check the send: {e}"))
                })?;
            if !response.status().is_success() {
                return Err(http_failure(response).await);
            }
            let retry_after = response
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u64>().ok())
                .map(|s| Duration::from_secs(s.min(10)));
            let status: serde_json::Value = response.json().await.unwrap_or_default();
            match status["status"].as_str().unwrap_or_default() {
                "Succeeded" => return Ok(()),
                "Failed" | "Canceled" => {
                    let reason = status["error"]["message"]
                        .as_str()
                        .unwrap_or("no reason given");
                    return Err(DeliveryError::permanent(format!(
                        "ACS did not send the mail: {reason}"
                    )));
                }
                _ if started.elapsed() > POLL_LIMIT => {
                    tracing::warn!(to = %self.to, "ACS accepted the mail but did not confirm it in time");
                    return Ok(());
                }
                _ => {
                    tokio::time::sleep(retry_after.unwrap_or(wait)).await;
                    wait = (wait * 2).min(Duration::from_secs(5));
                }
            }
        }
    }
}

#[async_trait]
impl Channel for AcsChannel {
    fn name(&self) -> &'static str {
        "acs"
    }

    fn target(&self) -> String {
        format!(
            "{} via {}",
            self.to,
            self.connection.endpoint.host_str().unwrap_or_default()
        )
    }

    async fn send(&self, message: &Message) -> Result<(), DeliveryError> {
        // Not `join`: "emails:send" alone would parse as a URL of scheme "emails".
        let mut url = self.connection.endpoint.clone();
        let path = format!("{}/emails:send", url.path().trim_end_matches('/'));
        url.set_path(&path);
        url.set_query(Some(&format!("api-version={API_VERSION}")));
        let body = serde_json::json!({
            "senderAddress": self.sender,
            "recipients": { "to": [{ "address": self.to }] },
            "content": {
                "subject": message.subject,
                "plainText": message.text,
                "html": message.html,
            },
        });
        let body = serde_json::to_vec(&body).expect("JSON serialises");
        let response = self
            .signed(Method::POST, url.clone(), body)
            .await
            .map_err(|e| {
                DeliveryError::transient(format!("ACS: cannot reach {}: {e}", host_header(&url)))
            })?;
        if response.status() != StatusCode::ACCEPTED && !response.status().is_success() {
            return Err(http_failure(response).await);
        }
        let operation = response
            .headers()
            .get("operation-location")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| Url::parse(v).ok());
        match operation {
            Some(op) if may_follow(&url, &op) => self.follow(op).await,
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn parses_connection_strings_without_echoing_the_key() {
        let c = AcsConnection::parse(
            "endpoint=https://rythm.communication.azure.com/;accesskey=c2VjcmV0LWtleS1ieXRlcw==",
        )
        .unwrap();
        assert_eq!(
            c.endpoint().host_str(),
            Some("rythm.communication.azure.com")
        );
        for bad in [
            "endpoint=https://x/",
            "accesskey=QUJD",
            "endpoint=http://x.example.com/;accesskey=QUJD",
            "endpoint=https://x/;accesskey=!!not-base64!!",
        ] {
            let err = AcsConnection::parse(bad).unwrap_err().to_string();
            assert!(
                !err.contains("QUJD") && !err.contains("not-base64"),
                "{err}"
            );
        }
    }

    #[test]
    fn operations_are_followed_only_on_the_endpoints_own_origin() {
        let endpoint =
            Url::parse("https://rythm.communication.azure.com/emails:send?api-version=1").unwrap();
        let op = |u: &str| Url::parse(u).unwrap();
        assert!(may_follow(
            &endpoint,
            &op("https://rythm.communication.azure.com/emails/operations/1")
        ));
        assert!(may_follow(
            &endpoint,
            &op("https://rythm.communication.azure.com:443/emails/operations/1")
        ));
        for elsewhere in [
            // Same host, in clear: the signed GET would be readable on the way.
            "http://rythm.communication.azure.com/emails/operations/1",
            "http://rythm.communication.azure.com:443/emails/operations/1",
            "https://rythm.communication.azure.com:8443/emails/operations/1",
            "https://attacker.example/emails/operations/1",
        ] {
            assert!(!may_follow(&endpoint, &op(elsewhere)), "{elsewhere}");
        }
    }

    #[test]
    fn signature_matches_the_documented_scheme() {
        // Key bytes "secret-key-bytes"; computed independently with openssl:
        // printf 'POST\n/emails:send?api-version=2023-03-31\nTue, 24 Nov 2026 02:00:00 GMT;rythm.communication.azure.com;47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=' |
        //   openssl dgst -sha256 -hmac secret-key-bytes -binary | base64
        let c = AcsConnection::parse(
            "endpoint=https://rythm.communication.azure.com/;accesskey=c2VjcmV0LWtleS1ieXRlcw==",
        )
        .unwrap();
        let url =
            Url::parse("https://rythm.communication.azure.com/emails:send?api-version=2023-03-31")
                .unwrap();
        let headers = c.sign(&Method::POST, &url, b"", datetime!(2026-11-24 02:00 UTC));
        assert_eq!(headers[0].1, "Tue, 24 Nov 2026 02:00:00 GMT");
        assert_eq!(headers[1].1, "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
        assert_eq!(
            headers[2].1,
            "HMAC-SHA256 SignedHeaders=x-ms-date;host;x-ms-content-sha256&\
             Signature=47d0l6hH8o/DgHRKXLzk7EWiYuFsMTi23ALgu/+XSOY="
        );
    }
}
