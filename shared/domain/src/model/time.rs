//! Instants are UTC epoch milliseconds; people read them in Beijing time (UTC+8).

use chrono::{DateTime, Datelike, FixedOffset, Timelike, Utc};

/// UTC epoch milliseconds.
pub type Millis = i64;

pub const MINUTE: Millis = 60_000;
pub const HOUR: Millis = 60 * MINUTE;
pub const DAY: Millis = 24 * HOUR;

pub fn now_millis() -> Millis {
    Utc::now().timestamp_millis()
}

fn beijing(at: Millis) -> DateTime<FixedOffset> {
    let offset = FixedOffset::east_opt(8 * 3600).expect("UTC+8 is a valid offset");
    DateTime::<Utc>::from_timestamp_millis(at)
        .unwrap_or_default()
        .with_timezone(&offset)
}

/// "11月25日 18:00" in Beijing time.
pub fn beijing_text(at: Millis) -> String {
    let t = beijing(at);
    format!(
        "{}月{}日 {:02}:{:02}",
        t.month(),
        t.day(),
        t.hour(),
        t.minute()
    )
}

/// The Beijing calendar day: "2026-11-23".
pub fn beijing_date(at: Millis) -> String {
    beijing(at).format("%Y-%m-%d").to_string()
}

/// A deadline as a Chinese reader expects: "11月25日 18:00前".
pub fn deadline_text(at: Millis) -> String {
    format!("{}前", beijing_text(at))
}

/// Rounds up to the next whole hour (a promise is never given to the minute).
pub fn ceil_hour(at: Millis) -> Millis {
    let rem = at.rem_euclid(HOUR);
    if rem == 0 {
        at
    } else {
        at - rem + HOUR
    }
}

/// An RFC 3339 instant as epoch milliseconds, for the domain's own tests.
#[cfg(test)]
pub(crate) fn utc(rfc3339: &str) -> Millis {
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .unwrap()
        .timestamp_millis()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn beijing_is_utc_plus_eight() {
        // 2026-11-25T10:00:00Z is 18:00 in Beijing.
        let at = utc("2026-11-25T10:00:00Z");
        assert_eq!(deadline_text(at), "11月25日 18:00前");
        // Crossing midnight: 2026-11-25T17:30Z is 26th 01:30 in Beijing.
        assert_eq!(beijing_text(at + 7 * HOUR + 30 * MINUTE), "11月26日 01:30");
    }

    #[test]
    fn beijing_day_turns_at_sixteen_utc() {
        // 2026-11-23T15:59:59Z is 23:59:59 in Beijing; a second later it is the 24th.
        let at = utc("2026-11-23T15:59:59Z");
        assert_eq!(beijing_date(at), "2026-11-23");
        assert_eq!(beijing_date(at + 1000), "2026-11-24");
    }

    #[test]
    fn ceil_hour_rounds_up_only_when_needed() {
        assert_eq!(ceil_hour(3 * HOUR), 3 * HOUR);
        assert_eq!(ceil_hour(3 * HOUR + 1), 4 * HOUR);
    }
}
