//! Scrubs secrets from text that leaves the process (notifications, the server's error
//! answers and health, the CLI's warnings): the secrets this process knows (passwords, keys,
//! tokens, a webhook's URL) wherever they appear, in their percent-encoded forms too, and
//! anything shaped like a credential (a URL's password, `AccountKey=`, `sig=`, `accesskey=`,
//! `password=`, a bearer token, a JWT), so an error message quoting a connection string
//! cannot carry it into a mailbox or an HTTP answer. The one redactor of every front end.

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use crate::config::{EngineConfig, StorageConfig};

const REDACTED: &str = "<redacted>";
/// Shorter values would redact ordinary words; such a secret is no secret anyway.
const MIN_SECRET_LEN: usize = 6;
/// `key=value` pairs whose value is a credential (compared case-insensitively).
const SECRET_KEYS: [&str; 10] = [
    "accountkey",
    "sharedaccesssignature",
    "accesskey",
    "password",
    "pwd",
    "sig",
    "token",
    "access_token",
    "secret",
    "client_secret",
];
/// How a URL's user info encodes a password: everything but RFC 3986's unreserved.
const USERINFO: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

#[derive(Clone, Default)]
pub struct Redactor {
    secrets: Vec<String>,
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Redactor({} secrets)", self.secrets.len())
    }
}

impl Redactor {
    pub fn new(secrets: impl IntoIterator<Item = String>) -> Self {
        let mut redactor = Redactor::default();
        redactor.add(secrets);
        redactor
    }

    /// Adds known secrets, and the forms they take percent-encoded in URLs.
    pub fn add(&mut self, secrets: impl IntoIterator<Item = String>) {
        for secret in secrets {
            let every = utf8_percent_encode(&secret, NON_ALPHANUMERIC).to_string();
            let userinfo = utf8_percent_encode(&secret, USERINFO).to_string();
            self.secrets.extend([secret, every, userinfo]);
        }
        self.secrets.retain(|s| s.len() >= MIN_SECRET_LEN);
        // Longest first, so a secret containing another is replaced whole.
        self.secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        self.secrets.dedup();
    }

    /// Adds a connection string (`Name=value;…`): the whole, and each value whose name says
    /// it is a credential (`AccountKey`, `SharedAccessSignature`, `accesskey`, …), which an
    /// error message may quote alone.
    pub fn add_connection_string(&mut self, connection_string: &str) {
        let parts = connection_string.split(';').filter_map(|part| {
            let (key, value) = part.split_once('=')?;
            let key = key.trim().to_ascii_lowercase();
            SECRET_KEYS
                .contains(&key.as_str())
                .then(|| value.trim().to_owned())
        });
        let parts: Vec<String> = parts.collect();
        self.add(std::iter::once(connection_string.to_owned()).chain(parts));
    }

    /// Adds the secrets of an engine's configuration: the database's and the rehearsal
    /// server's passwords, and the storage's connection string with its key or signature.
    pub fn add_engine(&mut self, config: &EngineConfig) {
        let passwords = [config.database.as_ref(), config.verify_database.as_ref()]
            .into_iter()
            .flatten()
            .filter_map(|d| d.password())
            .map(|p| p.expose().clone());
        self.add(passwords.collect::<Vec<_>>());
        if let StorageConfig::Azure {
            connection_string, ..
        } = &config.storage
        {
            self.add_connection_string(connection_string.expose());
        }
    }

    /// The redactor of an engine's configuration.
    pub fn for_engine(config: &EngineConfig) -> Self {
        let mut redactor = Redactor::default();
        redactor.add_engine(config);
        redactor
    }

    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for secret in &self.secrets {
            if out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), REDACTED);
            }
        }
        let out = redact_url_passwords(&out);
        let out = redact_key_values(&out);
        let out = redact_bearer(&out);
        redact_jwts(&out)
    }
}

fn is_value_char(c: char) -> bool {
    !c.is_whitespace() && !matches!(c, ';' | '&' | '"' | '\'' | ',' | ')' | '>' | '<')
}

/// `scheme://user:password@host` → `scheme://user:<redacted>@host`.
fn redact_url_passwords(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("://") {
        let (head, tail) = rest.split_at(i + 3);
        out.push_str(head);
        let end = tail
            .find(|c: char| c == '/' || c.is_whitespace() || c == '"' || c == '\'')
            .unwrap_or(tail.len());
        let authority = &tail[..end];
        match authority.rfind('@') {
            Some(at) => {
                let userinfo = &authority[..at];
                match userinfo.find(':') {
                    Some(colon) if userinfo[colon + 1..] != *REDACTED => {
                        out.push_str(&userinfo[..colon + 1]);
                        out.push_str(REDACTED);
                        out.push_str(&authority[at..]);
                    }
                    _ => out.push_str(authority),
                }
            }
            None => out.push_str(authority),
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

/// `AccountKey=…`, `sig=…`, `password=…` and the like: the value becomes `<redacted>`.
fn redact_key_values(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(eq) = rest.find('=') {
        let key_start = rest[..eq]
            .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
            .map(|i| i + 1)
            .unwrap_or(0);
        let key = rest[key_start..eq].to_ascii_lowercase();
        out.push_str(&rest[..=eq]);
        let after = &rest[eq + 1..];
        if SECRET_KEYS.contains(&key.as_str()) {
            let end = after.find(|c| !is_value_char(c)).unwrap_or(after.len());
            if end > 0 && &after[..end] != REDACTED {
                out.push_str(REDACTED);
            } else {
                out.push_str(&after[..end]);
            }
            rest = &after[end..];
        } else {
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

fn redact_bearer(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.to_ascii_lowercase().find("bearer ") {
        out.push_str(&rest[..i + 7]);
        let after = &rest[i + 7..];
        let end = after.find(|c| !is_value_char(c)).unwrap_or(after.len());
        out.push_str(if end > 0 { REDACTED } else { "" });
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

/// Three base64url segments starting `eyJ` (a JSON header): a JWT.
fn redact_jwts(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("eyJ") {
        out.push_str(&rest[..i]);
        let after = &rest[i..];
        let end = after
            .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
            .unwrap_or(after.len());
        let candidate = &after[..end];
        if candidate.matches('.').count() == 2 && candidate.len() > 20 {
            out.push_str(REDACTED);
        } else {
            out.push_str(candidate);
        }
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_secrets_and_credential_shapes_go() {
        let r = Redactor::new(["s3cr3t-value".to_owned(), "p@ss w/rd".to_owned()]);
        let cases = [
            ("failed with s3cr3t-value inside", "s3cr3t-value"),
            ("postgresql://rythm:p%40ss%20w%2Frd@db/rythm", "p%40ss"),
            ("postgresql://rythm:other@db:5432/rythm refused", "other@"),
            (
                "DefaultEndpointsProtocol=https;AccountName=a;AccountKey=Zm9vYmFy+/==;EndpointSuffix=x",
                "Zm9vYmFy",
            ),
            ("https://a.blob.core.windows.net/c?sv=2024&sig=abc%2Fdef&se=1", "abc%2Fdef"),
            ("endpoint=https://x.communication.azure.com/;accesskey=QUJD", "QUJD"),
            ("Authorization: Bearer abc.def.ghi", "abc.def"),
            (
                "token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlLXZhbHVl here",
                "eyJzdWIiOiIxIn0",
            ),
            ("password=hunter2 for user", "hunter2"),
        ];
        for (text, secret) in cases {
            let out = r.redact(text);
            assert!(!out.contains(secret), "{text:?} -> {out:?}");
            assert!(out.contains(REDACTED), "{out}");
        }
    }

    #[test]
    fn an_engines_passwords_and_storage_key_go_in_every_encoding() {
        let config = EngineConfig::from_lookup(|k| match k {
            "DATABASE_URL" => Some("postgresql://u:pa%24%24word1@h/db".into()),
            "VERIFY_DATABASE_URL" => Some("postgresql://v:scratch~pw.9@h2/postgres".into()),
            "AZURE_STORAGE_CONNECTION_STRING" => {
                Some("AccountName=a;AccountKey=c2VjcmV0a2V5Cg==;BlobEndpoint=http://x".into())
            }
            _ => None,
        })
        .unwrap();
        let r = Redactor::for_engine(&config);
        // Each as it may be quoted: raw, encoded whole, encoded as a URL's user info, and
        // the key alone, outside any `key=` shape.
        for secret in [
            "pa$$word1",
            "pa%24%24word1",
            "scratch~pw.9",
            "scratch%7Epw%2E9",
            "c2VjcmV0a2V5Cg==",
        ] {
            let out = r.redact(&format!("failed: {secret} fine"));
            assert_eq!(out, "failed: <redacted> fine", "{secret}");
        }
    }

    #[test]
    fn ordinary_text_is_kept() {
        let r = Redactor::default();
        for text in [
            "connection to server at \"127.0.0.1\", port 1 failed: Connection refused",
            "https://example.com/path?page=2",
            "table public.orders: 10 rows recorded, 9 restored",
        ] {
            assert_eq!(r.redact(text), text);
        }
    }
}
