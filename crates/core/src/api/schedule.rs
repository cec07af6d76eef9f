//! The daily schedule's rules on the client side: a change is checked with our server's
//! rules (a real time of day, 1 to 90 days) and written in the one form both servers accept
//! (`HH:MM:SS`) before any request, since the RYTHM platform refuses `HH:MM` and silently
//! ignores a retention of 0; and the next run, computed when a server has not said it yet.

use time::{Duration, OffsetDateTime, Time};

use super::wire::{ScheduleConfig, ScheduleUpdate};
use crate::error::{Error, Result};

pub const MIN_RETENTION_DAYS: u32 = 1;
pub const MAX_RETENTION_DAYS: u32 = 90;

/// `HH:MM` or `HH:MM:SS`, 24-hour, as a time of day.
pub fn parse_time_of_day(raw: &str) -> Result<Time> {
    let bad = || {
        Error::InvalidInput(format!(
            "the schedule's time must be HH:MM or HH:MM:SS, 24-hour, UTC (e.g. 02:30), not {:?}",
            raw.chars().take(40).collect::<String>()
        ))
    };
    let parts: Vec<&str> = raw.trim().split(':').collect();
    if !(2..=3).contains(&parts.len()) {
        return Err(bad());
    }
    let mut numbers = [0u8; 3];
    for (slot, part) in numbers.iter_mut().zip(&parts) {
        if part.len() != 2 || !part.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        *slot = part.parse().map_err(|_| bad())?;
    }
    Time::from_hms(numbers[0], numbers[1], numbers[2]).map_err(|_| bad())
}

/// `HH:MM:SS`, the only form the RYTHM platform accepts.
pub fn format_time_of_day(t: Time) -> String {
    format!("{:02}:{:02}:{:02}", t.hour(), t.minute(), t.second())
}

/// The update as it is sent: its time as `HH:MM:SS`, after both fields passed our server's
/// rules. An `InvalidInput` error names what is wrong.
pub fn checked_update(update: &ScheduleUpdate) -> Result<ScheduleUpdate> {
    let schedule_time = match update.schedule_time.as_deref() {
        None => None,
        Some(raw) => Some(format_time_of_day(parse_time_of_day(raw)?)),
    };
    if let Some(days) = update.retention_days {
        if !(MIN_RETENTION_DAYS..=MAX_RETENTION_DAYS).contains(&days) {
            return Err(Error::InvalidInput(format!(
                "the retention must be from {MIN_RETENTION_DAYS} to {MAX_RETENTION_DAYS} days, \
                 not {days}"
            )));
        }
    }
    Ok(ScheduleUpdate {
        enabled: update.enabled,
        schedule_time,
        retention_days: update.retention_days,
        verify_after_backup: update.verify_after_backup,
    })
}

/// What a server answered that differs from what it was asked to set (the RYTHM platform
/// answers success while ignoring a field it does not like), as `field: asked, kept`.
pub fn not_applied(sent: &ScheduleUpdate, answer: &ScheduleConfig) -> Option<String> {
    let mut differences = Vec::new();
    if answer.enabled != sent.enabled {
        differences.push(format!(
            "enabled {} (kept {})",
            sent.enabled, answer.enabled
        ));
    }
    if let Some(time) = &sent.schedule_time {
        let kept = parse_time_of_day(&answer.schedule_time).ok();
        if kept != parse_time_of_day(time).ok() {
            differences.push(format!(
                "schedule_time {time} (kept {})",
                answer.schedule_time
            ));
        }
    }
    if let Some(days) = sent.retention_days {
        if answer.retention_days != days {
            differences.push(format!(
                "retention_days {days} (kept {})",
                answer.retention_days
            ));
        }
    }
    // Our server's extension: the RYTHM platform ignores it and answers without it.
    if let Some(verify) = sent.verify_after_backup {
        if answer.verify_after_backup != Some(verify) {
            differences.push(format!(
                "verify_after_backup {verify} (the server does not rehearse its backups)"
            ));
        }
    }
    (!differences.is_empty()).then(|| differences.join(", "))
}

/// When an enabled schedule runs next after `now`: today at its time (UTC) if that is still
/// ahead, else tomorrow. `None` while disabled or when the time cannot be read.
pub fn next_run(config: &ScheduleConfig, now: OffsetDateTime) -> Option<OffsetDateTime> {
    if !config.enabled {
        return None;
    }
    let at = parse_time_of_day(&config.schedule_time).ok()?;
    let now = now.to_offset(time::UtcOffset::UTC);
    let today = now.replace_time(at);
    Some(if today > now {
        today
    } else {
        today + Duration::days(1)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;
    use time::macros::{datetime, time};

    fn update(time: Option<&str>, days: Option<u32>) -> ScheduleUpdate {
        ScheduleUpdate {
            enabled: true,
            schedule_time: time.map(str::to_owned),
            retention_days: days,
            verify_after_backup: None,
        }
    }

    fn config(enabled: bool, time: &str, days: u32) -> ScheduleConfig {
        ScheduleConfig {
            schedule_id: Value::from(1),
            enabled,
            schedule_time: time.into(),
            retention_days: days,
            last_run_at: None,
            next_run_at: None,
            created_at: None,
            updated_at: None,
            verify_after_backup: None,
        }
    }

    #[test]
    fn a_rehearsal_setting_the_server_ignores_is_reported() {
        let mut sent = update(None, None);
        sent.verify_after_backup = Some(true);
        let ignored = not_applied(&sent, &config(true, "02:00:00", 30)).unwrap();
        assert!(ignored.contains("verify_after_backup"), "{ignored}");
        let mut applied = config(true, "02:00:00", 30);
        applied.verify_after_backup = Some(true);
        assert_eq!(not_applied(&sent, &applied), None);
    }

    #[test]
    fn times_are_sent_as_hh_mm_ss() {
        let sent = checked_update(&update(Some("03:15"), Some(7))).unwrap();
        assert_eq!(sent.schedule_time.as_deref(), Some("03:15:00"));
        let sent = checked_update(&update(Some(" 23:59:59 "), None)).unwrap();
        assert_eq!(sent.schedule_time.as_deref(), Some("23:59:59"));
        assert_eq!(
            checked_update(&update(None, None)).unwrap(),
            update(None, None)
        );
    }

    #[test]
    fn impossible_times_and_retentions_are_refused() {
        for bad in [
            "25:00",
            "24:00",
            "12:60",
            "12:00:60",
            "3:15",
            "0315",
            "",
            "12:00:00:00",
            "1a:00",
        ] {
            let error = checked_update(&update(Some(bad), None)).unwrap_err();
            assert_eq!(error.code(), crate::ErrorCode::InvalidInput, "{bad}");
            assert!(error.to_string().contains("HH:MM"), "{error}");
        }
        for bad in [0, 91, 365] {
            let error = checked_update(&update(None, Some(bad))).unwrap_err();
            assert!(error.to_string().contains("1 to 90 days"), "{error}");
        }
        assert!(checked_update(&update(None, Some(1))).is_ok());
        assert!(checked_update(&update(None, Some(90))).is_ok());
    }

    #[test]
    fn a_server_that_kept_another_value_is_noticed() {
        let sent = update(Some("03:15:00"), Some(7));
        assert_eq!(not_applied(&sent, &config(true, "03:15:00", 7)), None);
        let kept = not_applied(&sent, &config(true, "03:15:00", 30)).unwrap();
        assert_eq!(kept, "retention_days 7 (kept 30)");
        assert!(not_applied(&sent, &config(false, "02:00:00", 7)).is_some());
    }

    #[test]
    fn the_next_run_is_today_or_tomorrow() {
        let now = datetime!(2026-11-28 01:00 UTC);
        let next = next_run(&config(true, "02:00:00", 30), now).unwrap();
        assert_eq!(next, datetime!(2026-11-28 02:00 UTC));
        let next = next_run(&config(true, "00:30:00", 30), now).unwrap();
        assert_eq!(next, datetime!(2026-11-29 00:30 UTC));
        let exactly = next_run(&config(true, "01:00:00", 30), now).unwrap();
        assert_eq!(exactly.time(), time!(01:00));
        assert_eq!(exactly.day(), 29);
        assert_eq!(next_run(&config(false, "02:00:00", 30), now), None);
    }
}
