//! Where the master password of the encrypted secrets file comes from: a file named by
//! `RYTHM_MASTER_PASSWORD_FILE` (for scripts), else the front end's own way of asking (the
//! CLI's prompt on a terminal; the desktop app's unlock dialog calls `Keychain::unlock`
//! instead). The password is asked for at most once per process: the key is kept.

use std::path::Path;

use super::vault::MasterAnswer;
use super::{KeychainError, Sensitive};

/// The environment variable naming a file whose first line is the master password.
pub const MASTER_PASSWORD_FILE_VAR: &str = "RYTHM_MASTER_PASSWORD_FILE";

/// Why the master password is needed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MasterPasswordRequest<'a> {
    /// To open the existing file.
    Unlock { file: &'a Path },
    /// No file yet: the first secret creates it, so this is a new master password (a prompt
    /// asks for it twice).
    Create { file: &'a Path },
}

/// A front end's way to ask a person for the master password.
pub trait MasterPasswordPrompt: Send + Sync {
    /// The password, or `Ok(None)` when nobody can be asked (no terminal).
    fn ask(
        &self,
        request: MasterPasswordRequest<'_>,
    ) -> Result<Option<Sensitive<String>>, KeychainError>;

    /// How to give the password when `ask` cannot, for the error message.
    fn hint(&self) -> String;
}

/// The master password from `RYTHM_MASTER_PASSWORD_FILE`, if it names a file: its first
/// line, without the line break. An unreadable or empty file is an error, never a fallback
/// to something else.
pub fn from_env_file() -> Result<Option<Sensitive<String>>, KeychainError> {
    let Some(path) = std::env::var_os(MASTER_PASSWORD_FILE_VAR).filter(|p| !p.is_empty()) else {
        return Ok(None);
    };
    let path = Path::new(&path);
    let failed = |reason: String| KeychainError::MasterPasswordFile {
        file: path.display().to_string(),
        reason,
    };
    let text = zeroize::Zeroizing::new(
        std::fs::read_to_string(path).map_err(|e| failed(format!("cannot read it: {e}")))?,
    );
    let line = text.lines().next().unwrap_or_default();
    if line.is_empty() {
        return Err(failed("its first line is empty".into()));
    }
    Ok(Some(Sensitive::new(line.to_owned())))
}

/// Asks `prompt` (when there is one) after the environment's file.
pub(super) fn answer(
    prompt: Option<&dyn MasterPasswordPrompt>,
    request: MasterPasswordRequest<'_>,
) -> MasterAnswer {
    match from_env_file() {
        Ok(Some(password)) => return MasterAnswer::Password(password),
        Ok(None) => {}
        Err(e) => return MasterAnswer::Failed(e),
    }
    let hint = prompt.map(|p| p.hint()).unwrap_or_else(|| {
        format!(
            "give the master password on a terminal, in the desktop app, or in a file named \
             by {MASTER_PASSWORD_FILE_VAR}"
        )
    });
    match prompt.map(|p| p.ask(request)) {
        Some(Ok(Some(password))) => MasterAnswer::Password(password),
        Some(Err(e)) => MasterAnswer::Failed(e),
        Some(Ok(None)) | None => MasterAnswer::Unavailable { hint },
    }
}
