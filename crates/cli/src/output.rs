//! How results are shown: JSON for scripts, short readable text for people; every time in
//! the one format of `time_text::shown`; warnings on stderr.

use indicatif::HumanBytes;
use rythm_backup_core::backups::{CreateOutcome, NoSafetyBackup, RestoreSummary};
use rythm_backup_core::jobs::download::DownloadOutcome;
use rythm_backup_core::jobs::prune::PruneOutcome;
use rythm_backup_core::jobs::restore::RestoreOutcome;
use rythm_backup_core::jobs::verify::VerifyOutcome;
use rythm_backup_core::time_text;
use rythm_backup_core::BackupEntry;
use serde::Serialize;
use time::OffsetDateTime;

pub fn json<T: Serialize>(value: &T) {
    println!(
        "{}",
        serde_json::to_string_pretty(value).expect("results serialise")
    );
}

/// A warning on stderr: `warning: …`, or `{"warning": …}` with --json so that stderr stays
/// one JSON value per line.
pub fn warn(json: bool, message: &str) {
    if json {
        eprintln!("{}", serde_json::json!({ "warning": message }));
    } else {
        eprintln!("warning: {message}");
    }
}

/// `3d 4h`, `5h 2m`, `40s`.
pub fn span(seconds: i64) -> String {
    let s = seconds.unsigned_abs();
    let text = match s {
        0..=59 => format!("{s}s"),
        60..=3599 => format!("{}m", s / 60),
        3600..=86_399 => format!("{}h {}m", s / 3600, s % 3600 / 60),
        _ => format!("{}d {}h", s / 86_400, s % 86_400 / 3600),
    };
    if seconds < 0 {
        format!("-{text}")
    } else {
        text
    }
}

fn seconds(ms: u64) -> String {
    format!("{:.1} s", ms as f64 / 1000.0)
}

pub fn created(b: &CreateOutcome) {
    let raw = b
        .raw_size
        .map(|r| format!(", {} before compression", HumanBytes(r)))
        .unwrap_or_default();
    let from = b
        .database
        .as_ref()
        .map(|d| format!(" from {d}"))
        .unwrap_or_default();
    let took = b
        .duration_ms
        .map(|ms| format!(" in {}", seconds(ms)))
        .unwrap_or_default();
    println!(
        "Created {} ({}{raw}){from}{took}",
        b.name,
        HumanBytes(b.size)
    );
    if let Some(sha) = &b.sha256 {
        println!("sha256 {sha}");
    }
    for name in &b.pruned {
        println!("Retention deleted {name}");
    }
    if let Some(e) = &b.prune_error {
        eprintln!("warning: retention failed after the backup: {e}");
    }
}

/// A restore through the `Backups` trait; `server` is where it ran (for API mode's words).
pub fn restored(r: &RestoreSummary, server: &str) {
    let into = r
        .database
        .as_ref()
        .map(|d| format!(" into {d}"))
        .unwrap_or_default();
    let took = r
        .duration_ms
        .map(|ms| format!(" in {}", seconds(ms)))
        .unwrap_or_default();
    println!("Restored {}{into}{took}", r.name);
    if let Some(message) = &r.message {
        println!("{message}");
    }
    if r.checksum_verified == Some(true) {
        println!("sha256 verified");
    }
    if let Some(role) = r.restored_as.as_ref().filter(|role| role.superuser) {
        eprintln!(
            "warning: {}",
            rythm_backup_core::jobs::restore::superuser_warning(&role.name)
        );
    }
    if let Some(safety) = &r.safety_backup {
        println!("Safety backup of the previous contents: {safety}");
        let db = r.database.as_deref().unwrap_or("DBNAME");
        println!("Roll back with: rythm-backup restore {safety} --confirm {db}");
    }
    match r.no_safety_backup {
        Some(NoSafetyBackup::NotOffered) => println!(
            "No safety backup was taken: {server} takes none before a restore (safetyBackup: \
             null), so this restore cannot be rolled back. Before the next one, keep a copy of \
             the current state: run `rythm-backup backup`, then `rythm-backup download NAME` \
             with the name it prints."
        ),
        Some(NoSafetyBackup::Skipped) => {
            println!("No safety backup was taken (--no-safety-backup): there is nothing to roll back to.")
        }
        None => {}
    }
}

/// A restore as a superuser ran the backup's SQL with superuser power: say so.
fn warn_if_superuser(role: Option<&rythm_backup_core::pg::RoleInfo>) {
    if let Some(role) = role.filter(|role| role.superuser) {
        eprintln!(
            "warning: {}",
            rythm_backup_core::jobs::restore::superuser_warning(&role.name)
        );
    }
}

pub fn list(entries: &[BackupEntry]) {
    if entries.is_empty() {
        println!("No backups yet. Create one with: rythm-backup backup");
        return;
    }
    let now = OffsetDateTime::now_utc();
    let rows: Vec<[String; 8]> = entries
        .iter()
        .map(|e| {
            let expires = (e.expires_at - now).whole_seconds();
            [
                e.name.to_string(),
                time_text::shown(e.created_at),
                span(e.age_seconds),
                HumanBytes(e.size).to_string(),
                format!("{}/{}", e.format.as_str(), e.compression.as_str()),
                kind(e),
                checksum(e).into(),
                if expires > 0 {
                    span(expires)
                } else {
                    "due".into()
                },
            ]
        })
        .collect();
    let header = [
        "NAME",
        "CREATED",
        "AGE",
        "SIZE",
        "FORMAT",
        "TYPE",
        "CHECKSUM",
        "EXPIRES IN",
    ];
    let mut widths = header.map(str::len);
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: &[String]| {
        let parts: Vec<String> = cells
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        println!("{}", parts.join("  ").trim_end());
    };
    line(&header.map(String::from));
    for row in &rows {
        line(row);
    }
}

/// The backup's type, and its status when the server reports one other than `completed`.
fn kind(e: &BackupEntry) -> String {
    match e
        .status
        .as_deref()
        .filter(|s| !s.eq_ignore_ascii_case("completed"))
    {
        Some(status) => format!("{} ({status})", e.kind.as_str()),
        None => e.kind.as_str().to_owned(),
    }
}

/// `sha256` when recorded; `legacy` for a blob in our store without our metadata; `none`
/// where the server records no checksum (the RYTHM platform).
fn checksum(e: &BackupEntry) -> &'static str {
    match (&e.sha256, e.legacy) {
        (Some(_), _) => "sha256",
        (None, true) => "legacy",
        (None, false) => "not recorded",
    }
}

pub fn download(d: &DownloadOutcome) {
    let check = match d.checksum_verified {
        Some(true) => "sha256 verified",
        _ => "no checksum recorded for it",
    };
    println!(
        "Downloaded {} to {} ({}, {check}) in {}",
        d.name,
        d.path.display(),
        HumanBytes(d.size),
        seconds(d.duration_ms)
    );
    if d.resumed_from > 0 {
        println!(
            "Resumed after {} already on disk",
            HumanBytes(d.resumed_from)
        );
    }
}

pub fn restore(r: &RestoreOutcome) {
    let created = if r.created_database { " (created)" } else { "" };
    println!(
        "Restored {} into {}{} on {} in {}",
        r.source,
        r.database,
        created,
        r.server,
        seconds(r.duration_ms)
    );
    if r.checksum_verified == Some(true) {
        println!("sha256 verified");
    }
    warn_if_superuser(Some(&r.restored_as));
    if let Some(safety) = &r.safety_backup {
        println!("Safety backup of the previous contents: {safety}");
        println!(
            "Roll back with: rythm-backup restore {safety} --confirm {}",
            r.database
        );
    }
}

pub fn prune(p: &PruneOutcome) {
    let verb = if p.dry_run { "Would delete" } else { "Deleted" };
    if p.deleted.is_empty() {
        println!(
            "Nothing is older than {} days (or it is the newest backup); {} kept",
            p.retention_days, p.kept
        );
        return;
    }
    for d in &p.deleted {
        println!(
            "{verb} {} ({}, created {})",
            d.name,
            HumanBytes(d.size),
            time_text::shown(d.created_at)
        );
    }
    println!("{} kept", p.kept);
}

pub fn verify(v: &VerifyOutcome) {
    let recorded: std::collections::BTreeMap<(&str, &str), Option<i64>> = v
        .verification
        .mismatches
        .iter()
        .map(|m| ((m.schema.as_str(), m.table.as_str()), m.recorded))
        .collect();
    for t in &v.tables {
        match recorded.get(&(t.schema.as_str(), t.table.as_str())) {
            Some(expected) => println!(
                "{:>12}  {}.{}  MISMATCH: recorded {}",
                t.rows,
                t.schema,
                t.table,
                expected.map_or("no such table".to_owned(), |n| n.to_string())
            ),
            None => println!("{:>12}  {}.{}", t.rows, t.schema, t.table),
        }
    }
    for m in v
        .verification
        .mismatches
        .iter()
        .filter(|m| m.restored.is_none())
    {
        println!(
            "     missing  {}.{}  MISMATCH: recorded {:?} rows",
            m.schema, m.table, m.recorded
        );
    }
    let check = match v.checksum_verified {
        Some(true) => "sha256 verified",
        _ => "no recorded checksum (legacy backup)",
    };
    let counts = if v.verification.compared {
        "row counts compared with those recorded at backup time"
    } else {
        "no recorded row counts to compare with"
    };
    if v.ok {
        println!(
            "{} restores cleanly: {} tables, {} rows, {check}, {counts}; the restore took \
             {:.1} s on {}",
            v.name,
            v.tables.len(),
            v.total_rows,
            v.verification.restore_seconds,
            v.scratch_server
        );
    } else {
        println!(
            "{} FAILED verification: {}",
            v.name,
            v.verification
                .error
                .as_deref()
                .unwrap_or("the restored data differs")
        );
    }
}

#[cfg(test)]
mod tests {
    use super::span;

    #[test]
    fn spans_read_naturally() {
        assert_eq!(span(40), "40s");
        assert_eq!(span(125), "2m");
        assert_eq!(span(3 * 3600 + 120), "3h 2m");
        assert_eq!(span(2 * 86_400 + 3600), "2d 1h");
        assert_eq!(span(-90), "-1m");
    }
}
