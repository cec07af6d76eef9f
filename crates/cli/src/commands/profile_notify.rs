//! `profile notify NAME …`: a profile's own notification settings; the SMTP password, the
//! ACS connection string and the webhook secret go to the keychain, from stdin or the
//! environment, never from argv.

use rythm_backup_core::notify::settings::{
    NotifyProfiles, NotifySecrets, ProfileNotify, ProfileSmtp,
};
use rythm_backup_core::notify::{NotifyOn, SmtpTls};
use rythm_backup_core::profile::Profiles;
use rythm_backup_core::secrets::Sensitive;
use rythm_backup_core::Error;

use super::Ctx;
use crate::args::ProfileNotifyArgs;
use crate::prompt::read_secret;

pub async fn set(ctx: &Ctx, profiles: &Profiles, args: ProfileNotifyArgs) -> Result<(), Error> {
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
    let mut settings = notify.get(&args.name)?.unwrap_or_default();
    if let Some(on) = &args.on {
        settings.on = on.parse::<NotifyOn>().map_err(Error::InvalidInput)?;
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
        let tls = match &args.smtp_tls {
            Some(t) => t.parse::<SmtpTls>().map_err(Error::InvalidInput)?,
            None => SmtpTls::Starttls,
        };
        settings.smtp = Some(ProfileSmtp {
            host: host.clone(),
            port: args.smtp_port,
            tls,
            username: args.smtp_username.clone(),
            from,
            ca_file: args.smtp_ca_file.clone(),
        });
    }
    if let Some(sender) = &args.acs_sender {
        settings.acs_sender = Some(sender.clone());
    }
    if let Some(url) = &args.webhook_url {
        settings.webhook_url = Some(url.clone());
    }
    let env = |k: &str| {
        std::env::var(k)
            .ok()
            .filter(|v| !v.is_empty())
            .map(Sensitive::new)
    };
    let secrets = NotifySecrets {
        smtp_password: if args.smtp_password_stdin {
            Some(read_secret("SMTP password: ", true)?)
        } else {
            env("SMTP_PASSWORD")
        },
        acs_connection_string: args
            .acs_sender
            .is_some()
            .then(|| env("ACS_CONNECTION_STRING"))
            .flatten(),
        webhook_secret: args
            .webhook_url
            .is_some()
            .then(|| env("NOTIFY_WEBHOOK_SECRET"))
            .flatten(),
    };
    if args.acs_sender.is_some()
        && secrets.acs_connection_string.is_none()
        && !profiles.has_secret(
            &args.name,
            rythm_backup_core::secrets::SecretKind::AcsConnectionString,
        )?
    {
        return Err(Error::InvalidInput(
            "--acs-sender needs ACS_CONNECTION_STRING in the environment (it is kept in the \
             keychain)"
                .into(),
        ));
    }
    notify.set(&args.name, &settings, &secrets)?;
    ctx.finish(&settings, |s: &ProfileNotify| {
        println!(
            "{}: notifications on {} to {} recipient(s){}{}{}",
            args.name,
            s.on.as_str(),
            s.email_to.len(),
            if s.smtp.is_some() { ", SMTP" } else { "" },
            if s.acs_sender.is_some() { ", ACS" } else { "" },
            if s.webhook_url.is_some() {
                ", webhook"
            } else {
                ""
            },
        )
    })
    .await;
    Ok(())
}
