//! How a time is written for people, in one format everywhere (the CLI's tables and
//! messages, the engine's errors): `2026-12-05 02:10:42 UTC`, or with the local offset
//! (`2026-12-05 03:10:42 +01:00`) where the OS tells it. Machine output (JSON) keeps RFC 3339.

use time::{OffsetDateTime, UtcOffset};

/// `t` in the local time zone when it is known, else in UTC, to the second, with its offset.
pub fn shown(t: OffsetDateTime) -> String {
    let offset = UtcOffset::current_local_offset().unwrap_or(UtcOffset::UTC);
    shown_at(t, offset)
}

/// `t` at `offset`: `2026-12-05 02:10:42 UTC` or `2026-12-05 03:10:42 +01:00`.
pub fn shown_at(t: OffsetDateTime, offset: UtcOffset) -> String {
    let t = t.to_offset(offset);
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    let zone = if offset.is_utc() {
        "UTC".to_owned()
    } else {
        let (h, m, _) = offset.as_hms();
        let sign = if offset.is_negative() { '-' } else { '+' };
        format!("{sign}{:02}:{:02}", h.unsigned_abs(), m.unsigned_abs())
    };
    format!("{} {zone}", t.format(&format).unwrap_or_default())
}

/// An RFC 3339 time from a server (`2026-01-17T02:00:00.000Z`) in the same format; the text
/// itself when it is not one.
pub fn shown_rfc3339(raw: &str) -> String {
    match OffsetDateTime::parse(raw.trim(), &time::format_description::well_known::Rfc3339) {
        Ok(t) => shown(t),
        Err(_) => raw.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{datetime, offset};

    #[test]
    fn one_format_with_the_offset() {
        let t = datetime!(2026-12-05 02:10:42.123 UTC);
        assert_eq!(shown_at(t, UtcOffset::UTC), "2026-12-05 02:10:42 UTC");
        assert_eq!(shown_at(t, offset!(+1)), "2026-12-05 03:10:42 +01:00");
        assert_eq!(shown_at(t, offset!(-3:30)), "2026-12-04 22:40:42 -03:30");
        let from_server = shown_rfc3339("2026-12-05T02:10:42.000Z");
        assert!(from_server.starts_with("2026-12-0"), "{from_server}");
        assert_eq!(shown_rfc3339("soon"), "soon");
    }
}
