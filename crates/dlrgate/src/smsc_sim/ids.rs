//! SMSC message ids: handing out fresh numbers and writing them as `submit_sm_resp` and receipts do.
//!
//! Owns uniqueness (one counter per simulator, handed to sessions in blocks so they do not share a
//! cache line per message) and the hex/decimal/uuid spellings. It must not know PDUs.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use rand::Rng;

use super::config::{ReceiptIdFormat, SubmitIdFormat};

/// How many ids a session takes from the shared counter at once.
const BLOCK: u64 = 256;

/// The simulator-wide source of message numbers.
#[derive(Debug, Clone)]
pub(crate) struct IdSource {
    next: Arc<AtomicU64>,
}

impl IdSource {
    /// Starts at a random 8-hex-digit number, so ids differ between runs (as a real SMSC's do) and
    /// hex and decimal spellings of one id differ visibly.
    pub(crate) fn new() -> Self {
        let start = rand::rng().random_range(0x1000_0000_u64..0x7000_0000);
        Self {
            next: Arc::new(AtomicU64::new(start)),
        }
    }
}

/// One session's block of numbers plus the configured spellings.
#[derive(Debug)]
pub(crate) struct IdAllocator {
    source: IdSource,
    next: u64,
    end: u64,
    submit: SubmitIdFormat,
    receipt: ReceiptIdFormat,
}

/// A fresh message id as `submit_sm_resp` writes it and as receipts write it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MessageIds {
    pub(crate) submit: String,
    pub(crate) receipt: String,
}

impl IdAllocator {
    pub(crate) fn new(source: IdSource, submit: SubmitIdFormat, receipt: ReceiptIdFormat) -> Self {
        Self {
            source,
            next: 0,
            end: 0,
            submit,
            receipt,
        }
    }

    pub(crate) fn allocate(&mut self) -> MessageIds {
        if self.next == self.end {
            self.next = self.source.next.fetch_add(BLOCK, Ordering::Relaxed);
            self.end = self.next + BLOCK;
        }
        let number = self.next;
        self.next += 1;
        let submit = match self.submit {
            SubmitIdFormat::Hex => format!("{number:X}"),
            SubmitIdFormat::Decimal => number.to_string(),
            SubmitIdFormat::Uuid => uuid_v4(),
        };
        let receipt = match self.receipt {
            ReceiptIdFormat::Same => submit.clone(),
            ReceiptIdFormat::Hex => format!("{number:X}"),
            ReceiptIdFormat::Decimal => number.to_string(),
        };
        MessageIds { submit, receipt }
    }
}

fn uuid_v4() -> String {
    let mut octets: [u8; 16] = rand::rng().random();
    octets[6] = (octets[6] & 0x0F) | 0x40;
    octets[8] = (octets[8] & 0x3F) | 0x80;
    let hex = hex::encode(octets);
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(submit: SubmitIdFormat, receipt: ReceiptIdFormat, expect: fn(&MessageIds) -> bool) {
        let mut ids = IdAllocator::new(IdSource::new(), submit, receipt);
        for _ in 0..600 {
            let allocated = ids.allocate();
            assert!(expect(&allocated), "{submit:?}/{receipt:?}: {allocated:?}");
        }
    }

    #[test]
    fn ids_are_spelled_as_configured() {
        let hex_to_decimal = |ids: &MessageIds| {
            u64::from_str_radix(&ids.submit, 16).ok() == ids.receipt.parse().ok()
                && ids.submit != ids.receipt
        };
        check(
            SubmitIdFormat::Hex,
            ReceiptIdFormat::Decimal,
            hex_to_decimal,
        );
        check(SubmitIdFormat::Hex, ReceiptIdFormat::Same, |ids| {
            ids.submit == ids.receipt && u64::from_str_radix(&ids.submit, 16).is_ok()
        });
        check(SubmitIdFormat::Decimal, ReceiptIdFormat::Hex, |ids| {
            ids.submit.parse::<u64>().ok() == u64::from_str_radix(&ids.receipt, 16).ok()
        });
        check(SubmitIdFormat::Uuid, ReceiptIdFormat::Same, |ids| {
            ids.submit.len() == 36 && ids.submit == ids.receipt
        });
    }

    #[test]
    fn ids_are_unique_across_blocks_and_sessions() {
        let source = IdSource::new();
        let mut a = IdAllocator::new(
            source.clone(),
            SubmitIdFormat::Decimal,
            ReceiptIdFormat::Same,
        );
        let mut b = IdAllocator::new(source, SubmitIdFormat::Decimal, ReceiptIdFormat::Same);
        let mut seen = std::collections::HashSet::new();
        for _ in 0..1000 {
            assert!(seen.insert(a.allocate().submit));
            assert!(seen.insert(b.allocate().submit));
        }
    }
}
