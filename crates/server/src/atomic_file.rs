//! Writing a small file atomically with owner-only permissions (the admin and schedule
//! files): the engine's one helper for it, `fsmode::write_private_atomic` (a temporary 0600
//! file beside it, flushed, renamed over it, the folder flushed), so a reader sees either the
//! old or the new content and never a half-written one.

use std::io;
use std::path::Path;

/// Replaces `path` with `contents`; creates the parent folder (mode 0700) when missing.
pub fn write(path: &Path, contents: &[u8]) -> io::Result<()> {
    rythm_backup_core::fsmode::write_private_atomic(path, contents)
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::*;

    #[test]
    fn replaces_content_with_private_permissions() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join("f.json");
        write(&path, b"one").unwrap();
        write(&path, b"two").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"two");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
        // No temporary file is left behind.
        assert_eq!(fs::read_dir(path.parent().unwrap()).unwrap().count(), 1);
    }
}
