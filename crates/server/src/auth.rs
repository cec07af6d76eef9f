//! Tokens: issuing and checking the HS256 JWTs (the RYTHM API's claims, 7 days), and the
//! `AdminUser` extractor that guards every backup route: 401 without a valid token, 403
//! for a role other than `system_admin`.

use std::time::Duration;

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rythm_backup_core::api::wire::{Claims, ADMIN_ROLE};
use rythm_backup_core::secrets::Sensitive;
use serde_json::Value;
use time::OffsetDateTime;

use crate::config::MIN_JWT_SECRET_LEN;
use crate::error::{ApiError, ServerError};
use crate::state::AppState;

/// The RYTHM API's messages.
pub const TOKEN_REQUIRED: &str = "Access token required";
pub const TOKEN_INVALID: &str = "Invalid or expired token";
pub const ADMIN_REQUIRED: &str = "Admin access required";

/// The keys and rules for tokens. Only HS256 is accepted: a token announcing `none` or any
/// other algorithm is refused before its signature is looked at.
pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    ttl: Duration,
}

impl std::fmt::Debug for JwtKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtKeys")
            .field("secret", &"<redacted>")
            .field("ttl", &self.ttl)
            .finish()
    }
}

/// Why a token was refused (never shown to the client beyond "invalid or expired").
#[derive(Debug, thiserror::Error)]
#[error("token refused: {0}")]
pub struct TokenError(String);

impl JwtKeys {
    pub fn new(secret: &Sensitive<String>, ttl: Duration) -> Result<Self, ServerError> {
        let bytes = secret.expose().as_bytes();
        if bytes.len() < MIN_JWT_SECRET_LEN {
            return Err(ServerError::Config(format!(
                "JWT_SECRET is {} bytes long; at least {MIN_JWT_SECRET_LEN} are required",
                bytes.len()
            )));
        }
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 5;
        validation.validate_aud = false;
        validation.set_required_spec_claims(&["exp", "iat"]);
        Ok(JwtKeys {
            encoding: EncodingKey::from_secret(bytes),
            decoding: DecodingKey::from_secret(bytes),
            validation,
            ttl,
        })
    }

    /// A token for an admin, valid for the configured time from `now`.
    pub fn issue(
        &self,
        user_id: &str,
        email: &str,
        now: OffsetDateTime,
    ) -> Result<(String, Claims), ApiError> {
        let iat = now.unix_timestamp();
        let claims = Claims {
            user_id: Value::String(user_id.to_owned()),
            tenant_id: None,
            role: ADMIN_ROLE.to_owned(),
            email: email.to_owned(),
            iat,
            exp: iat + self.ttl.as_secs() as i64,
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| ApiError::internal(format!("cannot sign a token: {e}")))?;
        Ok((token, claims))
    }

    /// The claims of a valid, unexpired HS256 token signed with our secret.
    pub fn verify(&self, token: &str) -> Result<Claims, TokenError> {
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map(|data| data.claims)
            .map_err(|e| TokenError(e.to_string()))
    }
}

/// An authenticated `system_admin`: the claims of the request's bearer token.
#[derive(Debug, Clone)]
pub struct AdminUser(pub Claims);

impl AdminUser {
    pub fn email(&self) -> &str {
        &self.0.email
    }
}

impl FromRequestParts<AppState> for AdminUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(bearer_token)
            .ok_or_else(|| ApiError::unauthorized(TOKEN_REQUIRED))?;
        let claims = state.keys.verify(token).map_err(|e| {
            tracing::debug!(error = %e, path = %parts.uri.path(), "token refused");
            ApiError::unauthorized(TOKEN_INVALID)
        })?;
        if claims.role != ADMIN_ROLE {
            tracing::info!(target: "audit", actor = %claims.email, role = %claims.role,
                path = %parts.uri.path(), result = "denied", "access without the admin role");
            return Err(ApiError::forbidden(ADMIN_REQUIRED));
        }
        Ok(AdminUser(claims))
    }
}

/// The token of an `Authorization: Bearer TOKEN` header (scheme case-insensitive).
fn bearer_token(header: &str) -> Option<&str> {
    let (scheme, token) = header.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> JwtKeys {
        JwtKeys::new(&Sensitive::new("k".repeat(32)), Duration::from_secs(3600)).unwrap()
    }

    #[test]
    fn issued_tokens_verify_and_carry_the_peers_claims() {
        let keys = keys();
        let (token, claims) = keys
            .issue("u1", "a@b.c", OffsetDateTime::now_utc())
            .unwrap();
        assert_eq!(keys.verify(&token).unwrap(), claims);
        assert_eq!(claims.exp - claims.iat, 3600);
    }

    #[test]
    fn refuses_other_keys_algorithms_and_expired_tokens() {
        let keys = keys();
        let other = JwtKeys::new(&Sensitive::new("o".repeat(32)), Duration::from_secs(60)).unwrap();
        let (token, _) = other.issue("u", "a@b", OffsetDateTime::now_utc()).unwrap();
        assert!(keys.verify(&token).is_err());
        let old = OffsetDateTime::now_utc() - time::Duration::hours(2);
        let (expired, _) = keys.issue("u", "a@b", old).unwrap();
        assert!(keys.verify(&expired).is_err());
        // alg none: header {"alg":"none","typ":"JWT"}, no signature.
        let (good, _) = keys.issue("u", "a@b", OffsetDateTime::now_utc()).unwrap();
        let payload = good.split('.').nth(1).unwrap();
        let none = format!("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{payload}.");
        assert!(keys.verify(&none).is_err());
        assert!(JwtKeys::new(&Sensitive::new("short".into()), Duration::from_secs(1)).is_err());
    }

    #[test]
    fn reads_bearer_headers() {
        assert_eq!(bearer_token("Bearer abc"), Some("abc"));
        assert_eq!(bearer_token("bearer  abc "), Some("abc"));
        assert_eq!(bearer_token("Basic abc"), None);
        assert_eq!(bearer_token("Bearer "), None);
        assert_eq!(bearer_token("Bearer"), None);
    }
}
