//! The names of the small records kept beside a backup in the same store: its row-count
//! manifest (`NAME.rows.json`, when the counts are too many for metadata) and its last
//! verification (`NAME.verification.json`). Derived from a validated backup name, they are
//! as safe as it; they never parse as backup names, so listings never show them as backups.

use std::fmt;
use std::sync::Arc;

use super::BackupName;
use crate::storage::BlobStore;

/// What a record holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RecordKind {
    RowCounts,
    Verification,
}

impl RecordKind {
    pub const ALL: [RecordKind; 2] = [RecordKind::RowCounts, RecordKind::Verification];

    fn suffix(self) -> &'static str {
        match self {
            RecordKind::RowCounts => ".rows.json",
            RecordKind::Verification => ".verification.json",
        }
    }
}

/// `<backup name><suffix>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RecordName {
    name: String,
    backup: BackupName,
    kind: RecordKind,
}

impl RecordName {
    pub fn new(backup: &BackupName, kind: RecordKind) -> Self {
        RecordName {
            name: format!("{backup}{}", kind.suffix()),
            backup: backup.clone(),
            kind,
        }
    }

    /// A stored blob's name as a record, when it is one.
    pub fn parse(raw: &str) -> Option<Self> {
        RecordKind::ALL.iter().find_map(|kind| {
            let backup = BackupName::parse(raw.strip_suffix(kind.suffix())?).ok()?;
            Some(RecordName::new(&backup, *kind))
        })
    }

    pub fn as_str(&self) -> &str {
        &self.name
    }

    pub fn backup(&self) -> &BackupName {
        &self.backup
    }

    pub fn kind(&self) -> RecordKind {
        self.kind
    }
}

impl fmt::Display for RecordName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

/// Deletes the records kept beside backup `name` (its manifest and verification), after the
/// backup itself went or never came. Failures are logged: an orphan record is harmless.
pub async fn forget(store: &Arc<dyn BlobStore>, name: &BackupName) {
    for kind in RecordKind::ALL {
        let record = RecordName::new(name, kind);
        if let Err(e) = store.delete_record(&record).await {
            tracing::warn!(record = %record, error = %e, "could not delete a record beside a backup");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_and_are_never_backups() {
        let backup = BackupName::parse("rythm-backup-2026-01-01T00-00-00-000Z.sql.zst").unwrap();
        for kind in RecordKind::ALL {
            let record = RecordName::new(&backup, kind);
            assert!(BackupName::parse(record.as_str()).is_err(), "{record}");
            assert_eq!(RecordName::parse(record.as_str()), Some(record.clone()));
        }
        for bad in ["x.json", "../a.sql.rows.json", "a.sql.meta.json", "a.sql"] {
            assert_eq!(RecordName::parse(bad), None, "{bad}");
        }
    }
}
