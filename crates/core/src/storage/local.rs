//! The local-folder backend: each backup is a file in one directory with a sidecar
//! `NAME.meta.json` holding its metadata. Uploads are written to `NAME.partial` and renamed
//! into place on commit, so a half-written file is never listed. Records kept beside a
//! backup (`NAME.rows.json`, `NAME.verification.json`) are files too, with a sidecar of
//! their own, each written through a temporary file and a rename.

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use bytes::Bytes;
use futures::StreamExt;
use time::OffsetDateTime;
use tokio::fs;
use tokio::io::{AsyncSeekExt, AsyncWriteExt};
use tokio_util::io::ReaderStream;

use super::{BlobInfo, BlobMetadata, BlobStore, BlobUpload, ByteStream, StorageError};
use crate::catalog::{BackupName, RecordName};

const SIDECAR_SUFFIX: &str = ".meta.json";
const PARTIAL_SUFFIX: &str = ".partial";
/// How long a `.partial` file may go unwritten before it counts as abandoned: far longer
/// than any pg_dump waits on a lock.
const STALE_PARTIAL_AGE: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

/// Backups kept in a folder on this machine.
#[derive(Debug, Clone)]
pub struct LocalStore {
    dir: PathBuf,
}

impl LocalStore {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        LocalStore { dir: dir.into() }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path_of(&self, name: &BackupName) -> PathBuf {
        self.dir.join(name.as_str())
    }

    fn sidecar_of(&self, name: &BackupName) -> PathBuf {
        self.dir.join(format!("{name}{SIDECAR_SUFFIX}"))
    }

    fn not_found(&self, name: &BackupName) -> StorageError {
        StorageError::NotFound {
            name: name.to_string(),
            store: self.location(),
        }
    }

    /// Removes `.partial` files of uploads that died (a killed process cannot clean up):
    /// a live upload writes to its file continuously, so a day without a write is dead.
    async fn remove_stale_partials(&self) {
        let Ok(mut dir) = fs::read_dir(&self.dir).await else {
            return;
        };
        while let Ok(Some(entry)) = dir.next_entry().await {
            let path = entry.path();
            if !path.to_string_lossy().ends_with(PARTIAL_SUFFIX) {
                continue;
            }
            let idle = entry
                .metadata()
                .await
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok());
            if idle.is_some_and(|idle| idle > STALE_PARTIAL_AGE) {
                match fs::remove_file(&path).await {
                    Ok(()) => {
                        tracing::info!(path = %path.display(), "removed an abandoned partial upload")
                    }
                    Err(e) => {
                        tracing::warn!(path = %path.display(), error = %e, "cannot remove an abandoned partial upload")
                    }
                }
            }
        }
    }

    async fn info_of(&self, name: &BackupName) -> Result<BlobInfo, StorageError> {
        let path = self.path_of(name);
        let stat = match fs::metadata(&path).await {
            Ok(stat) if stat.is_file() => stat,
            Ok(_) => return Err(self.not_found(name)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(self.not_found(name)),
            Err(e) => return Err(io_error("cannot read", &path, e)),
        };
        let metadata = read_sidecar(&self.sidecar_of(name)).await?;
        let last_modified = stat
            .modified()
            .map(OffsetDateTime::from)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH);
        Ok(BlobInfo {
            name: name.to_string(),
            size: stat.len(),
            etag: Some(format!(
                "{}-{}",
                stat.len(),
                last_modified.unix_timestamp_nanos()
            )),
            last_modified,
            metadata,
        })
    }
}

impl LocalStore {
    fn record_path(&self, name: &RecordName) -> PathBuf {
        self.dir.join(name.as_str())
    }

    fn record_sidecar(&self, name: &RecordName) -> PathBuf {
        self.dir.join(format!("{name}{SIDECAR_SUFFIX}"))
    }

    async fn record_info(&self, name: &RecordName) -> Result<Option<BlobInfo>, StorageError> {
        let path = self.record_path(name);
        let stat = match fs::metadata(&path).await {
            Ok(stat) if stat.is_file() => stat,
            Ok(_) => return Ok(None),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io_error("cannot read", &path, e)),
        };
        let last_modified = stat
            .modified()
            .map(OffsetDateTime::from)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH);
        Ok(Some(BlobInfo {
            name: name.to_string(),
            size: stat.len(),
            etag: None,
            last_modified,
            metadata: read_sidecar(&self.record_sidecar(name)).await?,
        }))
    }
}

fn io_error(action: &'static str, path: &Path, source: std::io::Error) -> StorageError {
    StorageError::Io {
        action,
        path: path.display().to_string(),
        source,
    }
}

async fn read_sidecar(path: &Path) -> Result<BlobMetadata, StorageError> {
    match fs::read(path).await {
        Ok(bytes) => Ok(serde_json::from_slice(&bytes).unwrap_or_else(|e| {
            tracing::warn!(path = %path.display(), error = %e, "ignoring an unreadable metadata sidecar");
            BlobMetadata::new()
        })),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(BlobMetadata::new()),
        Err(e) => Err(io_error("cannot read", path, e)),
    }
}

/// Writes `bytes` to `path` through an owner-only temporary file and a rename, so readers
/// never see a half-written file (`fsmode::write_private_atomic`; its temporary name starts
/// with a dot, which no backup name does, so a listing never shows it).
async fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), StorageError> {
    let (target, bytes) = (path.to_owned(), bytes.to_vec());
    tokio::task::spawn_blocking(move || crate::fsmode::write_private_atomic(&target, &bytes))
        .await
        .map_err(|e| io_error("cannot write", path, std::io::Error::other(e)))?
        .map_err(|e| io_error("cannot write", path, e))
}

#[async_trait]
impl BlobStore for LocalStore {
    fn location(&self) -> String {
        format!("local:{}", self.dir.display())
    }

    async fn ensure_ready(&self) -> Result<(), StorageError> {
        // Every tenant's data lives here: a folder we create is owner-only.
        crate::fsmode::create_private_dir_all(&self.dir)
            .map_err(|e| io_error("cannot create folder", &self.dir, e))?;
        self.remove_stale_partials().await;
        Ok(())
    }

    async fn begin_upload(&self, name: &BackupName) -> Result<Box<dyn BlobUpload>, StorageError> {
        self.ensure_ready().await?;
        let partial = self.dir.join(format!("{name}{PARTIAL_SUFFIX}"));
        let file = crate::fsmode::private_file_async()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&partial)
            .await
            .map_err(|e| io_error("cannot create", &partial, e))?;
        Ok(Box::new(LocalUpload {
            store: self.clone(),
            name: name.clone(),
            partial,
            file,
        }))
    }

    async fn list(&self) -> Result<Vec<BlobInfo>, StorageError> {
        let mut dir = match fs::read_dir(&self.dir).await {
            Ok(dir) => dir,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(io_error("cannot list", &self.dir, e)),
        };
        let mut blobs = Vec::new();
        while let Some(entry) = dir
            .next_entry()
            .await
            .map_err(|e| io_error("cannot list", &self.dir, e))?
        {
            let file_name = entry.file_name();
            let Some(file_name) = file_name.to_str() else {
                continue;
            };
            // Sidecars, partial uploads and foreign files fail name validation and are skipped.
            let Ok(name) = BackupName::parse(file_name) else {
                if let Some(record) = RecordName::parse(file_name) {
                    match self.record_info(&record).await {
                        Ok(Some(info)) => blobs.push(info),
                        Ok(None) => {}
                        Err(e) => return Err(e),
                    }
                }
                continue;
            };
            match self.info_of(&name).await {
                Ok(info) => blobs.push(info),
                // Deleted between read_dir and stat: not a backup any more.
                Err(StorageError::NotFound { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(blobs)
    }

    async fn head(&self, name: &BackupName) -> Result<BlobInfo, StorageError> {
        self.info_of(name).await
    }

    async fn get_from(&self, name: &BackupName, start: u64) -> Result<ByteStream, StorageError> {
        let path = self.path_of(name);
        let mut file = match fs::File::open(&path).await {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(self.not_found(name)),
            Err(e) => return Err(io_error("cannot open", &path, e)),
        };
        file.seek(std::io::SeekFrom::Start(start))
            .await
            .map_err(|e| io_error("cannot seek", &path, e))?;
        let stream = ReaderStream::with_capacity(file, 256 * 1024)
            .map(move |chunk| chunk.map_err(|e| io_error("cannot read", &path, e)));
        Ok(Box::pin(stream))
    }

    async fn delete(&self, name: &BackupName) -> Result<(), StorageError> {
        let path = self.path_of(name);
        match fs::remove_file(&path).await {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(self.not_found(name)),
            Err(e) => return Err(io_error("cannot delete", &path, e)),
        }
        let sidecar = self.sidecar_of(name);
        match fs::remove_file(&sidecar).await {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(io_error("cannot delete", &sidecar, e))
            }
            _ => Ok(()),
        }
    }

    async fn put_record(
        &self,
        name: &RecordName,
        body: Bytes,
        metadata: BlobMetadata,
    ) -> Result<(), StorageError> {
        self.ensure_ready().await?;
        // Metadata first: a listed record always has its summary beside it.
        let json = serde_json::to_vec_pretty(&metadata).expect("a string map serialises");
        write_atomically(&self.record_sidecar(name), &json).await?;
        write_atomically(&self.record_path(name), &body).await
    }

    async fn get_record(&self, name: &RecordName) -> Result<Option<Bytes>, StorageError> {
        let path = self.record_path(name);
        match fs::read(&path).await {
            Ok(bytes) => Ok(Some(Bytes::from(bytes))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_error("cannot read", &path, e)),
        }
    }

    async fn delete_record(&self, name: &RecordName) -> Result<(), StorageError> {
        for path in [self.record_path(name), self.record_sidecar(name)] {
            match fs::remove_file(&path).await {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(io_error("cannot delete", &path, e)),
            }
        }
        Ok(())
    }
}

/// An upload into `NAME.partial`.
struct LocalUpload {
    store: LocalStore,
    name: BackupName,
    partial: PathBuf,
    file: fs::File,
}

#[async_trait]
impl BlobUpload for LocalUpload {
    async fn put_block(&mut self, data: Bytes) -> Result<(), StorageError> {
        self.file
            .write_all(&data)
            .await
            .map_err(|e| io_error("cannot write", &self.partial, e))
    }

    async fn commit(mut self: Box<Self>, metadata: BlobMetadata) -> Result<BlobInfo, StorageError> {
        let result = async {
            self.file
                .flush()
                .await
                .map_err(|e| io_error("cannot write", &self.partial, e))?;
            self.file
                .sync_all()
                .await
                .map_err(|e| io_error("cannot sync", &self.partial, e))?;
            // The sidecar goes first: a listed backup always has its metadata beside it.
            let json = serde_json::to_vec_pretty(&metadata).expect("a string map serialises");
            write_atomically(&self.store.sidecar_of(&self.name), &json).await?;
            let target = self.store.path_of(&self.name);
            fs::rename(&self.partial, &target)
                .await
                .map_err(|e| io_error("cannot rename", &self.partial, e))
        }
        .await;
        if let Err(e) = result {
            let _ = fs::remove_file(&self.partial).await;
            let _ = fs::remove_file(self.store.sidecar_of(&self.name)).await;
            return Err(e);
        }
        self.store.info_of(&self.name).await
    }

    async fn abort(self: Box<Self>) {
        drop(self.file);
        if let Err(e) = fs::remove_file(&self.partial).await {
            tracing::warn!(path = %self.partial.display(), error = %e, "could not remove a partial upload");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, SystemTime};

    #[tokio::test]
    async fn ensure_ready_removes_only_abandoned_partials() {
        let dir = tempfile::tempdir().unwrap();
        let old = dir.path().join("a.sql.partial");
        let fresh = dir.path().join("b.sql.partial");
        let backup = dir.path().join("c.sql");
        for path in [&old, &fresh, &backup] {
            std::fs::write(path, b"x").unwrap();
        }
        let two_days_ago = SystemTime::now() - Duration::from_secs(48 * 3600);
        for path in [&old, &backup] {
            std::fs::File::options()
                .write(true)
                .open(path)
                .unwrap()
                .set_modified(two_days_ago)
                .unwrap();
        }
        LocalStore::new(dir.path()).ensure_ready().await.unwrap();
        assert!(!old.exists(), "an abandoned partial upload is removed");
        assert!(fresh.exists(), "a live upload is left alone");
        assert!(backup.exists(), "backups are never touched");
    }
}
