//! A profile's own notification settings, for the CLI: `notify.json` beside `profiles.json`
//! holds the non-secret part per profile; the SMTP password, the ACS connection string and
//! the webhook secret go to the OS keychain like the profile's other secrets.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::config::{
    parse_recipients, parse_webhook_url, AcsSettings, NotifyConfig, NotifyOn, RetryPolicy,
    SmtpSettings, SmtpTls, WebhookSettings,
};
use super::AcsConnection;
use crate::error::{Error, Result};
use crate::profile::validate_profile_name;
use crate::secrets::{Keychain, SecretKind, Sensitive};

const FILE_NAME: &str = "notify.json";
const FILE_VERSION: u32 = 1;

/// The SMTP server of a profile (its password is in the keychain).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProfileSmtp {
    pub host: String,
    pub port: Option<u16>,
    #[serde(default)]
    pub tls: SmtpTls,
    pub username: Option<String>,
    pub from: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
}

/// What a profile notifies, and where, without secrets.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProfileNotify {
    #[serde(default)]
    pub on: NotifyOn,
    #[serde(default)]
    pub email_to: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub smtp: Option<ProfileSmtp>,
    /// ACS's sender address; the connection string is in the keychain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acs_sender: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook_url: Option<String>,
}

impl ProfileNotify {
    /// Checks addresses and URLs.
    pub fn validate(&self) -> Result<()> {
        parse_recipients(&self.email_to.join(","))?;
        if let Some(url) = &self.webhook_url {
            parse_webhook_url(url)?;
        }
        if let Some(smtp) = &self.smtp {
            if smtp.host.trim().is_empty() {
                return Err(Error::Config("the SMTP server needs a host".into()));
            }
            if smtp.from.parse::<lettre::Address>().is_err() {
                return Err(Error::Config(format!(
                    "the SMTP sender {:?} is not an e-mail address",
                    smtp.from
                )));
            }
        }
        Ok(())
    }
}

#[derive(Serialize, Deserialize, Default)]
struct NotifyFile {
    version: u32,
    #[serde(default)]
    profiles: BTreeMap<String, ProfileNotify>,
}

/// The notification settings of every profile.
#[derive(Debug, Clone)]
pub struct NotifyProfiles {
    dir: PathBuf,
    keychain: Keychain,
}

impl NotifyProfiles {
    /// Beside the profiles of `profiles` (same folder, same keychain).
    pub fn beside(profiles: &crate::Profiles) -> Self {
        let dir = profiles
            .file()
            .parent()
            .map(PathBuf::from)
            .unwrap_or_default();
        NotifyProfiles {
            dir,
            keychain: profiles.keychain().clone(),
        }
    }

    pub fn file(&self) -> PathBuf {
        self.dir.join(FILE_NAME)
    }

    fn read(&self) -> Result<NotifyFile> {
        let path = self.file();
        match std::fs::read(&path) {
            Ok(bytes) => {
                let file: NotifyFile = serde_json::from_slice(&bytes)
                    .map_err(|e| Error::Config(format!("{} is damaged: {e}", path.display())))?;
                if file.version > FILE_VERSION {
                    return Err(Error::Config(format!(
                        "{} is version {}, newer than this program reads",
                        path.display(),
                        file.version
                    )));
                }
                Ok(file)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(NotifyFile::default()),
            Err(e) => Err(Error::io("cannot read", &path, e)),
        }
    }

    fn write(&self, mut file: NotifyFile) -> Result<()> {
        file.version = FILE_VERSION;
        let json = serde_json::to_vec_pretty(&file)
            .map_err(|e| Error::Internal(format!("cannot encode notify.json: {e}")))?;
        crate::fsmode::create_private_dir_all(&self.dir)
            .map_err(|e| Error::io("cannot create", &self.dir, e))?;
        let path = self.file();
        let mut temp = tempfile::NamedTempFile::new_in(&self.dir)
            .map_err(|e| Error::io("cannot write", &self.dir, e))?;
        temp.write_all(&json)
            .and_then(|()| temp.as_file().sync_all())
            .map_err(|e| Error::io("cannot write", temp.path(), e))?;
        temp.persist(&path)
            .map_err(|e| Error::io("cannot replace", &path, e.error))?;
        Ok(())
    }

    pub fn get(&self, profile: &str) -> Result<Option<ProfileNotify>> {
        validate_profile_name(profile)?;
        Ok(self.read()?.profiles.remove(profile))
    }

    /// Saves a profile's settings; secrets given here go to the keychain, those not given
    /// stay as they are.
    pub fn set(
        &self,
        profile: &str,
        settings: &ProfileNotify,
        secrets: &NotifySecrets,
    ) -> Result<()> {
        validate_profile_name(profile)?;
        settings.validate()?;
        if let Some(conn) = &secrets.acs_connection_string {
            AcsConnection::parse(conn.expose())?;
        }
        let mut file = self.read()?;
        file.profiles.insert(profile.to_owned(), settings.clone());
        self.write(file)?;
        for (kind, value) in [
            (SecretKind::SmtpPassword, &secrets.smtp_password),
            (
                SecretKind::AcsConnectionString,
                &secrets.acs_connection_string,
            ),
            (SecretKind::WebhookSecret, &secrets.webhook_secret),
        ] {
            if let Some(value) = value {
                self.keychain.store(profile, kind, value)?;
            }
        }
        Ok(())
    }

    /// Forgets a profile's settings and their secrets; `false` when it had none.
    pub fn remove(&self, profile: &str) -> Result<bool> {
        validate_profile_name(profile)?;
        let mut file = self.read()?;
        let removed = file.profiles.remove(profile).is_some();
        if removed {
            self.write(file)?;
        }
        for kind in [
            SecretKind::SmtpPassword,
            SecretKind::AcsConnectionString,
            SecretKind::WebhookSecret,
        ] {
            self.keychain.delete(profile, kind)?;
        }
        Ok(removed)
    }

    /// The notifier configuration of a profile, secrets read from the keychain; `None`
    /// when the profile has no notification settings.
    pub fn config(&self, profile: &str) -> Result<Option<NotifyConfig>> {
        let Some(settings) = self.get(profile)? else {
            return Ok(None);
        };
        let smtp = match &settings.smtp {
            None => None,
            Some(s) => Some(SmtpSettings {
                host: s.host.clone(),
                port: s.port.unwrap_or(s.tls.default_port()),
                tls: s.tls,
                username: s.username.clone(),
                password: self.keychain.load(profile, SecretKind::SmtpPassword)?,
                from: s.from.clone(),
                ca_file: s.ca_file.clone(),
            }),
        };
        let acs = match &settings.acs_sender {
            None => None,
            Some(sender) => {
                let conn = self
                    .keychain
                    .load(profile, SecretKind::AcsConnectionString)?
                    .ok_or_else(|| {
                        Error::Config(format!(
                            "profile {profile:?} notifies through ACS, but no connection string \
                             is stored for it"
                        ))
                    })?;
                Some(AcsSettings {
                    connection: AcsConnection::parse(conn.expose())?,
                    sender: sender.clone(),
                })
            }
        };
        let webhook = match &settings.webhook_url {
            None => None,
            Some(url) => Some(WebhookSettings {
                url: parse_webhook_url(url)?,
                secret: self.keychain.load(profile, SecretKind::WebhookSecret)?,
            }),
        };
        Ok(Some(NotifyConfig {
            on: settings.on,
            recipients: parse_recipients(&settings.email_to.join(","))?,
            smtp,
            acs,
            webhook,
            retry: RetryPolicy::default(),
        }))
    }
}

/// Secrets to store with a profile's notification settings (`None`: keep the stored one).
#[derive(Debug, Clone, Default)]
pub struct NotifySecrets {
    pub smtp_password: Option<Sensitive<String>>,
    pub acs_connection_string: Option<Sensitive<String>>,
    pub webhook_secret: Option<Sensitive<String>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_round_trip_with_secrets_in_the_keychain() {
        let dir = tempfile::tempdir().unwrap();
        let profiles = crate::Profiles::new(dir.path(), Keychain::in_memory());
        let notify = NotifyProfiles::beside(&profiles);
        assert_eq!(
            notify.config("prod").unwrap().map(|c| c.has_channels()),
            None
        );
        let settings = ProfileNotify {
            on: NotifyOn::All,
            email_to: vec!["ops@example.com".into()],
            smtp: Some(ProfileSmtp {
                host: "mail.example.com".into(),
                port: None,
                tls: SmtpTls::Starttls,
                username: Some("ops".into()),
                from: "backup@example.com".into(),
                ca_file: None,
            }),
            acs_sender: None,
            webhook_url: Some("https://hooks.example.com/abc".into()),
        };
        let secrets = NotifySecrets {
            smtp_password: Some(Sensitive::new("mail-password-1".into())),
            webhook_secret: Some(Sensitive::new("hook-secret-1".into())),
            ..Default::default()
        };
        notify.set("prod", &settings, &secrets).unwrap();
        let text = std::fs::read_to_string(notify.file()).unwrap();
        assert!(!text.contains("mail-password-1") && !text.contains("hook-secret-1"));
        let config = notify.config("prod").unwrap().unwrap();
        assert_eq!(config.on, NotifyOn::All);
        assert_eq!(
            config.smtp.unwrap().password.unwrap().expose(),
            "mail-password-1"
        );
        // Saving again without secrets keeps them.
        notify
            .set("prod", &settings, &NotifySecrets::default())
            .unwrap();
        assert!(notify
            .config("prod")
            .unwrap()
            .unwrap()
            .webhook
            .unwrap()
            .secret
            .is_some());
        assert!(notify.remove("prod").unwrap());
        assert!(notify.config("prod").unwrap().is_none());
        assert!(profiles
            .keychain()
            .load("prod", SecretKind::SmtpPassword)
            .unwrap()
            .is_none());
    }

    #[test]
    fn bad_settings_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let notify =
            NotifyProfiles::beside(&crate::Profiles::new(dir.path(), Keychain::in_memory()));
        let bad = ProfileNotify {
            webhook_url: Some("http://example.com/x".into()),
            ..Default::default()
        };
        assert!(notify.set("p", &bad, &NotifySecrets::default()).is_err());
        assert!(notify
            .set("../x", &ProfileNotify::default(), &NotifySecrets::default())
            .is_err());
    }
}
