//! `submit_sm` and `submit_sm_resp` (SMPP 3.4 §4.4).
//!
//! Owns the layout shared by `submit_sm` and `deliver_sm` (the spec gives both the same fields) and by the
//! `message_id` responses. It must not choose encodings, split long texts or interpret `esm_class`.

use bytes::{BufMut, Bytes, BytesMut};

use super::tlv::Tlvs;
use super::wire::{COctetString, Reader, put_c_octet, put_short_message};
use crate::BodyError;

/// Body of `submit_sm`; also the body of `deliver_sm` (see [`super::DeliverSm`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SubmitSm {
    /// At most 5 characters; empty means the SMSC default.
    pub service_type: COctetString,
    pub source_addr_ton: u8,
    pub source_addr_npi: u8,
    /// At most 20 characters.
    pub source_addr: COctetString,
    pub dest_addr_ton: u8,
    pub dest_addr_npi: u8,
    /// At most 20 characters.
    pub destination_addr: COctetString,
    /// Message mode and type; receipts are recognised by mask, never by equality (smpp.md §2.2).
    pub esm_class: u8,
    pub protocol_id: u8,
    pub priority_flag: u8,
    /// Empty, or a 16-character SMPP time.
    pub schedule_delivery_time: COctetString,
    /// Empty, or a 16-character SMPP time; dlrgate derives it from `ttl`.
    pub validity_period: COctetString,
    /// Which receipts are wanted; 0x01 for final ones, 0x11 with intermediates (smpp.md §2.1).
    pub registered_delivery: u8,
    pub replace_if_present_flag: u8,
    pub data_coding: u8,
    pub sm_default_msg_id: u8,
    /// At most 254 octets; longer content goes in the `message_payload` TLV.
    pub short_message: Bytes,
    pub tlvs: Tlvs,
}

impl SubmitSm {
    pub(crate) fn decode(mut r: Reader<'_>) -> Result<Self, BodyError> {
        Ok(Self {
            service_type: r.c_octet("service_type", 6)?,
            source_addr_ton: r.u8("source_addr_ton")?,
            source_addr_npi: r.u8("source_addr_npi")?,
            source_addr: r.c_octet("source_addr", 21)?,
            dest_addr_ton: r.u8("dest_addr_ton")?,
            dest_addr_npi: r.u8("dest_addr_npi")?,
            destination_addr: r.c_octet("destination_addr", 21)?,
            esm_class: r.u8("esm_class")?,
            protocol_id: r.u8("protocol_id")?,
            priority_flag: r.u8("priority_flag")?,
            schedule_delivery_time: r.c_octet("schedule_delivery_time", 17)?,
            validity_period: r.c_octet("validity_period", 17)?,
            registered_delivery: r.u8("registered_delivery")?,
            replace_if_present_flag: r.u8("replace_if_present_flag")?,
            data_coding: r.u8("data_coding")?,
            sm_default_msg_id: r.u8("sm_default_msg_id")?,
            short_message: r.short_message()?,
            tlvs: Tlvs::decode(&mut r)?,
        })
    }

    pub(crate) fn encode(&self, dst: &mut BytesMut) {
        put_c_octet(dst, &self.service_type);
        dst.put_u8(self.source_addr_ton);
        dst.put_u8(self.source_addr_npi);
        put_c_octet(dst, &self.source_addr);
        dst.put_u8(self.dest_addr_ton);
        dst.put_u8(self.dest_addr_npi);
        put_c_octet(dst, &self.destination_addr);
        dst.put_u8(self.esm_class);
        dst.put_u8(self.protocol_id);
        dst.put_u8(self.priority_flag);
        put_c_octet(dst, &self.schedule_delivery_time);
        put_c_octet(dst, &self.validity_period);
        dst.put_u8(self.registered_delivery);
        dst.put_u8(self.replace_if_present_flag);
        dst.put_u8(self.data_coding);
        dst.put_u8(self.sm_default_msg_id);
        put_short_message(dst, &self.short_message);
        self.tlvs.encode(dst);
    }
}

/// Body of `submit_sm_resp`; also of `deliver_sm_resp` and `data_sm_resp`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SubmitSmResp {
    /// The SMSC's id for the message, at most 64 characters; receipts refer to it, possibly re-formatted
    /// (hex vs decimal, smpp.md §4). Always empty in `deliver_sm_resp`.
    pub message_id: COctetString,
    /// SMPP 3.4 defines none for `submit_sm_resp`, but 5.0 peers send some and `data_sm_resp` has them.
    pub tlvs: Tlvs,
}

impl SubmitSmResp {
    /// An error response may carry no body at all (SMPP 3.4 §4.4.2), which decodes to an empty id.
    pub(crate) fn decode(mut r: Reader<'_>) -> Result<Self, BodyError> {
        if r.is_empty() {
            return Ok(Self::default());
        }
        Ok(Self {
            message_id: r.c_octet("message_id", 65)?,
            tlvs: Tlvs::decode(&mut r)?,
        })
    }

    pub(crate) fn encode(&self, dst: &mut BytesMut) {
        put_c_octet(dst, &self.message_id);
        self.tlvs.encode(dst);
    }
}
