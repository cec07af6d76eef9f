//! Behaviour of the Azure backend beyond the shared contract: pagination, the bound on
//! blocks in flight, and how failures map onto `StorageError` (a wrong key, a closed port,
//! server errors, a download cut off), the latter against a fake server.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::StreamExt;
use rythm_backup_core::storage::azure::AzureStore;
use rythm_backup_core::storage::{BlobStore, StorageError};
use tokio::io::AsyncWriteExt;
use tokio::sync::Notify;

use crate::storage_conformance::{azure_store, metadata, upload};
use crate::support::{self, collect, name, FakeServer};

/// A listing larger than a page follows every continuation marker.
#[tokio::test]
async fn azure_list_follows_pagination() {
    let conn = support::azure_connection_string();
    let store = AzureStore::from_connection_string(&conn, &support::fresh_container("pages"))
        .unwrap()
        .with_list_page_size(2);
    store.ensure_ready().await.unwrap();
    let count = 11;
    for i in 0..count {
        let raw = format!("page-{i:02}-2026-01-15T10-30-00.sql");
        upload(
            &store,
            &raw,
            &[vec![b'x'; i]],
            &metadata(&[("i", &i.to_string())]),
        )
        .await;
    }
    let mut listed = store.list().await.unwrap();
    listed.sort_by(|a, b| a.name.cmp(&b.name));
    assert_eq!(listed.len(), count);
    for (i, blob) in listed.iter().enumerate() {
        assert_eq!(blob.size, i as u64);
        assert_eq!(blob.metadata.get("i"), Some(&i.to_string()));
    }
    store.delete_container().await.unwrap();
}

/// Before ensure_ready the container does not exist: the listing is empty, not an error.
#[tokio::test]
async fn azure_list_without_container_is_empty() {
    let store = azure_store();
    assert_eq!(store.list().await.unwrap(), Vec::new());
}

/// A wrong account key is an Auth error whose text carries no signature.
#[tokio::test]
async fn azure_wrong_key_is_an_auth_error() {
    let conn = support::azure_connection_string();
    // The same endpoint with another (valid base64) key.
    let wrong = conn
        .split(';')
        .map(|part| {
            if part.to_ascii_lowercase().starts_with("accountkey=") {
                "AccountKey=d3Jvbmcta2V5LXdyb25nLWtleS13cm9uZy1rZXk=".to_owned()
            } else {
                part.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join(";");
    let store =
        AzureStore::from_connection_string(&wrong, &support::fresh_container("auth")).unwrap();
    match store.ensure_ready().await {
        Err(err @ StorageError::Auth { .. }) => {
            let text = format!("{err} {err:?}");
            assert!(text.contains("403"), "{text}");
            assert!(
                !text.contains("sig=") || text.contains("sig=<redacted>"),
                "{text}"
            );
            assert!(!err.is_transient());
        }
        other => panic!("expected an Auth error, got {other:?}"),
    }
}

/// A closed port is Unreachable (so the jobs may retry) and is reported within seconds, not
/// after the SDK's default minute of retries; the message carries no signature.
#[tokio::test]
async fn azure_unreachable_endpoint_fails_fast_and_transient() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener); // nothing listens there now
    let conn = format!(
        "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;\
         AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;\
         BlobEndpoint=http://127.0.0.1:{port}/devstoreaccount1"
    );
    let store = AzureStore::from_connection_string(&conn, "database-backups").unwrap();
    let started = Instant::now();
    let err = store
        .head(&name("x-2026-01-15T10-30-00.sql"))
        .await
        .unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "took {:?}",
        started.elapsed()
    );
    assert!(matches!(err, StorageError::Unreachable { .. }), "{err:?}");
    assert!(err.is_transient());
    let text = format!("{err} {err:?}");
    assert!(
        !text.contains("sig=") || text.contains("sig=<redacted>"),
        "{text}"
    );
    assert!(
        text.contains("azure:devstoreaccount1/database-backups"),
        "{text}"
    );
}

/// The location names account and container and nothing secret.
#[test]
fn azure_location_and_debug_hold_no_secret() {
    let key = "c2VjcmV0LWtleS1ieXRlcy0xMjM0NTY3ODkw";
    let store = AzureStore::from_connection_string(
        &format!("AccountName=acct;AccountKey={key};EndpointSuffix=core.windows.net"),
        "database-backups",
    )
    .unwrap();
    assert_eq!(store.location(), "azure:acct/database-backups");
    let debug = format!("{store:?}");
    assert!(!debug.contains(key) && !debug.contains("sig="), "{debug}");
}

/// Uploads keep at most four stage requests in flight, and use more than one.
#[tokio::test]
async fn azure_upload_keeps_at_most_four_blocks_in_flight() {
    let current = Arc::new(AtomicUsize::new(0));
    let peak = Arc::new(AtomicUsize::new(0));
    let (now, max) = (current.clone(), peak.clone());
    let server = FakeServer::start(move |_, head, mut socket| {
        let (now, max) = (now.clone(), max.clone());
        async move {
            let staging = head.contains("comp=block&") || head.contains("comp=block ");
            if staging {
                max.fetch_max(now.fetch_add(1, Ordering::SeqCst) + 1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(150)).await;
                now.fetch_sub(1, Ordering::SeqCst);
            }
            let answer = "HTTP/1.1 201 Created\r\nETag: \"0x8D1\"\r\n\
                          Last-Modified: Thu, 15 Jan 2026 10:30:00 GMT\r\n\
                          Content-Length: 0\r\nConnection: close\r\n\r\n";
            let _ = socket.write_all(answer.as_bytes()).await;
        }
    })
    .await;
    let store =
        AzureStore::from_connection_string(&server.azure_connection_string(), "bound").unwrap();
    let mut upload = store
        .begin_upload(&name("x-2026-01-15T10-30-00.sql"))
        .await
        .unwrap();
    for i in 0..12u8 {
        upload.put_block(Bytes::from(vec![i; 1000])).await.unwrap();
        assert!(current.load(Ordering::SeqCst) <= 4);
    }
    let info = upload
        .commit(metadata(&[("format", "plain")]))
        .await
        .unwrap();
    assert_eq!(info.size, 12_000);
    assert_eq!(info.etag.as_deref(), Some("0x8D1"));
    assert_eq!(server.requests(), 13, "12 blocks and the commit");
    let peak = peak.load(Ordering::SeqCst);
    assert!(
        (2..=4).contains(&peak),
        "{peak} stage requests were in flight at once"
    );
}

/// A refused block fails the upload (at a later put_block or at the latest at commit) with
/// the status and Azure's error code.
#[tokio::test]
async fn azure_refused_block_fails_the_upload() {
    let server = FakeServer::start(|_, _, mut socket| async move {
        let answer = "HTTP/1.1 400 Bad Request\r\nx-ms-error-code: InvalidBlobOrBlock\r\n\
                      Content-Length: 0\r\nConnection: close\r\n\r\n";
        let _ = socket.write_all(answer.as_bytes()).await;
    })
    .await;
    let store =
        AzureStore::from_connection_string(&server.azure_connection_string(), "refused").unwrap();
    let mut upload = store
        .begin_upload(&name("x-2026-01-15T10-30-00.sql"))
        .await
        .unwrap();
    let mut failure = None;
    for i in 0..10u8 {
        if let Err(e) = upload.put_block(Bytes::from(vec![i; 100])).await {
            failure = Some(e);
            break;
        }
    }
    let err = match failure {
        Some(e) => e,
        None => upload.commit(metadata(&[])).await.unwrap_err(),
    };
    match err {
        StorageError::Request { message, .. } => {
            assert!(
                message.contains("400") && message.contains("InvalidBlobOrBlock"),
                "{message}"
            )
        }
        other => panic!("expected a Request error, got {other:?}"),
    }
}

/// Server errors are retried a few times, quickly, then reported as Unreachable with the
/// status and Azure's error code.
#[tokio::test]
async fn azure_server_errors_are_retried_briefly_then_transient() {
    let server = FakeServer::start(|_, _, mut socket| async move {
        let answer = "HTTP/1.1 503 Service Unavailable\r\nx-ms-error-code: ServerBusy\r\n\
                      Content-Length: 0\r\nConnection: close\r\n\r\n";
        let _ = socket.write_all(answer.as_bytes()).await;
    })
    .await;
    let store =
        AzureStore::from_connection_string(&server.azure_connection_string(), "busy").unwrap();
    let started = Instant::now();
    let err = store
        .head(&name("x-2026-01-15T10-30-00.sql"))
        .await
        .unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "took {:?}",
        started.elapsed()
    );
    match &err {
        StorageError::Unreachable { message, .. } => {
            assert!(
                message.contains("503") && message.contains("ServerBusy"),
                "{message}"
            )
        }
        other => panic!("expected Unreachable, got {other:?}"),
    }
    assert!(
        (2..=5).contains(&server.requests()),
        "{} requests",
        server.requests()
    );
}

/// The answer to a download: headers announcing `total` bytes, then `sent` of them.
fn partial_download_head(total: usize) -> String {
    format!(
        "HTTP/1.1 206 Partial Content\r\nContent-Length: {total}\r\n\
         Content-Range: bytes 0-{}/{total}\r\nETag: \"0x1\"\r\nx-ms-blob-type: BlockBlob\r\n\
         Content-Type: application/octet-stream\r\nConnection: close\r\n\r\n",
        total - 1
    )
}

/// A body cut off mid-way is an Unreachable error from the stream, so a download resumes.
#[tokio::test]
async fn azure_interrupted_download_is_transient() {
    let server = FakeServer::start(|_, _, mut socket| async move {
        let _ = socket
            .write_all(partial_download_head(1000).as_bytes())
            .await;
        let _ = socket.write_all(&[7u8; 100]).await;
        // Dropping the socket closes the connection 900 bytes early.
    })
    .await;
    let store =
        AzureStore::from_connection_string(&server.azure_connection_string(), "cut").unwrap();
    let stream = store
        .get_from(&name("x-2026-01-15T10-30-00.sql"), 0)
        .await
        .expect("headers");
    match collect(stream).await {
        Err(err @ StorageError::Unreachable { .. }) => assert!(err.is_transient()),
        other => panic!("expected Unreachable from the body, got {other:?}"),
    }
}

/// get_from streams: the first bytes arrive while the server still holds back the rest.
#[tokio::test]
async fn azure_download_streams_before_the_body_is_complete() {
    let release = Arc::new(Notify::new());
    let gate = release.clone();
    let server = FakeServer::start(move |_, _, mut socket| {
        let gate = gate.clone();
        async move {
            let _ = socket
                .write_all(partial_download_head(1000).as_bytes())
                .await;
            let _ = socket.write_all(&[1u8; 100]).await;
            let _ = socket.flush().await;
            gate.notified().await;
            let _ = socket.write_all(&[2u8; 900]).await;
        }
    })
    .await;
    let store =
        AzureStore::from_connection_string(&server.azure_connection_string(), "slow").unwrap();
    let mut stream = store
        .get_from(&name("x-2026-01-15T10-30-00.sql"), 0)
        .await
        .expect("headers");
    let first = tokio::time::timeout(Duration::from_secs(10), stream.next())
        .await
        .expect("the first bytes arrive before the body is complete")
        .expect("a chunk")
        .expect("no error");
    assert!(!first.is_empty() && first.iter().all(|&b| b == 1));
    release.notify_one();
    let rest = collect(stream).await.expect("the rest");
    assert_eq!(first.len() + rest.len(), 1000);
}
