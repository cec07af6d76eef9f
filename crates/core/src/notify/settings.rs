//! A profile's own notification settings, for the CLI: `notify.json` beside `profiles.json`
//! holds the non-secret part per profile; the SMTP password, the ACS connection string, the
//! webhook's URL (its path is often the key) and the webhook secret go to the keychain like
//! the profile's other secrets. The file changes like `profiles.json` does: read, changed and
//! replaced atomically under a lock between processes, so two commands at once lose nothing.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

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
const LOCK_FILE_NAME: &str = "notify.json.lock";
/// How long a change waits for another process's change before it fails saying so.
const LOCK_WAIT: Duration = Duration::from_secs(30);
const FILE_VERSION: u32 = 1;
/// The secrets of a profile's notifications, deleted with its settings.
const SECRET_KINDS: [SecretKind; 4] = [
    SecretKind::SmtpPassword,
    SecretKind::AcsConnectionString,
    SecretKind::WebhookUrl,
    SecretKind::WebhookSecret,
];

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
    /// Whether a webhook is set up; its URL is a secret, kept in the keychain.
    #[serde(default)]
    pub webhook: bool,
    /// Where files of earlier versions kept the webhook's URL, in clear. Still honoured;
    /// moved to the keychain at the file's next change, and never written again.
    #[serde(default, rename = "webhookUrl", skip_serializing)]
    legacy_webhook_url: Option<String>,
}

impl ProfileNotify {
    /// Checks addresses.
    pub fn validate(&self) -> Result<()> {
        parse_recipients(&self.email_to.join(","))?;
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

    /// Serialises changes between processes (and threads): held while the file is read,
    /// changed and replaced. Only file work happens under it, but for the one-time move of
    /// a webhook URL an earlier version left in clear (`write`).
    fn lock(&self) -> Result<std::fs::File> {
        let path = self.dir.join(LOCK_FILE_NAME);
        crate::fsmode::lock_exclusive(&path, LOCK_WAIT)
            .map_err(|e| Error::io("cannot lock", &path, e))
    }

    /// Replaces the file atomically, owner-only (`fsmode::write_private_atomic`). A webhook
    /// URL that an earlier version left in clear goes to the keychain first.
    fn write(&self, mut file: NotifyFile) -> Result<()> {
        for (profile, settings) in &mut file.profiles {
            if let Some(url) = settings.legacy_webhook_url.take() {
                self.keychain
                    .store(profile, SecretKind::WebhookUrl, &Sensitive::new(url))?;
                settings.webhook = true;
            }
        }
        file.version = FILE_VERSION;
        let mut json = serde_json::to_vec_pretty(&file)
            .map_err(|e| Error::Internal(format!("cannot encode notify.json: {e}")))?;
        json.push(b'\n');
        let path = self.file();
        crate::fsmode::write_private_atomic(&path, &json)
            .map_err(|e| Error::io("cannot write", &path, e))
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
        self.update(profile, secrets, |current| {
            *current = settings.clone();
            Ok(())
        })
        .map(drop)
    }

    /// Changes a profile's settings (starting from the saved ones, or the defaults) with
    /// `change`, under the lock, so a change made meanwhile by another process is never
    /// written over; returns the saved settings. The change is tried first, so settings that
    /// would be refused store no secret; then the secrets given go to the keychain (outside
    /// the lock: a master-password prompt holds up nobody), then the file changes. Secrets
    /// not given stay as they are.
    pub fn update(
        &self,
        profile: &str,
        secrets: &NotifySecrets,
        change: impl Fn(&mut ProfileNotify) -> Result<()>,
    ) -> Result<ProfileNotify> {
        validate_profile_name(profile)?;
        if let Some(conn) = &secrets.acs_connection_string {
            AcsConnection::parse(conn.expose())?;
        }
        if let Some(url) = &secrets.webhook_url {
            parse_webhook_url(url.expose())?;
        }
        self.changed(&self.read()?, profile, secrets, &change)?;
        // Before the file: settings never name a secret that is not stored yet.
        for (kind, value) in secrets.by_kind() {
            if let Some(value) = value {
                self.keychain.store(profile, kind, value)?;
            }
        }
        let _other_processes = self.lock()?;
        let mut file = self.read()?;
        let settings = self.changed(&file, profile, secrets, &change)?;
        file.profiles.insert(profile.to_owned(), settings.clone());
        self.write(file)?;
        Ok(settings)
    }

    /// A profile's settings in `file` after `change`, checked.
    fn changed(
        &self,
        file: &NotifyFile,
        profile: &str,
        secrets: &NotifySecrets,
        change: &impl Fn(&mut ProfileNotify) -> Result<()>,
    ) -> Result<ProfileNotify> {
        let mut settings = file.profiles.get(profile).cloned().unwrap_or_default();
        change(&mut settings)?;
        settings.validate()?;
        if settings.webhook
            && settings.legacy_webhook_url.is_none()
            && secrets.webhook_url.is_none()
            && !self.keychain.contains(profile, SecretKind::WebhookUrl)?
        {
            return Err(Error::InvalidInput(format!(
                "profile {profile:?} has no webhook URL stored: give one to set up its webhook"
            )));
        }
        Ok(settings)
    }

    /// Forgets a profile's settings and their secrets; `false` when it had none.
    pub fn remove(&self, profile: &str) -> Result<bool> {
        validate_profile_name(profile)?;
        let removed = {
            let _other_processes = self.lock()?;
            let mut file = self.read()?;
            let removed = file.profiles.remove(profile).is_some();
            if removed {
                self.write(file)?;
            }
            removed
        };
        // After the file: no saved settings name a secret that is gone.
        for kind in SECRET_KINDS {
            self.keychain.delete(profile, kind)?;
        }
        Ok(removed)
    }

    /// The webhook URL of a profile whose settings have a webhook.
    fn webhook_url(&self, profile: &str, settings: &ProfileNotify) -> Result<Option<String>> {
        if let Some(url) = &settings.legacy_webhook_url {
            return Ok(Some(url.clone()));
        }
        if !settings.webhook {
            return Ok(None);
        }
        match self.keychain.load(profile, SecretKind::WebhookUrl)? {
            Some(url) => Ok(Some(url.expose().clone())),
            None => Err(Error::Config(format!(
                "profile {profile:?} notifies through a webhook, but no webhook URL is stored \
                 for it"
            ))),
        }
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
        let webhook = match self.webhook_url(profile, &settings)? {
            None => None,
            Some(url) => Some(WebhookSettings {
                url: parse_webhook_url(&url)?,
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
    pub webhook_url: Option<Sensitive<String>>,
    pub webhook_secret: Option<Sensitive<String>>,
}

impl NotifySecrets {
    fn by_kind(&self) -> [(SecretKind, &Option<Sensitive<String>>); 4] {
        [
            (SecretKind::SmtpPassword, &self.smtp_password),
            (SecretKind::AcsConnectionString, &self.acs_connection_string),
            (SecretKind::WebhookUrl, &self.webhook_url),
            (SecretKind::WebhookSecret, &self.webhook_secret),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn notify_in(dir: &std::path::Path) -> (crate::Profiles, NotifyProfiles) {
        let profiles = crate::Profiles::new(dir, Keychain::in_memory());
        let notify = NotifyProfiles::beside(&profiles);
        (profiles, notify)
    }

    const HOOK: &str = "https://hooks.example.com/services/T0/B0/path-is-the-key";

    #[test]
    fn settings_round_trip_with_secrets_in_the_keychain() {
        let dir = tempfile::tempdir().unwrap();
        let (profiles, notify) = notify_in(dir.path());
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
            webhook: true,
            ..Default::default()
        };
        let secrets = NotifySecrets {
            smtp_password: Some(Sensitive::new("mail-password-1".into())),
            webhook_url: Some(Sensitive::new(HOOK.into())),
            webhook_secret: Some(Sensitive::new("hook-secret-1".into())),
            ..Default::default()
        };
        notify.set("prod", &settings, &secrets).unwrap();
        let text = std::fs::read_to_string(notify.file()).unwrap();
        for secret in [
            "mail-password-1",
            "hook-secret-1",
            "path-is-the-key",
            "hooks.example",
        ] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(notify.file())
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let config = notify.config("prod").unwrap().unwrap();
        assert_eq!(config.on, NotifyOn::All);
        assert_eq!(config.webhook.as_ref().unwrap().url.as_str(), HOOK);
        assert!(!format!("{config:?}").contains("path-is-the-key"));
        assert_eq!(
            config.smtp.unwrap().password.unwrap().expose(),
            "mail-password-1"
        );
        // Saving again without secrets keeps them.
        notify
            .set("prod", &settings, &NotifySecrets::default())
            .unwrap();
        let webhook = notify.config("prod").unwrap().unwrap().webhook.unwrap();
        assert!(webhook.secret.is_some());
        assert_eq!(webhook.url.as_str(), HOOK);
        assert!(notify.remove("prod").unwrap());
        assert!(notify.config("prod").unwrap().is_none());
        for kind in SECRET_KINDS {
            assert!(
                !profiles.keychain().contains("prod", kind).unwrap(),
                "{kind:?}"
            );
        }
    }

    #[test]
    fn bad_settings_are_refused_and_store_no_secret() {
        let dir = tempfile::tempdir().unwrap();
        let (profiles, notify) = notify_in(dir.path());
        let hook = ProfileNotify {
            webhook: true,
            ..Default::default()
        };
        let plain_http = NotifySecrets {
            webhook_url: Some(Sensitive::new("http://example.com/x".into())),
            ..Default::default()
        };
        assert!(notify.set("p", &hook, &plain_http).is_err());
        let error = notify
            .set("p", &hook, &NotifySecrets::default())
            .unwrap_err();
        assert!(error.to_string().contains("no webhook URL"), "{error}");
        // A bad recipient refuses the whole change before the URL is stored.
        let bad_recipient = ProfileNotify {
            email_to: vec!["not an address".into()],
            ..hook.clone()
        };
        let url = NotifySecrets {
            webhook_url: Some(Sensitive::new(HOOK.into())),
            ..Default::default()
        };
        assert!(notify.set("p", &bad_recipient, &url).is_err());
        assert!(!profiles
            .keychain()
            .contains("p", SecretKind::WebhookUrl)
            .unwrap());
        assert!(notify
            .set("../x", &ProfileNotify::default(), &NotifySecrets::default())
            .is_err());
        assert!(!notify.file().exists());
    }

    #[test]
    fn a_url_left_in_clear_by_an_earlier_version_works_and_moves_to_the_keychain() {
        let dir = tempfile::tempdir().unwrap();
        let (profiles, notify) = notify_in(dir.path());
        std::fs::write(
            notify.file(),
            format!(r#"{{"version":1,"profiles":{{"old":{{"on":"all","webhookUrl":"{HOOK}"}}}}}}"#),
        )
        .unwrap();
        let config = notify.config("old").unwrap().unwrap();
        assert_eq!(config.webhook.unwrap().url.as_str(), HOOK);
        // Any change of the file moves it.
        notify
            .set(
                "other",
                &ProfileNotify::default(),
                &NotifySecrets::default(),
            )
            .unwrap();
        let text = std::fs::read_to_string(notify.file()).unwrap();
        assert!(!text.contains("path-is-the-key"), "{text}");
        assert_eq!(
            profiles
                .keychain()
                .load("old", SecretKind::WebhookUrl)
                .unwrap()
                .unwrap()
                .expose(),
            HOOK
        );
        let config = notify.config("old").unwrap().unwrap();
        assert_eq!(config.webhook.unwrap().url.as_str(), HOOK);
        assert_eq!(config.on, NotifyOn::All);
    }

    /// Many changes at once, each of another profile: none is lost (without the lock, a
    /// change read before another's write wrote it over).
    #[test]
    fn parallel_changes_of_different_profiles_all_land() {
        let dir = tempfile::tempdir().unwrap();
        let (_profiles, notify) = notify_in(dir.path());
        let names: Vec<String> = (0..24).map(|i| format!("p{i}")).collect();
        std::thread::scope(|scope| {
            for name in &names {
                let notify = notify.clone();
                scope.spawn(move || {
                    for round in 0..5 {
                        notify
                            .update(name, &NotifySecrets::default(), |s| {
                                s.email_to = vec![format!("{name}-{round}@example.com")];
                                Ok(())
                            })
                            .unwrap();
                    }
                });
            }
        });
        for name in &names {
            let settings = notify.get(name).unwrap().expect("kept");
            assert_eq!(settings.email_to, [format!("{name}-4@example.com")]);
        }
        let leftovers: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }
}
