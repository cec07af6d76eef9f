//! A block-blob upload: blocks are staged concurrently (a bounded number at a time) and the
//! blob appears only when the block list is committed with its metadata.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use azure_storage_blob::models::{
    BlockBlobClientCommitBlockListOptions, BlockBlobClientCommitBlockListResultHeaders,
    BlockLookupList,
};
use azure_storage_blob::BlockBlobClient;
use bytes::Bytes;
use time::OffsetDateTime;
use tokio::task::{JoinError, JoinSet};

use super::error::ErrorMapper;
use crate::storage::{BlobInfo, BlobMetadata, BlobUpload, StorageError};

/// Stage requests in flight at once; together with the caller's block size this bounds the
/// memory an upload holds.
pub(crate) const MAX_IN_FLIGHT: usize = 4;

/// Azure's limit of blocks in one blob.
const MAX_BLOCKS: usize = 50_000;

pub(crate) struct AzureUpload {
    blob: Arc<BlockBlobClient>,
    name: String,
    errors: ErrorMapper,
    /// Random per upload, so two uploads to one name never share block ids.
    id_prefix: String,
    block_ids: Vec<Vec<u8>>,
    size: u64,
    in_flight: JoinSet<Result<(), StorageError>>,
}

impl AzureUpload {
    pub(crate) fn new(blob: BlockBlobClient, name: String, errors: ErrorMapper) -> Self {
        AzureUpload {
            blob: Arc::new(blob),
            name,
            errors,
            id_prefix: format!("{:016x}", rand::random::<u64>()),
            block_ids: Vec::new(),
            size: 0,
            in_flight: JoinSet::new(),
        }
    }

    /// Waits for one staged block; a failed stage fails the upload.
    async fn join_one(&mut self) -> Result<(), StorageError> {
        match self.in_flight.join_next().await {
            None => Ok(()),
            Some(done) => self.check(done),
        }
    }

    fn check(&self, done: Result<Result<(), StorageError>, JoinError>) -> Result<(), StorageError> {
        match done {
            Ok(result) => result,
            Err(join) if join.is_cancelled() => Err(StorageError::Cancelled),
            Err(join) => Err(StorageError::Request {
                store: self.errors.store().to_owned(),
                message: format!("staging a block of {} failed: {join}", self.name),
            }),
        }
    }
}

#[async_trait]
impl BlobUpload for AzureUpload {
    async fn put_block(&mut self, data: Bytes) -> Result<(), StorageError> {
        // Azure refuses zero-length blocks; an empty block adds nothing anyway.
        if data.is_empty() {
            return Ok(());
        }
        if self.block_ids.len() >= MAX_BLOCKS {
            return Err(StorageError::Request {
                store: self.errors.store().to_owned(),
                message: format!(
                    "{} would need more than {MAX_BLOCKS} blocks; use larger blocks",
                    self.name
                ),
            });
        }
        // Reap finished stages first, so a failure stops the upload early, not at commit.
        while let Some(done) = self.in_flight.try_join_next() {
            self.check(done)?;
        }
        while self.in_flight.len() >= MAX_IN_FLIGHT {
            self.join_one().await?;
        }
        // Equal-length ids, as Azure requires within one blob; the SDK base64-encodes them.
        let id = format!("{}-{:08}", self.id_prefix, self.block_ids.len()).into_bytes();
        self.block_ids.push(id.clone());
        self.size += data.len() as u64;

        let blob = self.blob.clone();
        let errors = self.errors.clone();
        let name = self.name.clone();
        self.in_flight.spawn(async move {
            let len = data.len() as u64;
            blob.stage_block(&id, len, data.into(), None)
                .await
                .map(drop)
                .map_err(|e| errors.map(e, Some(&name)))
        });
        Ok(())
    }

    async fn commit(mut self: Box<Self>, metadata: BlobMetadata) -> Result<BlobInfo, StorageError> {
        while !self.in_flight.is_empty() {
            self.join_one().await?;
        }
        let blocks = BlockLookupList {
            latest: Some(std::mem::take(&mut self.block_ids)),
            ..Default::default()
        };
        let content = blocks
            .try_into()
            .map_err(|e| self.errors.map(e, Some(&self.name)))?;
        let options = BlockBlobClientCommitBlockListOptions {
            metadata: Some(
                metadata
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect::<HashMap<_, _>>(),
            ),
            ..Default::default()
        };
        let response = self
            .blob
            .commit_block_list(content, Some(options))
            .await
            .map_err(|e| self.errors.map(e, Some(&self.name)))?;
        let etag = response.etag().ok().flatten().map(|e| super::etag_text(&e));
        let last_modified = response
            .last_modified()
            .ok()
            .flatten()
            .unwrap_or_else(OffsetDateTime::now_utc);
        Ok(BlobInfo {
            name: self.name.clone(),
            size: self.size,
            last_modified,
            etag,
            metadata,
        })
    }

    async fn abort(mut self: Box<Self>) {
        // Uncommitted blocks are garbage-collected by Azure (after a week); what matters is
        // that no request of this upload is still running once abort returns.
        self.in_flight.abort_all();
        while self.in_flight.join_next().await.is_some() {}
    }
}
