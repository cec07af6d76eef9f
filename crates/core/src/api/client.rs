//! `ApiClient`: a backup REST API (the RYTHM platform's or `rythm-backup serve`) driven over
//! HTTP. It signs in with an email and password, keeps the token (never printed), reads its
//! role and expiry to refuse non-admins and expired sign-ins before sending anything, and
//! implements `Backups` over the backup endpoints (in `calls`; downloads in `download`).

mod address;
mod calls;
mod convert;
mod download;
mod env;
mod features;
mod health;
mod partial;
mod verify;

pub use address::is_unencrypted_remote;
pub use features::from_openapi as features_from_openapi;

use std::fmt;
use std::sync::RwLock;
use std::time::Duration;

use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde::de::DeserializeOwned;
use serde_json::Value;
use time::OffsetDateTime;
use url::Url;

use super::error::{from_status, from_transport, ApiError, Call};
use super::token::TokenInfo;
use super::wire::{LoginRequest, LoginResponse};
use crate::backups::RestoreFeatures;
use crate::config::DEFAULT_RETENTION_DAYS;
use crate::error::{Error, Result};
use crate::secrets::Sensitive;

/// Timeouts and the like; `Default` suits real servers.
#[derive(Debug, Clone)]
pub struct ApiClientOptions {
    pub connect_timeout: Duration,
    /// Longest silence while waiting for or reading an answer (lists, downloads). There is
    /// no limit on a whole call, so long downloads are fine while bytes flow.
    pub idle_timeout: Duration,
    /// Longest silence while the server runs a backup or a restore: both answer only when
    /// done, which takes as long as the database needs.
    pub job_idle_timeout: Duration,
    /// Retries of a download that broke (resumed with `Range` where the server allows).
    pub download_retries: u32,
    /// The first retry's delay; it doubles each time.
    pub retry_delay: Duration,
    /// Computes `expires_at` in lists when the server says neither that nor its retention
    /// (both servers serve it in their schedule config, which wins).
    pub retention_days: u32,
    /// The database the server restores into, as it named it in an earlier create answer
    /// (the RYTHM platform names it nowhere else); `None` when not known yet.
    pub known_database: Option<String>,
}

impl Default for ApiClientOptions {
    fn default() -> Self {
        ApiClientOptions {
            connect_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(120),
            job_idle_timeout: Duration::from_secs(6 * 3600),
            download_retries: 3,
            retry_delay: Duration::from_secs(1),
            retention_days: DEFAULT_RETENTION_DAYS,
            known_database: None,
        }
    }
}

/// A sign-in: the token and what it says about itself.
struct Session {
    token: Sensitive<String>,
    info: TokenInfo,
}

/// A client of one backup REST API.
pub struct ApiClient {
    base: Url,
    /// The base URL for messages, without a trailing slash.
    server: String,
    http: reqwest::Client,
    /// For create and restore, which answer only when the job is done.
    jobs_http: reqwest::Client,
    options: ApiClientOptions,
    session: RwLock<Option<Session>>,
    /// The server's restore features, asked once.
    features: tokio::sync::OnceCell<RestoreFeatures>,
    /// The server's database: from the options, then from create answers and list entries.
    known_database: RwLock<Option<String>>,
}

impl fmt::Debug for ApiClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let info = self.token_info();
        f.debug_struct("ApiClient")
            .field("server", &self.server)
            .field("signed_in_as", &info.as_ref().and_then(|i| i.email.clone()))
            .field("role", &info.as_ref().and_then(|i| i.role.clone()))
            .field("expires_at", &info.as_ref().and_then(|i| i.expires_at))
            .field("token", &info.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl ApiClient {
    /// A client of the API at `base_url` (`https://host` or `https://host/prefix`), not
    /// signed in yet.
    pub fn new(base_url: &str) -> Result<Self> {
        Self::with_options(base_url, ApiClientOptions::default())
    }

    pub fn with_options(base_url: &str, options: ApiClientOptions) -> Result<Self> {
        let base = address::parse_base_url(base_url)?;
        let server = base.as_str().trim_end_matches('/').to_owned();
        if base.scheme() == "http" && !address::is_loopback(&base) {
            tracing::warn!(server = %server, "the API address uses plain http: the sign-in token travels unencrypted");
        }
        let build = |idle: Duration| {
            reqwest::Client::builder()
                .connect_timeout(options.connect_timeout)
                .read_timeout(idle)
                .tcp_keepalive(Duration::from_secs(30))
                .user_agent(crate::TOOL_VERSION)
                .build()
                .map_err(|e| Error::Internal(format!("cannot set up the HTTP client: {e}")))
        };
        Ok(ApiClient {
            http: build(options.idle_timeout)?,
            jobs_http: build(options.job_idle_timeout)?,
            base,
            server,
            known_database: RwLock::new(options.known_database.clone()),
            options,
            session: RwLock::new(None),
            features: tokio::sync::OnceCell::new(),
        })
    }

    /// The API's base URL.
    pub fn base_url(&self) -> &Url {
        &self.base
    }

    /// Whether the password and token travel unencrypted (plain http to another computer).
    pub fn is_unencrypted(&self) -> bool {
        address::is_unencrypted_remote(self.base.as_str())
    }

    /// The database the server restores into, when it has said so.
    pub fn known_database(&self) -> Option<String> {
        self.known_database
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn learn_database(&self, database: &str) {
        let database = database.trim();
        if !database.is_empty() {
            *self
                .known_database
                .write()
                .unwrap_or_else(|e| e.into_inner()) = Some(database.to_owned());
        }
    }

    /// Signs in; keeps the token when the account is a system admin. A wrong password or an
    /// unknown account is an `AuthRequired` error, another role a `NotAdmin` one.
    pub async fn login(&self, email: &str, password: &Sensitive<String>) -> Result<TokenInfo> {
        let body = LoginRequest {
            email: email.trim().to_owned(),
            password: password.expose().clone(),
        };
        let request = self
            .http
            .post(self.endpoint(&["api", "auth", "login"]))
            .json(&body);
        let response = self.send(request).await?;
        let response = self.check(response, Call::Login).await?;
        let login: LoginResponse = self.read_json(response, "POST /api/auth/login").await?;
        let token = Sensitive::new(login.token);
        let mut info = TokenInfo::decode(token.expose()).map_err(|detail| ApiError::Protocol {
            server: self.server.clone(),
            request: "POST /api/auth/login".into(),
            detail,
        })?;
        info.role.get_or_insert(login.user.role);
        info.email.get_or_insert(login.user.email);
        let info = self.adopt(token, info)?;
        tracing::info!(server = %self.server, email = ?info.email, "signed in");
        Ok(info)
    }

    /// Uses a token from an earlier sign-in (the keychain, `BACKUP_API_TOKEN`). Refuses a
    /// token of another role; an expired one is kept, and calls then ask to sign in again.
    pub fn set_token(&self, token: Sensitive<String>) -> Result<TokenInfo> {
        let info = TokenInfo::decode(token.expose()).map_err(|reason| ApiError::AuthRequired {
            server: self.server.clone(),
            reason,
        })?;
        Ok(self.adopt(token, info)?)
    }

    /// The current token, to keep it in the keychain.
    pub fn token(&self) -> Option<Sensitive<String>> {
        self.read_session().as_ref().map(|s| s.token.clone())
    }

    /// What the current token says (role, email, expiry).
    pub fn token_info(&self) -> Option<TokenInfo> {
        self.read_session().as_ref().map(|s| s.info.clone())
    }

    /// Forgets the token (the server keeps no sessions: tokens just expire).
    pub fn sign_out(&self) {
        *self.session.write().unwrap_or_else(|e| e.into_inner()) = None;
    }

    fn adopt(&self, token: Sensitive<String>, info: TokenInfo) -> Result<TokenInfo, ApiError> {
        if !info.is_admin() {
            return Err(ApiError::NotAdmin {
                server: self.server.clone(),
                detail: info.role_label(),
            });
        }
        *self.session.write().unwrap_or_else(|e| e.into_inner()) = Some(Session {
            token,
            info: info.clone(),
        });
        Ok(info)
    }

    fn read_session(&self) -> std::sync::RwLockReadGuard<'_, Option<Session>> {
        self.session.read().unwrap_or_else(|e| e.into_inner())
    }

    /// The token for the next call; an `AuthRequired` error, before anything is sent, when
    /// there is none or it has expired.
    fn bearer(&self) -> Result<Sensitive<String>, ApiError> {
        let session = self.read_session();
        let reason = match &*session {
            None => "not signed in".to_owned(),
            Some(s) if s.info.is_expired(OffsetDateTime::now_utc()) => match s.info.expires_at {
                Some(at) => format!("the sign-in expired at {}", crate::time_text::shown(at)),
                None => "the sign-in expired".to_owned(),
            },
            Some(s) => return Ok(s.token.clone()),
        };
        Err(ApiError::AuthRequired {
            server: self.server.clone(),
            reason,
        })
    }

    /// The URL of an endpoint under the base URL; each segment is percent-encoded.
    fn endpoint(&self, segments: &[&str]) -> Url {
        let mut url = self.base.clone();
        url.path_segments_mut()
            .expect("http(s) URLs have a path")
            .pop_if_empty()
            .extend(segments);
        url
    }

    /// An authorized request (checks the token first).
    fn request(&self, jobs: bool, method: Method, segments: &[&str]) -> Result<RequestBuilder> {
        self.request_to(jobs, method, self.endpoint(segments))
    }

    /// An authorized request to `url` (an endpoint, perhaps with a query).
    fn request_to(&self, jobs: bool, method: Method, url: Url) -> Result<RequestBuilder> {
        let token = self.bearer()?;
        let http = if jobs { &self.jobs_http } else { &self.http };
        Ok(http.request(method, url).bearer_auth(token.expose()))
    }

    async fn send(&self, request: RequestBuilder) -> Result<Response, ApiError> {
        request
            .send()
            .await
            .map_err(|e| from_transport(&self.server, &e))
    }

    /// Turns an error status into its error; a refused token also ends the session.
    async fn check(&self, response: Response, call: Call) -> Result<Response, ApiError> {
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let body = read_limited(response, 64 * 1024).await;
        let error = from_status(&self.server, status, &body, call);
        if call == Call::Authorized && matches!(error, ApiError::AuthRequired { .. }) {
            self.sign_out();
        }
        Err(error)
    }

    /// Reads a JSON answer; `{success:false, error}` with a 2xx status is an error too.
    async fn read_json<T: DeserializeOwned>(
        &self,
        response: Response,
        request: &str,
    ) -> Result<T, ApiError> {
        let status = response.status();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| from_transport(&self.server, &e))?;
        let protocol = |detail: String| ApiError::Protocol {
            server: self.server.clone(),
            request: request.to_owned(),
            detail,
        };
        let value: Value = serde_json::from_slice(&bytes)
            .map_err(|e| protocol(format!("the answer is not JSON ({e})")))?;
        if value.get("success") == Some(&Value::Bool(false)) {
            let error = value.get("error").and_then(Value::as_str).unwrap_or("");
            return Err(ApiError::Server {
                server: self.server.clone(),
                status: status.as_u16(),
                message: format!("the server reported a failure: {error}"),
            });
        }
        serde_json::from_value(value).map_err(|e| protocol(e.to_string()))
    }

    /// One authorized JSON call.
    async fn call<T: DeserializeOwned>(
        &self,
        jobs: bool,
        method: Method,
        segments: &[&str],
        body: Option<Value>,
    ) -> Result<T> {
        let what = format!("{method} /{}", segments.join("/"));
        let mut request = self.request(jobs, method, segments)?;
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = self.send(request).await?;
        let response = self.check(response, Call::Authorized).await?;
        Ok(self.read_json(response, &what).await?)
    }
}

/// Reads at most `limit` bytes of an error answer.
async fn read_limited(mut response: Response, limit: usize) -> Vec<u8> {
    let mut body = Vec::new();
    while let Ok(Some(chunk)) = response.chunk().await {
        body.extend_from_slice(&chunk);
        if body.len() >= limit {
            body.truncate(limit);
            break;
        }
    }
    body
}

/// Whether a status means "try again later".
fn is_transient_status(status: StatusCode) -> bool {
    matches!(status.as_u16(), 502..=504)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_keep_a_path_prefix_and_encode_names() {
        let c = ApiClient::new("https://h.example/rythm/").unwrap();
        assert_eq!(
            c.endpoint(&["api", "backups", "a b.sql", "download"])
                .as_str(),
            "https://h.example/rythm/api/backups/a%20b.sql/download"
        );
        let c = ApiClient::new("http://127.0.0.1:3000").unwrap();
        assert_eq!(
            c.endpoint(&["api", "backups"]).as_str(),
            "http://127.0.0.1:3000/api/backups"
        );
        let c = ApiClient::new("https://h.example/rythm").unwrap();
        assert_eq!(
            c.endpoint(&["api", "backups", "x/..%2F.sql"]).as_str(),
            "https://h.example/rythm/api/backups/x%2F..%252F.sql"
        );
    }

    #[tokio::test]
    async fn no_token_means_sign_in_before_anything_is_sent() {
        // Port 9 (discard) is never contacted: the check happens before sending.
        let c = ApiClient::new("http://127.0.0.1:9").unwrap();
        let err = c.bearer().unwrap_err();
        assert_eq!(err.code(), crate::ErrorCode::AuthRequired);
        assert!(err.to_string().contains("not signed in"), "{err}");
    }
}
