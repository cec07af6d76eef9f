//! `profile notify NAME …`: a profile's own notification settings; the SMTP password, the
//! ACS connection string, the webhook's URL and its secret go to the keychain, from stdin,
//! a prompt without echo or the environment, never from argv; the URL is never printed
//! whole.

use rythm_backup_core::notify::settings::{
    NotifyProfiles, NotifySecrets, ProfileNotify, ProfileSmtp,
};
use rythm_backup_core::notify::{parse_webhook_url, webhook_target, NotifyOn, SmtpTls};
use rythm_backup_core::profile::Profiles;
use rythm_backup_core::secrets::{SecretKind, Sensitive};
use rythm_backup_core::Error;
use serde::Serialize;

use super::Ctx;
use crate::args::ProfileNotifyArgs;
use crate::prompt::read_secret;

/// What `--json` prints: the settings, and where the webhook delivers (scheme and host).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Saved<'a> {
    profile: &'a str,
    #[serde(flatten)]
    settings: &'a ProfileNotify,
    #[serde(skip_serializing_if = "Option::is_none")]
    webhook_target: Option<String>,
}

pub async fn set(ctx: &Ctx, profiles: &Profiles, args: ProfileNotifyArgs) -> Result<(), Error> {
    if args.webhook_url.is_some() {
        return Err(Error::InvalidInput(
            "--webhook-url is not taken: a webhook's URL is a secret, and a command line ends \
             up in the shell's history and the process list. Use --webhook (the URL from \
             NOTIFY_WEBHOOK_URL, else asked for) or --webhook-url-stdin"
                .into(),
        ));
    }
    profiles.get(&args.name)?;
    let notify = NotifyProfiles::beside(profiles);
    if args.off {
        let removed = notify.remove(&args.name)?;
        let answer = serde_json::json!({ "profile": args.name, "removed": removed });
        ctx.finish(&answer, |_| {
            println!("{}: notifications follow the environment again", args.name)
        })
        .await;
        return Ok(());
    }
    let on = args
        .on
        .as_deref()
        .map(|on| on.parse::<NotifyOn>().map_err(Error::InvalidInput))
        .transpose()?;
    let tls = args
        .smtp_tls
        .as_deref()
        .map(|t| t.parse::<SmtpTls>().map_err(Error::InvalidInput))
        .transpose()?;
    let env = |k: &str| {
        std::env::var(k)
            .ok()
            .filter(|v| !v.is_empty())
            .map(Sensitive::new)
    };
    let smtp_password = if args.smtp_password_stdin {
        Some(read_secret("SMTP password: ", true)?)
    } else {
        env("SMTP_PASSWORD")
    };
    let webhook = args.webhook || args.webhook_url_stdin;
    let webhook_url = match (webhook, args.webhook_url_stdin) {
        (false, _) => None,
        (true, true) => Some(read_secret("Webhook URL: ", true)?),
        (true, false) => match env("NOTIFY_WEBHOOK_URL") {
            Some(url) => Some(url),
            None => Some(read_secret("Webhook URL: ", false)?),
        },
    };
    // Checked before anything is stored; its error never quotes the URL.
    let webhook_target = webhook_url
        .as_ref()
        .map(|url| parse_webhook_url(url.expose()).map(|u| webhook_target(&u)))
        .transpose()?;
    let secrets = NotifySecrets {
        smtp_password,
        acs_connection_string: args
            .acs_sender
            .is_some()
            .then(|| env("ACS_CONNECTION_STRING"))
            .flatten(),
        webhook_url,
        webhook_secret: webhook.then(|| env("NOTIFY_WEBHOOK_SECRET")).flatten(),
    };
    if args.acs_sender.is_some()
        && secrets.acs_connection_string.is_none()
        && !profiles.has_secret(&args.name, SecretKind::AcsConnectionString)?
    {
        return Err(Error::InvalidInput(
            "--acs-sender needs ACS_CONNECTION_STRING in the environment (it is kept in the \
             keychain)"
                .into(),
        ));
    }
    // Read, changed and written under the file's lock: a change made meanwhile by another
    // command is kept.
    let settings = notify.update(&args.name, &secrets, |settings| {
        if let Some(on) = on {
            settings.on = on;
        }
        if let Some(list) = &args.email_to {
            settings.email_to = list
                .split([',', ';'])
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect();
        }
        if let Some(host) = &args.smtp_host {
            let from = args
                .smtp_from
                .clone()
                .or_else(|| settings.smtp.as_ref().map(|s| s.from.clone()))
                .ok_or_else(|| Error::InvalidInput("--smtp-host needs --smtp-from".into()))?;
            settings.smtp = Some(ProfileSmtp {
                host: host.clone(),
                port: args.smtp_port,
                tls: tls.unwrap_or(SmtpTls::Starttls),
                username: args.smtp_username.clone(),
                from,
                ca_file: args.smtp_ca_file.clone(),
            });
        }
        if let Some(sender) = &args.acs_sender {
            settings.acs_sender = Some(sender.clone());
        }
        if webhook {
            settings.webhook = true;
        }
        Ok(())
    })?;
    let saved = Saved {
        profile: &args.name,
        settings: &settings,
        webhook_target,
    };
    ctx.finish(&saved, |saved: &Saved| {
        println!(
            "{}: notifications {}",
            saved.profile,
            describe(saved.settings, saved.webhook_target.as_deref())
        )
    })
    .await;
    Ok(())
}

/// Words for a profile's own notification settings (`profile notify`, `profile show`):
/// when, how many recipients, which channels; a webhook by its host at most.
pub fn describe(settings: &ProfileNotify, webhook_target: Option<&str>) -> String {
    let webhook = match (webhook_target, settings.webhook) {
        (Some(target), _) => format!(", webhook to {target}"),
        (None, true) => ", webhook".to_owned(),
        (None, false) => String::new(),
    };
    format!(
        "on {} to {} recipient(s){}{}{webhook}",
        settings.on.as_str(),
        settings.email_to.len(),
        if settings.smtp.is_some() {
            ", SMTP"
        } else {
            ""
        },
        if settings.acs_sender.is_some() {
            ", ACS"
        } else {
            ""
        },
    )
}
