//! The last restore rehearsal of a backup, recorded beside it in the same store
//! (`NAME.verification.json`, one more `BlobStore` record, no database of our own). Its
//! summary also travels in the record's metadata, so a listing shows every backup's
//! verification without reading one record per backup.

use std::collections::BTreeMap;
use std::sync::Arc;

use base64::Engine as _;
use bytes::Bytes;
use percent_encoding::{percent_decode_str, utf8_percent_encode, NON_ALPHANUMERIC};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::records::{RecordKind, RecordName};
use super::BackupName;
use crate::error::Result;
use crate::storage::{BlobInfo, BlobMetadata, BlobStore};

/// Mismatches kept in the listing's summary (the record holds them all).
const LISTED_MISMATCHES: usize = 10;
/// The error's length in the listing's summary.
const LISTED_ERROR_CHARS: usize = 400;

/// A table whose restored rows differ from the rows recorded at backup time (`None`: the
/// table is missing on that side).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Mismatch {
    pub schema: String,
    pub table: String,
    pub recorded: Option<i64>,
    pub restored: Option<i64>,
}

impl std::fmt::Display for Mismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let side = |n: Option<i64>| n.map_or("missing".to_owned(), |n| format!("{n} rows"));
        write!(
            f,
            "{}.{}: recorded {}, restored {}",
            self.schema,
            self.table,
            side(self.recorded),
            side(self.restored)
        )
    }
}

/// The result of a restore rehearsal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct Verification {
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub at: OffsetDateTime,
    pub ok: bool,
    /// How long fetching and restoring took: the recovery time to expect.
    pub restore_seconds: f64,
    pub tables: u64,
    pub rows: i64,
    /// Tables whose counts differ from the recorded ones.
    pub mismatches: Vec<Mismatch>,
    /// Whether recorded counts existed to compare with (legacy backups have none).
    #[serde(default)]
    pub compared: bool,
    /// Why it failed, when it did for another reason than mismatched counts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl Verification {
    /// The record's metadata: the summary a listing shows.
    fn to_metadata(&self) -> BlobMetadata {
        let mut m = BlobMetadata::new();
        let at = self
            .at
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default();
        m.insert(
            "verified_at".into(),
            utf8_percent_encode(&at, NON_ALPHANUMERIC).to_string(),
        );
        m.insert("ok".into(), self.ok.to_string());
        m.insert(
            "restore_ms".into(),
            ((self.restore_seconds * 1000.0).round() as u64).to_string(),
        );
        m.insert("tables".into(), self.tables.to_string());
        m.insert("rows".into(), self.rows.to_string());
        m.insert("compared".into(), self.compared.to_string());
        m.insert("mismatch_count".into(), self.mismatches.len().to_string());
        if !self.mismatches.is_empty() {
            let first: Vec<&Mismatch> = self.mismatches.iter().take(LISTED_MISMATCHES).collect();
            let json = serde_json::to_vec(&first).expect("mismatches serialise");
            m.insert(
                "mismatches".into(),
                base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json),
            );
        }
        if let Some(error) = &self.error {
            let short: String = error.chars().take(LISTED_ERROR_CHARS).collect();
            m.insert(
                "error".into(),
                utf8_percent_encode(&short, NON_ALPHANUMERIC).to_string(),
            );
        }
        m
    }

    /// The summary back from a record's metadata; `None` when it is not one of ours.
    fn from_metadata(metadata: &BlobMetadata) -> Option<Self> {
        let m: BTreeMap<String, String> = metadata
            .iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
            .collect();
        let text = |k: &str| {
            m.get(k)
                .map(|v| percent_decode_str(v).decode_utf8_lossy().into_owned())
        };
        let at = OffsetDateTime::parse(
            &text("verified_at")?,
            &time::format_description::well_known::Rfc3339,
        )
        .ok()?;
        let mismatches = m
            .get("mismatches")
            .and_then(|v| {
                base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .decode(v)
                    .ok()
            })
            .and_then(|json| serde_json::from_slice(&json).ok())
            .unwrap_or_default();
        Some(Verification {
            at,
            ok: m.get("ok")? == "true",
            restore_seconds: m.get("restore_ms")?.parse::<u64>().ok()? as f64 / 1000.0,
            tables: m.get("tables")?.parse().ok()?,
            rows: m.get("rows")?.parse().ok()?,
            mismatches,
            compared: m.get("compared").is_some_and(|v| v == "true"),
            error: text("error"),
        })
    }
}

/// Records `verification` as backup `name`'s last one.
pub async fn store(
    store: &Arc<dyn BlobStore>,
    name: &BackupName,
    verification: &Verification,
) -> Result<()> {
    let record = RecordName::new(name, RecordKind::Verification);
    let body = serde_json::to_vec_pretty(verification).expect("a verification serialises");
    store
        .put_record(&record, Bytes::from(body), verification.to_metadata())
        .await?;
    Ok(())
}

/// Backup `name`'s last verification, in full; `None` when it was never verified.
pub async fn load(store: &Arc<dyn BlobStore>, name: &BackupName) -> Result<Option<Verification>> {
    let record = RecordName::new(name, RecordKind::Verification);
    Ok(store
        .get_record(&record)
        .await?
        .and_then(|bytes| serde_json::from_slice(&bytes).ok()))
}

/// The verification summaries found in a listing of the store, by backup.
pub fn from_listing(blobs: &[BlobInfo]) -> BTreeMap<BackupName, Verification> {
    blobs
        .iter()
        .filter_map(|blob| {
            let record = RecordName::parse(&blob.name)?;
            if record.kind() != RecordKind::Verification {
                return None;
            }
            Some((
                record.backup().clone(),
                Verification::from_metadata(&blob.metadata)?,
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn the_listing_summary_round_trips_through_metadata() {
        let v = Verification {
            at: datetime!(2026-11-24 03:00:01 UTC),
            ok: false,
            restore_seconds: 12.345,
            tables: 3,
            rows: 1000,
            mismatches: (0..15)
                .map(|i| Mismatch {
                    schema: "public".into(),
                    table: format!("t{i} ünïcode"),
                    recorded: Some(10),
                    restored: if i % 2 == 0 { Some(9) } else { None },
                })
                .collect(),
            compared: true,
            error: Some("restore failed: relation \"x\" already exists".into()),
        };
        let metadata = v.to_metadata();
        assert!(metadata.values().all(|v| v.is_ascii()));
        let back = Verification::from_metadata(&metadata).unwrap();
        assert_eq!(back.mismatches.len(), LISTED_MISMATCHES);
        assert_eq!(back.mismatches[..], v.mismatches[..LISTED_MISMATCHES]);
        assert_eq!(back.error, v.error);
        assert_eq!((back.ok, back.tables, back.rows), (false, 3, 1000));
        assert!((back.restore_seconds - 12.345).abs() < 1e-9);
        let blob = BlobInfo {
            name: "a.sql.verification.json".into(),
            size: 1,
            last_modified: OffsetDateTime::UNIX_EPOCH,
            etag: None,
            metadata,
        };
        let listed = from_listing(&[blob]);
        assert_eq!(listed.len(), 1);
        assert!(listed.contains_key(&BackupName::parse("a.sql").unwrap()));
    }
}
