//! `schedule show|set`: the server's daily backup schedule, in API mode. The API client
//! checks a change (a real time, 1-90 days) before sending it as `HH:MM:SS`, and computes a
//! next run the server has not.

use rythm_backup_core::api::wire::{ScheduleConfig, ScheduleUpdate};
use rythm_backup_core::backups::Backups;
use rythm_backup_core::time_text;
use rythm_backup_core::Error;

use super::Ctx;
use crate::args::ScheduleAction;

pub async fn schedule(
    ctx: &Ctx,
    backups: &dyn Backups,
    action: ScheduleAction,
) -> Result<(), Error> {
    let config = match action {
        ScheduleAction::Show => backups.schedule().await?,
        ScheduleAction::Set {
            enabled,
            time,
            retention_days,
            verify_after_backup,
        } => {
            let update = ScheduleUpdate {
                enabled,
                schedule_time: time,
                retention_days,
                verify_after_backup,
            };
            backups.set_schedule(&update).await?
        }
    };
    ctx.finish(&config, show).await;
    Ok(())
}

fn show(config: &ScheduleConfig) {
    let state = if config.enabled {
        "enabled"
    } else {
        "disabled"
    };
    println!(
        "Daily backup {state} at {} UTC, keeping {} days",
        config.schedule_time, config.retention_days
    );
    let when = |t: &Option<String>| {
        t.as_deref()
            .map(time_text::shown_rfc3339)
            .unwrap_or_else(|| "never".into())
    };
    println!("Last run: {}", when(&config.last_run_at));
    if config.enabled {
        println!("Next run: {}", when(&config.next_run_at));
    }
    if let Some(verify) = config.verify_after_backup {
        let what = if verify { "rehearsed" } else { "not rehearsed" };
        println!("Each scheduled backup is {what} (restored into a scratch database)");
    }
}
