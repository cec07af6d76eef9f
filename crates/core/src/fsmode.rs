//! Owner-only files and folders for everything that holds backup data (every tenant's
//! data): the local store, downloads and their `.part` files, and the restore's temporary
//! copies are created 0600 in folders created 0700 on Unix. Folders that already exist are
//! left as their owner set them; on Windows files keep the ACLs of the user's profile.

use std::io;
use std::path::Path;

/// Options that create a file readable and writable by its owner only (on Unix).
pub fn private_file() -> std::fs::OpenOptions {
    #[allow(unused_mut)]
    let mut options = std::fs::OpenOptions::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options
}

/// The same for tokio.
pub fn private_file_async() -> tokio::fs::OpenOptions {
    tokio::fs::OpenOptions::from(private_file())
}

/// Creates `dir` and its missing parents, each owner-only (on Unix).
pub fn create_private_dir_all(dir: &Path) -> io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

#[cfg(all(test, unix))]
mod tests {
    use std::io::Write;
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn files_and_new_folders_are_owner_only() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("a/b");
        create_private_dir_all(&dir).unwrap();
        assert_eq!(mode(&root.path().join("a")), 0o700);
        assert_eq!(mode(&dir), 0o700);
        let file = dir.join("backup.sql");
        private_file()
            .write(true)
            .create_new(true)
            .open(&file)
            .unwrap()
            .write_all(b"x")
            .unwrap();
        assert_eq!(mode(&file), 0o600);
        // An existing folder keeps its mode.
        std::fs::set_permissions(root.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        create_private_dir_all(root.path()).unwrap();
        assert_eq!(mode(root.path()), 0o755);
    }
}
