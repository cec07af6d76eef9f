//! Credentials in a query string: tokens belong in the `Authorization` header, because URLs
//! end up in proxy logs, browser history and `Referer` headers. A request whose query has
//! a parameter named like a credential (`token`, `access_token`, `jwt`, `authorization`,
//! `api_key`, ...) or a value that looks like one (a JWT, `Bearer ...`) is refused with 401
//! before anything else reads it; and no query string is ever logged (see `routes`).

use std::borrow::Cow;

use percent_encoding::percent_decode_str;

/// Parameter names (lowercased, without `-`, `_`, `.` or brackets) that carry credentials.
const CREDENTIAL_NAMES: &[&str] = &[
    "auth",
    "authorization",
    "bearer",
    "jwt",
    "token",
    "apikey",
    "key",
    "secret",
    "password",
    "signature",
    "sig",
];

/// Whether `query` (the raw text after `?`) carries something that looks like a credential.
pub fn carries_credentials(query: &str) -> bool {
    query
        .split(['&', ';'])
        .filter(|pair| !pair.is_empty())
        .any(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            is_credential_name(&decode(name)) || looks_like_a_token(&decode(value))
        })
}

/// Percent-decoded, with `+` as a space (form encoding); invalid UTF-8 is replaced.
fn decode(text: &str) -> Cow<'_, str> {
    if !text.contains(['%', '+']) {
        return Cow::Borrowed(text);
    }
    let spaced = text.replace('+', " ");
    Cow::Owned(percent_decode_str(&spaced).decode_utf8_lossy().into_owned())
}

fn is_credential_name(name: &str) -> bool {
    let squashed: String = name
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect();
    CREDENTIAL_NAMES.contains(&squashed.as_str())
        || squashed.ends_with("token")
        || squashed.ends_with("apikey")
        || squashed.starts_with("auth")
}

fn looks_like_a_token(value: &str) -> bool {
    let value = value.trim();
    let bearer = value
        .get(..7)
        .is_some_and(|scheme| scheme.eq_ignore_ascii_case("bearer "));
    // A JWT: three base64url parts, the first a JSON header (`{"` encodes as `eyJ`).
    let parts: Vec<&str> = value.split('.').collect();
    let jwt = parts.len() == 3
        && value.starts_with("eyJ")
        && parts[..2].iter().all(|p| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        });
    bearer || jwt
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_credentials_by_name_or_by_look() {
        for query in [
            "token=abc",
            "access_token=abc",
            "jwt=abc",
            "Authorization=Bearer%20abc",
            "authorization=x",
            "x=1&id_token=abc",
            "api_key=abc",
            "apiKey=abc",
            "X-Auth-Token=abc",
            "auth_token=abc",
            "%74oken=abc",
            "TOKEN",
            "tok%65n=abc",
            "token[]=abc",
            "a=1;token=2",
            "q=eyJhbGciOiJIUzI1NiJ9.eyJ1c2VySWQiOiJ1In0.c2ln",
            "q=Bearer+abc",
            "q=bearer%20abc",
            "password=hunter2",
        ] {
            assert!(carries_credentials(query), "{query}");
        }
    }

    #[test]
    fn leaves_ordinary_queries_alone() {
        for query in [
            "",
            "page=2",
            "sort=createdAt&order=desc",
            "name=rythm-backup-2026-01-01T00-00-00-000Z.sql",
            "q=eyJ",
            "v=1.2.3",
            "monkey=1",
            "tokens_left=3x",
        ] {
            assert!(!carries_credentials(query), "{query}");
        }
    }
}
