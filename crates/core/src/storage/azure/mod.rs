//! The Azure Blob Storage backend of `BlobStore`, on the official SDK (`azure_storage_blob`):
//! block uploads committed atomically with metadata, streamed ranged downloads, listing with
//! metadata, and the mapping of Azure's answers onto `StorageError`.

pub mod connection;
mod error;
mod upload;

use std::fmt;
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use azure_core::http::{ClientOptions, ExponentialRetryOptions, RetryOptions};
use azure_storage_blob::models::{
    BlobClientDeleteOptions, BlobClientDownloadOptions, BlobClientGetPropertiesResultHeaders,
    BlobContainerClientListBlobsOptions, DeleteSnapshotsOptionType, HttpRange,
    ListBlobsIncludeItem,
};
use azure_storage_blob::{BlobContainerClient, BlobContainerClientOptions};
use futures::{StreamExt, TryStreamExt};
use time::OffsetDateTime;

pub use connection::{AzureConnection, Credentials, Secret};
use error::{error_code_of, status_of, ErrorMapper};
use upload::AzureUpload;

use crate::catalog::{BackupName, RecordName};
use crate::storage::{BlobInfo, BlobMetadata, BlobStore, BlobUpload, ByteStream, StorageError};

/// How long a SAS signed from the account key stays valid, and when the store signs a new
/// one, so a long-running server never works with an expired SAS.
const SAS_LIFETIME: Duration = Duration::from_secs(24 * 3600);
const SAS_RENEW_AFTER: Duration = Duration::from_secs(6 * 3600);

/// A container of an Azure storage account holding backups at its root.
pub struct AzureStore {
    connection: AzureConnection,
    container: String,
    errors: ErrorMapper,
    list_page_size: Option<u32>,
    client: Mutex<CachedClient>,
}

struct CachedClient {
    built: Instant,
    client: Arc<BlobContainerClient>,
}

impl fmt::Debug for AzureStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AzureStore")
            .field("location", &self.location())
            .field("service_url", &self.connection.service_url())
            .field("list_page_size", &self.list_page_size)
            .finish_non_exhaustive()
    }
}

impl AzureStore {
    /// A store for `container`, reached through an `AZURE_STORAGE_CONNECTION_STRING`.
    pub fn from_connection_string(conn: &str, container: &str) -> Result<Self, StorageError> {
        AzureStore::new(AzureConnection::parse(conn)?, container)
    }

    /// A store for `container` of an already parsed connection.
    pub fn new(connection: AzureConnection, container: &str) -> Result<Self, StorageError> {
        validate_container_name(container)?;
        let errors = ErrorMapper::new(format!("azure:{}/{container}", connection.account()));
        let client = build_client(&connection, container)?;
        Ok(AzureStore {
            connection,
            container: container.to_owned(),
            errors,
            list_page_size: None,
            client: Mutex::new(CachedClient {
                built: Instant::now(),
                client: Arc::new(client),
            }),
        })
    }

    /// Lists in pages of at most `size` blobs (Azure's default and maximum is 5000); tests
    /// use a small size to exercise pagination.
    pub fn with_list_page_size(mut self, size: u32) -> Self {
        self.list_page_size = Some(size.clamp(1, 5000));
        self
    }

    /// The container's name.
    pub fn container(&self) -> &str {
        &self.container
    }

    /// Deletes the whole container with every blob in it (test clean-up; not used by jobs).
    pub async fn delete_container(&self) -> Result<(), StorageError> {
        match self.client()?.delete(None).await {
            Ok(_) => Ok(()),
            Err(e) if error_code_of(&e) == Some("ContainerNotFound") => Ok(()),
            Err(e) => Err(self.errors.map(e, None)),
        }
    }

    /// The container client, rebuilt with a fresh SAS when the signed one is getting old.
    fn client(&self) -> Result<Arc<BlobContainerClient>, StorageError> {
        let mut cached = self.client.lock().unwrap_or_else(|p| p.into_inner());
        if self.connection.signs_its_own_sas() && cached.built.elapsed() > SAS_RENEW_AFTER {
            let client = build_client(&self.connection, &self.container)?;
            *cached = CachedClient {
                built: Instant::now(),
                client: Arc::new(client),
            };
        }
        Ok(cached.client.clone())
    }

    fn blob_client(
        &self,
        name: &BackupName,
    ) -> Result<azure_storage_blob::BlobClient, StorageError> {
        Ok(self.client()?.blob_client(name.as_str()))
    }

    fn map_for(&self, name: &BackupName) -> impl Fn(azure_core::Error) -> StorageError + '_ {
        let name = name.as_str().to_owned();
        move |e| self.errors.map(e, Some(&name))
    }
}

fn build_client(
    connection: &AzureConnection,
    container: &str,
) -> Result<BlobContainerClient, StorageError> {
    let expiry = OffsetDateTime::now_utc() + SAS_LIFETIME;
    let url = connection.container_url(container, expiry)?;
    // The SDK's default retries for up to a minute; a few quick tries are enough here, and
    // the jobs decide themselves whether to resume after `Unreachable`.
    let retry = RetryOptions::exponential(ExponentialRetryOptions {
        initial_delay: azure_core::time::Duration::milliseconds(250),
        max_retries: 3,
        max_total_elapsed: azure_core::time::Duration::seconds(10),
        max_delay: azure_core::time::Duration::seconds(2),
    });
    let options = BlobContainerClientOptions {
        client_options: ClientOptions {
            retry,
            ..Default::default()
        },
        ..Default::default()
    };
    BlobContainerClient::new(url, None, Some(options)).map_err(|e| {
        StorageError::Config(format!(
            "cannot use the blob endpoint {}: {}",
            connection.service_url(),
            error::describe(&e)
        ))
    })
}

/// An ETag without the quotes HTTP headers put around it, as listings give it.
pub(crate) fn etag_text(etag: &azure_core::http::Etag) -> String {
    etag.to_string().trim_matches('"').to_owned()
}

/// Azure's container naming rules, checked up front for a clear message.
fn validate_container_name(name: &str) -> Result<(), StorageError> {
    let ok = (3..=63).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-')
        && !name.contains("--");
    if ok {
        Ok(())
    } else {
        Err(StorageError::Config(format!(
            "{name:?} is not a valid Azure container name (3-63 lower-case letters, digits and \
             single hyphens, starting and ending with a letter or digit)"
        )))
    }
}

#[async_trait]
impl BlobStore for AzureStore {
    fn location(&self) -> String {
        self.errors.store().to_owned()
    }

    async fn ensure_ready(&self) -> Result<(), StorageError> {
        let client = self.client()?;
        let err = match client.create(None).await {
            Ok(_) => return Ok(()),
            Err(e) if error_code_of(&e) == Some("ContainerAlreadyExists") => return Ok(()),
            Err(e) => self.errors.map(e, None),
        };
        // A SAS scoped to the container may not create containers; if it can list this one,
        // the container exists and is usable.
        if matches!(err, StorageError::Auth { .. }) {
            let probe = BlobContainerClientListBlobsOptions {
                maxresults: Some(1),
                ..Default::default()
            };
            let listed = match client.list_blobs(Some(probe)) {
                Ok(pager) => pager.into_pages().try_next().await.is_ok(),
                Err(_) => false,
            };
            if listed {
                return Ok(());
            }
        }
        Err(err)
    }

    async fn begin_upload(&self, name: &BackupName) -> Result<Box<dyn BlobUpload>, StorageError> {
        let blob = self.blob_client(name)?.block_blob_client();
        Ok(Box::new(AzureUpload::new(
            blob,
            name.as_str().to_owned(),
            self.errors.clone(),
        )))
    }

    async fn list(&self) -> Result<Vec<BlobInfo>, StorageError> {
        let options = BlobContainerClientListBlobsOptions {
            include: Some(vec![ListBlobsIncludeItem::Metadata]),
            maxresults: self.list_page_size.map(|n| n as i32),
            ..Default::default()
        };
        let client = self.client()?;
        let mut pages = client
            .list_blobs(Some(options))
            .map_err(|e| self.errors.map(e, None))?
            .into_pages();
        let mut blobs = Vec::new();
        loop {
            let page = match pages.try_next().await {
                Ok(Some(page)) => page,
                Ok(None) => break,
                // No container yet means no backups yet.
                Err(e) if error_code_of(&e) == Some("ContainerNotFound") => return Ok(Vec::new()),
                Err(e) => return Err(self.errors.map(e, None)),
            };
            let page = page.into_model().map_err(|e| self.errors.map(e, None))?;
            for item in page.blob_items {
                let Some(name) = item.name else { continue };
                // Backups sit at the root; anything in a virtual folder is someone else's.
                if name.contains('/') {
                    continue;
                }
                let properties = item.properties.unwrap_or_default();
                let metadata = item
                    .metadata
                    .and_then(|m| m.values)
                    .map(|values| values.into_iter().collect())
                    .unwrap_or_default();
                blobs.push(BlobInfo {
                    name,
                    size: properties.content_length.unwrap_or(0),
                    last_modified: properties
                        .last_modified
                        .unwrap_or(OffsetDateTime::UNIX_EPOCH),
                    etag: properties.etag.map(|e| etag_text(&e)),
                    metadata,
                });
            }
        }
        Ok(blobs)
    }

    async fn head(&self, name: &BackupName) -> Result<BlobInfo, StorageError> {
        let map = self.map_for(name);
        let response = self
            .blob_client(name)?
            .get_properties(None)
            .await
            .map_err(&map)?;
        Ok(BlobInfo {
            name: name.as_str().to_owned(),
            size: response.content_length().map_err(&map)?.unwrap_or(0),
            last_modified: response
                .last_modified()
                .map_err(&map)?
                .unwrap_or(OffsetDateTime::UNIX_EPOCH),
            etag: response.etag().map_err(&map)?.map(|e| etag_text(&e)),
            metadata: response.metadata().map_err(&map)?.into_iter().collect(),
        })
    }

    async fn get_from(&self, name: &BackupName, start: u64) -> Result<ByteStream, StorageError> {
        let map = self.map_for(name);
        // One ranged GET whose body is streamed: a partition larger than any blob keeps the
        // SDK from splitting the download into buffered parallel parts.
        let whole = NonZeroUsize::new(usize::try_from(1u64 << 50).unwrap_or(usize::MAX / 2))
            .expect("non-zero");
        let options = BlobClientDownloadOptions {
            range: Some(HttpRange::from_offset(start)),
            parallel: NonZeroUsize::new(1),
            partition_size: Some(whole),
            ..Default::default()
        };
        let blob = self.blob_client(name)?;
        let body = match blob.download(Some(options)).await {
            Ok(result) => result.body,
            // 416: the range starts at or past the end. At the end is an empty remainder.
            Err(e) if status_of(&e) == Some(416) => {
                let size = self.head(name).await?.size;
                if start == size {
                    return Ok(Box::pin(futures::stream::empty()));
                }
                return Err(StorageError::Request {
                    store: self.location(),
                    message: format!("{name} has {size} bytes; cannot read from offset {start}"),
                });
            }
            Err(e) => return Err(map(e)),
        };
        let errors = self.errors.clone();
        let name = name.as_str().to_owned();
        Ok(Box::pin(body.map(move |chunk| {
            chunk.map_err(|e| errors.map(e, Some(&name)))
        })))
    }

    async fn delete(&self, name: &BackupName) -> Result<(), StorageError> {
        let options = BlobClientDeleteOptions {
            delete_snapshots: Some(DeleteSnapshotsOptionType::Include),
            ..Default::default()
        };
        self.blob_client(name)?
            .delete(Some(options))
            .await
            .map_err(self.map_for(name))?;
        Ok(())
    }

    async fn put_record(
        &self,
        name: &RecordName,
        body: bytes::Bytes,
        metadata: BlobMetadata,
    ) -> Result<(), StorageError> {
        // One staged block and a commit: the record appears whole, with its metadata.
        let blob = self
            .client()?
            .blob_client(name.as_str())
            .block_blob_client();
        let mut upload: Box<dyn BlobUpload> = Box::new(AzureUpload::new(
            blob,
            name.as_str().to_owned(),
            self.errors.clone(),
        ));
        upload.put_block(body).await?;
        upload.commit(metadata).await?;
        Ok(())
    }

    async fn get_record(&self, name: &RecordName) -> Result<Option<bytes::Bytes>, StorageError> {
        let blob = self.client()?.blob_client(name.as_str());
        let body = match blob.download(None).await {
            Ok(result) => result.body,
            Err(e) if status_of(&e) == Some(404) => return Ok(None),
            Err(e) => return Err(self.errors.map(e, Some(name.as_str()))),
        };
        let chunks: Vec<bytes::Bytes> = body
            .map(|chunk| chunk.map_err(|e| self.errors.map(e, Some(name.as_str()))))
            .try_collect()
            .await?;
        Ok(Some(chunks.concat().into()))
    }

    async fn delete_record(&self, name: &RecordName) -> Result<(), StorageError> {
        match self.client()?.blob_client(name.as_str()).delete(None).await {
            Ok(_) => Ok(()),
            Err(e) if status_of(&e) == Some(404) => Ok(()),
            Err(e) => Err(self.errors.map(e, Some(name.as_str()))),
        }
    }
}
