//! `data_sm` and `data_sm_resp` (SMPP 3.4 §4.7).
//!
//! `data_sm` carries its content in TLVs (`message_payload`) and may be used for receipts
//! (smpp.md §2.2), so the decoder accepts it in both directions. No interpretation happens here.

use bytes::{BufMut, BytesMut};

use super::tlv::Tlvs;
use super::wire::{COctetString, Reader, put_c_octet};
use crate::BodyError;

/// Body of `data_sm`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DataSm {
    pub service_type: COctetString,
    pub source_addr_ton: u8,
    pub source_addr_npi: u8,
    /// At most 64 characters (longer than in `submit_sm`).
    pub source_addr: COctetString,
    pub dest_addr_ton: u8,
    pub dest_addr_npi: u8,
    /// At most 64 characters.
    pub destination_addr: COctetString,
    pub esm_class: u8,
    pub registered_delivery: u8,
    pub data_coding: u8,
    pub tlvs: Tlvs,
}

impl DataSm {
    pub(crate) fn decode(mut r: Reader<'_>) -> Result<Self, BodyError> {
        Ok(Self {
            service_type: r.c_octet("service_type", 6)?,
            source_addr_ton: r.u8("source_addr_ton")?,
            source_addr_npi: r.u8("source_addr_npi")?,
            source_addr: r.c_octet("source_addr", 65)?,
            dest_addr_ton: r.u8("dest_addr_ton")?,
            dest_addr_npi: r.u8("dest_addr_npi")?,
            destination_addr: r.c_octet("destination_addr", 65)?,
            esm_class: r.u8("esm_class")?,
            registered_delivery: r.u8("registered_delivery")?,
            data_coding: r.u8("data_coding")?,
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
        dst.put_u8(self.registered_delivery);
        dst.put_u8(self.data_coding);
        self.tlvs.encode(dst);
    }
}

/// Body of `data_sm_resp`: a `message_id` plus optional parameters, as in `submit_sm_resp`.
pub type DataSmResp = super::SubmitSmResp;
