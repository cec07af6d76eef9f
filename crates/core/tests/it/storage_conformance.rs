//! The storage conformance suite: one set of generic checks of the `BlobStore` contract, run
//! against every backend (a local folder, and Azure through Azurite), each test in its own
//! fresh folder or container so they run in parallel. Azure-only behaviour is tested in
//! `storage_azure`.

use bytes::Bytes;
use rythm_backup_core::storage::azure::AzureStore;
use rythm_backup_core::storage::local::LocalStore;
use rythm_backup_core::storage::{BlobInfo, BlobMetadata, BlobStore, StorageError};

use crate::support::{self, collect, name, test_bytes};

// --- the generic checks ------------------------------------------------------------------

pub(crate) fn metadata(pairs: &[(&str, &str)]) -> BlobMetadata {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Uploads `blocks` as one blob and commits it with `meta`.
pub(crate) async fn upload(
    store: &dyn BlobStore,
    raw_name: &str,
    blocks: &[Vec<u8>],
    meta: &BlobMetadata,
) -> BlobInfo {
    let mut upload = store
        .begin_upload(&name(raw_name))
        .await
        .expect("begin upload");
    for block in blocks {
        upload
            .put_block(Bytes::copy_from_slice(block))
            .await
            .expect("put block");
    }
    upload.commit(meta.clone()).await.expect("commit")
}

fn find<'a>(listed: &'a [BlobInfo], raw_name: &str) -> Option<&'a BlobInfo> {
    listed.iter().find(|b| b.name == raw_name)
}

#[track_caller]
fn assert_not_found(result: Result<impl Sized, StorageError>, raw_name: &str, store: &str) {
    match result {
        Err(StorageError::NotFound {
            name,
            store: in_store,
        }) => {
            assert_eq!(name, raw_name);
            assert_eq!(in_store, store);
        }
        Err(other) => panic!("{raw_name}: expected NotFound, got {other:?}"),
        Ok(_) => panic!("{raw_name}: expected NotFound, got a result"),
    }
}

/// Blocks of uneven sizes (more than the Azure backend keeps in flight) commit to one blob
/// with the exact size and metadata, readable whole and from any offset.
async fn blocks_commit_into_one_readable_blob(store: &dyn BlobStore) {
    let sizes = [
        65_536, 100_003, 1, 70_000, 12_345, 4_096, 999, 65_536, 31, 200_000,
    ];
    let blocks: Vec<Vec<u8>> = sizes
        .iter()
        .enumerate()
        .map(|(i, &len)| test_bytes(len, i as u64 + 1))
        .collect();
    let expected: Vec<u8> = blocks.concat();
    let meta = metadata(&[
        ("format", "custom"),
        ("compression", "zstd"),
        (
            "sha256",
            "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        ),
        ("database", "rythm_prod"),
        ("created_by", "conformance%20test"),
    ]);
    let raw = "rythm-backup-2026-01-15T10-30-00-851Z.dump.zst";

    let committed = upload(store, raw, &blocks, &meta).await;
    assert_eq!(committed.name, raw);
    assert_eq!(committed.size, expected.len() as u64);
    assert_eq!(committed.metadata, meta);

    let listed = store.list().await.expect("list");
    let entry = find(&listed, raw).expect("the committed blob is listed");
    assert_eq!(entry.size, expected.len() as u64);
    assert_eq!(entry.metadata, meta);

    let head = store.head(&name(raw)).await.expect("head");
    assert_eq!(head.size, expected.len() as u64);
    assert_eq!(head.metadata, meta);
    assert_eq!(head.etag, entry.etag);
    assert_eq!(head.etag, committed.etag);

    let whole = collect(store.get_from(&name(raw), 0).await.expect("get"))
        .await
        .unwrap();
    assert!(
        whole == expected,
        "bytes read back differ from those written"
    );

    let boundary = sizes[0] + sizes[1];
    let total = expected.len();
    for offset in [1, sizes[0], boundary, boundary + 1, total - 1, total] {
        let stream = store
            .get_from(&name(raw), offset as u64)
            .await
            .expect("ranged get");
        let tail = collect(stream).await.expect("ranged read");
        assert!(
            tail == expected[offset..],
            "bytes from offset {offset} differ"
        );
    }
}

/// A committed blob with no blocks at all is a valid empty blob.
async fn empty_upload_commits_an_empty_blob(store: &dyn BlobStore) {
    let raw = "empty-2026-01-15T10-30-00.sql";
    let meta = metadata(&[("format", "plain")]);
    let committed = upload(store, raw, &[], &meta).await;
    assert_eq!(committed.size, 0);

    let head = store.head(&name(raw)).await.expect("head");
    assert_eq!((head.size, head.metadata), (0, meta.clone()));
    let listed = store.list().await.expect("list");
    assert_eq!(find(&listed, raw).map(|b| b.size), Some(0));
    let bytes = collect(store.get_from(&name(raw), 0).await.expect("get"))
        .await
        .unwrap();
    assert!(bytes.is_empty());
}

/// Nothing of an upload that was never committed, or was aborted, can be seen.
async fn unfinished_uploads_stay_invisible(store: &dyn BlobStore) {
    let location = store.location();
    let block = test_bytes(50_000, 7);

    let dropped = "dropped-2026-01-15T10-30-00.sql.gz";
    let mut upload = store.begin_upload(&name(dropped)).await.expect("begin");
    upload
        .put_block(Bytes::from(block.clone()))
        .await
        .expect("put");
    upload
        .put_block(Bytes::from(block.clone()))
        .await
        .expect("put");
    drop(upload);

    let aborted = "aborted-2026-01-15T10-30-00.sql.zst";
    let mut upload = store.begin_upload(&name(aborted)).await.expect("begin");
    for _ in 0..6 {
        upload
            .put_block(Bytes::from(block.clone()))
            .await
            .expect("put");
    }
    upload.abort().await;

    let listed = store.list().await.expect("list");
    for raw in [dropped, aborted] {
        assert!(find(&listed, raw).is_none(), "{raw} is listed: {listed:?}");
        assert_not_found(store.head(&name(raw)).await, raw, &location);
        assert_not_found(store.get_from(&name(raw), 0).await, raw, &location);
    }
}

/// After a delete, the blob is gone for head, get, list and a second delete.
async fn deleted_blobs_are_not_found(store: &dyn BlobStore) {
    let location = store.location();
    let raw = "to-delete-2026-01-15T10-30-00.dump";
    let keep = "to-keep-2026-01-15T10-30-00.dump";
    upload(
        store,
        raw,
        &[test_bytes(1000, 3)],
        &metadata(&[("format", "custom")]),
    )
    .await;
    upload(store, keep, &[test_bytes(10, 4)], &BlobMetadata::new()).await;

    store.delete(&name(raw)).await.expect("delete");

    assert_not_found(store.head(&name(raw)).await, raw, &location);
    assert_not_found(store.get_from(&name(raw), 0).await, raw, &location);
    assert_not_found(store.delete(&name(raw)).await, raw, &location);
    let listed = store.list().await.expect("list");
    assert!(find(&listed, raw).is_none());
    assert_eq!(find(&listed, keep).map(|b| b.size), Some(10));
}

/// Names that never existed are NotFound, naming the blob and the store.
async fn missing_names_are_not_found(store: &dyn BlobStore) {
    let location = store.location();
    let raw = "never-written-2026-01-15T10-30-00.sql";
    assert_not_found(store.head(&name(raw)).await, raw, &location);
    assert_not_found(store.get_from(&name(raw), 0).await, raw, &location);
    assert_not_found(store.get_from(&name(raw), 10).await, raw, &location);
    assert_not_found(store.delete(&name(raw)).await, raw, &location);
}

/// A fresh store lists nothing; ensure_ready may run again; blobs without metadata list with
/// an empty map; the listing holds every blob (Azure: over several pages).
async fn list_returns_every_blob(store: &dyn BlobStore) {
    store
        .ensure_ready()
        .await
        .expect("ensure_ready is idempotent");
    assert_eq!(store.list().await.expect("list"), Vec::new());

    let mut expected = Vec::new();
    for i in 0..7u64 {
        let raw = format!("listed-{i}-2026-01-15T10-30-00.sql");
        let meta = if i % 2 == 0 {
            metadata(&[("index", &i.to_string())])
        } else {
            BlobMetadata::new()
        };
        upload(store, &raw, &[test_bytes(i as usize * 100, i)], &meta).await;
        expected.push((raw, i * 100, meta));
    }
    let mut listed: Vec<(String, u64, BlobMetadata)> = store
        .list()
        .await
        .expect("list")
        .into_iter()
        .map(|b| (b.name, b.size, b.metadata))
        .collect();
    listed.sort();
    assert_eq!(listed, expected);
}

/// Committing again under the same name replaces bytes and metadata.
async fn recommit_replaces_the_blob(store: &dyn BlobStore) {
    let raw = "replaced-2026-01-15T10-30-00.sql";
    upload(
        store,
        raw,
        &[test_bytes(5000, 1)],
        &metadata(&[("version", "1")]),
    )
    .await;
    let second = test_bytes(1234, 2);
    upload(
        store,
        raw,
        std::slice::from_ref(&second),
        &metadata(&[("version", "2")]),
    )
    .await;

    let head = store.head(&name(raw)).await.expect("head");
    assert_eq!(
        (head.size, head.metadata),
        (1234, metadata(&[("version", "2")]))
    );
    let bytes = collect(store.get_from(&name(raw), 0).await.expect("get"))
        .await
        .unwrap();
    assert!(bytes == second);
    assert_eq!(store.list().await.expect("list").len(), 1);
}

// --- the backends ------------------------------------------------------------------------

/// A store for one test, removed afterwards.
enum Fixture {
    /// The temp dir is held only to be removed on drop.
    Local {
        store: LocalStore,
        _dir: tempfile::TempDir,
    },
    Azure(AzureStore),
}

impl Fixture {
    async fn local() -> Fixture {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = LocalStore::new(dir.path().join("backups"));
        store.ensure_ready().await.expect("ensure_ready");
        Fixture::Local { store, _dir: dir }
    }

    async fn azure() -> Fixture {
        let store = azure_store();
        store
            .ensure_ready()
            .await
            .expect("ensure_ready creates the container");
        Fixture::Azure(store)
    }

    fn store(&self) -> &dyn BlobStore {
        match self {
            Fixture::Local { store, .. } => store,
            Fixture::Azure(store) => store,
        }
    }

    async fn remove(self) {
        if let Fixture::Azure(store) = self {
            store
                .delete_container()
                .await
                .expect("delete the test container");
        }
    }
}

/// A store on a fresh container of the test Azurite; pages of 3 so listings span pages.
pub(crate) fn azure_store() -> AzureStore {
    let conn = support::azure_connection_string();
    AzureStore::from_connection_string(&conn, &support::fresh_container("conf"))
        .expect("the test connection string is valid")
        .with_list_page_size(3)
}

macro_rules! conformance {
    ($backend:ident: $($check:ident),+ $(,)?) => {
        mod $backend {
            $(
                #[tokio::test]
                async fn $check() {
                    let fixture = super::Fixture::$backend().await;
                    super::$check(fixture.store()).await;
                    fixture.remove().await;
                }
            )+
        }
    };
}

conformance!(local:
    blocks_commit_into_one_readable_blob,
    empty_upload_commits_an_empty_blob,
    unfinished_uploads_stay_invisible,
    deleted_blobs_are_not_found,
    missing_names_are_not_found,
    list_returns_every_blob,
    recommit_replaces_the_blob,
);

conformance!(azure:
    blocks_commit_into_one_readable_blob,
    empty_upload_commits_an_empty_blob,
    unfinished_uploads_stay_invisible,
    deleted_blobs_are_not_found,
    missing_names_are_not_found,
    list_returns_every_blob,
    recommit_replaces_the_blob,
);
