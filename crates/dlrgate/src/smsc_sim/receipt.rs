//! Receipts: which ones a `submit_sm` earns and when (the sandbox's last-digit plan), and the
//! `deliver_sm` that carries one (TLVs plus the Appendix B text, smpp.md §2.3-2.4).
//!
//! Owns the receipt contents. It must not decide where or when a receipt is written; that is the
//! hub (timing, routing) and the session (the wire).

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use smpp::{COctetString, DeliverSm, SubmitSm, Tlvs, tag};

use crate::domain::receipt::MessageState;
use crate::domain::sandbox;
use crate::domain::status::DeliveryStatus;

/// `esm_class` of an SMSC delivery receipt and of an intermediate notification (smpp.md §2.2).
const ESM_CLASS_RECEIPT: u8 = 0x04;
const ESM_CLASS_INTERMEDIATE: u8 = 0x20;

/// What every receipt of one submitted message shares.
#[derive(Debug)]
pub(crate) struct Message {
    /// The account whose receiver binds get the receipts.
    pub(crate) system_id: Arc<str>,
    /// The id as receipts write it (which may differ from the `submit_sm_resp` spelling).
    pub(crate) receipt_id: String,
    /// The submit's addresses, kept as (ton, npi, address); receipts swap them.
    pub(crate) source: (u8, u8, COctetString),
    pub(crate) destination: (u8, u8, COctetString),
    /// Unix seconds of the submit.
    pub(crate) submitted_at: i64,
    /// The first 20 characters of the text, printable ASCII only.
    pub(crate) text: String,
}

/// One receipt to send; cheap to clone, since duplicates and re-sends copy it.
#[derive(Debug, Clone)]
pub(crate) struct Receipt {
    pub(crate) message: Arc<Message>,
    pub(crate) state: MessageState,
    /// The Appendix B `err:` value, three digits.
    pub(crate) err: &'static str,
    /// An intermediate notification (esm_class 0x20) rather than a final receipt.
    pub(crate) intermediate: bool,
    /// Unix seconds of the `done date:`.
    pub(crate) done_at: i64,
}

/// A receipt and its delay after the submit.
#[derive(Debug)]
pub(crate) struct Planned {
    pub(crate) after: Duration,
    pub(crate) receipt: Receipt,
}

/// The part of the configuration planning needs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PlanRules {
    pub(crate) speed: f64,
    pub(crate) outcome: Option<MessageState>,
    /// Every delay becomes zero (the receipt-before-response pathology).
    pub(crate) immediate: bool,
}

impl Message {
    pub(crate) fn from_submit(
        system_id: Arc<str>,
        receipt_id: String,
        submit: &SubmitSm,
        submitted_at: i64,
    ) -> Self {
        Self {
            system_id,
            receipt_id,
            source: (
                submit.source_addr_ton,
                submit.source_addr_npi,
                submit.source_addr.clone(),
            ),
            destination: (
                submit.dest_addr_ton,
                submit.dest_addr_npi,
                submit.destination_addr.clone(),
            ),
            submitted_at,
            text: text_prefix(submit),
        }
    }
}

/// The receipts `registered_delivery` asks for (smpp.md §2.1): bits 1-0 select final receipts
/// (1 always, 2 on failure, 3 on success), bit 4 (0x10) asks for intermediate notifications.
pub(crate) fn plan(
    registered_delivery: u8,
    message: &Arc<Message>,
    rules: PlanRules,
) -> Vec<Planned> {
    let final_mode = registered_delivery & 0x03;
    let intermediates = registered_delivery & 0x10 != 0;
    if final_mode == 0 && !intermediates {
        return Vec::new();
    }
    let last_digit = message
        .destination
        .2
        .as_bytes()
        .iter()
        .rev()
        .find(|b| b.is_ascii_digit())
        .map_or(1, |b| b - b'0');
    let mut planned = Vec::new();
    for step in sandbox::plan(last_digit, 1, rules.speed) {
        let intermediate = !step.status.is_final();
        let (state, err) = match (intermediate, rules.outcome) {
            (false, Some(outcome)) => (outcome, default_err(outcome)),
            _ => (state_for(step.status), step.error_code),
        };
        let wanted = if intermediate {
            intermediates
        } else {
            match final_mode {
                1 => true,
                2 => state != MessageState::Delivered,
                3 => state == MessageState::Delivered,
                _ => false,
            }
        };
        if !wanted {
            continue;
        }
        let after = if rules.immediate {
            Duration::ZERO
        } else {
            step.after
        };
        planned.push(Planned {
            after,
            receipt: Receipt {
                message: Arc::clone(message),
                state,
                err,
                intermediate,
                done_at: message.submitted_at + i64::try_from(after.as_secs()).unwrap_or(0),
            },
        });
    }
    planned
}

fn state_for(status: DeliveryStatus) -> MessageState {
    match status {
        DeliveryStatus::Accepted => MessageState::Accepted,
        DeliveryStatus::Transmitted | DeliveryStatus::Buffered => MessageState::Enroute,
        DeliveryStatus::Delivered => MessageState::Delivered,
        DeliveryStatus::NotDelivered => MessageState::Undeliverable,
        DeliveryStatus::Expired => MessageState::Expired,
        DeliveryStatus::Rejected => MessageState::Rejected,
        DeliveryStatus::Failed | DeliveryStatus::Unknown => MessageState::Unknown,
    }
}

/// The `err:` an overridden outcome carries, matching the sandbox's codes where it has one.
fn default_err(state: MessageState) -> &'static str {
    match state {
        MessageState::Undeliverable => "001",
        MessageState::Deleted => "002",
        MessageState::Rejected => "011",
        MessageState::Expired => "027",
        MessageState::Unknown => "069",
        _ => "000",
    }
}

fn is_failure(state: MessageState) -> bool {
    matches!(
        state,
        MessageState::Expired
            | MessageState::Deleted
            | MessageState::Undeliverable
            | MessageState::Unknown
            | MessageState::Rejected
    )
}

impl Receipt {
    /// The `deliver_sm` body: addresses swapped, esm_class 0x04 (or 0x20), the TLVs
    /// `receipted_message_id` and `message_state` (plus `network_error_code` for failures, as GSM
    /// network type 3 and the `err:` number), and the Appendix B text.
    pub(crate) fn deliver_sm(&self) -> DeliverSm {
        let message = &self.message;
        let delivered = if self.state == MessageState::Delivered {
            "001"
        } else {
            "000"
        };
        let mut text = String::with_capacity(160);
        let _ = write!(
            text,
            "id:{} sub:001 dlvrd:{delivered} submit date:{} done date:{} stat:{} err:{} text:{}",
            message.receipt_id,
            receipt_date(message.submitted_at),
            receipt_date(self.done_at),
            self.state.stat(),
            self.err,
            message.text,
        );
        let mut id = Vec::with_capacity(message.receipt_id.len() + 1);
        id.extend_from_slice(message.receipt_id.as_bytes());
        id.push(0);
        let mut tlvs = Tlvs::default()
            .with(tag::RECEIPTED_MESSAGE_ID, id)
            .with(tag::MESSAGE_STATE, vec![self.state.value()]);
        if is_failure(self.state) {
            let code = self.err.parse::<u16>().unwrap_or(0).to_be_bytes();
            tlvs = tlvs.with(tag::NETWORK_ERROR_CODE, vec![3, code[0], code[1]]);
        }
        DeliverSm {
            source_addr_ton: message.destination.0,
            source_addr_npi: message.destination.1,
            source_addr: message.destination.2.clone(),
            dest_addr_ton: message.source.0,
            dest_addr_npi: message.source.1,
            destination_addr: message.source.2.clone(),
            esm_class: if self.intermediate {
                ESM_CLASS_INTERMEDIATE
            } else {
                ESM_CLASS_RECEIPT
            },
            short_message: Bytes::from(text),
            tlvs,
            ..DeliverSm::default()
        }
    }
}

/// `YYMMDDhhmm` in UTC, as Appendix B writes dates.
fn receipt_date(unix_seconds: i64) -> String {
    let at = time::OffsetDateTime::from_unix_timestamp(unix_seconds)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:02}{:02}{:02}{:02}{:02}",
        at.year().rem_euclid(100),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute()
    )
}

/// The first 20 characters of the submitted text (short_message, or message_payload when that is
/// empty), UCS-2 decoded when data_coding says so; anything but printable ASCII becomes `?` so the
/// receipt text stays plain in every alphabet.
fn text_prefix(submit: &SubmitSm) -> String {
    let raw: &[u8] = if submit.short_message.is_empty() {
        submit.tlvs.message_payload().unwrap_or_default()
    } else {
        &submit.short_message
    };
    let decoded: String = if submit.data_coding == 0x08 {
        let units: Vec<u16> = raw
            .chunks_exact(2)
            .map(|pair| u16::from_be_bytes([pair[0], pair[1]]))
            .collect();
        String::from_utf16_lossy(&units)
    } else {
        String::from_utf8_lossy(raw).into_owned()
    };
    decoded
        .chars()
        .take(20)
        .map(|c| {
            if c == ' ' || c.is_ascii_graphic() {
                c
            } else {
                '?'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests;
