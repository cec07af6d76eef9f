//! The metadata stored with every backup we write, and its mapping to the flat, ASCII-only
//! key/value pairs that Azure (`x-ms-meta-*`) and the local sidecar file hold.

use std::collections::BTreeMap;

use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, CONTROLS};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::name::{BackupName, Compression, DumpFormat};

/// Why a backup was taken (the RYTHM API's `type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "kebab-case")]
pub enum BackupKind {
    #[default]
    Manual,
    Scheduled,
    PreRestore,
    /// The RYTHM platform's `type` for a blob whose origin it does not know (one it did not
    /// write): shown as such, never as manual.
    Unknown,
}

impl BackupKind {
    pub fn as_str(self) -> &'static str {
        match self {
            BackupKind::Manual => "manual",
            BackupKind::Scheduled => "scheduled",
            BackupKind::PreRestore => "pre-restore",
            BackupKind::Unknown => "unknown",
        }
    }

    /// The prefix of new backup names of this kind.
    pub fn name_prefix(self) -> &'static str {
        match self {
            BackupKind::PreRestore => "pre-restore",
            BackupKind::Manual | BackupKind::Scheduled | BackupKind::Unknown => "rythm-backup",
        }
    }

    /// What a legacy blob's name says about its kind.
    pub fn from_name(name: &BackupName) -> Self {
        if name.as_str().starts_with("pre-restore-") {
            BackupKind::PreRestore
        } else {
            BackupKind::Manual
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s {
            "manual" => Some(BackupKind::Manual),
            "scheduled" => Some(BackupKind::Scheduled),
            "pre-restore" => Some(BackupKind::PreRestore),
            "unknown" => Some(BackupKind::Unknown),
            _ => None,
        }
    }
}

/// What we record about a backup when we write it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupMetadata {
    pub format: DumpFormat,
    pub compression: Compression,
    pub sha256: Option<String>,
    pub raw_size: Option<u64>,
    pub database: Option<String>,
    pub server_version: Option<String>,
    pub pg_dump_version: Option<String>,
    pub created_by: Option<String>,
    pub tool_version: Option<String>,
    pub duration_ms: Option<u64>,
    pub created_at: Option<OffsetDateTime>,
    pub kind: BackupKind,
}

impl Default for BackupMetadata {
    fn default() -> Self {
        BackupMetadata {
            format: DumpFormat::Plain,
            compression: Compression::None,
            sha256: None,
            raw_size: None,
            database: None,
            server_version: None,
            pg_dump_version: None,
            created_by: None,
            tool_version: None,
            duration_ms: None,
            created_at: None,
            kind: BackupKind::Manual,
        }
    }
}

/// Everything but unreserved ASCII is percent-encoded, so values stay valid HTTP header text.
const META_VALUE: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'%')
    .add(b'"')
    .add(b'\'')
    .add(b'\\')
    .add(b',')
    .add(b';')
    .add(b'=');

/// The key that marks a blob as written by us; legacy blobs lack it.
const MARKER_KEY: &str = "rythm_format";

impl BackupMetadata {
    /// The flat key/value form stored beside the blob.
    pub fn to_map(&self) -> BTreeMap<String, String> {
        let mut map = BTreeMap::new();
        let mut put = |key: &str, value: Option<String>| {
            if let Some(v) = value {
                map.insert(
                    key.to_owned(),
                    utf8_percent_encode(&v, META_VALUE).to_string(),
                );
            }
        };
        put(MARKER_KEY, Some(self.format.as_str().to_owned()));
        put("compression", Some(self.compression.as_str().to_owned()));
        put("sha256", self.sha256.clone());
        put("raw_size", self.raw_size.map(|v| v.to_string()));
        put("database", self.database.clone());
        put("server_version", self.server_version.clone());
        put("pg_dump_version", self.pg_dump_version.clone());
        put("created_by", self.created_by.clone());
        put("tool_version", self.tool_version.clone());
        put("duration_ms", self.duration_ms.map(|v| v.to_string()));
        put(
            "created_at",
            self.created_at.and_then(|t| {
                t.format(&time::format_description::well_known::Rfc3339)
                    .ok()
            }),
        );
        put("backup_type", Some(self.kind.as_str().to_owned()));
        map
    }

    /// Reads the metadata back; `None` for a blob that carries none of ours (a legacy blob).
    /// Keys are compared case-insensitively since Azure may change their case.
    pub fn from_map(map: &BTreeMap<String, String>) -> Option<Self> {
        let lower: BTreeMap<String, String> = map
            .iter()
            .map(|(k, v)| {
                let value = percent_decode_str(v).decode_utf8_lossy().into_owned();
                (k.to_ascii_lowercase(), value)
            })
            .collect();
        let text = |key: &str| lower.get(key).filter(|v| !v.is_empty()).cloned();
        let number = |key: &str| lower.get(key).and_then(|v| v.parse::<u64>().ok());
        let format = text(MARKER_KEY)?.parse().ok()?;
        Some(BackupMetadata {
            format,
            compression: text("compression")?.parse().ok()?,
            sha256: text("sha256")
                .filter(|s| s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())),
            raw_size: number("raw_size"),
            database: text("database"),
            server_version: text("server_version"),
            pg_dump_version: text("pg_dump_version"),
            created_by: text("created_by"),
            tool_version: text("tool_version"),
            duration_ms: number("duration_ms"),
            created_at: text("created_at").and_then(|t| {
                OffsetDateTime::parse(&t, &time::format_description::well_known::Rfc3339).ok()
            }),
            kind: text("backup_type")
                .and_then(|k| BackupKind::parse(&k))
                .unwrap_or_default(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn round_trips_including_non_ascii_values() {
        let meta = BackupMetadata {
            format: DumpFormat::Custom,
            compression: Compression::Zstd,
            sha256: Some("ab".repeat(32)),
            raw_size: Some(123),
            database: Some("Daten bänk; \"x\"=%".into()),
            server_version: Some("15.18".into()),
            pg_dump_version: Some("15.18".into()),
            created_by: Some("admin@example.com".into()),
            tool_version: Some("rythm-backup 0.1.0".into()),
            duration_ms: Some(42),
            created_at: Some(datetime!(2026-01-02 03:04:05.678 UTC)),
            kind: BackupKind::PreRestore,
        };
        let map = meta.to_map();
        assert!(map.values().all(|v| v.is_ascii() && !v.contains(' ')));
        assert_eq!(BackupMetadata::from_map(&map), Some(meta));
    }

    #[test]
    fn blobs_without_our_marker_are_legacy() {
        let mut map = BTreeMap::new();
        map.insert("something".to_owned(), "else".to_owned());
        assert_eq!(BackupMetadata::from_map(&map), None);
        assert_eq!(BackupMetadata::from_map(&BTreeMap::new()), None);
    }

    #[test]
    fn keys_are_case_insensitive() {
        let map: BTreeMap<String, String> = BackupMetadata::default()
            .to_map()
            .into_iter()
            .map(|(k, v)| (k.to_ascii_uppercase(), v))
            .collect();
        assert!(BackupMetadata::from_map(&map).is_some());
    }
}
