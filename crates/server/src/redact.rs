//! The server's secrets, listed once: the JWT secret, the engine's (the database's and the
//! rehearsal server's passwords, the storage's connection string with its key or SAS) and
//! the notification channels' (the SMTP password, the ACS key, the webhook's URL and
//! secret). The one `Redactor` built from them (the engine's, which also scrubs anything
//! shaped like a credential) cleans every error answer, `/api/health` and every
//! notification before it leaves the server.

use rythm_backup_core::redact::Redactor;
use rythm_backup_core::EngineConfig;

use crate::config::ServerConfig;

/// The redactor of every text the server sends out.
pub fn server_redactor(server: &ServerConfig, engine: &EngineConfig) -> Redactor {
    let mut redactor = Redactor::for_engine(engine);
    redactor.add([server.jwt_secret.expose().clone()]);
    redactor.add(server.notify.secrets());
    redactor
}

#[cfg(test)]
mod tests {
    use super::*;
    use rythm_backup_core::notify::NotifyConfig;
    use rythm_backup_core::secrets::Sensitive;

    #[test]
    fn replaces_every_secret_of_the_server() {
        let mut server = ServerConfig::new(Sensitive::new("j".repeat(40))).unwrap();
        server.notify = NotifyConfig::from_lookup(|k| match k {
            "SMTP_HOST" => Some("mail.example.com".into()),
            "SMTP_FROM" => Some("backup@example.com".into()),
            "SMTP_USERNAME" => Some("ops".into()),
            "SMTP_PASSWORD" => Some("smtp-password-7".into()),
            "NOTIFY_WEBHOOK_URL" => Some("https://hooks.example.com/services/T0/KEY123".into()),
            _ => None,
        })
        .unwrap();
        let engine = EngineConfig::from_lookup(|k| match k {
            "DATABASE_URL" => Some("postgresql://u:pa%24%24word1@h/db".into()),
            "AZURE_STORAGE_CONNECTION_STRING" => {
                Some("AccountName=a;AccountKey=c2VjcmV0a2V5Cg==;BlobEndpoint=http://x".into())
            }
            _ => None,
        })
        .unwrap();
        let r = server_redactor(&server, &engine);
        let text = format!(
            "{} pa$$word1 pa%24%24word1 c2VjcmV0a2V5Cg== smtp-password-7 /services/T0/KEY123 fine",
            "j".repeat(40)
        );
        assert_eq!(
            r.redact(&text),
            "<redacted> <redacted> <redacted> <redacted> <redacted> <redacted> fine"
        );
        // And what no list names, by its shape.
        assert_eq!(
            r.redact("postgresql://x:other-pw@db/x"),
            "postgresql://x:<redacted>@db/x"
        );
    }
}
