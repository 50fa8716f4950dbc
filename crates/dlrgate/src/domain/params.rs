//! Parsing of seven.io request parameter values (delay, flags, ttl, label,
//! foreign id, udh, message id lists, dates), independent of the transport.

use time::format_description::BorrowedFormatItem;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, Duration, OffsetDateTime, PrimitiveDateTime};

/// Numbers above this are unix milliseconds (the JS SDK sends `Date.getTime()`).
const MAX_UNIX_SECONDS: u64 = 99_999_999_999;
/// How far in the future a delayed message may be scheduled.
const MAX_DELAY_DAYS: i64 = 365;
/// Largest accepted ttl (30 days).
const MAX_TTL_MINUTES: u32 = 43_200;
const MAX_LABEL_LEN: usize = 100;
const MAX_FOREIGN_ID_LEN: usize = 64;
/// Octets in one SMS, the upper bound for a UDH.
const MAX_UDH_LEN: usize = 140;

/// String date forms accepted for `delay`, all read as UTC.
const DELAY_FORMATS: [&[BorrowedFormatItem<'static>]; 3] = [
    format_description!("[year]-[month]-[day] [hour]:[minute]:[second]"),
    format_description!("[year]-[month]-[day] [hour]:[minute]"),
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]"),
];

/// Why a parameter value was rejected.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum ParamError {
    #[error(
        "invalid delay {0:?}: expected unix seconds or milliseconds, \
         \"YYYY-MM-DD hh:mm[:ss]\" or \"YYYY-MM-DDThh:mm:ss\""
    )]
    InvalidDelay(String),
    #[error("delay is more than {MAX_DELAY_DAYS} days in the future")]
    DelayTooFar,
    #[error("invalid boolean {0:?}: expected 1/0, true/false, yes/no or on/off")]
    InvalidBool(String),
    #[error("invalid ttl {0:?}: expected minutes as a whole number")]
    InvalidTtl(String),
    #[error("ttl of {0} minutes is out of range 1..={MAX_TTL_MINUTES}")]
    TtlOutOfRange(String),
    /// `field` is `"label"` or `"foreign_id"`.
    #[error("{field} is {len} characters long, at most {max} allowed")]
    TooLong {
        field: &'static str,
        len: usize,
        max: usize,
    },
    #[error("{field} contains invalid character {found:?}: allowed are A-Z a-z 0-9 . - _ @")]
    InvalidCharacter { field: &'static str, found: char },
    #[error("udh is not valid hex: {0}")]
    InvalidUdhHex(String),
    #[error("udh is {0} bytes long, expected 1..={MAX_UDH_LEN}")]
    UdhLength(usize),
    #[error("udh length byte says {declared} bytes follow, but {actual} do")]
    UdhLengthMismatch { declared: usize, actual: usize },
    #[error("invalid date {0:?}: expected YYYY-MM-DD")]
    InvalidDate(String),
}

/// Parses a `delay` value into the time the message should be sent.
///
/// Accepts unix seconds, unix milliseconds (numbers above 99 999 999 999),
/// `YYYY-MM-DD hh:mm:ss`, `YYYY-MM-DD hh:mm`, `YYYY-MM-DDThh:mm:ss` (UTC) and
/// RFC 3339 with an explicit offset. Past times are returned unchanged;
/// times more than 365 days after `now` are rejected.
pub fn parse_delay(raw: &str, now: OffsetDateTime) -> Result<OffsetDateTime, ParamError> {
    let value = raw.trim();
    let parsed = if value.bytes().all(|b| b.is_ascii_digit()) {
        parse_unix(value)
    } else {
        parse_datetime(value)
    };
    let at = parsed.ok_or_else(|| ParamError::InvalidDelay(raw.to_owned()))?;
    match now.checked_add(Duration::days(MAX_DELAY_DAYS)) {
        Some(limit) if at > limit => Err(ParamError::DelayTooFar),
        _ => Ok(at),
    }
}

/// Unix seconds or milliseconds given as ASCII digits.
fn parse_unix(digits: &str) -> Option<OffsetDateTime> {
    let n: u64 = digits.parse().ok()?;
    if n > MAX_UNIX_SECONDS {
        let nanos = i128::from(n) * 1_000_000;
        OffsetDateTime::from_unix_timestamp_nanos(nanos).ok()
    } else {
        OffsetDateTime::from_unix_timestamp(i64::try_from(n).ok()?).ok()
    }
}

/// A string date in one of [`DELAY_FORMATS`] (UTC) or RFC 3339.
fn parse_datetime(value: &str) -> Option<OffsetDateTime> {
    // time's `[year]` would also take a sign; we only want plain years.
    if !value.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    let utc = DELAY_FORMATS
        .iter()
        .find_map(|format| PrimitiveDateTime::parse(value, format).ok())
        .map(PrimitiveDateTime::assume_utc);
    utc.or_else(|| {
        OffsetDateTime::parse(value, &Rfc3339)
            .ok()
            .map(|at| at.to_offset(time::UtcOffset::UTC))
    })
}

/// Parses a flag: 1/0, true/false, yes/no, on/off (any case); empty is false.
pub fn parse_bool(raw: &str) -> Result<bool, ParamError> {
    match raw.trim().to_ascii_lowercase().as_str() {
        "" | "0" | "false" | "no" | "off" => Ok(false),
        "1" | "true" | "yes" | "on" => Ok(true),
        _ => Err(ParamError::InvalidBool(raw.to_owned())),
    }
}

/// Parses a ttl in minutes; `""` and `"0"` mean absent (the SDKs send `ttl=0`).
pub fn parse_ttl_minutes(raw: &str) -> Result<Option<u32>, ParamError> {
    let value = raw.trim();
    if value.is_empty() {
        return Ok(None);
    }
    if !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ParamError::InvalidTtl(raw.to_owned()));
    }
    match value.parse::<u32>() {
        Ok(0) => Ok(None),
        Ok(minutes @ 1..=MAX_TTL_MINUTES) => Ok(Some(minutes)),
        _ => Err(ParamError::TtlOutOfRange(value.to_owned())),
    }
}

/// Characters allowed in labels and foreign ids.
fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '@')
}

/// Checks a trimmed token against the charset and a length limit.
fn parse_token(raw: &str, field: &'static str, max: usize) -> Result<String, ParamError> {
    let value = raw.trim();
    if let Some(found) = value.chars().find(|c| !is_token_char(*c)) {
        return Err(ParamError::InvalidCharacter { field, found });
    }
    // Only ASCII is left, so bytes are characters.
    let len = value.len();
    if len > max {
        return Err(ParamError::TooLong { field, len, max });
    }
    Ok(value.to_owned())
}

/// Parses a `label`: up to 100 characters of `A-Z a-z 0-9 . - _ @`.
pub fn parse_label(raw: &str) -> Result<String, ParamError> {
    parse_token(raw, "label", MAX_LABEL_LEN)
}

/// Parses a `foreign_id`: up to 64 characters of `A-Z a-z 0-9 . - _ @`.
pub fn parse_foreign_id(raw: &str) -> Result<String, ParamError> {
    parse_token(raw, "foreign_id", MAX_FOREIGN_ID_LEN)
}

/// Parses a hex `udh`: 1..=140 bytes whose first byte (UDHL) counts the rest.
pub fn parse_udh(raw: &str) -> Result<Vec<u8>, ParamError> {
    let bytes = hex::decode(raw.trim()).map_err(|e| ParamError::InvalidUdhHex(e.to_string()))?;
    let Some(&udhl) = bytes.first() else {
        return Err(ParamError::UdhLength(0));
    };
    if bytes.len() > MAX_UDH_LEN {
        return Err(ParamError::UdhLength(bytes.len()));
    }
    let (declared, actual) = (usize::from(udhl), bytes.len() - 1);
    if declared != actual {
        return Err(ParamError::UdhLengthMismatch { declared, actual });
    }
    Ok(bytes)
}

/// Parses a comma list of message ids: `Some(id)` for a positive integer,
/// `None` for anything else; empty entries are dropped.
pub fn parse_message_ids(raw: &str) -> Vec<Option<i64>> {
    raw.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(parse_message_id)
        .collect()
}

fn parse_message_id(entry: &str) -> Option<i64> {
    if !entry.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    entry.parse::<i64>().ok().filter(|id| *id > 0)
}

/// Parses a calendar date `YYYY-MM-DD`.
pub fn parse_date(raw: &str) -> Result<Date, ParamError> {
    let value = raw.trim();
    let invalid = || ParamError::InvalidDate(raw.to_owned());
    if !value.starts_with(|c: char| c.is_ascii_digit()) {
        return Err(invalid());
    }
    Date::parse(value, format_description!("[year]-[month]-[day]")).map_err(|_| invalid())
}

/// True for values the SDKs send for "not set": `""`, `"undefined"`, `"null"`.
pub fn is_absent(raw: &str) -> bool {
    let value = raw.trim().to_ascii_lowercase();
    matches!(value.as_str(), "" | "undefined" | "null")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use Expect::{Absent, Bool, Day, Delay, ForeignId, Ids, Label, Ttl, Udh};
    use ParamError as E;
    use proptest::prelude::*;
    use time::macros::{date, datetime};

    const NOW: OffsetDateTime = datetime!(2024-06-01 12:00 UTC);

    /// Which parser runs on the input and what it must give.
    enum Expect<'a> {
        Delay(Result<OffsetDateTime, ParamError>),
        Bool(Result<bool, ParamError>),
        Ttl(Result<Option<u32>, ParamError>),
        Label(Result<&'a str, ParamError>),
        ForeignId(Result<&'a str, ParamError>),
        Udh(Result<Vec<u8>, ParamError>),
        Ids(Vec<Option<i64>>),
        Day(Result<Date, ParamError>),
        Absent(bool),
    }

    fn check(input: &str, expect: Expect<'_>) {
        let owned = |r: Result<&str, ParamError>| r.map(str::to_owned);
        match expect {
            Delay(e) => assert_eq!(parse_delay(input, NOW), e, "{input:?}"),
            Bool(e) => assert_eq!(parse_bool(input), e, "{input:?}"),
            Ttl(e) => assert_eq!(parse_ttl_minutes(input), e, "{input:?}"),
            Label(e) => assert_eq!(parse_label(input), owned(e), "{input:?}"),
            ForeignId(e) => assert_eq!(parse_foreign_id(input), owned(e), "{input:?}"),
            Udh(e) => assert_eq!(parse_udh(input), e, "{input:?}"),
            Ids(e) => assert_eq!(parse_message_ids(input), e, "{input:?}"),
            Day(e) => assert_eq!(parse_date(input), e, "{input:?}"),
            Absent(e) => assert_eq!(is_absent(input), e, "{input:?}"),
        }
    }

    fn run(cases: Vec<(&str, Expect<'_>)>) {
        for (input, expect) in cases {
            check(input, expect);
        }
    }

    fn bad_delay(raw: &str) -> (&str, Expect<'_>) {
        (raw, Delay(Err(E::InvalidDelay(raw.to_owned()))))
    }

    #[test]
    fn delay() {
        let d = |at| Delay(Ok(at));
        let july = datetime!(2024-07-01 10:30 UTC);
        run(vec![
            ("1141511104", d(datetime!(2006-03-04 22:25:04 UTC))),
            ("99999999999", Delay(Err(E::DelayTooFar))),
            ("100000000000", d(datetime!(1973-03-03 09:46:40 UTC))),
            ("1717243200123", d(datetime!(2024-06-01 12:00:00.123 UTC))),
            ("2524608000000", Delay(Err(E::DelayTooFar))),
            ("0", d(OffsetDateTime::UNIX_EPOCH)),
            ("2024-07-01 10:30:00", d(july)),
            (" 2024-07-01 10:30 ", d(july)),
            ("2024-07-01T10:30:00", d(july)),
            ("2024-07-01T10:30:00Z", d(july)),
            ("2024-07-01T12:30:00.000+02:00", d(july)),
            ("2020-01-01 00:00:00", d(datetime!(2020-01-01 0:00 UTC))),
            ("2025-06-01 12:00:00", d(datetime!(2025-06-01 12:00 UTC))),
            ("2025-06-01 12:00:01", Delay(Err(E::DelayTooFar))),
        ]);
        run(vec![
            bad_delay(""),
            bad_delay("-1"),
            bad_delay("+1141511104"),
            bad_delay("12a"),
            bad_delay("1e10"),
            bad_delay("tomorrow"),
            bad_delay("18446744073709551615"),
            bad_delay("99999999999999999999999"),
            bad_delay("2024-13-01 10:00"),
            bad_delay("2024-02-30 10:00:00"),
            bad_delay("2024-07-01 24:00"),
            bad_delay("+2024-07-01 10:00"),
            bad_delay("2024-07-01"),
            bad_delay("2024-7-1 10:00"),
        ]);
    }

    #[test]
    fn bool_and_ttl() {
        for (inputs, want) in [
            (["1", "TRUE", " yes ", "On", "on"], true),
            (["", "0", "False", "no", "OFF"], false),
        ] {
            inputs
                .into_iter()
                .for_each(|input| check(input, Bool(Ok(want))));
        }
        let t = |v| Ttl(Ok(v));
        let ttl_range = |v: &str| Ttl(Err(E::TtlOutOfRange(v.to_owned())));
        run(vec![
            ("2", Bool(Err(E::InvalidBool("2".into())))),
            ("y", Bool(Err(E::InvalidBool("y".into())))),
            ("", t(None)),
            ("0", t(None)),
            ("1", t(Some(1))),
            ("43200", t(Some(43_200))),
            ("43201", ttl_range("43201")),
            ("99999999999", ttl_range("99999999999")),
            ("-5", Ttl(Err(E::InvalidTtl("-5".into())))),
            ("1.5", Ttl(Err(E::InvalidTtl("1.5".into())))),
        ]);
    }

    #[test]
    fn label_and_foreign_id() {
        let long = |n| "x".repeat(n);
        let (l100, l101, l64, l65) = (long(100), long(101), long(64), long(65));
        let too_long = |field, len, max| Err(E::TooLong { field, len, max });
        let bad = |field, found| Err(E::InvalidCharacter { field, found });
        run(vec![
            ("", Label(Ok(""))),
            ("News.letter-2024_a@b", Label(Ok("News.letter-2024_a@b"))),
            (" spring ", Label(Ok("spring"))),
            (&l100, Label(Ok(&l100))),
            (&l101, Label(too_long("label", 101, 100))),
            ("a b", Label(bad("label", ' '))),
            ("ärger", Label(bad("label", 'ä'))),
            ("order-42@shop", ForeignId(Ok("order-42@shop"))),
            (&l64, ForeignId(Ok(&l64))),
            (&l65, ForeignId(too_long("foreign_id", 65, 64))),
            ("id/1", ForeignId(bad("foreign_id", '/'))),
        ]);
    }

    #[test]
    fn udh() {
        let concat = vec![0x05, 0x00, 0x03, 0xab, 0x02, 0x01];
        let max = format!("8b{}", "00".repeat(139));
        let too_long = format!("8c{}", "00".repeat(140));
        let mismatch = |declared, actual| E::UdhLengthMismatch { declared, actual };
        run(vec![
            ("050003AB0201", Udh(Ok(concat.clone()))),
            ("050003ab0201", Udh(Ok(concat))),
            ("00", Udh(Ok(vec![0]))),
            (&max, Udh(Ok([vec![0x8b], vec![0; 139]].concat()))),
            (&too_long, Udh(Err(E::UdhLength(141)))),
            ("", Udh(Err(E::UdhLength(0)))),
            ("050003ab02", Udh(Err(mismatch(5, 4)))),
            ("01", Udh(Err(mismatch(1, 0)))),
        ]);
        for bad in ["050", "zz", "0x05"] {
            assert!(
                matches!(parse_udh(bad), Err(E::InvalidUdhHex(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn ids_date_absent() {
        let bad_date = |v: &str| Day(Err(E::InvalidDate(v.to_owned())));
        run(vec![
            ("", Ids(vec![])),
            (" , ,", Ids(vec![])),
            ("1, 22 ,333", Ids(vec![Some(1), Some(22), Some(333)])),
            (
                "5,abc,0,-3,+4,,7",
                Ids(vec![Some(5), None, None, None, None, Some(7)]),
            ),
            ("99999999999999999999", Ids(vec![None])),
            ("2024-02-29", Day(Ok(date!(2024 - 02 - 29)))),
            (" 2024-12-31 ", Day(Ok(date!(2024 - 12 - 31)))),
            ("2023-02-29", bad_date("2023-02-29")),
            ("2024-1-5", bad_date("2024-1-5")),
            ("-2024-01-05", bad_date("-2024-01-05")),
            ("2024-01-05 10:00", bad_date("2024-01-05 10:00")),
            ("", Absent(true)),
            (" undefined ", Absent(true)),
            ("null", Absent(true)),
            ("NULL", Absent(true)),
            ("0", Absent(false)),
            ("nil", Absent(false)),
        ]);
    }

    proptest! {
        #[test]
        fn parsers_never_panic(raw in any::<String>()) {
            let _ = parse_delay(&raw, NOW);
            let _ = parse_bool(&raw);
            let _ = parse_ttl_minutes(&raw);
            let _ = parse_label(&raw);
            let _ = parse_foreign_id(&raw);
            let _ = parse_udh(&raw);
            let _ = parse_message_ids(&raw);
            let _ = parse_date(&raw);
            let _ = is_absent(&raw);
        }

        #[test]
        fn numeric_delays_never_panic(n in any::<u64>()) {
            let _ = parse_delay(&n.to_string(), NOW);
        }
    }
}
