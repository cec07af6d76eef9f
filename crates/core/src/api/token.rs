//! What a sign-in token says about itself: its role and expiry, read WITHOUT checking the
//! signature (only the server holds the secret). This lets the client refuse a non-admin
//! account and ask for a new sign-in before sending an expired token; the server still
//! checks every request.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::wire::ADMIN_ROLE;

/// Seconds of slack before `exp`, so a token does not expire in flight.
const EXPIRY_SLACK_SECONDS: i64 = 30;

/// The claims the client reads from a token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct TokenInfo {
    pub role: Option<String>,
    pub email: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    #[cfg_attr(feature = "ts", ts(type = "string | null"))]
    pub expires_at: Option<OffsetDateTime>,
}

#[derive(Deserialize)]
struct LooseClaims {
    #[serde(default)]
    role: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    exp: Option<serde_json::Number>,
}

impl TokenInfo {
    /// Reads the claims of a JWT without verifying it. The error never repeats the token.
    pub fn decode(token: &str) -> Result<Self, String> {
        let claims: LooseClaims = jsonwebtoken::dangerous::insecure_decode_claims(token.trim())
            .map_err(|e| format!("the sign-in token is not a readable JWT ({e})"))?;
        let expires_at = match claims.exp {
            None => None,
            Some(exp) => {
                let seconds = exp
                    .as_i64()
                    .or_else(|| exp.as_f64().map(|f| f as i64))
                    .ok_or("the sign-in token's exp is not a number")?;
                Some(
                    OffsetDateTime::from_unix_timestamp(seconds)
                        .map_err(|_| "the sign-in token's exp is out of range")?,
                )
            }
        };
        Ok(TokenInfo {
            role: claims.role,
            email: claims.email,
            expires_at,
        })
    }

    pub fn is_admin(&self) -> bool {
        self.role.as_deref() == Some(ADMIN_ROLE)
    }

    /// Whether the token has expired at `now` (or will within half a minute).
    pub fn is_expired(&self, now: OffsetDateTime) -> bool {
        self.expires_at
            .is_some_and(|exp| exp.unix_timestamp() <= now.unix_timestamp() + EXPIRY_SLACK_SECONDS)
    }

    /// `role X` for messages.
    pub(crate) fn role_label(&self) -> String {
        match &self.role {
            Some(role) => format!("its role is {role:?}"),
            None => "its token names no role".to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;

    fn token(claims: &str) -> String {
        let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
        format!(
            "{}.{}.c2lnbmF0dXJl",
            b64(r#"{"alg":"HS256","typ":"JWT"}"#),
            b64(claims)
        )
    }

    #[test]
    fn reads_role_and_expiry_without_the_secret() {
        let info = TokenInfo::decode(&token(
            r#"{"userId":1,"tenantId":null,"role":"system_admin","email":"a@b","iat":1,"exp":2000000000}"#,
        ))
        .unwrap();
        assert!(info.is_admin());
        assert_eq!(info.email.as_deref(), Some("a@b"));
        assert_eq!(info.expires_at.unwrap().unix_timestamp(), 2_000_000_000);
        assert!(!info.is_expired(OffsetDateTime::from_unix_timestamp(1_999_999_000).unwrap()));
        assert!(info.is_expired(OffsetDateTime::from_unix_timestamp(1_999_999_990).unwrap()));
    }

    #[test]
    fn other_roles_and_garbage() {
        let info = TokenInfo::decode(&token(r#"{"role":"tenant_admin","exp":1}"#)).unwrap();
        assert!(!info.is_admin());
        assert!(info.is_expired(OffsetDateTime::now_utc()));
        let err = TokenInfo::decode("not-a-jwt-secret-value").unwrap_err();
        assert!(!err.contains("secret-value"), "{err}");
    }
}
