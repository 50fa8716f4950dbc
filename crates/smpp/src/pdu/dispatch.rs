//! Decoding dispatch: from `command_id` to the body type that reads the rest of the frame.
//!
//! Split into requests and responses (bit 31 of `command_id`) only to keep each table short. It must not
//! inspect header fields beyond `command_id`; their meaning belongs to the session.

use bytes::Bytes;

use super::command_id as id;
use super::wire::Reader;
use super::{
    Bind, BindResp, DataSm, DataSmResp, DeliverSm, DeliverSmResp, Pdu, SubmitSm, SubmitSmResp,
};
use crate::BodyError;

impl Pdu {
    /// Builds a PDU from its header values and body octets. A request's `command_status` is dropped:
    /// the spec requires it to be 0 and nothing can be done with another value.
    pub(crate) fn decode_body(
        command_id: u32,
        command_status: u32,
        sequence_number: u32,
        body: Bytes,
    ) -> Result<Pdu, BodyError> {
        let (seq, r) = (sequence_number, Reader::new(&body));
        let decoded = if command_id & 0x8000_0000 == 0 {
            decode_request(command_id, seq, r)?
        } else {
            decode_response(command_id, command_status, seq, r)?
        };
        Ok(decoded.unwrap_or(Pdu::Unknown {
            command_id,
            sequence_number,
            body,
        }))
    }
}

/// `Ok(None)` for a `command_id` this crate does not model.
fn decode_request(command_id: u32, seq: u32, r: Reader<'_>) -> Result<Option<Pdu>, BodyError> {
    Ok(Some(match command_id {
        id::BIND_TRANSMITTER => Pdu::BindTransmitter {
            sequence_number: seq,
            body: Bind::decode(r)?,
        },
        id::BIND_RECEIVER => Pdu::BindReceiver {
            sequence_number: seq,
            body: Bind::decode(r)?,
        },
        id::BIND_TRANSCEIVER => Pdu::BindTransceiver {
            sequence_number: seq,
            body: Bind::decode(r)?,
        },
        id::SUBMIT_SM => Pdu::SubmitSm {
            sequence_number: seq,
            body: SubmitSm::decode(r)?,
        },
        id::DELIVER_SM => Pdu::DeliverSm {
            sequence_number: seq,
            body: DeliverSm::decode(r)?,
        },
        id::DATA_SM => Pdu::DataSm {
            sequence_number: seq,
            body: DataSm::decode(r)?,
        },
        id::UNBIND => {
            r.finish()?;
            Pdu::Unbind {
                sequence_number: seq,
            }
        }
        id::ENQUIRE_LINK => {
            r.finish()?;
            Pdu::EnquireLink {
                sequence_number: seq,
            }
        }
        _ => return Ok(None),
    }))
}

/// `Ok(None)` for a `command_id` this crate does not model.
fn decode_response(
    command_id: u32,
    status: u32,
    seq: u32,
    r: Reader<'_>,
) -> Result<Option<Pdu>, BodyError> {
    Ok(Some(match command_id {
        id::BIND_TRANSMITTER_RESP => Pdu::BindTransmitterResp {
            sequence_number: seq,
            command_status: status,
            body: BindResp::decode(r)?,
        },
        id::BIND_RECEIVER_RESP => Pdu::BindReceiverResp {
            sequence_number: seq,
            command_status: status,
            body: BindResp::decode(r)?,
        },
        id::BIND_TRANSCEIVER_RESP => Pdu::BindTransceiverResp {
            sequence_number: seq,
            command_status: status,
            body: BindResp::decode(r)?,
        },
        id::SUBMIT_SM_RESP => Pdu::SubmitSmResp {
            sequence_number: seq,
            command_status: status,
            body: SubmitSmResp::decode(r)?,
        },
        id::DELIVER_SM_RESP => Pdu::DeliverSmResp {
            sequence_number: seq,
            command_status: status,
            body: DeliverSmResp::decode(r)?,
        },
        id::DATA_SM_RESP => Pdu::DataSmResp {
            sequence_number: seq,
            command_status: status,
            body: DataSmResp::decode(r)?,
        },
        id::UNBIND_RESP => {
            r.finish()?;
            Pdu::UnbindResp {
                sequence_number: seq,
                command_status: status,
            }
        }
        id::ENQUIRE_LINK_RESP => {
            r.finish()?;
            Pdu::EnquireLinkResp {
                sequence_number: seq,
                command_status: status,
            }
        }
        id::GENERIC_NACK => {
            r.finish()?;
            Pdu::GenericNack {
                sequence_number: seq,
                command_status: status,
            }
        }
        _ => return Ok(None),
    }))
}
