//! Reading a secret from the person at the terminal (without echo) or from stdin, so
//! passwords never appear in argv or the shell's history; and asking for the master password
//! of the encrypted secrets file when there is no OS keychain.

use std::io::{BufRead, IsTerminal};

use rythm_backup_core::secrets::{
    KeychainError, MasterPasswordPrompt, MasterPasswordRequest, Sensitive,
    MASTER_PASSWORD_FILE_VAR, MIN_MASTER_PASSWORD_CHARS,
};
use rythm_backup_core::Error;

/// Asks for a secret: a hidden prompt on a terminal, else (or with `from_stdin`) the first
/// line of stdin.
pub fn read_secret(prompt: &str, from_stdin: bool) -> Result<Sensitive<String>, Error> {
    let secret = if from_stdin || !std::io::stdin().is_terminal() {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| Error::InvalidInput(format!("cannot read the secret from stdin: {e}")))?;
        line.trim_end_matches(['\r', '\n']).to_owned()
    } else {
        rpassword::prompt_password(prompt)
            .map_err(|e| Error::InvalidInput(format!("cannot read the secret: {e}")))?
    };
    if secret.is_empty() {
        return Err(Error::InvalidInput("no secret was given".into()));
    }
    Ok(Sensitive::new(secret))
}

/// Asks for the encrypted secrets file's master password on the terminal (`/dev/tty`, so it
/// works while stdin carries another secret); twice for a new one. Without a terminal it
/// answers "nobody to ask", and the error names `RYTHM_MASTER_PASSWORD_FILE`.
pub struct TerminalMasterPrompt;

impl MasterPasswordPrompt for TerminalMasterPrompt {
    fn ask(
        &self,
        request: MasterPasswordRequest<'_>,
    ) -> Result<Option<Sensitive<String>>, KeychainError> {
        if !has_terminal() {
            return Ok(None);
        }
        let failed = |e: std::io::Error| {
            KeychainError::NotApplicable(format!(
                "cannot read the master password from the terminal: {e}"
            ))
        };
        match request {
            MasterPasswordRequest::Unlock { file } => {
                let prompt = format!("Master password of {}: ", file.display());
                let password = rpassword::prompt_password(prompt).map_err(failed)?;
                Ok(Some(Sensitive::new(password)))
            }
            MasterPasswordRequest::Create { file } => {
                eprintln!(
                    "No OS keychain is available, so secrets are kept in an encrypted file, {}, \
                     locked with a master password. Choose it now (at least {} characters); \
                     it is asked for once per command.",
                    file.display(),
                    MIN_MASTER_PASSWORD_CHARS
                );
                let first = Sensitive::new(
                    rpassword::prompt_password("New master password: ").map_err(failed)?,
                );
                let again = Sensitive::new(
                    rpassword::prompt_password("Repeat the master password: ").map_err(failed)?,
                );
                if first != again {
                    return Err(KeychainError::NotApplicable(
                        "the two master passwords differ; nothing was saved".into(),
                    ));
                }
                Ok(Some(first))
            }
        }
    }

    fn hint(&self) -> String {
        format!(
            "there is no terminal to ask for the master password: run this on a terminal, or put \
             the master password in a file only you can read and name it in \
             {MASTER_PASSWORD_FILE_VAR}"
        )
    }
}

/// Whether a person can be asked: a controlling terminal exists.
fn has_terminal() -> bool {
    #[cfg(unix)]
    {
        std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open("/dev/tty")
            .is_ok()
    }
    #[cfg(not(unix))]
    {
        std::io::stdin().is_terminal()
    }
}
