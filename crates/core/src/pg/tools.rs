//! Finding the PostgreSQL client tools: every folder that holds `pg_dump`, `pg_restore` and
//! `psql` (PATH, Debian's `/usr/lib/postgresql/*/bin`, Red Hat's `/usr/pgsql-*/bin`,
//! Homebrew, Postgres.app, `C:\Program Files\PostgreSQL\*\bin`), and picking the one whose
//! major version fits the server.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// One of the three tools we run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToolKind {
    PgDump,
    PgRestore,
    Psql,
}

impl ToolKind {
    fn file_name(self) -> &'static str {
        match (self, cfg!(windows)) {
            (ToolKind::PgDump, false) => "pg_dump",
            (ToolKind::PgRestore, false) => "pg_restore",
            (ToolKind::Psql, false) => "psql",
            (ToolKind::PgDump, true) => "pg_dump.exe",
            (ToolKind::PgRestore, true) => "pg_restore.exe",
            (ToolKind::Psql, true) => "psql.exe",
        }
    }
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum ToolError {
    #[error(
        "no PostgreSQL client tools (pg_dump, pg_restore, psql) were found; searched {searched}. \
         Install the PostgreSQL client, or set PG_BIN_DIR to the folder that holds them"
    )]
    NotFound { searched: String },
    #[error(
        "the server runs PostgreSQL {server_major}, but the newest client tools found are \
         version {newest} ({found}); pg_dump must be at least the server's version. Install \
         PostgreSQL {server_major} client tools or newer, or set PG_BIN_DIR"
    )]
    TooOld {
        server_major: u32,
        newest: u32,
        found: String,
    },
}

/// pg_dump, pg_restore and psql of one installation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PgTools {
    dir: PathBuf,
    major: u32,
    version: String,
}

impl PgTools {
    pub fn path(&self, kind: ToolKind) -> PathBuf {
        self.dir.join(kind.file_name())
    }

    pub fn major(&self) -> u32 {
        self.major
    }

    /// The full version, e.g. `15.18`.
    pub fn version(&self) -> &str {
        &self.version
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The newest installation found, for the first question to a server (its version).
    pub fn newest() -> Result<PgTools, ToolError> {
        let all = installations();
        all.last().cloned().ok_or_else(|| ToolError::NotFound {
            searched: searched_description(),
        })
    }

    /// The oldest installation whose major version is at least the server's: the closest
    /// match dumps in the syntax the server itself understands best.
    pub fn for_server(server_major: u32) -> Result<PgTools, ToolError> {
        choose(installations(), server_major)
    }
}

/// The oldest of `all` (sorted by major) that can dump a server of `server_major`.
fn choose(all: &[PgTools], server_major: u32) -> Result<PgTools, ToolError> {
    if let Some(fit) = all.iter().find(|t| t.major >= server_major) {
        return Ok(fit.clone());
    }
    match all.last() {
        None => Err(ToolError::NotFound {
            searched: searched_description(),
        }),
        Some(newest) => Err(ToolError::TooOld {
            server_major,
            newest: newest.major,
            found: all
                .iter()
                .map(|t| format!("{} at {}", t.version, t.dir.display()))
                .collect::<Vec<_>>()
                .join(", "),
        }),
    }
}

/// Every usable installation, oldest major first; probed once per process.
fn installations() -> &'static [PgTools] {
    static FOUND: OnceLock<Vec<PgTools>> = OnceLock::new();
    FOUND.get_or_init(|| {
        let mut by_major: BTreeMap<u32, PgTools> = BTreeMap::new();
        for dir in candidate_dirs() {
            if let Some(tools) = probe(&dir) {
                // The first folder seen wins for a major (PG_BIN_DIR and PATH come first).
                by_major.entry(tools.major).or_insert(tools);
            }
        }
        tracing::debug!(found = ?by_major.values().collect::<Vec<_>>(), "PostgreSQL client tools");
        by_major.into_values().collect()
    })
}

fn probe(dir: &Path) -> Option<PgTools> {
    let has_all = [ToolKind::PgDump, ToolKind::PgRestore, ToolKind::Psql]
        .iter()
        .all(|k| dir.join(k.file_name()).is_file());
    if !has_all || is_debian_wrapper(&dir.join(ToolKind::PgDump.file_name())) {
        return None;
    }
    let output = Command::new(dir.join(ToolKind::PgDump.file_name()))
        .env_clear()
        .envs(super::process::minimal_environment())
        .arg("--version")
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&output.stdout);
    let version = parse_version(&text)?;
    let major = version.split('.').next()?.parse().ok()?;
    Some(PgTools {
        dir: dir.to_owned(),
        major,
        version,
    })
}

/// Debian's `/usr/bin/pg_dump` is a Perl wrapper that picks a version itself; the real
/// binaries under `/usr/lib/postgresql/*/bin` are probed instead.
fn is_debian_wrapper(path: &Path) -> bool {
    std::fs::canonicalize(path).is_ok_and(|real| real.ends_with("pg_wrapper"))
}

/// `pg_dump (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)` → `15.18`.
pub(crate) fn parse_version(text: &str) -> Option<String> {
    text.split_whitespace()
        .find(|word| word.chars().next().is_some_and(|c| c.is_ascii_digit()))
        .map(|word| {
            let numeric: String = word
                .chars()
                .take_while(|c| c.is_ascii_digit() || *c == '.')
                .collect();
            numeric.trim_end_matches('.').to_owned()
        })
}

fn candidate_dirs() -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Some(dir) = std::env::var_os("PG_BIN_DIR") {
        dirs.push(PathBuf::from(dir));
    }
    if let Some(path) = std::env::var_os("PATH") {
        dirs.extend(std::env::split_paths(&path));
    }
    for pattern in versioned_roots() {
        dirs.extend(expand(&pattern));
    }
    dirs
}

/// Folders whose children are versions: (parent, suffix under each child).
fn versioned_roots() -> Vec<(PathBuf, &'static str)> {
    let mut roots = vec![
        (PathBuf::from("/usr/lib/postgresql"), "bin"),
        (PathBuf::from("/usr/local/pgsql"), "bin"),
        (
            PathBuf::from("/Applications/Postgres.app/Contents/Versions"),
            "bin",
        ),
        (PathBuf::from("/Library/PostgreSQL"), "bin"),
    ];
    for (parent, prefix) in [
        ("/usr", "pgsql-"),
        ("/opt/homebrew/opt", "postgresql"),
        ("/usr/local/opt", "postgresql"),
    ] {
        roots.push((PathBuf::from(parent).join(format!("{prefix}*")), "bin"));
    }
    if cfg!(windows) {
        for var in ["ProgramFiles", "ProgramFiles(x86)"] {
            if let Some(pf) = std::env::var_os(var) {
                roots.push((PathBuf::from(pf).join("PostgreSQL"), "bin"));
            }
        }
    }
    roots
}

/// Expands `parent/*/suffix`, or `parent/prefix*/suffix` when the last part ends in `*`.
fn expand((parent, suffix): &(PathBuf, &str)) -> Vec<PathBuf> {
    let (dir, prefix) = match parent.file_name().and_then(|n| n.to_str()) {
        Some(name) if name.ends_with('*') => (
            parent.parent().map(Path::to_path_buf).unwrap_or_default(),
            name.trim_end_matches('*').to_owned(),
        ),
        _ => (parent.clone(), String::new()),
    };
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut found: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
        .map(|e| e.path().join(suffix))
        .collect();
    found.sort();
    found
}

fn searched_description() -> String {
    let mut places = vec!["PG_BIN_DIR".to_owned(), "PATH".to_owned()];
    places.extend(
        versioned_roots()
            .iter()
            .map(|(p, s)| format!("{}/*/{s}", p.display())),
    );
    places.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tools(major: u32) -> PgTools {
        PgTools {
            dir: PathBuf::from(format!("/usr/lib/postgresql/{major}/bin")),
            major,
            version: format!("{major}.3"),
        }
    }

    #[test]
    fn picks_the_closest_version_at_least_the_servers() {
        let all = [tools(13), tools(15), tools(17)];
        assert_eq!(choose(&all, 14).unwrap().major(), 15);
        assert_eq!(choose(&all, 15).unwrap().major(), 15);
        assert_eq!(choose(&all, 12).unwrap().major(), 13);
    }

    #[test]
    fn says_what_was_found_and_what_is_needed() {
        let message = choose(&[tools(14), tools(15)], 16).unwrap_err().to_string();
        assert!(message.contains("PostgreSQL 16"), "{message}");
        assert!(
            message.contains("15.3 at /usr/lib/postgresql/15/bin"),
            "{message}"
        );
        assert!(message.contains("PG_BIN_DIR"), "{message}");
        let message = choose(&[], 15).unwrap_err().to_string();
        assert!(message.contains("no PostgreSQL client tools"), "{message}");
        assert!(message.contains("/usr/lib/postgresql"), "{message}");
    }

    #[test]
    fn reads_versions_of_all_distributions() {
        assert_eq!(
            parse_version("pg_dump (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)\n").as_deref(),
            Some("15.18")
        );
        assert_eq!(
            parse_version("pg_dump (PostgreSQL) 17.2\n").as_deref(),
            Some("17.2")
        );
        assert_eq!(
            parse_version("pg_dump (PostgreSQL) 16beta1").as_deref(),
            Some("16")
        );
        assert_eq!(parse_version("nothing"), None);
    }
}
