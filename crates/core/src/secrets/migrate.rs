//! Moving the encrypted file's secrets into the OS keychain, all or nothing. Each entry is
//! written and read back; if any fails, the entries already written are put back as they were
//! (the keychain's older value, or no entry), and the file is left untouched. Only when every
//! entry is in the keychain is the file deleted (by `Vault::drain`, under its lock); should
//! that deletion fail, the written entries are put back the same way (`Written::undo`).

use serde::Serialize;

use super::os;
use super::sealed::Entries;
use super::{KeychainError, Sensitive};

/// What a move did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct MoveOutcome {
    /// How many secrets were moved.
    pub moved: u32,
    /// The OS keychain that holds them now.
    pub store: String,
}

/// The keychain entries a move wrote, each with the keychain's value before it (`None`: there
/// was no entry), so that they can be put back.
#[must_use = "a move that does not go on must undo what it wrote"]
pub(super) struct Written(Vec<(String, Option<Sensitive<String>>)>);

/// Writes every entry into the OS keychain and checks it; undoes everything on failure.
pub(super) fn copy_into_os_keychain(entries: &Entries) -> Result<Written, KeychainError> {
    let mut written = Written(Vec::new());
    for (account, value) in entries.iter() {
        let mut step = || -> Result<(), KeychainError> {
            let before = os::load(account)?.map(Sensitive::new);
            os::store(account, value)?;
            written.0.push((account.clone(), before));
            match os::load(account)?.map(Sensitive::new) {
                Some(read) if read.expose() == value => Ok(()),
                _ => Err(KeychainError::Unavailable(format!(
                    "the OS keychain did not return {account} as it was written"
                ))),
            }
        };
        if let Err(error) = step() {
            let undone = written.undo();
            return Err(KeychainError::MoveFailed(format!(
                "it stopped at {account}: {error}. Nothing was lost: the encrypted file still \
                 holds every secret and stays in use{undone}"
            )));
        }
    }
    Ok(written)
}

impl Written {
    /// Puts the keychain entries back as they were, last written first; a note for the error
    /// that says so, or names those that could not be.
    pub(super) fn undo(self) -> String {
        let mut left = Vec::new();
        for (account, before) in self.0.iter().rev() {
            let restored = match before {
                Some(value) => os::store(account, value.expose()),
                None => os::delete(account).map(drop),
            };
            if restored.is_err() {
                left.push(account.as_str());
            }
        }
        if left.is_empty() {
            "; the keychain entries it wrote were undone".into()
        } else {
            format!(
                "; these keychain entries could not be put back as they were: {}",
                left.join(", ")
            )
        }
    }
}
