//! What happened, as plain data (`Event`), and how it reads: the subject line, the plain
//! text and HTML bodies of a mail, and the JSON a webhook receives. Everything here is
//! pure; secrets are scrubbed from every free-text field before it is rendered.

use serde::Serialize;
use time::OffsetDateTime;

use crate::redact::Redactor;

/// Where an event happened: the database server's host and the database (never a URL, so
/// never a password), and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub server: String,
    pub database: String,
    pub at: OffsetDateTime,
}

impl Origin {
    pub fn new(server: impl Into<String>, database: impl Into<String>) -> Self {
        Origin {
            server: server.into(),
            database: database.into(),
            at: OffsetDateTime::now_utc(),
        }
    }

    /// The origin of an engine's configured database (`?` when none is configured).
    pub fn of(database: Option<&crate::pg::DbTarget>) -> Self {
        match database {
            Some(db) => Origin::new(db.host(), db.database()),
            None => Origin::new("?", "?"),
        }
    }

    fn place(&self) -> String {
        format!("{}/{}", self.server, self.database)
    }
}

/// Something a person responsible for the backups may need to hear about.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    BackupSucceeded {
        origin: Origin,
        backup: String,
        size: u64,
        duration_ms: u64,
    },
    BackupFailed {
        origin: Origin,
        /// The error and its causes, outermost first.
        error: Vec<String>,
        duration_ms: u64,
    },
    VerificationSucceeded {
        origin: Origin,
        backup: String,
        restore_seconds: f64,
        tables: usize,
        rows: i64,
    },
    VerificationFailed {
        origin: Origin,
        backup: String,
        error: Vec<String>,
    },
    /// No successful backup for longer than the alarm's threshold.
    BackupsStale {
        origin: Origin,
        last_success_at: Option<OffsetDateTime>,
        stale_after_hours: u32,
    },
    /// A restore ran (a security event: always sent, whatever `NOTIFY_ON` says).
    RestorePerformed {
        origin: Origin,
        backup: String,
        actor: String,
        /// `None`: it succeeded.
        error: Option<Vec<String>>,
    },
    RetentionDeleted {
        origin: Origin,
        deleted: Vec<String>,
    },
    /// `notify test`.
    Test { origin: Origin },
}

/// How urgent an event is, for `NOTIFY_ON`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// Sent unless `NOTIFY_ON=never`: something is wrong.
    Alarm,
    /// Sent only with `NOTIFY_ON=all`.
    Info,
    /// Sent unless `NOTIFY_ON=never`, whatever happened (restores; tests).
    Always,
}

/// The JSON body a webhook receives; `text` is the one line Slack and Teams show.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Payload {
    pub event: &'static str,
    pub backup: Option<String>,
    pub database: String,
    pub server: String,
    pub ok: bool,
    pub error: Option<String>,
    pub duration_ms: Option<u64>,
    pub size: Option<u64>,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub text: String,
}

/// An event rendered for people and machines, secrets scrubbed.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub subject: String,
    pub text: String,
    pub html: String,
    pub payload: Payload,
}

impl Event {
    /// The stable name used in webhooks and delivery records.
    pub fn kind(&self) -> &'static str {
        match self {
            Event::BackupSucceeded { .. } => "backup.succeeded",
            Event::BackupFailed { .. } => "backup.failed",
            Event::VerificationSucceeded { .. } => "verification.succeeded",
            Event::VerificationFailed { .. } => "verification.failed",
            Event::BackupsStale { .. } => "backups.stale",
            Event::RestorePerformed { .. } => "restore.performed",
            Event::RetentionDeleted { .. } => "retention.deleted",
            Event::Test { .. } => "test",
        }
    }

    pub fn severity(&self) -> Severity {
        match self {
            Event::BackupFailed { .. }
            | Event::VerificationFailed { .. }
            | Event::BackupsStale { .. } => Severity::Alarm,
            Event::BackupSucceeded { .. }
            | Event::VerificationSucceeded { .. }
            | Event::RetentionDeleted { .. } => Severity::Info,
            Event::RestorePerformed { .. } | Event::Test { .. } => Severity::Always,
        }
    }

    pub fn origin(&self) -> &Origin {
        match self {
            Event::BackupSucceeded { origin, .. }
            | Event::BackupFailed { origin, .. }
            | Event::VerificationSucceeded { origin, .. }
            | Event::VerificationFailed { origin, .. }
            | Event::BackupsStale { origin, .. }
            | Event::RestorePerformed { origin, .. }
            | Event::RetentionDeleted { origin, .. }
            | Event::Test { origin } => origin,
        }
    }

    fn ok(&self) -> bool {
        match self {
            Event::BackupFailed { .. }
            | Event::VerificationFailed { .. }
            | Event::BackupsStale { .. } => false,
            Event::RestorePerformed { error, .. } => error.is_none(),
            _ => true,
        }
    }

    /// The causes of a failure, if it is one.
    fn error(&self) -> Option<&[String]> {
        match self {
            Event::BackupFailed { error, .. } | Event::VerificationFailed { error, .. } => {
                Some(error)
            }
            Event::RestorePerformed { error, .. } => error.as_deref(),
            _ => None,
        }
    }

    fn backup(&self) -> Option<&str> {
        match self {
            Event::BackupSucceeded { backup, .. }
            | Event::VerificationSucceeded { backup, .. }
            | Event::VerificationFailed { backup, .. }
            | Event::RestorePerformed { backup, .. } => Some(backup),
            _ => None,
        }
    }

    /// `[RYTHM backup] FAILED on db.internal/rythm`.
    fn subject(&self) -> String {
        let place = self.origin().place();
        let what = match self {
            Event::BackupSucceeded { .. } => "backup OK".to_owned(),
            Event::BackupFailed { .. } => "FAILED".to_owned(),
            Event::VerificationSucceeded { .. } => "restore rehearsal OK".to_owned(),
            Event::VerificationFailed { .. } => "VERIFICATION FAILED".to_owned(),
            Event::BackupsStale { .. } => "STALE: no recent backup".to_owned(),
            Event::RestorePerformed { error: None, .. } => "RESTORE performed".to_owned(),
            Event::RestorePerformed { error: Some(_), .. } => "RESTORE FAILED".to_owned(),
            Event::RetentionDeleted { deleted, .. } => {
                format!("retention deleted {} backup(s)", deleted.len())
            }
            Event::Test { .. } => "test message".to_owned(),
        };
        format!("[RYTHM backup] {what} on {place}")
    }

    /// The one-line summary (a webhook's `text`, a mail's first line).
    fn summary(&self) -> String {
        let place = self.origin().place();
        match self {
            Event::BackupSucceeded {
                backup,
                size,
                duration_ms,
                ..
            } => format!(
                "Backup of {place} succeeded: {backup} ({}, {}).",
                bytes(*size),
                seconds(*duration_ms as f64 / 1000.0)
            ),
            Event::BackupFailed { error, .. } => format!(
                "Backup of {place} FAILED: {}",
                error.first().map(String::as_str).unwrap_or("unknown error")
            ),
            Event::VerificationSucceeded {
                backup,
                restore_seconds,
                tables,
                rows,
                ..
            } => format!(
                "Restore rehearsal of {backup} ({place}) succeeded: {tables} tables, {rows} rows \
                 match what was recorded; the restore took {}.",
                seconds(*restore_seconds)
            ),
            Event::VerificationFailed { backup, error, .. } => format!(
                "Restore rehearsal of {backup} ({place}) FAILED: {}",
                error.first().map(String::as_str).unwrap_or("unknown error")
            ),
            Event::BackupsStale {
                last_success_at,
                stale_after_hours,
                ..
            } => match last_success_at {
                Some(at) => format!(
                    "Backups of {place} are stale: the last successful backup was at {} \
                     ({} ago), more than {stale_after_hours} hours.",
                    iso(*at),
                    age(self.origin().at - *at)
                ),
                None => format!(
                    "Backups of {place} are stale: no successful backup in the last \
                     {stale_after_hours} hours."
                ),
            },
            Event::RestorePerformed {
                backup,
                actor,
                error: None,
                ..
            } => format!("{actor} restored {backup} into {place}."),
            Event::RestorePerformed {
                backup,
                actor,
                error: Some(error),
                ..
            } => format!(
                "{actor} tried to restore {backup} into {place}; it failed: {}",
                error.first().map(String::as_str).unwrap_or("unknown error")
            ),
            Event::RetentionDeleted { deleted, .. } => format!(
                "Retention deleted {} backup(s) of {place}: {}.",
                deleted.len(),
                deleted.join(", ")
            ),
            Event::Test { .. } => {
                format!("Test message from rythm-backup for {place}: this channel works.")
            }
        }
    }

    /// Renders the event, every free-text part passed through `redactor`.
    pub fn render(&self, redactor: &Redactor) -> Message {
        let summary = redactor.redact(&self.summary());
        let causes: Vec<String> = self
            .error()
            .unwrap_or_default()
            .iter()
            .map(|c| redactor.redact(c))
            .collect();
        let origin = self.origin();
        let mut facts: Vec<(&str, String)> = vec![
            ("Event", self.kind().to_owned()),
            ("Server", origin.server.clone()),
            ("Database", origin.database.clone()),
            ("When", iso(origin.at)),
        ];
        if let Some(backup) = self.backup() {
            facts.push(("Backup", backup.to_owned()));
        }
        if let Event::RestorePerformed { actor, .. } = self {
            facts.push(("By", actor.clone()));
        }
        for (_, value) in facts.iter_mut() {
            *value = redactor.redact(value);
        }

        let mut text = format!("{summary}\n\n");
        for (label, value) in &facts {
            text.push_str(&format!("{label}: {value}\n"));
        }
        if !causes.is_empty() {
            text.push_str("\nWhat went wrong (outermost first):\n");
            for cause in &causes {
                text.push_str(&format!("  - {cause}\n"));
            }
        }
        text.push_str("\n-- \nrythm-backup ");
        text.push_str(env!("CARGO_PKG_VERSION"));
        text.push('\n');

        let mut html = format!(
            "<!DOCTYPE html><html><body style=\"font-family:sans-serif\"><p><strong>{}</strong></p><table>",
            escape(&summary)
        );
        for (label, value) in &facts {
            html.push_str(&format!(
                "<tr><th align=\"left\">{}</th><td>{}</td></tr>",
                escape(label),
                escape(value)
            ));
        }
        html.push_str("</table>");
        if !causes.is_empty() {
            html.push_str("<p>What went wrong (outermost first):</p><ol>");
            for cause in &causes {
                html.push_str(&format!("<li><code>{}</code></li>", escape(cause)));
            }
            html.push_str("</ol>");
        }
        html.push_str("<p style=\"color:#666\">rythm-backup ");
        html.push_str(env!("CARGO_PKG_VERSION"));
        html.push_str("</p></body></html>");

        let (duration_ms, size) = match self {
            Event::BackupSucceeded {
                size, duration_ms, ..
            } => (Some(*duration_ms), Some(*size)),
            Event::BackupFailed { duration_ms, .. } => (Some(*duration_ms), None),
            Event::VerificationSucceeded {
                restore_seconds, ..
            } => (Some((restore_seconds * 1000.0) as u64), None),
            _ => (None, None),
        };
        let payload = Payload {
            event: self.kind(),
            backup: self.backup().map(|b| redactor.redact(b)),
            database: redactor.redact(&origin.database),
            server: redactor.redact(&origin.server),
            ok: self.ok(),
            error: (!causes.is_empty()).then(|| causes.join(": ")),
            duration_ms,
            size,
            at: origin.at,
            text: summary.clone(),
        };
        Message {
            subject: redactor.redact(&self.subject()),
            text,
            html,
            payload,
        }
    }
}

/// An error's message and the messages of its sources, outermost first, each once (a
/// message that already quotes its source's is not followed by it again).
pub fn cause_chain(error: &(dyn std::error::Error + 'static)) -> Vec<String> {
    let mut chain: Vec<String> = vec![error.to_string()];
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !chain.iter().any(|c| c.contains(&text)) {
            chain.push(text);
        }
        source = cause.source();
    }
    chain
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

pub(crate) fn iso(at: OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| at.to_string())
}

fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit < UNITS.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

fn seconds(s: f64) -> String {
    if s < 60.0 {
        format!("{s:.1} s")
    } else {
        format!("{:.0} min {:.0} s", (s / 60.0).floor(), s % 60.0)
    }
}

fn age(d: time::Duration) -> String {
    let hours = d.whole_hours();
    if hours >= 48 {
        format!("{} days", hours / 24)
    } else {
        format!("{hours} hours")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn origin() -> Origin {
        Origin {
            server: "db.internal".into(),
            database: "rythm".into(),
            at: datetime!(2026-11-24 02:00 UTC),
        }
    }

    #[test]
    fn failure_subject_names_server_and_database() {
        let event = Event::BackupFailed {
            origin: origin(),
            error: vec!["pg_dump failed".into(), "connection refused".into()],
            duration_ms: 5,
        };
        let message = event.render(&Redactor::default());
        assert_eq!(
            message.subject,
            "[RYTHM backup] FAILED on db.internal/rythm"
        );
        assert!(
            message.text.contains("connection refused"),
            "{}",
            message.text
        );
        assert!(message
            .html
            .contains("<li><code>connection refused</code></li>"));
        assert!(!message.payload.ok);
        assert_eq!(
            message.payload.error.as_deref(),
            Some("pg_dump failed: connection refused")
        );
        assert_eq!(message.payload.event, "backup.failed");
    }

    #[test]
    fn html_is_escaped_and_secrets_scrubbed() {
        let redactor = Redactor::new(["hunter2-secret".to_owned()]);
        let event = Event::VerificationFailed {
            origin: origin(),
            backup: "b.sql".into(),
            error: vec![
                "<script>x</script> at postgresql://u:hunter2-secret@h/db".into(),
                "AccountKey=abcdefghijklmnop;".into(),
            ],
        };
        let message = event.render(&redactor);
        for part in [&message.text, &message.html, &message.subject] {
            assert!(!part.contains("hunter2-secret"), "{part}");
            assert!(!part.contains("abcdefghijklmnop"), "{part}");
        }
        assert!(!message.html.contains("<script>"));
        let json = serde_json::to_string(&message.payload).unwrap();
        assert!(!json.contains("hunter2-secret"), "{json}");
    }

    #[test]
    fn severities_follow_the_issue() {
        let o = origin();
        assert_eq!(
            Event::RestorePerformed {
                origin: o.clone(),
                backup: "b".into(),
                actor: "a".into(),
                error: None
            }
            .severity(),
            Severity::Always
        );
        assert_eq!(
            Event::BackupsStale {
                origin: o.clone(),
                last_success_at: None,
                stale_after_hours: 26
            }
            .severity(),
            Severity::Alarm
        );
        assert_eq!(
            Event::RetentionDeleted {
                origin: o,
                deleted: vec![]
            }
            .severity(),
            Severity::Info
        );
    }

    #[test]
    fn cause_chain_skips_repeated_causes() {
        #[derive(Debug, thiserror::Error)]
        #[error("outer: {0}")]
        struct Outer(#[source] std::io::Error);
        let e = Outer(std::io::Error::other("inner"));
        assert_eq!(cause_chain(&e), vec!["outer: inner".to_owned()]);
        #[derive(Debug, thiserror::Error)]
        #[error("outer")]
        struct Plain(#[source] std::io::Error);
        let e = Plain(std::io::Error::other("inner"));
        assert_eq!(
            cause_chain(&e),
            vec!["outer".to_owned(), "inner".to_owned()]
        );
    }
}
