//! Blob storage: the `BlobStore` trait the jobs write to and read from, and its two backends
//! (Azure Blob Storage and a local folder).
//!
//! Every backend commits an upload atomically: until `BlobUpload::commit` succeeds nothing is
//! listed under the blob's name, so a failed or cancelled backup leaves no visible blob.

pub mod azure;
pub mod local;

use std::collections::BTreeMap;
use std::fmt;
use std::pin::Pin;

use async_trait::async_trait;
use bytes::Bytes;
use futures::Stream;
use time::OffsetDateTime;

use crate::catalog::{BackupName, RecordName};

/// A stream of a blob's bytes, in the order they are stored.
pub type ByteStream = Pin<Box<dyn Stream<Item = Result<Bytes, StorageError>> + Send>>;

/// User metadata stored with a blob. Keys are lower-case `[a-z0-9_]`, values ASCII (the
/// catalog percent-encodes anything else), so they survive Azure's `x-ms-meta-*` headers.
pub type BlobMetadata = BTreeMap<String, String>;

/// What a store knows about one committed blob.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobInfo {
    pub name: String,
    pub size: u64,
    pub last_modified: OffsetDateTime,
    pub etag: Option<String>,
    pub metadata: BlobMetadata,
}

/// Errors of every storage backend.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("backup {name} does not exist in {store}")]
    NotFound { name: String, store: String },
    #[error("invalid storage configuration: {0}")]
    Config(String),
    #[error("storage refused the credentials for {store}: {message}")]
    Auth { store: String, message: String },
    #[error("cannot reach {store}: {message}")]
    Unreachable { store: String, message: String },
    #[error("storage request to {store} failed: {message}")]
    Request { store: String, message: String },
    #[error("{action} {path}: {source}")]
    Io {
        action: &'static str,
        path: String,
        source: std::io::Error,
    },
    #[error("the upload was cancelled")]
    Cancelled,
}

impl StorageError {
    /// Whether retrying the same request later may succeed (network breaks, 5xx, timeouts).
    pub fn is_transient(&self) -> bool {
        matches!(self, StorageError::Unreachable { .. })
    }
}

/// A blob store holding backups at its root.
#[async_trait]
pub trait BlobStore: Send + Sync + fmt::Debug {
    /// A human-readable location, without secrets (e.g. `azure:devstoreaccount1/database-backups`).
    fn location(&self) -> String;

    /// Makes the store usable: creates the container or folder when it is missing.
    async fn ensure_ready(&self) -> Result<(), StorageError>;

    /// Starts an upload; nothing is visible under `name` until the upload commits.
    async fn begin_upload(&self, name: &BackupName) -> Result<Box<dyn BlobUpload>, StorageError>;

    /// Every committed blob at the root with its metadata, in no particular order.
    async fn list(&self) -> Result<Vec<BlobInfo>, StorageError>;

    /// One committed blob's properties and metadata.
    async fn head(&self, name: &BackupName) -> Result<BlobInfo, StorageError>;

    /// The bytes of `name` from offset `start` to the end.
    async fn get_from(&self, name: &BackupName, start: u64) -> Result<ByteStream, StorageError>;

    /// Deletes a committed blob (and its metadata).
    async fn delete(&self, name: &BackupName) -> Result<(), StorageError>;

    /// Writes a small record kept beside a backup (its row-count manifest, its last
    /// verification), replacing one of the same name. `list` returns records too, with
    /// their metadata; they never parse as backup names.
    async fn put_record(
        &self,
        name: &RecordName,
        body: Bytes,
        metadata: BlobMetadata,
    ) -> Result<(), StorageError>;

    /// A record's bytes; `None` when there is none.
    async fn get_record(&self, name: &RecordName) -> Result<Option<Bytes>, StorageError>;

    /// Deletes a record; nothing happens when there is none.
    async fn delete_record(&self, name: &RecordName) -> Result<(), StorageError>;
}

/// An upload in progress: blocks in order, then an atomic commit with the metadata.
#[async_trait]
pub trait BlobUpload: Send {
    /// Appends the next block. Implementations may send several blocks concurrently but
    /// keep only a bounded number in flight, so memory stays flat.
    async fn put_block(&mut self, data: Bytes) -> Result<(), StorageError>;

    /// Makes the blob visible with its metadata, after every block is stored.
    async fn commit(self: Box<Self>, metadata: BlobMetadata) -> Result<BlobInfo, StorageError>;

    /// Discards everything staged so far; the blob never becomes visible.
    async fn abort(self: Box<Self>);
}
