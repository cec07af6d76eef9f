//! The admin file as the running server sees it: `rythm-backup admin add|remove|revoke` edit
//! it while the server runs, so every login and every authenticated request asks for the
//! current version. That costs one `stat`; the file is read and parsed again only when its
//! size, modification or change time or inode differ from the cached copy's, or while the
//! cached copy is too recent to be told apart from a later write in the same clock tick.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use crate::admins::{AdminError, AdminFile};

/// A file modified less than this before it was read may be modified again within the same
/// timestamp tick (coarse file-system clocks) without its stamp changing; such a copy is
/// not trusted, and the file is read again at each use until it is older than this.
const RACY_WINDOW: Duration = Duration::from_secs(2);

/// What identifies one version of the file without reading it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Stamp {
    len: u64,
    modified: Option<SystemTime>,
    #[cfg(unix)]
    changed: (i64, i64),
    #[cfg(unix)]
    inode: (u64, u64),
}

impl Stamp {
    fn of(meta: &std::fs::Metadata) -> Stamp {
        #[cfg(unix)]
        use std::os::unix::fs::MetadataExt;
        Stamp {
            len: meta.len(),
            modified: meta.modified().ok(),
            #[cfg(unix)]
            changed: (meta.ctime(), meta.ctime_nsec()),
            #[cfg(unix)]
            inode: (meta.dev(), meta.ino()),
        }
    }

    /// Whether a write just after this version could have kept the same stamp.
    fn is_racy(&self, now: SystemTime) -> bool {
        self.modified
            .is_none_or(|m| now.duration_since(m).is_ok_and(|age| age < RACY_WINDOW) || m > now)
    }
}

#[derive(Debug)]
struct Cached {
    /// `None`: the file did not exist.
    stamp: Option<Stamp>,
    trusted: bool,
    file: Arc<AdminFile>,
}

#[derive(Debug)]
pub struct LiveAdmins {
    path: PathBuf,
    cached: Mutex<Option<Cached>>,
}

impl LiveAdmins {
    /// Loads the file now, so a broken file stops the server at start.
    pub fn load(path: &Path) -> Result<LiveAdmins, AdminError> {
        let live = LiveAdmins {
            path: path.to_path_buf(),
            cached: Mutex::new(None),
        };
        live.current()?;
        Ok(live)
    }

    /// The file's current content. A missing file is an empty list; an unreadable or
    /// invalid one is an error (and refuses every login and token until it is fixed).
    ///
    /// Runs on the async threads: a `stat` and, after a change, reading a file of a few
    /// kilobytes, which is cheaper than a hop to the blocking pool.
    pub fn current(&self) -> Result<Arc<AdminFile>, AdminError> {
        let mut cached = self.cached.lock().unwrap_or_else(|e| e.into_inner());
        // Stat before reading: a write in between leaves an older stamp with the newer
        // content, which only costs one more read next time.
        let stamp = match std::fs::metadata(&self.path) {
            Ok(meta) => Some(Stamp::of(&meta)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(source) => {
                return Err(AdminError::Io {
                    action: "cannot read",
                    path: self.path.display().to_string(),
                    source,
                })
            }
        };
        if let Some(current) = cached.as_ref() {
            if current.trusted && current.stamp == stamp {
                return Ok(current.file.clone());
            }
        }
        let file = Arc::new(AdminFile::load(&self.path)?);
        let trusted = stamp.as_ref().is_none_or(|s| !s.is_racy(SystemTime::now()));
        *cached = Some(Cached {
            stamp,
            trusted,
            file: file.clone(),
        });
        Ok(file)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sees_every_change_at_once_even_within_one_clock_tick() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("admins.json");
        let live = LiveAdmins::load(&path).unwrap();
        assert!(live.current().unwrap().admins().is_empty());

        let mut editor = AdminFile::load(&path).unwrap();
        editor.add("a@example.com", "password one").unwrap();
        assert_eq!(live.current().unwrap().admins().len(), 1);
        // Changes right after one another, as fast as the file system allows.
        for round in 0..20 {
            editor.revoke("a@example.com").unwrap();
            let generation = editor.admins()[0].generation.clone();
            assert_eq!(
                live.current().unwrap().admins()[0].generation,
                generation,
                "round {round}"
            );
        }
        editor.remove("a@example.com").unwrap();
        assert!(live.current().unwrap().admins().is_empty());
        std::fs::remove_file(&path).unwrap();
        assert!(live.current().unwrap().admins().is_empty());
    }

    #[test]
    fn an_old_unchanged_file_is_not_read_again() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("admins.json");
        AdminFile::load(&path)
            .unwrap()
            .add("a@example.com", "password one")
            .unwrap();
        let old = SystemTime::now() - Duration::from_secs(60);
        std::fs::File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_modified(old)
            .unwrap();
        let live = LiveAdmins::load(&path).unwrap();
        let first = live.current().unwrap();
        assert!(Arc::ptr_eq(&first, &live.current().unwrap()), "cached");
        // A change of content is seen (new inode, size and times).
        AdminFile::load(&path)
            .unwrap()
            .add("b@example.com", "password two")
            .unwrap();
        assert_eq!(live.current().unwrap().admins().len(), 2);
    }

    #[test]
    fn a_broken_file_is_an_error_not_an_empty_list() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("admins.json");
        std::fs::write(&path, "{broken").unwrap();
        assert!(LiveAdmins::load(&path).is_err());
        std::fs::write(&path, r#"{"version":1,"admins":[]}"#).unwrap();
        let live = LiveAdmins::load(&path).unwrap();
        std::fs::write(&path, "{broken again").unwrap();
        assert!(live.current().is_err());
    }
}
