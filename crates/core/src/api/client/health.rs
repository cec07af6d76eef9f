//! The server's health (`GET /api/health`), asked signed in: our server tells its stale
//! threshold there (`staleAfterHours`), so a profile's freshness follows the server's
//! `STALE_AFTER_HOURS`. A server that says nothing usable (the RYTHM platform) leaves the
//! default in place.

use reqwest::Method;
use serde_json::Value;

use super::ApiClient;

const HEALTH: [&str; 2] = ["api", "health"];

impl ApiClient {
    /// The server's stale threshold in hours; `None` when it does not tell one.
    pub async fn server_stale_after_hours(&self) -> Option<u32> {
        match self.call::<Value>(false, Method::GET, &HEALTH, None).await {
            Ok(health) => health
                .get("staleAfterHours")
                .and_then(Value::as_u64)
                .filter(|h| (1..=8760).contains(h))
                .map(|h| h as u32),
            Err(error) => {
                tracing::debug!(server = %self.server, %error, "no stale threshold from the server's health");
                None
            }
        }
    }
}
