//! The [`Pdu`] enum: every SMPP 3.4 PDU dlrgate speaks, with its header values and typed body.
//!
//! Owns the mapping between `command_id` and body types. One file per PDU holds each body layout. This
//! module must not frame bytes (that is [`crate::codec`]) or keep session state such as sequence counters.

mod bind;
mod data_sm;
mod deliver_sm;
mod dispatch;
mod submit_sm;
mod tlv;
mod wire;

use bytes::{Bytes, BytesMut};

pub use bind::{Bind, BindResp};
pub use data_sm::{DataSm, DataSmResp};
pub use deliver_sm::{DeliverSm, DeliverSmResp};
pub use submit_sm::{SubmitSm, SubmitSmResp};
pub use tlv::{NetworkErrorCode, Tlv, Tlvs, tag};
pub use wire::COctetString;

/// `command_id` values (SMPP 3.4 §5.1.2.1). Responses are the request id with bit 31 set.
pub mod command_id {
    pub const GENERIC_NACK: u32 = 0x8000_0000;
    pub const BIND_RECEIVER: u32 = 0x0000_0001;
    pub const BIND_RECEIVER_RESP: u32 = 0x8000_0001;
    pub const BIND_TRANSMITTER: u32 = 0x0000_0002;
    pub const BIND_TRANSMITTER_RESP: u32 = 0x8000_0002;
    pub const SUBMIT_SM: u32 = 0x0000_0004;
    pub const SUBMIT_SM_RESP: u32 = 0x8000_0004;
    pub const DELIVER_SM: u32 = 0x0000_0005;
    pub const DELIVER_SM_RESP: u32 = 0x8000_0005;
    pub const UNBIND: u32 = 0x0000_0006;
    pub const UNBIND_RESP: u32 = 0x8000_0006;
    pub const BIND_TRANSCEIVER: u32 = 0x0000_0009;
    pub const BIND_TRANSCEIVER_RESP: u32 = 0x8000_0009;
    pub const ENQUIRE_LINK: u32 = 0x0000_0015;
    pub const ENQUIRE_LINK_RESP: u32 = 0x8000_0015;
    pub const DATA_SM: u32 = 0x0000_0103;
    pub const DATA_SM_RESP: u32 = 0x8000_0103;
}

/// One SMPP PDU. Requests carry only `sequence_number` because the spec requires their `command_status`
/// to be 0; responses and `generic_nack` carry the status the peer sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pdu {
    BindTransmitter {
        sequence_number: u32,
        body: Bind,
    },
    BindTransmitterResp {
        sequence_number: u32,
        command_status: u32,
        body: BindResp,
    },
    BindReceiver {
        sequence_number: u32,
        body: Bind,
    },
    BindReceiverResp {
        sequence_number: u32,
        command_status: u32,
        body: BindResp,
    },
    BindTransceiver {
        sequence_number: u32,
        body: Bind,
    },
    BindTransceiverResp {
        sequence_number: u32,
        command_status: u32,
        body: BindResp,
    },
    Unbind {
        sequence_number: u32,
    },
    UnbindResp {
        sequence_number: u32,
        command_status: u32,
    },
    EnquireLink {
        sequence_number: u32,
    },
    EnquireLinkResp {
        sequence_number: u32,
        command_status: u32,
    },
    GenericNack {
        sequence_number: u32,
        command_status: u32,
    },
    SubmitSm {
        sequence_number: u32,
        body: SubmitSm,
    },
    SubmitSmResp {
        sequence_number: u32,
        command_status: u32,
        body: SubmitSmResp,
    },
    DeliverSm {
        sequence_number: u32,
        body: DeliverSm,
    },
    DeliverSmResp {
        sequence_number: u32,
        command_status: u32,
        body: DeliverSmResp,
    },
    DataSm {
        sequence_number: u32,
        body: DataSm,
    },
    DataSmResp {
        sequence_number: u32,
        command_status: u32,
        body: DataSmResp,
    },
    /// A `command_id` this crate does not model. Kept so a session can answer `generic_nack` with
    /// `ESME_RINVCMDID` and the right `sequence_number` instead of dropping the link.
    Unknown {
        command_id: u32,
        sequence_number: u32,
        body: Bytes,
    },
}

impl Pdu {
    pub fn command_id(&self) -> u32 {
        use self::command_id as id;
        match self {
            Pdu::BindTransmitter { .. } => id::BIND_TRANSMITTER,
            Pdu::BindTransmitterResp { .. } => id::BIND_TRANSMITTER_RESP,
            Pdu::BindReceiver { .. } => id::BIND_RECEIVER,
            Pdu::BindReceiverResp { .. } => id::BIND_RECEIVER_RESP,
            Pdu::BindTransceiver { .. } => id::BIND_TRANSCEIVER,
            Pdu::BindTransceiverResp { .. } => id::BIND_TRANSCEIVER_RESP,
            Pdu::Unbind { .. } => id::UNBIND,
            Pdu::UnbindResp { .. } => id::UNBIND_RESP,
            Pdu::EnquireLink { .. } => id::ENQUIRE_LINK,
            Pdu::EnquireLinkResp { .. } => id::ENQUIRE_LINK_RESP,
            Pdu::GenericNack { .. } => id::GENERIC_NACK,
            Pdu::SubmitSm { .. } => id::SUBMIT_SM,
            Pdu::SubmitSmResp { .. } => id::SUBMIT_SM_RESP,
            Pdu::DeliverSm { .. } => id::DELIVER_SM,
            Pdu::DeliverSmResp { .. } => id::DELIVER_SM_RESP,
            Pdu::DataSm { .. } => id::DATA_SM,
            Pdu::DataSmResp { .. } => id::DATA_SM_RESP,
            Pdu::Unknown { command_id, .. } => *command_id,
        }
    }

    pub fn sequence_number(&self) -> u32 {
        match self {
            Pdu::BindTransmitter {
                sequence_number, ..
            }
            | Pdu::BindTransmitterResp {
                sequence_number, ..
            }
            | Pdu::BindReceiver {
                sequence_number, ..
            }
            | Pdu::BindReceiverResp {
                sequence_number, ..
            }
            | Pdu::BindTransceiver {
                sequence_number, ..
            }
            | Pdu::BindTransceiverResp {
                sequence_number, ..
            }
            | Pdu::Unbind { sequence_number }
            | Pdu::UnbindResp {
                sequence_number, ..
            }
            | Pdu::EnquireLink { sequence_number }
            | Pdu::EnquireLinkResp {
                sequence_number, ..
            }
            | Pdu::GenericNack {
                sequence_number, ..
            }
            | Pdu::SubmitSm {
                sequence_number, ..
            }
            | Pdu::SubmitSmResp {
                sequence_number, ..
            }
            | Pdu::DeliverSm {
                sequence_number, ..
            }
            | Pdu::DeliverSmResp {
                sequence_number, ..
            }
            | Pdu::DataSm {
                sequence_number, ..
            }
            | Pdu::DataSmResp {
                sequence_number, ..
            }
            | Pdu::Unknown {
                sequence_number, ..
            } => *sequence_number,
        }
    }

    /// The header's `command_status`: 0 for requests and unknown PDUs.
    pub fn command_status(&self) -> u32 {
        match self {
            Pdu::BindTransmitterResp { command_status, .. }
            | Pdu::BindReceiverResp { command_status, .. }
            | Pdu::BindTransceiverResp { command_status, .. }
            | Pdu::UnbindResp { command_status, .. }
            | Pdu::EnquireLinkResp { command_status, .. }
            | Pdu::GenericNack { command_status, .. }
            | Pdu::SubmitSmResp { command_status, .. }
            | Pdu::DeliverSmResp { command_status, .. }
            | Pdu::DataSmResp { command_status, .. } => *command_status,
            _ => 0,
        }
    }

    /// Writes the body (everything after the 16-octet header).
    pub(crate) fn encode_body(&self, dst: &mut BytesMut) {
        match self {
            Pdu::BindTransmitter { body, .. }
            | Pdu::BindReceiver { body, .. }
            | Pdu::BindTransceiver { body, .. } => body.encode(dst),
            Pdu::BindTransmitterResp { body, .. }
            | Pdu::BindReceiverResp { body, .. }
            | Pdu::BindTransceiverResp { body, .. } => body.encode(dst),
            Pdu::SubmitSm { body, .. } | Pdu::DeliverSm { body, .. } => body.encode(dst),
            Pdu::SubmitSmResp { body, .. }
            | Pdu::DeliverSmResp { body, .. }
            | Pdu::DataSmResp { body, .. } => body.encode(dst),
            Pdu::DataSm { body, .. } => body.encode(dst),
            Pdu::Unknown { body, .. } => dst.extend_from_slice(body),
            Pdu::Unbind { .. }
            | Pdu::UnbindResp { .. }
            | Pdu::EnquireLink { .. }
            | Pdu::EnquireLinkResp { .. }
            | Pdu::GenericNack { .. } => {}
        }
    }
}
