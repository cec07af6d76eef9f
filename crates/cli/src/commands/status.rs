//! `status`: are the backups fresh? The last backup and its age, the last verification and
//! the last successful one, and whether the backups are stale (exit 1, for monitoring), by
//! the engine's one rule (`freshness::of`; API mode with the server's threshold).

use rythm_backup_core::backups::Backups;
use rythm_backup_core::freshness::{self, Freshness};
use rythm_backup_core::Error;
use time::OffsetDateTime;

use super::Ctx;
use crate::output::span;

/// `false` (exit 1) when stale.
pub async fn status(ctx: &Ctx, backups: &dyn Backups) -> Result<bool, Error> {
    let status = freshness::of(backups).await?;
    ctx.finish(&status, print).await;
    Ok(!status.stale)
}

fn print(s: &Freshness) {
    match (&s.last_backup, s.age_seconds) {
        (Some(name), Some(age)) => println!("Last backup:        {name} ({} ago)", span(age)),
        _ => println!("Last backup:        none"),
    }
    match &s.last_verification {
        Some(v) if v.verification.ok => println!(
            "Last verification:  {} passed {} ago (restore took {:.1} s)",
            v.backup,
            span((OffsetDateTime::now_utc() - v.verification.at).whole_seconds()),
            v.verification.restore_seconds
        ),
        Some(v) => println!(
            "Last verification:  {} FAILED {} ago: {}",
            v.backup,
            span((OffsetDateTime::now_utc() - v.verification.at).whole_seconds()),
            v.verification
                .error
                .as_deref()
                .unwrap_or("the restored data differs")
        ),
        None => println!("Last verification:  never"),
    }
    if let Some(v) = &s.last_successful_verification {
        if s.last_verification.as_ref() != Some(v) {
            println!(
                "Last passed:        {} {} ago",
                v.backup,
                span((OffsetDateTime::now_utc() - v.verification.at).whole_seconds())
            );
        }
    }
    if s.stale {
        println!(
            "Status:             STALE: no successful backup in the last {} hours",
            s.stale_after_hours
        );
    } else {
        println!("Status:             ok");
    }
}
