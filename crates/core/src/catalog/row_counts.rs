//! The exact row count of every table, taken in the snapshot pg_dump read, recorded with the
//! backup: in its metadata (`row_counts`, base64url of compact JSON, which metadata keeps
//! as it is) when small, else in a manifest record beside it (`NAME.rows.json`, its sha256
//! in the metadata). Legacy backups have none. `recorded` reads them back, whichever way
//! they were stored.

use std::collections::BTreeMap;
use std::sync::Arc;

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::records::{RecordKind, RecordName};
use super::{BackupMetadata, BackupName};
use crate::error::{Error, Result};
use crate::storage::{BlobMetadata, BlobStore};

/// Counts up to this size (encoded) go into the metadata; Azure allows 8 KiB of metadata
/// in all.
pub const INLINE_LIMIT: usize = 4096;
const INLINE_KEY: &str = "row_counts";
const MANIFEST_KEY: &str = "row_counts_manifest";
const TABLES_KEY: &str = "row_tables";
const TOTAL_KEY: &str = "row_total";

/// One table's rows.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct TableRows {
    pub schema: String,
    pub table: String,
    pub rows: i64,
}

/// How many tables and rows a backup recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct RowCountSummary {
    pub tables: u64,
    pub rows: i64,
}

/// How counts are stored: the metadata pairs to add, and a manifest to write first if any.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredCounts {
    pub metadata: BlobMetadata,
    pub manifest: Option<Vec<u8>>,
}

/// Lays out `tables` for storage with a backup.
pub fn encode(tables: &[TableRows]) -> StoredCounts {
    let compact: Vec<(&str, &str, i64)> = tables
        .iter()
        .map(|t| (t.schema.as_str(), t.table.as_str(), t.rows))
        .collect();
    let json = serde_json::to_vec(&compact).expect("counts serialise");
    let inline = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&json);
    let mut metadata = BlobMetadata::new();
    metadata.insert(TABLES_KEY.into(), tables.len().to_string());
    metadata.insert(
        TOTAL_KEY.into(),
        tables.iter().map(|t| t.rows).sum::<i64>().to_string(),
    );
    if inline.len() <= INLINE_LIMIT {
        metadata.insert(INLINE_KEY.into(), inline);
        StoredCounts {
            metadata,
            manifest: None,
        }
    } else {
        let manifest =
            serde_json::to_vec(&serde_json::json!({ "tables": tables })).expect("counts serialise");
        metadata.insert(MANIFEST_KEY.into(), hex::encode(Sha256::digest(&manifest)));
        StoredCounts {
            metadata,
            manifest: Some(manifest),
        }
    }
}

fn lower(metadata: &BlobMetadata) -> BTreeMap<String, String> {
    metadata
        .iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
        .collect()
}

/// Stores `tables` for backup `name` about to be committed: writes the manifest record when
/// the counts are too many for metadata; returns what goes into the backup's metadata.
pub async fn store_beside(
    store: &Arc<dyn BlobStore>,
    name: &BackupName,
    tables: &[TableRows],
) -> Result<StoredCounts> {
    let stored = encode(tables);
    if let Some(manifest) = &stored.manifest {
        let record = RecordName::new(name, RecordKind::RowCounts);
        store
            .put_record(
                &record,
                bytes::Bytes::from(manifest.clone()),
                BlobMetadata::new(),
            )
            .await?;
    }
    Ok(stored)
}

/// The recorded totals, from metadata alone.
pub fn summary(metadata: &BlobMetadata) -> Option<RowCountSummary> {
    let m = lower(metadata);
    Some(RowCountSummary {
        tables: m.get(TABLES_KEY)?.parse().ok()?,
        rows: m.get(TOTAL_KEY)?.parse().ok()?,
    })
}

/// The counts in metadata; `Ok(None)` when they are in a manifest or absent.
fn inline(metadata: &BlobMetadata) -> Result<Option<Vec<TableRows>>> {
    let Some(value) = lower(metadata).remove(INLINE_KEY) else {
        return Ok(None);
    };
    let json = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(value.trim())
        .map_err(|_| damaged("its row counts are not base64"))?;
    let compact: Vec<(String, String, i64)> =
        serde_json::from_slice(&json).map_err(|e| damaged(&format!("its row counts: {e}")))?;
    Ok(Some(
        compact
            .into_iter()
            .map(|(schema, table, rows)| TableRows {
                schema,
                table,
                rows,
            })
            .collect(),
    ))
}

fn damaged(detail: &str) -> Error {
    Error::InvalidInput(format!(
        "the backup's recorded counts are unreadable: {detail}"
    ))
}

/// The row counts recorded with backup `name`, table by table; `None` for a backup that
/// has none (legacy, or written before counts were recorded). The contract other jobs
/// (a backup's contents, partial restore) read counts through.
pub async fn recorded(
    store: &Arc<dyn BlobStore>,
    name: &BackupName,
) -> Result<Option<Vec<TableRows>>> {
    let info = store.head(name).await?;
    if BackupMetadata::from_map(&info.metadata).is_none() {
        return Ok(None);
    }
    recorded_in(store, name, &info.metadata).await
}

/// The same, given the backup's metadata already read.
pub async fn recorded_in(
    store: &Arc<dyn BlobStore>,
    name: &BackupName,
    metadata: &BlobMetadata,
) -> Result<Option<Vec<TableRows>>> {
    if let Some(tables) = inline(metadata)? {
        return Ok(Some(tables));
    }
    let Some(expected) = lower(metadata).remove(MANIFEST_KEY) else {
        return Ok(None);
    };
    let record = RecordName::new(name, RecordKind::RowCounts);
    let bytes = store
        .get_record(&record)
        .await?
        .ok_or_else(|| damaged(&format!("its manifest {record} is missing")))?;
    if !hex::encode(Sha256::digest(&bytes)).eq_ignore_ascii_case(expected.trim()) {
        return Err(damaged(&format!(
            "its manifest {record} does not match the checksum recorded with the backup"
        )));
    }
    #[derive(Deserialize)]
    struct Manifest {
        tables: Vec<TableRows>,
    }
    let manifest: Manifest =
        serde_json::from_slice(&bytes).map_err(|e| damaged(&format!("{record}: {e}")))?;
    Ok(Some(manifest.tables))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tables(n: usize) -> Vec<TableRows> {
        (0..n)
            .map(|i| TableRows {
                schema: "public".into(),
                table: format!("täble \"{i}\",; %"),
                rows: i as i64 * 1000,
            })
            .collect()
    }

    #[test]
    fn small_counts_go_inline_and_survive_metadata() {
        let t = tables(5);
        let stored = encode(&t);
        assert!(stored.manifest.is_none());
        // Through the metadata's percent-encoding and back, and Azure's key case.
        let mut meta = super::super::BackupMetadata::default().to_map();
        meta.extend(stored.metadata.clone());
        let upper: BlobMetadata = meta
            .into_iter()
            .map(|(k, v)| (k.to_ascii_uppercase(), v))
            .collect();
        assert_eq!(inline(&upper).unwrap(), Some(t.clone()));
        assert_eq!(
            summary(&upper),
            Some(RowCountSummary {
                tables: 5,
                rows: 10_000
            })
        );
        assert!(stored
            .metadata
            .values()
            .all(|v| v.is_ascii() && !v.contains('%')));
    }

    #[test]
    fn many_tables_go_to_a_manifest() {
        let stored = encode(&tables(500));
        let manifest = stored.manifest.expect("a manifest");
        assert!(stored.metadata.contains_key(MANIFEST_KEY));
        assert!(!stored.metadata.contains_key(INLINE_KEY));
        assert!(stored.metadata.values().map(String::len).sum::<usize>() < 200);
        assert!(manifest.len() > INLINE_LIMIT);
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        let mut meta = BlobMetadata::new();
        meta.insert(INLINE_KEY.into(), "!!!".into());
        assert!(inline(&meta).is_err());
        meta.insert(INLINE_KEY.into(), "bm90IGpzb24".into());
        assert!(inline(&meta).is_err());
    }
}
