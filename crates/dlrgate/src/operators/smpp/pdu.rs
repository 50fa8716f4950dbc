//! Builds `submit_sm` bodies from a due message: addresses with their TON/NPI, one body per
//! segment (`domain::segment`), `registered_delivery`, validity from `ttl`, flash.

use smpp::{COctetString, SubmitSm};

use crate::domain::segment::Segment;
use crate::store::DueMessage;

/// `registered_delivery`: final receipts, success or failure (SMPP 3.4 §5.2.17).
const FINAL_RECEIPTS: u8 = 0x01;
/// Intermediate notifications too.
const INTERMEDIATE: u8 = 0x10;
/// `esm_class` UDHI bit: short_message starts with a user data header.
const UDHI: u8 = 0x40;

/// TON and NPI for a sender: alphanumeric (5, 0), short code (3, 0) or international (1, 1).
pub fn source_ton_npi(sender: &str) -> (u8, u8) {
    let digits = sender.trim_start_matches('+');
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
        (5, 0)
    } else if digits.len() <= 6 && !sender.starts_with('+') {
        (3, 0)
    } else {
        (1, 1)
    }
}

/// A relative SMPP time (`YYMMDDhhmmss000R`) for `minutes`, capped at 99 days.
pub fn relative_validity(minutes: u32) -> String {
    let minutes = minutes.min(99 * 24 * 60);
    let (days, rest) = (minutes / (24 * 60), minutes % (24 * 60));
    format!("0000{days:02}{:02}{:02}00000R", rest / 60, rest % 60)
}

pub fn submit_sm(message: &DueMessage, segment: &Segment, intermediate: bool) -> SubmitSm {
    let (source_addr_ton, source_addr_npi) = source_ton_npi(&message.sender);
    SubmitSm {
        source_addr_ton,
        source_addr_npi,
        source_addr: COctetString::new(message.sender.trim_start_matches('+').as_bytes().to_vec()),
        dest_addr_ton: 1,
        dest_addr_npi: 1,
        destination_addr: COctetString::new(
            message
                .recipient
                .trim_start_matches('+')
                .as_bytes()
                .to_vec(),
        ),
        esm_class: if segment.udhi { UDHI } else { 0 },
        validity_period: COctetString::new(
            message
                .ttl_minutes
                .map(relative_validity)
                .unwrap_or_default()
                .into_bytes(),
        ),
        registered_delivery: if intermediate {
            FINAL_RECEIPTS | INTERMEDIATE
        } else {
            FINAL_RECEIPTS
        },
        data_coding: segment.data_coding,
        short_message: segment.short_message.clone().into(),
        ..SubmitSm::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn senders_get_the_ton_npi_of_their_kind() {
        assert_eq!(source_ton_npi("dlrgate"), (5, 0));
        assert_eq!(source_ton_npi("Shop 24"), (5, 0));
        assert_eq!(source_ton_npi("12345"), (3, 0));
        assert_eq!(source_ton_npi("4917612345678"), (1, 1));
        assert_eq!(source_ton_npi("+4917612345678"), (1, 1));
    }

    #[test]
    fn validity_is_relative_days_hours_minutes() {
        assert_eq!(relative_validity(90), "000000013000000R");
        assert_eq!(relative_validity(2 * 24 * 60 + 5), "000002000500000R");
        assert_eq!(relative_validity(u32::MAX), "000099000000000R");
        assert_eq!(relative_validity(90).len(), 16);
    }
}
