//! `bind_transmitter`, `bind_receiver`, `bind_transceiver` and their responses (SMPP 3.4 §4.1).
//!
//! The three bind requests share one body layout, [`Bind`]; the [`super::Pdu`] variant says which one it is.
//! This module must not check credentials; that is the SMSC's (or simulator's) business.

use bytes::{BufMut, BytesMut};

use super::tlv::Tlvs;
use super::wire::{COctetString, Reader, put_c_octet};
use crate::BodyError;

/// Body of a bind request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Bind {
    /// At most 15 characters (16 octets with the NUL).
    pub system_id: COctetString,
    /// At most 8 characters.
    pub password: COctetString,
    /// At most 12 characters; many SMSCs route or bill by it, most ignore it.
    pub system_type: COctetString,
    /// 0x34 for SMPP 3.4. Some peers switch TLV handling on this value (smpp.md §4).
    pub interface_version: u8,
    pub addr_ton: u8,
    pub addr_npi: u8,
    /// At most 40 characters; which addresses a receiver wants, usually empty.
    pub address_range: COctetString,
}

impl Bind {
    pub(crate) fn decode(mut r: Reader<'_>) -> Result<Self, BodyError> {
        let bind = Self {
            system_id: r.c_octet("system_id", 16)?,
            password: r.c_octet("password", 9)?,
            system_type: r.c_octet("system_type", 13)?,
            interface_version: r.u8("interface_version")?,
            addr_ton: r.u8("addr_ton")?,
            addr_npi: r.u8("addr_npi")?,
            address_range: r.c_octet("address_range", 41)?,
        };
        r.finish()?;
        Ok(bind)
    }

    pub(crate) fn encode(&self, dst: &mut BytesMut) {
        put_c_octet(dst, &self.system_id);
        put_c_octet(dst, &self.password);
        put_c_octet(dst, &self.system_type);
        dst.put_u8(self.interface_version);
        dst.put_u8(self.addr_ton);
        dst.put_u8(self.addr_npi);
        put_c_octet(dst, &self.address_range);
    }
}

/// Body of a bind response.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BindResp {
    /// The SMSC's identifier, at most 15 characters.
    pub system_id: COctetString,
    /// Usually only `sc_interface_version` (0x0210).
    pub tlvs: Tlvs,
}

impl BindResp {
    /// An error response may carry no body at all (SMPP 3.4 §4.1.2), which decodes to empty fields.
    pub(crate) fn decode(mut r: Reader<'_>) -> Result<Self, BodyError> {
        if r.is_empty() {
            return Ok(Self::default());
        }
        Ok(Self {
            system_id: r.c_octet("system_id", 16)?,
            tlvs: Tlvs::decode(&mut r)?,
        })
    }

    pub(crate) fn encode(&self, dst: &mut BytesMut) {
        put_c_octet(dst, &self.system_id);
        self.tlvs.encode(dst);
    }
}
