//! Delivery receipts from SMSCs: what an SMPP receipt says (its TLVs and its "Appendix B" text),
//! which public status it means (smpp.md §3) and how SMSC message ids are normalised so that a
//! receipt finds its message (smpp.md §4, "hex vs decimal ids").
//!
//! This module owns the reading of one receipt. It decodes no PDUs (that is `crates/smpp`), matches
//! nothing against stored messages, decides no status transitions (that is [`super::status`]) and
//! does no I/O. Reading is tolerant and never panics: SMSCs disagree about the text layout, and a
//! receipt must never be dropped because of its shape.

mod text;

use crate::domain::status::DeliveryStatus;
use std::str::FromStr;

/// A delivery receipt as read from an SMSC, before it is matched to a message.
///
/// Every field is optional because SMSCs leave out whatever they like; the raw receipt is kept
/// by the caller for audit (smpp.md §3, rule 1).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DeliveryReceipt {
    /// The SMSC's message id, not yet normalised (see [`normalize_id`]). The
    /// `receipted_message_id` TLV wins over the text's `id:`, which some SMSCs truncate.
    pub message_id: Option<String>,
    /// The text's `stat:` code as sent, upper-cased (`DELIVRD`, `BUFFRED`, …). Kept even when a
    /// `message_state` TLV decides [`DeliveryReceipt::state`], so the logbook shows what came.
    pub stat: Option<String>,
    /// The effective state: the `message_state` TLV when it holds a known value, else the
    /// state the `stat:` code stands for. `None` when neither is known.
    pub state: Option<MessageState>,
    /// The text's `err:` field as sent (trimmed); free-form (`000`, `042`, `AOK`).
    pub error: Option<String>,
    /// The `network_error_code` TLV, formatted as described in [`DeliveryReceipt::with_tlvs`].
    pub network_error_code: Option<String>,
    pub submit_date: Option<ReceiptTime>,
    pub done_date: Option<ReceiptTime>,
    /// The text's `sub:` count (messages submitted, for distribution lists).
    pub submitted: Option<u32>,
    /// The text's `dlvrd:` count (messages delivered).
    pub delivered: Option<u32>,
    /// Everything after `text:`, verbatim (it may contain spaces and colons).
    pub text: Option<String>,
}

/// A `submit date:` or `done date:` as the SMSC wrote it.
///
/// Plain numbers without a time zone, because the SMSC gives none (smpp.md §2.4); the caller
/// decides how to read them. The text has a two-digit year, read as 20YY. `second` is 0 when
/// the SMSC sent 10 digits (YYMMDDhhmm). Dates that do not exist (month 13, 30 February) are
/// not read at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ReceiptTime {
    pub year: u16,
    pub month: u8,
    pub day: u8,
    pub hour: u8,
    pub minute: u8,
    pub second: u8,
}

/// SMPP `message_state` (0..=9; 0 and 9 exist only in SMPP 5.0), see smpp.md §2.5.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageState {
    Scheduled = 0,
    Enroute = 1,
    Delivered = 2,
    Expired = 3,
    Deleted = 4,
    Undeliverable = 5,
    Accepted = 6,
    Unknown = 7,
    Rejected = 8,
    Skipped = 9,
}

/// Non-standard `stat:` codes that mean "enroute, and the SMSC is holding the message"
/// (Kannel handles them); they map to [`MessageState::Enroute`] and to BUFFERED.
const BUFFERED_STATS: [&str; 4] = ["BUFFRED", "BUFFERD", "ACKED", "BUFFERED"];

impl MessageState {
    /// Every state, in `message_state` order.
    pub const ALL: [MessageState; 10] = [
        Self::Scheduled,
        Self::Enroute,
        Self::Delivered,
        Self::Expired,
        Self::Deleted,
        Self::Undeliverable,
        Self::Accepted,
        Self::Unknown,
        Self::Rejected,
        Self::Skipped,
    ];

    /// The state for a `message_state` TLV value; `None` outside 0..=9.
    pub fn from_tlv(value: u8) -> Option<Self> {
        Self::ALL.get(usize::from(value)).copied()
    }

    /// The `message_state` TLV value.
    pub fn value(self) -> u8 {
        self as u8
    }

    /// The 7-character `stat:` code of the Appendix B text (`DELIVRD`, `UNDELIV`, …).
    pub fn stat(self) -> &'static str {
        match self {
            Self::Scheduled => "SCHEDLD",
            Self::Enroute => "ENROUTE",
            Self::Delivered => "DELIVRD",
            Self::Expired => "EXPIRED",
            Self::Deleted => "DELETED",
            Self::Undeliverable => "UNDELIV",
            Self::Accepted => "ACCEPTD",
            Self::Unknown => "UNKNOWN",
            Self::Rejected => "REJECTD",
            Self::Skipped => "SKIPPED",
        }
    }

    /// The spec's name of the state, which a few SMSCs send instead of the 7-character code.
    fn spec_name(self) -> &'static str {
        match self {
            Self::Scheduled => "SCHEDULED",
            Self::Delivered => "DELIVERED",
            Self::Undeliverable => "UNDELIVERABLE",
            Self::Accepted => "ACCEPTED",
            Self::Rejected => "REJECTED",
            other => other.stat(),
        }
    }

    /// The state a `stat:` code stands for, case-insensitively and ignoring surrounding spaces.
    /// Accepts the 7-character codes, the spec's full names (`DELIVERED`) and the non-standard
    /// buffered codes (`BUFFRED`, `BUFFERD`, `ACKED`), which give [`MessageState::Enroute`];
    /// [`public_status`] tells those apart by the `stat` itself. `None` for anything else.
    pub fn from_stat(stat: &str) -> Option<Self> {
        let stat = stat.trim();
        if is_buffered_stat(stat) {
            return Some(Self::Enroute);
        }
        Self::ALL.into_iter().find(|state| {
            state.stat().eq_ignore_ascii_case(stat) || state.spec_name().eq_ignore_ascii_case(stat)
        })
    }
}

fn is_buffered_stat(stat: &str) -> bool {
    BUFFERED_STATS
        .iter()
        .any(|code| code.eq_ignore_ascii_case(stat.trim()))
}

impl DeliveryReceipt {
    /// Parses the Appendix B text (`id:… sub:… dlvrd:… submit date:… done date:… stat:… err:…
    /// text:…`) tolerantly, one field at a time: keys in any case and order, spaces after the
    /// colon, 10- or 12-digit dates, a free-form `err`, and `text:` taken as everything after
    /// it, so nothing inside the text (not even `stat:`) is read as a field. When a key occurs
    /// twice before `text:`, the first occurrence wins. Never panics; `None` only when neither
    /// an id nor a stat can be found.
    pub fn parse_text(text: &str) -> Option<DeliveryReceipt> {
        text::parse(text)
    }

    /// Merges the receipt's TLVs over the values read from its text: TLVs win, as in Kannel and
    /// Jasmin (smpp.md §2.3). A TLV that is absent, empty or holds no known value changes
    /// nothing.
    ///
    /// - `receipted_message_id` is trimmed of spaces and NUL terminators.
    /// - `message_state` replaces [`DeliveryReceipt::state`] when it is 0..=9; `stat` stays as sent.
    /// - `network_error_code` (3 octets: network type, then a 2-octet error) becomes
    ///   `"<type>:<error>"` with the type in decimal and the error as 4 upper-case hex digits,
    ///   exactly the octets sent: `[3, 0x00, 0x1B]` gives `"3:001B"`. Some SMSCs send ASCII
    ///   digits instead (`b"042"`); those are kept as the digits (`"042"`), without trailing
    ///   NULs. Any other length becomes `"0x"` and its octets in hex, so nothing is lost.
    pub fn with_tlvs(
        mut self,
        receipted_message_id: Option<&str>,
        message_state: Option<u8>,
        network_error_code: Option<&[u8]>,
    ) -> DeliveryReceipt {
        let id = receipted_message_id
            .map(|id| id.trim_matches(|c: char| c.is_whitespace() || c == '\0'));
        if let Some(id) = id.filter(|id| !id.is_empty()) {
            self.message_id = Some(id.to_owned());
        }
        if let Some(state) = message_state.and_then(MessageState::from_tlv) {
            self.state = Some(state);
        }
        if let Some(code) = network_error_code.and_then(format_network_error_code) {
            self.network_error_code = Some(code);
        }
        self
    }
}

fn format_network_error_code(octets: &[u8]) -> Option<String> {
    let without_nul = octets
        .iter()
        .rposition(|&b| b != 0)
        .and_then(|last| octets.get(..=last))
        .unwrap_or_default();
    if !without_nul.is_empty() && without_nul.iter().all(u8::is_ascii_digit) {
        return Some(without_nul.iter().map(|&b| char::from(b)).collect());
    }
    match octets {
        [] => None,
        [network_type, high, low] => Some(format!(
            "{network_type}:{:04X}",
            u16::from_be_bytes([*high, *low])
        )),
        other => Some(format!("0x{}", hex::encode_upper(other))),
    }
}

/// The public status a receipt means, per smpp.md §3: `ACCEPTD`/state 6 → ACCEPTED (non-final);
/// `ENROUTE`/`SCHEDLD`/states 0 and 1 → TRANSMITTED; `BUFFRED`/`BUFFERD`/`ACKED`, or enroute with
/// a non-zero numeric `err` or a non-zero network error code → BUFFERED; `DELIVRD` → DELIVERED;
/// `UNDELIV`/`DELETED`/`SKIPPED` → NOTDELIVERED; `EXPIRED` → EXPIRED; `REJECTD` → REJECTED;
/// `UNKNOWN`, an unknown stat or no state at all → UNKNOWN, which the status engine turns into a
/// provisional FAILED ([`super::status::transition`]).
///
/// The effective [`DeliveryReceipt::state`] decides, so a `message_state` TLV wins over the text;
/// the buffered `stat` codes only count while that state is enroute.
pub fn public_status(receipt: &DeliveryReceipt) -> DeliveryStatus {
    let Some(state) = receipt.state else {
        return DeliveryStatus::Unknown;
    };
    match state {
        MessageState::Accepted => DeliveryStatus::Accepted,
        MessageState::Enroute if is_held(receipt) => DeliveryStatus::Buffered,
        MessageState::Scheduled | MessageState::Enroute => DeliveryStatus::Transmitted,
        MessageState::Delivered => DeliveryStatus::Delivered,
        MessageState::Undeliverable | MessageState::Deleted | MessageState::Skipped => {
            DeliveryStatus::NotDelivered
        }
        MessageState::Expired => DeliveryStatus::Expired,
        MessageState::Rejected => DeliveryStatus::Rejected,
        MessageState::Unknown => DeliveryStatus::Unknown,
    }
}

/// Whether an enroute receipt says the SMSC is holding the message (absent subscriber, retrying).
fn is_held(receipt: &DeliveryReceipt) -> bool {
    let buffered_stat = receipt.stat.as_deref().is_some_and(is_buffered_stat);
    let err = receipt
        .error
        .as_deref()
        .is_some_and(|err| is_nonzero_code(err, 10));
    let network =
        receipt
            .network_error_code
            .as_deref()
            .is_some_and(|code| match code.split_once(':') {
                Some((_, error)) => is_nonzero_code(error, 16),
                None => match code.strip_prefix("0x") {
                    Some(octets) => is_nonzero_code(octets, 16),
                    None => is_nonzero_code(code, 10),
                },
            });
    buffered_stat || err || network
}

/// True for a number in `radix` that is not zero; false for anything that is not a number
/// (`AOK` means "all OK").
fn is_nonzero_code(code: &str, radix: u32) -> bool {
    let code = code.trim();
    !code.is_empty() && code.chars().all(|c| c.is_digit(radix)) && code.chars().any(|c| c != '0')
}

/// How a connector writes SMSC message ids (per side: `submit_sm_resp` and receipts may differ).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IdFormat {
    /// Hexadecimal digits, any case, leading zeros insignificant (`1F04`).
    Hex,
    /// Decimal digits, leading zeros insignificant (`0007940`).
    Decimal,
    /// An opaque id, compared exactly after trimming.
    AsIs,
}

/// The configured name of an id format is not `hex`, `decimal` or `as-is`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown id format {0:?} (expected hex, decimal or as-is)")]
pub struct UnknownIdFormat(pub String);

impl IdFormat {
    /// The name used in the configuration.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Hex => "hex",
            Self::Decimal => "decimal",
            Self::AsIs => "as-is",
        }
    }
}

impl FromStr for IdFormat {
    type Err = UnknownIdFormat;

    /// `hex`, `decimal` or `as-is` (as in the connector configuration), in any case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "hex" => Ok(Self::Hex),
            "decimal" => Ok(Self::Decimal),
            "as-is" | "as_is" | "asis" => Ok(Self::AsIs),
            _ => Err(UnknownIdFormat(s.to_owned())),
        }
    }
}

/// The matching key for an SMSC message id written in `format`.
///
/// Spaces and NUL terminators around the id never count. A [`IdFormat::Hex`] or
/// [`IdFormat::Decimal`] id that is a number within `u128` becomes that number in decimal, so
/// `normalize_id("1A", Hex)` and `normalize_id("026", Decimal)` both give `"26"`: this is what
/// lets a connector whose `submit_sm_resp` writes hex match receipts that write decimal. An id
/// too long for `u128` loses its leading zeros (and is upper-cased when hex); an id that is not
/// a number in its format stays as trimmed text. [`IdFormat::AsIs`] only trims.
///
/// `Decimal` and `AsIs` are idempotent. `Hex` cannot be, because its key `"26"` read again as
/// hex is 0x26; instead, its keys (like `Decimal`'s) are already canonical decimal: normalising
/// one again as `Decimal` leaves it unchanged.
pub fn normalize_id(raw: &str, format: IdFormat) -> String {
    let trimmed = raw.trim_matches(|c: char| c.is_whitespace() || c == '\0');
    match format {
        IdFormat::AsIs => trimmed.to_owned(),
        IdFormat::Decimal => numeric_key(trimmed, 10),
        IdFormat::Hex => numeric_key(trimmed, 16),
    }
}

fn numeric_key(digits: &str, radix: u32) -> String {
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return digits.to_owned();
    }
    match u128::from_str_radix(digits, radix) {
        Ok(value) => value.to_string(),
        // Only overflow is left: every character is a digit of `radix`.
        Err(_) => digits.trim_start_matches('0').to_ascii_uppercase(),
    }
}

#[cfg(test)]
mod tests;
