//! Tokens: issuing and checking the HS256 JWTs (the RYTHM API's claims, 7 days, plus the
//! admin's generation `gen`), and the `AdminUser` extractor that guards every backup route:
//! 401 without a valid token, 403 for a role other than `system_admin`, 401 again when the
//! token's admin was removed or has a new generation (a new password or a revocation).
//!
//! Times: `nbf` is honoured when present, `iat` is required and must not be in the future,
//! and a token lives at most the server's own lifetime from its `iat`, whatever its `exp`
//! says; all with a few seconds of leeway for clock steps.

use std::time::Duration;

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rythm_backup_core::api::wire::{Claims, ADMIN_ROLE};
use rythm_backup_core::secrets::Sensitive;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;

use crate::admins::AdminRecord;
use crate::config::MIN_JWT_SECRET_LEN;
use crate::error::{ApiError, ServerError};
use crate::state::AppState;

/// The RYTHM API's messages.
pub const TOKEN_REQUIRED: &str = "Access token required";
pub const TOKEN_INVALID: &str = "Invalid or expired token";
pub const ADMIN_REQUIRED: &str = "Admin access required";

/// Seconds of clock difference forgiven in every time check.
const LEEWAY_SECS: i64 = 5;

/// What our tokens carry: the RYTHM platform's claims (so its clients read them), with
/// `nbf` (when a token says it) and the admin's generation at issue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenClaims {
    #[serde(flatten)]
    pub peer: Claims,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    /// The admin's `generation` when the token was issued; absent in tokens issued before
    /// generations existed (valid while the admin's record has none either).
    #[serde(default, rename = "gen", skip_serializing_if = "Option::is_none")]
    pub generation: Option<String>,
}

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
        validation.leeway = LEEWAY_SECS as u64;
        validation.validate_aud = false;
        validation.validate_nbf = true;
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
        admin: &AdminRecord,
        now: OffsetDateTime,
    ) -> Result<(String, TokenClaims), ApiError> {
        let iat = now.unix_timestamp();
        let claims = TokenClaims {
            peer: Claims {
                user_id: Value::String(admin.id.clone()),
                tenant_id: None,
                role: ADMIN_ROLE.to_owned(),
                email: admin.email.clone(),
                iat,
                exp: iat + self.ttl_secs(),
            },
            nbf: None,
            generation: admin.generation.clone(),
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| ApiError::internal(format!("cannot sign a token: {e}")))?;
        Ok((token, claims))
    }

    /// The claims of a valid HS256 token signed with our secret, checked against the
    /// times of `check_times` at this moment.
    pub fn verify(&self, token: &str) -> Result<TokenClaims, TokenError> {
        let claims = jsonwebtoken::decode::<TokenClaims>(token, &self.decoding, &self.validation)
            .map(|data| data.claims)
            .map_err(|e| TokenError(e.to_string()))?;
        check_times(
            &claims,
            OffsetDateTime::now_utc().unix_timestamp(),
            self.ttl_secs(),
        )?;
        Ok(claims)
    }

    fn ttl_secs(&self) -> i64 {
        i64::try_from(self.ttl.as_secs()).unwrap_or(i64::MAX)
    }
}

/// The time rules at `now` (seconds since the epoch), beyond the `exp` check that
/// jsonwebtoken makes too: not before `nbf`, not issued in the future, and expired at
/// `iat + ttl` when that comes before `exp`.
pub fn check_times(claims: &TokenClaims, now: i64, ttl_secs: i64) -> Result<(), TokenError> {
    let iat = claims.peer.iat;
    if iat > now.saturating_add(LEEWAY_SECS) {
        return Err(TokenError("issued in the future".into()));
    }
    if claims
        .nbf
        .is_some_and(|nbf| nbf > now.saturating_add(LEEWAY_SECS))
    {
        return Err(TokenError("not valid yet (nbf)".into()));
    }
    let expires = claims.peer.exp.min(iat.saturating_add(ttl_secs));
    if now.saturating_sub(LEEWAY_SECS) >= expires {
        return Err(TokenError(
            "expired (exp, or older than the server's token lifetime)".into(),
        ));
    }
    Ok(())
}

/// An authenticated `system_admin` who still exists with the token's generation.
#[derive(Debug, Clone)]
pub struct AdminUser(pub TokenClaims);

impl AdminUser {
    pub fn email(&self) -> &str {
        &self.0.peer.email
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
        if claims.peer.role != ADMIN_ROLE {
            tracing::info!(target: "audit", actor = %claims.peer.email, role = %claims.peer.role,
                path = %parts.uri.path(), result = "denied", "access without the admin role");
            return Err(ApiError::forbidden(ADMIN_REQUIRED));
        }
        let admins = state.admins.current().map_err(|e| {
            tracing::error!(error = %e, "cannot read the admin file");
            ApiError::internal("the server cannot read its admin file; see its log")
        })?;
        let current = claims
            .peer
            .user_id
            .as_str()
            .and_then(|id| admins.by_id(id))
            .filter(|admin| admin.email == claims.peer.email);
        match current {
            Some(admin) if admin.generation == claims.generation => Ok(AdminUser(claims)),
            found => {
                let why = if found.is_some() {
                    "the admin's password changed or their tokens were revoked"
                } else {
                    "the admin no longer exists"
                };
                tracing::info!(target: "audit", actor = %claims.peer.email,
                    path = %parts.uri.path(), result = "denied", "token refused: {why}");
                Err(ApiError::unauthorized(TOKEN_INVALID))
            }
        }
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

    fn admin() -> AdminRecord {
        AdminRecord {
            id: "u1".into(),
            email: "a@b.c".into(),
            password_hash: String::new(),
            first_name: None,
            last_name: None,
            created_at: None,
            updated_at: None,
            generation: Some("g1".into()),
        }
    }

    fn claims(iat: i64, exp: i64, nbf: Option<i64>) -> TokenClaims {
        TokenClaims {
            peer: Claims {
                user_id: Value::String("u1".into()),
                tenant_id: None,
                role: ADMIN_ROLE.into(),
                email: "a@b.c".into(),
                iat,
                exp,
            },
            nbf,
            generation: None,
        }
    }

    #[test]
    fn issued_tokens_verify_and_carry_the_peers_claims_and_the_generation() {
        let keys = keys();
        let (token, claims) = keys.issue(&admin(), OffsetDateTime::now_utc()).unwrap();
        assert_eq!(keys.verify(&token).unwrap(), claims);
        assert_eq!(claims.peer.exp - claims.peer.iat, 3600);
        assert_eq!(claims.generation.as_deref(), Some("g1"));
        // The platform's client reads the same token as its own claims.
        let payload = token.split('.').nth(1).unwrap();
        let json = {
            use base64::Engine as _;
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(payload)
                .unwrap()
        };
        let peer: Claims = serde_json::from_slice(&json).unwrap();
        assert_eq!(peer, claims.peer);
    }

    #[test]
    fn refuses_other_keys_algorithms_and_expired_tokens() {
        let keys = keys();
        let other = JwtKeys::new(&Sensitive::new("o".repeat(32)), Duration::from_secs(60)).unwrap();
        let (token, _) = other.issue(&admin(), OffsetDateTime::now_utc()).unwrap();
        assert!(keys.verify(&token).is_err());
        let old = OffsetDateTime::now_utc() - time::Duration::hours(2);
        let (expired, _) = keys.issue(&admin(), old).unwrap();
        assert!(keys.verify(&expired).is_err());
        // alg none: header {"alg":"none","typ":"JWT"}, no signature.
        let (good, _) = keys.issue(&admin(), OffsetDateTime::now_utc()).unwrap();
        let payload = good.split('.').nth(1).unwrap();
        let none = format!("eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{payload}.");
        assert!(keys.verify(&none).is_err());
        assert!(JwtKeys::new(&Sensitive::new("short".into()), Duration::from_secs(1)).is_err());
    }

    #[test]
    fn time_rules() {
        let now = 1_800_000_000;
        let ttl = 7 * 24 * 3600;
        let ok = |c: TokenClaims| check_times(&c, now, ttl).is_ok();
        assert!(ok(claims(now, now + ttl, None)));
        assert!(ok(claims(now - 60, now + 60, Some(now - 60))));
        // nbf: honoured, with the leeway.
        assert!(!ok(claims(now, now + 600, Some(now + 60))));
        assert!(ok(claims(now, now + 600, Some(now + LEEWAY_SECS))));
        // iat: never in the future beyond the leeway.
        assert!(!ok(claims(now + 60, now + 600, None)));
        assert!(ok(claims(now + LEEWAY_SECS, now + 600, None)));
        // Lifetime: capped at the server's from iat, whatever exp says.
        let century = 100 * 365 * 24 * 3600;
        assert!(ok(claims(now - ttl + 60, now + century, None)));
        assert!(!ok(claims(now - ttl - 60, now + century, None)));
        assert!(!ok(claims(now - 3600, now - 60, None)), "expired");
        assert!(!ok(claims(now, now - 10, None)), "exp before iat");
        // Extreme values neither overflow nor pass.
        assert!(!ok(claims(i64::MIN, i64::MAX, None)));
        assert!(!ok(claims(i64::MAX, i64::MAX, Some(i64::MIN))));
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
