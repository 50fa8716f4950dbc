//! The tolerant reader of the SMPP "Appendix B" receipt text (smpp.md §2.4).
//!
//! It finds each known `key:` where a word starts, in any case and with spaces before or after
//! the colon, and reads the value up to the next known key. The first `text:` ends the search:
//! everything after it is the message text, opaque even when it looks like `stat:DELIVRD`.
//! Unknown keys and junk are skipped, never rejected.

use super::{DeliveryReceipt, MessageState, ReceiptTime};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Id,
    Submitted,
    Delivered,
    SubmitDate,
    DoneDate,
    Stat,
    Err,
    Text,
}

/// Each field's key as words; between words any run of spaces or underscores (or none) is
/// accepted, so `submit date:`, `submit_date:` and `SubmitDate:` all count.
const KEYS: [(Field, &[&str]); 8] = [
    (Field::Id, &["id"]),
    (Field::Submitted, &["sub"]),
    (Field::Delivered, &["dlvrd"]),
    (Field::SubmitDate, &["submit", "date"]),
    (Field::DoneDate, &["done", "date"]),
    (Field::Stat, &["stat"]),
    (Field::Err, &["err"]),
    (Field::Text, &["text"]),
];

/// A key found in the text.
struct Found {
    field: Field,
    /// Where the key starts; the previous field's value ends here.
    key_start: usize,
    /// Just after the key's colon.
    value_start: usize,
}

pub(super) fn parse(text: &str) -> Option<DeliveryReceipt> {
    let text = text.trim_end_matches('\0');
    let found = find_keys(text);
    let mut receipt = DeliveryReceipt::default();
    for (index, key) in found.iter().enumerate() {
        let value_end = found
            .get(index + 1)
            .map_or(text.len(), |next| next.key_start);
        let value = text.get(key.value_start..value_end).unwrap_or_default();
        read_field(&mut receipt, key.field, value);
    }
    receipt.state = receipt.stat.as_deref().and_then(MessageState::from_stat);
    (receipt.message_id.is_some() || receipt.stat.is_some()).then_some(receipt)
}

/// Stores one field's value unless an earlier occurrence of the same key already gave one.
fn read_field(receipt: &mut DeliveryReceipt, field: Field, value: &str) {
    let token = first_token(value);
    match field {
        Field::Id => fill(&mut receipt.message_id, token.map(str::to_owned)),
        Field::Submitted => fill(&mut receipt.submitted, token.and_then(parse_count)),
        Field::Delivered => fill(&mut receipt.delivered, token.and_then(parse_count)),
        Field::SubmitDate => fill(&mut receipt.submit_date, token.and_then(parse_time)),
        Field::DoneDate => fill(&mut receipt.done_date, token.and_then(parse_time)),
        Field::Stat => fill(&mut receipt.stat, token.map(str::to_ascii_uppercase)),
        Field::Err => fill(&mut receipt.error, token.map(str::to_owned)),
        Field::Text => {
            let text = (!value.is_empty()).then(|| value.to_owned());
            fill(&mut receipt.text, text);
        }
    }
}

fn fill<T>(slot: &mut Option<T>, value: Option<T>) {
    if slot.is_none() {
        *slot = value;
    }
}

/// The first word of a value: values end at white space, a comma or a semicolon (one carrier
/// separates its fields with commas).
fn first_token(value: &str) -> Option<&str> {
    value
        .split(|c: char| c.is_whitespace() || c == ',' || c == ';')
        .find(|token| !token.is_empty())
}

/// Every known key up to and including the first `text:`, in order.
fn find_keys(text: &str) -> Vec<Found> {
    let bytes = text.as_bytes();
    let mut found = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let hit = starts_word(bytes, at)
            .then(|| {
                KEYS.iter()
                    .find_map(|(field, words)| key_end(bytes, at, words).map(|end| (*field, end)))
            })
            .flatten();
        let Some((field, value_start)) = hit else {
            at += 1;
            continue;
        };
        found.push(Found {
            field,
            key_start: at,
            value_start,
        });
        if field == Field::Text {
            break;
        }
        at = value_start;
    }
    found
}

/// Whether a word can start at `at`: at the beginning or after anything but a letter, a digit
/// or an underscore, so `id:` inside `msgid:` is not a key.
fn starts_word(bytes: &[u8], at: usize) -> bool {
    at.checked_sub(1)
        .and_then(|before| bytes.get(before))
        .is_none_or(|b| !(b.is_ascii_alphanumeric() || *b == b'_'))
}

/// Where the value starts (just after the colon) when the key made of `words` starts at `at`.
/// Keys are ASCII, so every index returned is a character boundary of the text.
fn key_end(bytes: &[u8], at: usize, words: &[&str]) -> Option<usize> {
    let mut pos = at;
    for (index, word) in words.iter().enumerate() {
        if index > 0 {
            pos = skip(bytes, pos, |b| b == b' ' || b == b'_');
        }
        let end = pos + word.len();
        if !bytes.get(pos..end)?.eq_ignore_ascii_case(word.as_bytes()) {
            return None;
        }
        pos = end;
    }
    pos = skip(bytes, pos, |b| b == b' ' || b == b'\t');
    (bytes.get(pos) == Some(&b':')).then_some(pos + 1)
}

fn skip(bytes: &[u8], mut pos: usize, skipped: impl Fn(u8) -> bool) -> usize {
    while bytes.get(pos).is_some_and(|&b| skipped(b)) {
        pos += 1;
    }
    pos
}

/// A `sub:`/`dlvrd:` count: decimal digits only (`001`).
fn parse_count(token: &str) -> Option<u32> {
    if token.bytes().all(|b| b.is_ascii_digit()) {
        token.parse().ok()
    } else {
        None
    }
}

/// A YYMMDDhhmm or YYMMDDhhmmss date; `None` for any other shape or a date that does not exist.
fn parse_time(token: &str) -> Option<ReceiptTime> {
    let digits = token.as_bytes();
    let shape_ok = matches!(digits.len(), 10 | 12) && digits.iter().all(u8::is_ascii_digit);
    if !shape_ok {
        return None;
    }
    let pair = |index: usize| -> Option<u8> {
        let tens = digits.get(index)?.checked_sub(b'0')?;
        let ones = digits.get(index + 1)?.checked_sub(b'0')?;
        Some(tens * 10 + ones)
    };
    let time = ReceiptTime {
        year: 2000 + u16::from(pair(0)?),
        month: pair(2)?,
        day: pair(4)?,
        hour: pair(6)?,
        minute: pair(8)?,
        second: if digits.len() == 12 { pair(10)? } else { 0 },
    };
    let month = time::Month::try_from(time.month).ok()?;
    time::Date::from_calendar_date(i32::from(time.year), month, time.day).ok()?;
    (time.hour < 24 && time.minute < 60 && time.second < 60).then_some(time)
}
