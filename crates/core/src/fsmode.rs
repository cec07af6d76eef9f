//! Owner-only files and folders for everything that holds backup data or secrets (every
//! tenant's data, profiles, the encrypted secrets file, the server's admin and schedule
//! files): created 0600 in folders created 0700 on Unix. Folders that already exist are left
//! as their owner set them; on Windows files keep the ACLs of the user's profile. Also the
//! two ways such files change safely: an atomic replace, and an exclusive lock between
//! processes that waits a bounded time.

use std::fs::File;
use std::io::{self, Write};
use std::path::Path;
use std::time::{Duration, Instant};

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

/// The folder `path` is in ("." for a bare file name).
fn parent_of(path: &Path) -> &Path {
    path.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// Replaces `path` with `contents` so that a reader sees the old or the new content, never a
/// part: a temporary file beside it (created 0600 before any byte is written), flushed to
/// disk, renamed over `path`, then the folder flushed so the rename survives a crash. The
/// folder is created (0700) when missing. A failure leaves no temporary file behind.
pub fn write_private_atomic(path: &Path, contents: &[u8]) -> io::Result<()> {
    let dir = parent_of(path);
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "the path names no file"))?;
    create_private_dir_all(dir)?;
    // tempfile creates it with mode 0600 on Unix; dropped on failure, it is removed.
    let mut temp = tempfile::Builder::new()
        .prefix(&format!(".{}.", name.to_string_lossy()))
        .suffix(".tmp")
        .tempfile_in(dir)?;
    temp.write_all(contents)?;
    temp.as_file().sync_all()?;
    temp.persist(path).map_err(|e| e.error)?;
    sync_dir(dir);
    Ok(())
}

/// Makes a rename or a removal in `dir` durable (Unix; elsewhere the OS does not offer it).
pub fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Ok(dir) = File::open(dir) {
        let _ = dir.sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
}

/// Makes the removal or replacement of `path` durable: syncs its folder.
pub fn sync_parent(path: &Path) {
    sync_dir(parent_of(path));
}

/// Takes an exclusive lock on the lock file `path` (created 0600, its folder 0700, when
/// missing), held until the returned file is dropped. Waits at most `wait` for another
/// holder; then fails with `TimedOut` and a message that says so, rather than hanging.
pub fn lock_exclusive(path: &Path, wait: Duration) -> io::Result<File> {
    use fs4::fs_std::FileExt;
    create_private_dir_all(parent_of(path))?;
    let file = private_file()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(path)?;
    let deadline = Instant::now() + wait;
    let mut pause = Duration::from_millis(5);
    loop {
        if FileExt::try_lock_exclusive(&file)? {
            return Ok(file);
        }
        let now = Instant::now();
        if now >= deadline {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("another program has held this lock for more than {wait:?}"),
            ));
        }
        std::thread::sleep(pause.min(deadline - now));
        pause = (pause * 2).min(Duration::from_millis(100));
    }
}

#[cfg(all(test, unix))]
mod tests {
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

    #[test]
    fn an_atomic_write_replaces_the_file_privately_and_leaves_nothing_beside_it() {
        let root = tempfile::tempdir().unwrap();
        let path = root.path().join("new/f.json");
        write_private_atomic(&path, b"one").unwrap();
        // A file that was readable by others is replaced by an owner-only one.
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        write_private_atomic(&path, b"two").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(path.parent().unwrap()), 0o700);
        let names: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["f.json"]);
        // A failed replace (the target is a folder) leaves no temporary file either.
        let folder = root.path().join("new/folder");
        std::fs::create_dir(&folder).unwrap();
        std::fs::write(folder.join("x"), b"x").unwrap();
        assert!(write_private_atomic(&folder, b"three").is_err());
        assert_eq!(
            std::fs::read_dir(path.parent().unwrap()).unwrap().count(),
            2
        );
    }

    #[test]
    fn a_held_lock_makes_the_next_one_wait_then_fail_clearly() {
        let root = tempfile::tempdir().unwrap();
        let path = root.path().join("sub/x.lock");
        let held = lock_exclusive(&path, Duration::from_secs(1)).unwrap();
        assert_eq!(mode(&path), 0o600);
        let started = Instant::now();
        let error = lock_exclusive(&path, Duration::from_millis(300)).unwrap_err();
        assert!(started.elapsed() >= Duration::from_millis(300));
        assert_eq!(error.kind(), io::ErrorKind::TimedOut);
        assert!(error.to_string().contains("another program"), "{error}");
        // Released by another thread while this one waits: the wait ends with the lock.
        let releaser = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(200));
            drop(held);
        });
        lock_exclusive(&path, Duration::from_secs(10)).unwrap();
        releaser.join().unwrap();
    }
}
