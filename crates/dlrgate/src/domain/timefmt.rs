//! Time values as dlrgate stores and shows them: unix milliseconds in the store, and seven.io's
//! `YYYY-MM-DD hh:mm:ss.mmm` on the wire. dlrgate shows every time in UTC (a documented choice:
//! seven.io's own time zone is not documented, see docs/api.md).

use time::OffsetDateTime;
use time::macros::format_description;

/// Milliseconds since the unix epoch.
pub fn to_millis(at: OffsetDateTime) -> i64 {
    i64::try_from(at.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

/// The time at `millis` since the unix epoch; out-of-range values clamp to the epoch.
pub fn from_millis(millis: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(millis) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// `2024-02-13 05:51:03.102`, as seven.io's status and logbook answers write times.
pub fn seven_millis(millis: i64) -> String {
    let format =
        format_description!("[year]-[month]-[day] [hour]:[minute]:[second].[subsecond digits:3]");
    from_millis(millis).format(&format).unwrap_or_default()
}

/// The unix milliseconds of a [`seven_millis`] time (read as UTC), `None` if it is not one.
pub fn parse_seven_millis(text: &str) -> Option<i64> {
    let format =
        format_description!("[year]-[month]-[day] [hour]:[minute]:[second].[subsecond digits:3]");
    let at = time::PrimitiveDateTime::parse(text, &format).ok()?;
    Some(to_millis(at.assume_utc()))
}

/// `2024-02-13 05:51:03`, as seven.io writes creation times of hooks.
pub fn seven_seconds(millis: i64) -> String {
    let format = format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    from_millis(millis).format(&format).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_seven() {
        assert_eq!(seven_millis(1_707_803_463_102), "2024-02-13 05:51:03.102");
        assert_eq!(seven_seconds(1_707_803_463_102), "2024-02-13 05:51:03");
        assert_eq!(to_millis(from_millis(1_707_803_463_102)), 1_707_803_463_102);
        assert_eq!(
            parse_seven_millis("2024-02-13 05:51:03.102"),
            Some(1_707_803_463_102)
        );
        assert_eq!(parse_seven_millis("2024-02-13 05:51:03"), None);
    }
}
