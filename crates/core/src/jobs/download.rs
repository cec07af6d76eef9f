//! The download job: a stored backup to a local file through `FILE.part`, resumed with a
//! ranged request after a break (within one run, and across runs from an existing `.part`),
//! checked against its sha256, then renamed into place.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use serde::Serialize;
use sha2::{Digest, Sha256};
use tokio::fs;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::bridge::{spawn_blob_reader, RetryPolicy};
use super::{Cancel, Phase, Progress};
use crate::catalog::{BackupMetadata, BackupName};
use crate::error::{Error, Result};
use crate::storage::{BlobInfo, BlobStore, StorageError};

#[derive(Debug, Clone)]
pub struct DownloadRequest {
    pub name: BackupName,
    pub destination: PathBuf,
    /// Replace an existing file at the destination.
    pub force: bool,
    pub retry: RetryPolicy,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct DownloadOutcome {
    pub name: BackupName,
    pub path: PathBuf,
    pub size: u64,
    pub sha256: String,
    /// `Some(true)` when the recorded checksum matched; `None` for legacy backups.
    pub checksum_verified: Option<bool>,
    /// Bytes already on disk from an earlier, interrupted download.
    pub resumed_from: u64,
    pub duration_ms: u64,
}

/// The temporary file a download writes before it is verified.
pub fn part_path(destination: &Path) -> PathBuf {
    let mut name = destination.as_os_str().to_owned();
    name.push(".part");
    PathBuf::from(name)
}

pub async fn run(
    store: &Arc<dyn BlobStore>,
    request: &DownloadRequest,
    progress: &Progress,
    cancel: &Cancel,
) -> Result<DownloadOutcome> {
    let started = Instant::now();
    let destination = &request.destination;
    if !request.force && fs::try_exists(destination).await.unwrap_or(false) {
        return Err(Error::AlreadyExists {
            path: destination.display().to_string(),
        });
    }
    let info = store.head(&request.name).await?;
    let expected = BackupMetadata::from_map(&info.metadata).and_then(|m| m.sha256);
    let part = part_path(destination);
    let (mut hasher, resumed_from) = resume_state(&part, &info).await?;
    tracing::info!(backup = %request.name, path = %destination.display(), size = info.size, resumed_from, "download started");
    progress.phase(
        Phase::Downloading,
        Some(request.name.to_string()),
        Some(info.size),
    );

    // Owner-only: a backup holds every tenant's data.
    let file = crate::fsmode::private_file_async()
        .create(true)
        .append(true)
        .open(&part)
        .await
        .map_err(|e| Error::io("cannot write", &part, e))?;
    // Chunks from the network are small; 1 MiB writes keep the blocking-pool hops few.
    let mut file = tokio::io::BufWriter::with_capacity(1 << 20, file);
    let mut chunks = spawn_blob_reader(
        store.clone(),
        request.name.clone(),
        resumed_from,
        Phase::Downloading,
        progress.clone(),
        cancel.clone(),
        request.retry,
    );
    let mut written = resumed_from;
    let received: Result<()> = async {
        while let Some(chunk) = chunks.recv().await {
            let chunk = chunk?;
            if cancel.is_cancelled() {
                return Err(Error::Cancelled);
            }
            hasher.update(&chunk);
            file.write_all(&chunk)
                .await
                .map_err(|e| Error::io("cannot write", &part, e))?;
            written += chunk.len() as u64;
            progress.bytes(Phase::Downloading, written, None, Some(info.size), false);
        }
        Ok(())
    }
    .await;
    // Whatever happened, what was received stays in the .part file for the next run.
    let flushed = file.flush().await;
    received?;
    flushed.map_err(|e| Error::io("cannot write", &part, e))?;
    file.get_ref()
        .sync_all()
        .await
        .map_err(|e| Error::io("cannot write", &part, e))?;
    drop(file);
    if written != info.size {
        return Err(Error::Storage(StorageError::Unreachable {
            store: store.location(),
            message: format!(
                "the download ended after {written} of {} bytes; run it again to resume",
                info.size
            ),
        }));
    }
    let sha256 = hex::encode(hasher.finalize());
    let checksum_verified = match expected {
        Some(expected) if !expected.eq_ignore_ascii_case(&sha256) => {
            // These bytes are wrong, so resuming from them would be wrong too.
            let _ = fs::remove_file(&part).await;
            let _ = fs::remove_file(part_identity(&part)).await;
            return Err(Error::ChecksumMismatch {
                name: request.name.to_string(),
                expected,
                actual: sha256,
            });
        }
        Some(_) => Some(true),
        None => None,
    };
    if request.force && cfg!(windows) {
        let _ = fs::remove_file(destination).await;
    }
    let _ = fs::remove_file(part_identity(&part)).await;
    fs::rename(&part, destination)
        .await
        .map_err(|e| Error::io("cannot rename", &part, e))?;
    progress.bytes(Phase::Downloading, written, None, Some(info.size), true);
    let duration_ms = started.elapsed().as_millis() as u64;
    tracing::info!(backup = %request.name, size = written, duration_ms, ?checksum_verified, "download finished");
    Ok(DownloadOutcome {
        name: request.name.clone(),
        path: destination.clone(),
        size: written,
        sha256,
        checksum_verified,
        resumed_from,
        duration_ms,
    })
}

/// Hashes what an earlier run left in the `.part` file, so the download continues after it.
async fn resume_state(part: &Path, info: &BlobInfo) -> Result<(Sha256, u64)> {
    let mut hasher = Sha256::new();
    let identity = part_identity(part);
    let expected = PartIdentity::of(info);
    let existing = fs::metadata(part).await.map(|m| m.len()).ok();
    let recorded: Option<PartIdentity> = fs::read(&identity)
        .await
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok());
    let resumable =
        matches!(existing, Some(len) if len <= info.size) && recorded.as_ref() == Some(&expected);
    if !resumable {
        // Absent, or the start of something else (another backup, or this one replaced):
        // start over, and record what this .part file holds.
        if existing.is_some() {
            fs::remove_file(part)
                .await
                .map_err(|e| Error::io("cannot remove", part, e))?;
        }
        let json = serde_json::to_vec(&expected).expect("the identity serialises");
        fs::write(&identity, json)
            .await
            .map_err(|e| Error::io("cannot write", &identity, e))?;
        return Ok((hasher, 0));
    }
    let mut file = fs::File::open(part)
        .await
        .map_err(|e| Error::io("cannot read", part, e))?;
    let mut buffer = vec![0u8; 1024 * 1024];
    loop {
        let n = file
            .read(&mut buffer)
            .await
            .map_err(|e| Error::io("cannot read", part, e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
    }
    Ok((hasher, existing.unwrap_or(0)))
}

/// Which blob a `.part` file is the start of, kept beside it as `FILE.part.json`, so a
/// resume never appends one backup's bytes to another's.
#[derive(Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
struct PartIdentity {
    name: String,
    size: u64,
    etag: Option<String>,
}

impl PartIdentity {
    fn of(info: &BlobInfo) -> Self {
        PartIdentity {
            name: info.name.clone(),
            size: info.size,
            etag: info.etag.clone(),
        }
    }
}

fn part_identity(part: &Path) -> PathBuf {
    let mut name = part.as_os_str().to_owned();
    name.push(".json");
    PathBuf::from(name)
}
