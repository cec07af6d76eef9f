//! How an attacker changes a backup (a payload in a plain dump at a chosen position, or in a
//! custom archive's slot), stores it (in Azure with a re-stamped sha256, or as a local file),
//! has it restored, and what the refusal must say.

use std::collections::BTreeMap;

use bytes::Bytes;
use rythm_backup_core::catalog::{BackupMetadata, BackupName, Compression, DumpFormat};
use rythm_backup_core::engine::RestoreOptions;
use rythm_backup_core::jobs::restore::RestoreSource;
use rythm_backup_core::storage::BlobStore;
use rythm_backup_core::{Cancel, Error, ErrorCode, Progress};
use sha2::{Digest, Sha256};

use super::fixture::Target;
use crate::support::engine::{StoreKind, TestEngine};
use crate::support::name;

/// Where a payload goes in a plain dump.
#[derive(Debug, Clone, Copy)]
pub(super) enum Position {
    /// Before everything, the dump's header included.
    First,
    /// Right after the header's settings, where the content starts.
    AfterHeader,
    /// After the last COPY block.
    AfterData,
}

pub(super) fn insert_plain(dump: &[u8], position: Position, payload: &str) -> Vec<u8> {
    let text = String::from_utf8(dump.to_vec()).expect("a UTF-8 dump");
    let at = match position {
        Position::First => 0,
        Position::AfterHeader => {
            let marker = "SELECT pg_catalog.set_config('search_path', '', false);\n";
            text.find(marker).expect("the header's set_config") + marker.len()
        }
        Position::AfterData => text.rfind("\n\\.\n").expect("a COPY block") + 4,
    };
    let mut out = text[..at].to_owned();
    out.push_str(payload);
    out.push_str(&text[at..]);
    out.into_bytes()
}

/// A custom archive with one comment's SQL replaced by `payload` of the same length (the
/// archive format has no checksum an attacker would need to fix).
pub(super) fn replace_in_archive(archive: &[u8], slot: &str, payload: &str) -> Vec<u8> {
    let needle = format!("IS '{slot}");
    let start_of_value = find(archive, needle.as_bytes()).expect("the comment in the archive");
    let start = archive[..start_of_value]
        .windows(7)
        .rposition(|w| w == b"COMMENT")
        .expect("the comment's start");
    let end = start_of_value + find(&archive[start_of_value..], b"';\n").unwrap() + 3;
    let length = end - start;
    assert!(payload.len() <= length, "payload too long for the slot");
    let mut out = archive[..start].to_vec();
    out.extend_from_slice(payload.as_bytes());
    out.extend(std::iter::repeat_n(b' ', length - payload.len() - 1));
    out.push(b'\n');
    out.extend_from_slice(&archive[end..]);
    assert_eq!(out.len(), archive.len());
    out
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The sha256 an attacker re-stamps into the metadata.
fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

pub(super) async fn put(
    store: &dyn BlobStore,
    blob: &BackupName,
    bytes: &[u8],
    format: DumpFormat,
) {
    let metadata = BackupMetadata {
        format,
        compression: Compression::None,
        sha256: Some(sha256(bytes)),
        ..BackupMetadata::default()
    };
    put_with(store, blob, bytes, metadata.to_map()).await;
}

pub(super) async fn put_with(
    store: &dyn BlobStore,
    blob: &BackupName,
    bytes: &[u8],
    metadata: BTreeMap<String, String>,
) {
    store.ensure_ready().await.unwrap();
    let mut upload = store.begin_upload(blob).await.unwrap();
    upload
        .put_block(Bytes::copy_from_slice(bytes))
        .await
        .unwrap();
    upload.commit(metadata).await.unwrap();
}

/// Restores `bytes` into the target, from Azure or a local file; the refusal.
pub(super) async fn restore_hostile(
    target: &Target,
    source: StoreKind,
    format: DumpFormat,
    bytes: &[u8],
) -> Error {
    let engine = TestEngine::new(
        StoreKind::Azure,
        &target.restore_as,
        format,
        Compression::None,
    );
    let folder = tempfile::tempdir().unwrap();
    let extension = match format {
        DumpFormat::Plain => "sql",
        DumpFormat::Custom => "dump",
    };
    let source = match source {
        StoreKind::Azure => {
            let blob = name(&format!(
                "rythm-backup-2026-01-01T00-00-00-000Z.{extension}"
            ));
            put(engine.store().as_ref(), &blob, bytes, format).await;
            RestoreSource::Stored(blob)
        }
        StoreKind::Local => {
            let file = folder.path().join(format!("hostile.{extension}"));
            std::fs::write(&file, bytes).unwrap();
            RestoreSource::CheckedFile {
                path: file,
                sha256: sha256(bytes),
            }
        }
    };
    target.db.wait_idle();
    let options = RestoreOptions {
        confirm: target.db.name(),
        skip_safety_backup: true,
        ..RestoreOptions::default()
    };
    engine
        .engine
        .restore(source, options, &Progress::none(), &Cancel::new())
        .await
        .expect_err("a hostile backup must be refused")
}

pub(super) fn assert_refused(error: &Error, label: &str, kind: &str) {
    assert_eq!(error.code(), ErrorCode::UnsafeBackup, "{label}: {error}");
    let message = error.to_string();
    assert!(
        message.contains(kind),
        "{label}: the kind is named: {message}"
    );
    assert!(
        message.contains("at line "),
        "{label}: the line is named: {message}"
    );
    assert!(
        message.contains("nothing was changed"),
        "{label}: the message says what happened: {message}"
    );
}
