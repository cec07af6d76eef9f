//! Moving the encrypted file's secrets into the OS keychain, all or nothing. Each entry is
//! written and read back; if any fails, the entries already written are put back as they were
//! (the keychain's older value, or no entry), and the file is left untouched. Only when every
//! entry is in the keychain is the file deleted (by `Vault::drain`, under its lock).

use serde::Serialize;

use super::os;
use super::vault::Entries;
use super::KeychainError;

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

/// Writes every entry into the OS keychain and checks it; undoes everything on failure.
pub(super) fn copy_into_os_keychain(entries: &Entries) -> Result<(), KeychainError> {
    // (entry, the keychain's value before the move) for each entry written so far.
    let mut written: Vec<(&str, Option<String>)> = Vec::new();
    for (account, value) in entries {
        let mut step = || -> Result<(), KeychainError> {
            let before = os::load(account)?;
            os::store(account, value)?;
            written.push((account, before));
            match os::load(account)? {
                Some(read) if read == *value => Ok(()),
                _ => Err(KeychainError::Unavailable(format!(
                    "the OS keychain did not return {account} as it was written"
                ))),
            }
        };
        if let Err(error) = step() {
            let undone = undo(&written);
            return Err(KeychainError::MoveFailed(format!(
                "it stopped at {account}: {error}. Nothing was lost: the encrypted file still \
                 holds every secret and stays in use{undone}"
            )));
        }
    }
    Ok(())
}

/// Puts the keychain entries written by a failed move back as they were; a note for the
/// error when some could not be.
fn undo(written: &[(&str, Option<String>)]) -> String {
    let mut left = Vec::new();
    for (account, before) in written.iter().rev() {
        let restored = match before {
            Some(value) => os::store(account, value),
            None => os::delete(account).map(drop),
        };
        if restored.is_err() {
            left.push(*account);
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
