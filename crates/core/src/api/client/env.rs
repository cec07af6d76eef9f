//! Scripts without a profile: the API and its credentials from the environment.

use super::ApiClient;
use crate::error::{Error, Result};
use crate::secrets::Sensitive;

impl ApiClient {
    /// `BACKUP_API_URL` with `BACKUP_API_TOKEN`, or with `BACKUP_API_EMAIL` and
    /// `BACKUP_API_PASSWORD` (signs in now; the token is not stored). `None` without
    /// `BACKUP_API_URL`.
    pub async fn from_env() -> Result<Option<Self>> {
        Self::from_lookup(|key| std::env::var(key).ok().filter(|v| !v.trim().is_empty())).await
    }

    /// `from_env` over another source of variables (tests).
    pub async fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Option<Self>> {
        let Some(url) = lookup("BACKUP_API_URL") else {
            return Ok(None);
        };
        let client = ApiClient::new(&url)?;
        if let Some(token) = lookup("BACKUP_API_TOKEN") {
            client.set_token(Sensitive::new(token.trim().to_owned()))?;
            return Ok(Some(client));
        }
        match (lookup("BACKUP_API_EMAIL"), lookup("BACKUP_API_PASSWORD")) {
            (Some(email), Some(password)) => {
                client.login(&email, &Sensitive::new(password)).await?;
                Ok(Some(client))
            }
            _ => Err(Error::Config(
                "BACKUP_API_URL is set but no credentials are: set BACKUP_API_TOKEN, or \
                 BACKUP_API_EMAIL and BACKUP_API_PASSWORD"
                    .into(),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn env_needs_credentials() {
        let none = ApiClient::from_lookup(|_| None).await.unwrap();
        assert!(none.is_none());
        let err = ApiClient::from_lookup(|k| (k == "BACKUP_API_URL").then(|| "http://h".into()))
            .await
            .unwrap_err();
        assert_eq!(err.code(), crate::ErrorCode::Config);
    }
}
