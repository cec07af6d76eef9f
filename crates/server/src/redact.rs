//! The last line of defence against leaking secrets in answers: every known secret (the JWT
//! secret, the database password, the storage account key or SAS) is replaced by
//! `<redacted>` in error messages before they leave the server.

use rythm_backup_core::{EngineConfig, StorageConfig};

use crate::config::ServerConfig;

const REDACTED: &str = "<redacted>";
/// Shorter values would redact ordinary words; such a secret is no secret anyway.
const MIN_SECRET_LEN: usize = 6;

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
    pub fn new(server: &ServerConfig, engine: &EngineConfig) -> Self {
        let mut secrets = vec![server.jwt_secret.expose().clone()];
        if let Some(password) = engine.database.as_ref().and_then(|d| d.password()) {
            secrets.push(password.expose().clone());
            // As it appears in a URL.
            secrets.push(percent_encode(password.expose()));
        }
        if let StorageConfig::Azure {
            connection_string, ..
        } = &engine.storage
        {
            let conn = connection_string.expose();
            secrets.push(conn.clone());
            for part in conn.split(';') {
                if let Some((key, value)) = part.split_once('=') {
                    let key = key.trim().to_ascii_lowercase();
                    if key == "accountkey" || key == "sharedaccesssignature" {
                        secrets.push(value.trim().to_owned());
                    }
                }
            }
        }
        secrets.retain(|s| s.len() >= MIN_SECRET_LEN);
        // Longest first, so a secret containing another is replaced whole.
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        secrets.dedup();
        Redactor { secrets }
    }

    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for secret in &self.secrets {
            if out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), REDACTED);
            }
        }
        out
    }
}

fn percent_encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rythm_backup_core::secrets::Sensitive;

    #[test]
    fn replaces_every_known_secret() {
        let server = ServerConfig::new(Sensitive::new("j".repeat(40))).unwrap();
        let engine = EngineConfig::from_lookup(|k| match k {
            "DATABASE_URL" => Some("postgresql://u:pa%24%24word1@h/db".into()),
            "AZURE_STORAGE_CONNECTION_STRING" => {
                Some("AccountName=a;AccountKey=c2VjcmV0a2V5Cg==;BlobEndpoint=http://x".into())
            }
            _ => None,
        })
        .unwrap();
        let r = Redactor::new(&server, &engine);
        let text = format!(
            "{} pa$$word1 pa%24%24word1 c2VjcmV0a2V5Cg== fine",
            "j".repeat(40)
        );
        assert_eq!(
            r.redact(&text),
            "<redacted> <redacted> <redacted> <redacted> fine"
        );
    }
}
