//! Optional parameters (TLVs) as they arrived: a list of (tag, value) pairs plus typed accessors.
//!
//! Owns the TLV wire layout and the typed reading of the few tags dlrgate needs. It must not drop or
//! reorder unknown tags, so a PDU re-encodes to what was received and the raw values stay available.

use bytes::{BufMut, Bytes, BytesMut};

use super::wire::Reader;
use crate::BodyError;

/// Tags of the optional parameters dlrgate reads (SMPP 3.4 §5.3.2).
pub mod tag {
    pub const RECEIPTED_MESSAGE_ID: u16 = 0x001E;
    pub const SAR_MSG_REF_NUM: u16 = 0x020C;
    pub const SAR_TOTAL_SEGMENTS: u16 = 0x020E;
    pub const SAR_SEGMENT_SEQNUM: u16 = 0x020F;
    pub const SC_INTERFACE_VERSION: u16 = 0x0210;
    pub const NETWORK_ERROR_CODE: u16 = 0x0423;
    pub const MESSAGE_PAYLOAD: u16 = 0x0424;
    pub const MESSAGE_STATE: u16 = 0x0427;
}

/// One optional parameter, value kept as raw octets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tlv {
    pub tag: u16,
    pub value: Bytes,
}

/// `network_error_code` (0x0423): network type (1 = ANSI-136, 2 = IS-95, 3 = GSM, …) and its error code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NetworkErrorCode {
    pub network_type: u8,
    pub error_code: u16,
}

/// The optional parameters of one PDU, in wire order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tlvs(pub Vec<Tlv>);

impl Tlvs {
    /// Appends a parameter; builder style, for constructing outbound PDUs.
    pub fn with(mut self, tag: u16, value: impl Into<Bytes>) -> Self {
        self.0.push(Tlv {
            tag,
            value: value.into(),
        });
        self
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The value of the first parameter with this tag.
    pub fn get(&self, tag: u16) -> Option<&[u8]> {
        self.0.iter().find(|t| t.tag == tag).map(|t| &t.value[..])
    }

    /// `receipted_message_id` without its NUL terminator. Tolerates SMSCs that omit the NUL.
    pub fn receipted_message_id(&self) -> Option<&[u8]> {
        let value = self.get(tag::RECEIPTED_MESSAGE_ID)?;
        Some(value.strip_suffix(&[0]).unwrap_or(value))
    }

    /// `message_state` (1 octet); `None` when absent or of the wrong size.
    pub fn message_state(&self) -> Option<u8> {
        self.get_array::<1>(tag::MESSAGE_STATE).map(|[v]| v)
    }

    /// `network_error_code` in the spec's 3-octet form. Some SMSCs send 3 ASCII digits instead; those are
    /// still available raw through [`Tlvs::get`], since reading them is a policy decision for the service.
    pub fn network_error_code(&self) -> Option<NetworkErrorCode> {
        self.get_array::<3>(tag::NETWORK_ERROR_CODE)
            .map(|[network_type, hi, lo]| NetworkErrorCode {
                network_type,
                error_code: u16::from_be_bytes([hi, lo]),
            })
    }

    pub fn message_payload(&self) -> Option<&[u8]> {
        self.get(tag::MESSAGE_PAYLOAD)
    }

    pub fn sar_msg_ref_num(&self) -> Option<u16> {
        self.get_array::<2>(tag::SAR_MSG_REF_NUM)
            .map(u16::from_be_bytes)
    }

    pub fn sar_total_segments(&self) -> Option<u8> {
        self.get_array::<1>(tag::SAR_TOTAL_SEGMENTS).map(|[v]| v)
    }

    pub fn sar_segment_seqnum(&self) -> Option<u8> {
        self.get_array::<1>(tag::SAR_SEGMENT_SEQNUM).map(|[v]| v)
    }

    fn get_array<const N: usize>(&self, tag: u16) -> Option<[u8; N]> {
        self.get(tag).and_then(|v| v.try_into().ok())
    }

    /// Reads parameters until the body ends.
    pub(crate) fn decode(reader: &mut Reader<'_>) -> Result<Self, BodyError> {
        let mut tlvs = Vec::new();
        while !reader.is_empty() {
            let tag = reader
                .u16("tlv tag")
                .map_err(|_| BodyError::TlvTruncated { tag: 0 })?;
            let len = reader
                .u16("tlv length")
                .map_err(|_| BodyError::TlvTruncated { tag })?;
            let value = reader
                .take(usize::from(len), "tlv value")
                .map_err(|_| BodyError::TlvTruncated { tag })?;
            tlvs.push(Tlv {
                tag,
                value: Bytes::copy_from_slice(value),
            });
        }
        Ok(Self(tlvs))
    }

    /// Writes every parameter. A value over 65,535 octets cannot be expressed and is cut at that size.
    pub(crate) fn encode(&self, dst: &mut BytesMut) {
        for tlv in &self.0 {
            let len = tlv.value.len().min(usize::from(u16::MAX));
            dst.put_u16(tlv.tag);
            dst.put_u16(len as u16);
            dst.put_slice(&tlv.value[..len]);
        }
    }
}
