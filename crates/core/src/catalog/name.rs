//! Backup names: validation of every name that comes from outside, the naming scheme of new
//! backups, and what a name's extension says about format and compression.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// How the dump inside a backup was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum DumpFormat {
    /// Plain SQL, restored with psql (the seed's and the RYTHM API's format).
    Plain,
    /// pg_dump's custom archive (`-Fc`), restored through pg_restore.
    Custom,
}

/// How the stored bytes are compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "lowercase")]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

impl DumpFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            DumpFormat::Plain => "plain",
            DumpFormat::Custom => "custom",
        }
    }
}

impl Compression {
    pub fn as_str(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
        }
    }
}

impl FromStr for DumpFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "plain" | "sql" | "p" => Ok(DumpFormat::Plain),
            "custom" | "c" => Ok(DumpFormat::Custom),
            other => Err(format!(
                "unknown dump format {other:?} (use plain or custom)"
            )),
        }
    }
}

impl FromStr for Compression {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "none" => Ok(Compression::None),
            "gzip" | "gz" => Ok(Compression::Gzip),
            "zstd" | "zst" => Ok(Compression::Zstd),
            other => Err(format!(
                "unknown compression {other:?} (use zstd, gzip or none)"
            )),
        }
    }
}

/// The extensions a backup may carry, longest first so `.sql.gz` wins over `.sql`.
const EXTENSIONS: [(&str, DumpFormat, Compression); 6] = [
    (".dump.zst", DumpFormat::Custom, Compression::Zstd),
    (".sql.zst", DumpFormat::Plain, Compression::Zstd),
    (".sql.gz", DumpFormat::Plain, Compression::Gzip),
    (".dump.gz", DumpFormat::Custom, Compression::Gzip),
    (".dump", DumpFormat::Custom, Compression::None),
    (".sql", DumpFormat::Plain, Compression::None),
];

/// The longest name accepted, as Azure and most file systems allow.
const MAX_NAME_LEN: usize = 255;

/// Why a name from outside was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("backup name is empty")]
    Empty,
    #[error("backup name is {0} characters long; at most 255 are allowed")]
    TooLong(usize),
    #[error(
        "backup name {0:?} contains a character that is not allowed \
         (only letters, digits, '.', '_' and '-'; it must start with a letter or digit)"
    )]
    BadCharacter(String),
    #[error("backup name {0:?} contains '..'")]
    DotDot(String),
    #[error(
        "backup name {0:?} has no known extension \
         (.sql, .sql.gz, .sql.zst, .dump, .dump.gz, .dump.zst)"
    )]
    UnknownExtension(String),
}

/// A validated backup name: safe as a blob name and as a file name on every OS.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(transparent)]
pub struct BackupName(String);

impl BackupName {
    /// Validates a name that came from outside (a user, an HTTP path, a listing).
    pub fn parse(raw: &str) -> Result<Self, NameError> {
        if raw.is_empty() {
            return Err(NameError::Empty);
        }
        let chars = raw.chars().count();
        if chars > MAX_NAME_LEN {
            return Err(NameError::TooLong(chars));
        }
        let mut bytes = raw.bytes();
        let first_ok = bytes.next().is_some_and(|b| b.is_ascii_alphanumeric());
        let rest_ok = bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
        if !first_ok || !rest_ok {
            return Err(NameError::BadCharacter(printable(raw)));
        }
        if raw.contains("..") {
            return Err(NameError::DotDot(raw.to_owned()));
        }
        if split_extension(raw).is_none() {
            return Err(NameError::UnknownExtension(raw.to_owned()));
        }
        Ok(BackupName(raw.to_owned()))
    }

    /// A new name in the RYTHM API's scheme: `<prefix>-YYYY-MM-DDTHH-MM-SS-mmmZ<ext>`.
    pub fn generate(
        prefix: &str,
        at: OffsetDateTime,
        format: DumpFormat,
        compression: Compression,
    ) -> Self {
        let at = at.to_offset(time::UtcOffset::UTC);
        let stamp = format!(
            "{:04}-{:02}-{:02}T{:02}-{:02}-{:02}-{:03}Z",
            at.year(),
            u8::from(at.month()),
            at.day(),
            at.hour(),
            at.minute(),
            at.second(),
            at.millisecond()
        );
        let name = format!("{prefix}-{stamp}{}", extension_of(format, compression));
        BackupName::parse(&name).expect("generated names are valid")
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Format and compression as the extension states them.
    pub fn kind(&self) -> (DumpFormat, Compression) {
        let (_, format, compression) = split_extension(&self.0).expect("validated on parse");
        (format, compression)
    }

    /// The name without its extension.
    pub fn stem(&self) -> &str {
        split_extension(&self.0).expect("validated on parse").0
    }

    /// The creation time encoded in the name, for backups written by RYTHM, the seed or us.
    pub fn timestamp(&self) -> Option<OffsetDateTime> {
        parse_name_timestamp(self.stem())
    }
}

impl fmt::Display for BackupName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for BackupName {
    type Err = NameError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        BackupName::parse(s)
    }
}

impl<'de> Deserialize<'de> for BackupName {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        BackupName::parse(&raw).map_err(serde::de::Error::custom)
    }
}

/// The file extension for a format and compression.
pub fn extension_of(format: DumpFormat, compression: Compression) -> &'static str {
    EXTENSIONS
        .iter()
        .find(|(_, f, c)| *f == format && *c == compression)
        .map(|(ext, _, _)| *ext)
        .expect("every format and compression has an extension")
}

fn split_extension(name: &str) -> Option<(&str, DumpFormat, Compression)> {
    EXTENSIONS.iter().find_map(|(ext, format, compression)| {
        let stem = name.strip_suffix(ext)?;
        (!stem.is_empty()).then_some((stem, *format, *compression))
    })
}

/// Reads `...YYYY-MM-DDTHH-MM-SS[-mmm][Z]` at the end of a stem (our, RYTHM's and the
/// seed's schemes: `rythm-backup-2026-01-15T10-30-00-851Z`, `backup-2024-01-15T10-30-00`).
fn parse_name_timestamp(stem: &str) -> Option<OffsetDateTime> {
    let stem = stem.strip_suffix('Z').unwrap_or(stem);
    let t = stem.rfind('T')?;
    let date_part = stem.get(t.checked_sub(10)?..t)?;
    let time_part = &stem[t + 1..];
    let d: Vec<&str> = date_part.split('-').collect();
    let tm: Vec<&str> = time_part.split('-').collect();
    if d.len() != 3 || !(3..=4).contains(&tm.len()) {
        return None;
    }
    let num = |s: &str, len: usize| -> Option<u32> {
        (s.len() == len && s.bytes().all(|b| b.is_ascii_digit())).then(|| s.parse().ok())?
    };
    let date = time::Date::from_calendar_date(
        num(d[0], 4)? as i32,
        time::Month::try_from(num(d[1], 2)? as u8).ok()?,
        num(d[2], 2)? as u8,
    )
    .ok()?;
    let millis = if tm.len() == 4 { num(tm[3], 3)? } else { 0 };
    let clock = time::Time::from_hms_milli(
        num(tm[0], 2)? as u8,
        num(tm[1], 2)? as u8,
        num(tm[2], 2)? as u8,
        millis as u16,
    )
    .ok()?;
    Some(date.with_time(clock).assume_utc())
}

/// Shows a refused name without letting control characters reach a terminal or log.
fn printable(raw: &str) -> String {
    let shown: String = raw.chars().take(80).collect();
    let shown = shown.escape_debug().to_string();
    if raw.chars().count() > 80 {
        format!("{shown}…")
    } else {
        shown
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn accepts_the_schemes_in_use() {
        for ok in [
            "rythm-backup-2026-01-15T10-30-00-851Z.sql",
            "backup-2024-01-15T10-30-00.sql",
            "pre-restore-2026-01-15T10-30-00-851Z.dump.zst",
            "x.sql.gz",
        ] {
            assert!(BackupName::parse(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn refuses_dangerous_names() {
        let long = format!("{}.sql", "a".repeat(1000));
        for bad in [
            "",
            "../etc/passwd.sql",
            "a/b.sql",
            "a\\b.sql",
            "a..sql",
            "..sql",
            "a%2Fb.sql",
            "a\nb.sql",
            "a\u{0}b.sql",
            ".hidden.sql",
            "-rf.sql",
            "name.txt",
            "name",
            ".sql",
            "ümlaut.sql",
            "a b.sql",
            long.as_str(),
        ] {
            assert!(BackupName::parse(bad).is_err(), "{bad:?} must be refused");
        }
    }

    #[test]
    fn too_long_names_report_their_length() {
        let long = format!("{}.sql", "a".repeat(1000));
        assert_eq!(BackupName::parse(&long), Err(NameError::TooLong(1004)));
    }

    #[test]
    fn extension_decides_kind() {
        let n = BackupName::parse("a.sql.zst").unwrap();
        assert_eq!(n.kind(), (DumpFormat::Plain, Compression::Zstd));
        assert_eq!(n.stem(), "a");
        let n = BackupName::parse("a.dump").unwrap();
        assert_eq!(n.kind(), (DumpFormat::Custom, Compression::None));
    }

    #[test]
    fn generated_names_round_trip_their_time() {
        let at = datetime!(2026-03-04 05:06:07.089 UTC);
        let n = BackupName::generate("rythm-backup", at, DumpFormat::Plain, Compression::Zstd);
        assert_eq!(n.as_str(), "rythm-backup-2026-03-04T05-06-07-089Z.sql.zst");
        assert_eq!(n.timestamp(), Some(at));
    }

    #[test]
    fn reads_legacy_timestamps() {
        let n = BackupName::parse("backup-2024-01-15T10-30-00.sql").unwrap();
        assert_eq!(n.timestamp(), Some(datetime!(2024-01-15 10:30:00 UTC)));
        let n = BackupName::parse("rythm-backup-2025-10-01T02-00-00-851Z.sql").unwrap();
        assert_eq!(n.timestamp(), Some(datetime!(2025-10-01 02:00:00.851 UTC)));
        assert_eq!(BackupName::parse("mydump.sql").unwrap().timestamp(), None);
    }
}
