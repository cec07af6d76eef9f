//! `secrets status|move-to-keychain|change-master-password`: where the profiles' secrets are
//! kept (the OS keychain, or the encrypted file when none is reachable), moving them into the
//! OS keychain in one action, and the encrypted file's master password. `open_profiles` gives
//! every command the profiles with the terminal's master-password prompt.

use std::sync::Arc;

use rythm_backup_core::profile::Profiles;
use rythm_backup_core::secrets::{
    master_password_from_env, MasterPasswordPrompt, MasterPasswordRequest, SecretStoreInfo,
    SecretStoreKind, Sensitive,
};
use rythm_backup_core::Error;

use super::Ctx;
use crate::args::SecretsAction;
use crate::prompt::{read_secret, TerminalMasterPrompt};

/// The saved profiles, their secrets unlocked on demand: `RYTHM_MASTER_PASSWORD_FILE` or a
/// prompt on the terminal (once per command).
pub fn open_profiles() -> Result<Profiles, Error> {
    let profiles = Profiles::open_default()?;
    profiles
        .keychain()
        .set_prompt(Arc::new(TerminalMasterPrompt));
    Ok(profiles)
}

pub async fn secrets(ctx: &Ctx, action: SecretsAction) -> Result<(), Error> {
    let keychain = open_profiles()?.keychain().clone();
    match action {
        SecretsAction::Status => {
            let info = blocking(move || Ok(keychain.info())).await?;
            ctx.finish(&info, print_info).await;
        }
        SecretsAction::MoveToKeychain => {
            let file = keychain.info().file;
            let outcome = blocking(move || Ok(keychain.move_to_os_keychain()?)).await?;
            ctx.finish(&outcome, |o| {
                println!(
                    "Moved {} secret(s) to the OS keychain ({}).",
                    o.moved, o.store
                );
                if let Some(file) = &file {
                    println!("The encrypted file {} is removed.", file.display());
                }
            })
            .await;
        }
        SecretsAction::ChangeMasterPassword { new_password_stdin } => {
            // Nothing to change (the OS keychain, no file yet): say so before asking anything.
            let file = keychain.master_password_file()?;
            let current = match master_password_from_env()? {
                Some(password) => password,
                None => TerminalMasterPrompt
                    .ask(MasterPasswordRequest::Unlock { file: &file })?
                    .ok_or_else(|| Error::InvalidInput(TerminalMasterPrompt.hint()))?,
            };
            let new = if new_password_stdin {
                read_secret("", true)?
            } else {
                new_password_from_terminal()?
            };
            let entries =
                blocking(move || Ok(keychain.change_master_password(&current, &new)?)).await?;
            let answer = serde_json::json!({ "reencrypted": entries, "file": file });
            ctx.finish(&answer, |_| {
                println!(
                    "The master password of {} is changed ({entries} secret(s) re-encrypted).",
                    file.display()
                )
            })
            .await;
        }
    }
    Ok(())
}

/// A new master password, typed twice.
fn new_password_from_terminal() -> Result<Sensitive<String>, Error> {
    let ask = |prompt: &str| {
        rpassword::prompt_password(prompt)
            .map(Sensitive::new)
            .map_err(|e| {
                Error::InvalidInput(format!(
                    "cannot read the new master password from a terminal ({e}); pass \
                     --new-password-stdin to give it on stdin"
                ))
            })
    };
    let first = ask("New master password: ")?;
    if first != ask("Repeat the new master password: ")? {
        return Err(Error::InvalidInput(
            "the two new master passwords differ; nothing was changed".into(),
        ));
    }
    Ok(first)
}

fn print_info(info: &SecretStoreInfo) {
    println!("{}", info.summary);
    if info.kind == SecretStoreKind::EncryptedFile {
        println!("Secrets in the file: {}", info.file_entries);
    }
    match (&info.os_keychain, &info.os_keychain_problem) {
        (Some(name), _) => println!("OS keychain: {name}, available"),
        (None, Some(problem)) => println!("OS keychain: none available ({problem})"),
        (None, None) => {}
    }
    if info.can_move {
        println!("Move the secrets there with: rythm-backup secrets move-to-keychain");
    }
}

/// Runs secret-store work (argon2id, the keychain's system calls) off the async runtime.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, Error> + Send + 'static,
) -> Result<T, Error> {
    tokio::task::spawn_blocking(work).await?
}
