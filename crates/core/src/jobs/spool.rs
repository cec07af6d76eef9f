//! Verify before executing: a stored backup is copied to a private temporary file while its
//! sha256 is computed, and only a copy whose checksum matches the backup's metadata is
//! restored. So content replaced in storage behind the tool's back (with the old checksum
//! left in the metadata) is refused before a single statement of it runs, and the restore
//! reads a copy that cannot change under it. The file is unnamed where the OS allows
//! (`O_TMPFILE` on Linux; deleted-on-close elsewhere), owner-only, in the cache folder, so
//! nothing is left behind even when the process is killed.

use std::fs::File;
use std::io::{Seek, SeekFrom, Write};
use std::path::PathBuf;
use std::sync::Arc;

use sha2::{Digest, Sha256};

use super::bridge::{spawn_blob_reader, RetryPolicy};
use super::{Cancel, Phase, Progress};
use crate::catalog::BackupName;
use crate::error::{Error, Result};
use crate::storage::BlobStore;

/// A verified copy of a stored backup, positioned at its start.
#[derive(Debug)]
pub struct Spooled {
    pub file: File,
    pub bytes: u64,
}

/// Where spool files go: `RYTHM_SPOOL_DIR`, else the user's cache folder.
pub fn spool_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("RYTHM_SPOOL_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    dirs::cache_dir()
        .unwrap_or_else(std::env::temp_dir)
        .join("rythm-backup")
        .join("spool")
}

/// Copies `name` into a private temporary file, hashing it, and checks the hash against
/// `expected_sha256`. A mismatch is an error, and the copy is gone with it.
pub async fn fetch(
    store: &Arc<dyn BlobStore>,
    name: &BackupName,
    expected_sha256: Option<&str>,
    total: Option<u64>,
    progress: &Progress,
    cancel: &Cancel,
) -> Result<Spooled> {
    let dir = spool_dir();
    let file = {
        let dir = dir.clone();
        tokio::task::spawn_blocking(move || open_private(&dir)).await??
    };
    progress.phase(Phase::Verifying, Some(name.to_string()), total);
    let mut chunks = spawn_blob_reader(
        store.clone(),
        name.clone(),
        0,
        Phase::Verifying,
        progress.clone(),
        cancel.clone(),
        RetryPolicy::default(),
    );
    // Writes happen on a blocking thread, a chunk at a time, so the async reader keeps
    // running while the disk works.
    let (sender, receiver) = std::sync::mpsc::sync_channel::<bytes::Bytes>(4);
    let writer = {
        let dir = dir.clone();
        tokio::task::spawn_blocking(move || write_all_chunks(file, receiver, &dir))
    };
    let mut hasher = Sha256::new();
    let mut bytes = 0u64;
    let mut failure = None;
    while let Some(chunk) = chunks.recv().await {
        match chunk {
            Ok(chunk) => {
                hasher.update(&chunk);
                bytes += chunk.len() as u64;
                progress.bytes(Phase::Verifying, bytes, None, total, false);
                if sender.send(chunk).is_err() {
                    break; // the writer failed: its error is reported below
                }
            }
            Err(e) => {
                failure = Some(e);
                break;
            }
        }
    }
    drop(sender);
    let written = writer.await?;
    if let Some(e) = failure {
        return Err(e);
    }
    let mut file = written?;
    if cancel.is_cancelled() {
        return Err(Error::Cancelled);
    }
    progress.bytes(Phase::Verifying, bytes, None, total, true);
    let sha256 = hex::encode(hasher.finalize());
    match expected_sha256 {
        Some(expected) if !expected.eq_ignore_ascii_case(&sha256) => {
            tracing::warn!(backup = %name, expected, actual = %sha256,
                "checksum mismatch: the stored bytes are not the ones backed up");
            return Err(Error::ChecksumMismatch {
                name: name.to_string(),
                expected: expected.to_owned(),
                actual: sha256,
            });
        }
        // Matched, or a legacy backup with nothing to match.
        _ => {}
    }
    file.seek(SeekFrom::Start(0))
        .map_err(|e| Error::io("cannot read", &dir, e))?;
    Ok(Spooled { file, bytes })
}

fn write_all_chunks(
    mut file: File,
    chunks: std::sync::mpsc::Receiver<bytes::Bytes>,
    dir: &std::path::Path,
) -> Result<File> {
    for chunk in chunks {
        file.write_all(&chunk)
            .map_err(|e| spool_write_failed(dir, e))?;
    }
    Ok(file)
}

fn spool_write_failed(dir: &std::path::Path, e: std::io::Error) -> Error {
    if e.kind() == std::io::ErrorKind::StorageFull {
        return Error::InvalidInput(format!(
            "there is not enough free space in {} to check the backup before restoring it \
             (it is copied there first); free some space, or point RYTHM_SPOOL_DIR at a \
             folder with room. Nothing was changed.",
            dir.display()
        ));
    }
    Error::io("cannot write the restore's temporary copy in", dir, e)
}

/// An owner-only temporary file that vanishes with its handle.
fn open_private(dir: &std::path::Path) -> Result<File> {
    crate::fsmode::create_private_dir_all(dir)
        .map_err(|e| Error::io("cannot create folder", dir, e))?;
    let file = tempfile::tempfile_in(dir)
        .map_err(|e| Error::io("cannot create a temporary file in", dir, e))?;
    // An unnamed file (O_TMPFILE) gets the umask's mode, not tempfile's 0600.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(|e| Error::io("cannot make private a temporary file in", dir, e))?;
    }
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spool_files_are_private_and_unnamed() {
        let dir = tempfile::tempdir().unwrap();
        let spool = dir.path().join("spool");
        let mut file = open_private(&spool).unwrap();
        file.write_all(b"secret tenant data").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&spool).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o700);
            let file_mode = file.metadata().unwrap().permissions().mode();
            assert_eq!(file_mode & 0o077, 0, "{file_mode:o}");
        }
        // Nothing named is left in the folder.
        assert_eq!(std::fs::read_dir(&spool).unwrap().count(), 0);
    }
}
