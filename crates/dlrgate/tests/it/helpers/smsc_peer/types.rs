//! What the npm SMSC peer's control API answers (typed) and the receipts tests ask it to send.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One `submit_sm` (or `data_sm`) as the peer received it (`GET /submits`).
#[derive(Debug, Clone, Deserialize)]
pub struct Submit {
    /// "submit_sm" or "data_sm".
    pub command: String,
    pub sequence_number: u32,
    /// The id the peer answered with; `None` when it answered an error or nothing.
    pub message_id: Option<String>,
    /// The status answered; `None` when the peer swallowed it (`no_response_next`).
    pub command_status: Option<u32>,
    pub answered: bool,
    pub service_type: String,
    pub source_addr_ton: u8,
    pub source_addr_npi: u8,
    pub source_addr: String,
    pub dest_addr_ton: u8,
    pub dest_addr_npi: u8,
    pub destination_addr: String,
    pub esm_class: u8,
    pub protocol_id: Option<u8>,
    pub priority_flag: Option<u8>,
    pub schedule_delivery_time: Option<String>,
    pub validity_period: Option<String>,
    pub registered_delivery: u8,
    pub data_coding: u8,
    pub short_message_hex: String,
    pub message_payload_hex: Option<String>,
    /// Best-effort text: UCS-2 for data_coding 8, Latin-1 otherwise, without the UDH.
    pub text: String,
    pub udh: Option<Udh>,
    pub sar: Option<Sar>,
    pub tlvs: Vec<TlvHex>,
    /// The peer's id of the session it came on (see [`BindInfo::session`]).
    pub session: u64,
    pub received_at: String,
    /// When the peer sent its submit_sm_resp (ISO 8601, ms); `None` before it was sent.
    pub response_sent_at: Option<String>,
}

impl Submit {
    /// The raw `short_message` octets (UDH included).
    pub fn short_message(&self) -> Vec<u8> {
        hex::decode(&self.short_message_hex).expect("the peer writes hex")
    }
}

/// A user data header at the start of `short_message` (esm_class 0x40).
#[derive(Debug, Clone, Deserialize)]
pub struct Udh {
    pub hex: String,
    pub concat: Option<Concat>,
}

/// The concatenation element (IEI 0x00, 8-bit reference, or 0x08, 16-bit reference).
#[derive(Debug, Clone, Copy, Deserialize)]
pub struct Concat {
    #[serde(rename = "ref")]
    pub reference: u16,
    pub total: u8,
    pub seq: u8,
    pub ref_bits: u8,
}

/// The sar_* TLVs, when all three were present.
#[derive(Debug, Clone, Copy, Deserialize)]
pub struct Sar {
    pub msg_ref_num: u16,
    pub total_segments: u8,
    pub segment_seqnum: u8,
}

#[derive(Debug, Clone, Deserialize)]
pub struct TlvHex {
    pub tag: u16,
    pub hex: String,
}

/// One SMPP connection to the peer, open or closed (`GET /binds`).
#[derive(Debug, Clone, Deserialize)]
pub struct BindInfo {
    pub session: u64,
    /// "bind_transceiver", "bind_transmitter", "bind_receiver", or `None` before any bind.
    pub command: Option<String>,
    pub system_id: Option<String>,
    pub interface_version: Option<u8>,
    /// "tx", "rx" or "trx" once bound.
    pub mode: Option<String>,
    pub bound: bool,
    pub closed: bool,
    /// The status of the last bind_resp (0 = bound).
    pub bind_status: Option<u32>,
    #[serde(default)]
    pub bind_attempts: u32,
    pub enquire_link_sent: u32,
    pub enquire_link_answered: u32,
    pub enquire_link_received: u32,
}

/// A receipt the peer sent (`GET /delivered`).
#[derive(Debug, Clone, Deserialize)]
pub struct Delivered {
    /// "auto", "duplicate", "intermediate" (automatic receipts) or "manual" (`POST /deliver`).
    pub kind: String,
    /// The id as written in the TLV and the text.
    pub id: String,
    pub stat: String,
    pub message_state: Option<u8>,
    pub err: String,
    /// Whether the receipted_message_id/message_state TLVs were sent.
    pub tlvs: bool,
    /// Whether Appendix B text was sent.
    pub text: bool,
    pub esm_class: u8,
    pub network_error_code: Option<Value>,
    /// "deliver_sm" or "data_sm".
    pub via: String,
    pub session: u64,
    pub sequence_number: u32,
    /// The text sent (`short_message`, or `message_payload` for data_sm).
    pub short_message: String,
    /// The deliver_sm_resp / data_sm_resp status; `None` while unanswered.
    pub command_status: Option<u32>,
    /// When the answer arrived (ISO 8601, ms); `None` while unanswered.
    pub answered_at: Option<String>,
    /// 1 for the first sending, then 2, 3… for re-sendings (`redeliver_unacked`).
    pub attempt: u32,
    /// True once a re-sending of this receipt was scheduled.
    pub requeued: bool,
}

/// What `POST /deliver` and `POST /release` did with one receipt.
#[derive(Debug, Clone, Deserialize)]
pub struct DeliverOutcome {
    pub sequence_number: Option<u32>,
    pub session: Option<u64>,
    /// True when no RX/TRX session was bound: the receipt goes out on the next bind.
    #[serde(default)]
    pub queued: bool,
}

/// Receipts not yet sent (`GET /pending`): held by `hold_receipts`, or waiting for an RX/TRX bind.
#[derive(Debug, Clone, Deserialize)]
pub struct Pending {
    pub held: Vec<Value>,
    pub queued: Vec<Value>,
}

/// A receipt for [`SmscPeer::deliver`]; the defaults are a DELIVRD receipt with TLVs and text.
#[derive(Debug, Clone, Serialize)]
pub struct Receipt {
    pub id: String,
    pub stat: String,
    pub message_state: Option<u8>,
    pub err: String,
    pub tlvs: bool,
    pub text: bool,
    pub esm_class: u8,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub network_error_code: Option<NetworkError>,
    /// "deliver_sm" or "data_sm".
    pub via: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text_override: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_addr: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub destination_addr: Option<String>,
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct NetworkError {
    #[serde(rename = "type")]
    pub network_type: u8,
    pub code: u16,
}

impl Receipt {
    pub fn new(id: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            stat: "DELIVRD".into(),
            message_state: Some(2),
            err: "000".into(),
            tlvs: true,
            text: true,
            esm_class: 0x04,
            network_error_code: None,
            via: "deliver_sm".into(),
            session: None,
            text_override: None,
            source_addr: None,
            destination_addr: None,
        }
    }

    /// `stat` and `message_state` together, e.g. `("UNDELIV", 5)`.
    pub fn state(mut self, stat: &str, message_state: u8) -> Self {
        self.stat = stat.into();
        self.message_state = Some(message_state);
        self
    }

    pub fn err(mut self, err: &str) -> Self {
        self.err = err.into();
        self
    }

    pub fn tlvs_only(mut self) -> Self {
        self.tlvs = true;
        self.text = false;
        self
    }

    pub fn text_only(mut self) -> Self {
        self.tlvs = false;
        self.text = true;
        self
    }

    pub fn esm_class(mut self, esm_class: u8) -> Self {
        self.esm_class = esm_class;
        self
    }

    pub fn network_error(mut self, network_type: u8, code: u16) -> Self {
        self.network_error_code = Some(NetworkError { network_type, code });
        self
    }

    pub fn via_data_sm(mut self) -> Self {
        self.via = "data_sm".into();
        self
    }

    pub fn on_session(mut self, session: u64) -> Self {
        self.session = Some(session);
        self
    }

    /// Replaces the whole Appendix B text with `text`.
    pub fn raw_text(mut self, text: impl Into<String>) -> Self {
        self.text_override = Some(text.into());
        self
    }
}
