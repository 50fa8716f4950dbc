//! Primitive SMPP field types and the cursor that reads them.
//!
//! Owns integers, C-octet strings and length-prefixed octet strings. It must not know any PDU layout;
//! the per-PDU files describe their fields in terms of these helpers.

use std::fmt;

use bytes::{BufMut, Bytes, BytesMut};

use crate::BodyError;

/// An SMPP C-octet string without its NUL terminator.
///
/// Kept as raw octets rather than `String` because SMSCs are not bound to UTF-8 (ids and addresses are
/// ASCII in practice, but a decoder that rejected anything else would turn one odd field into a lost receipt).
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct COctetString(Vec<u8>);

impl COctetString {
    pub fn new(octets: impl Into<Vec<u8>>) -> Self {
        Self(octets.into())
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The value as text, if it is valid UTF-8 (which includes ASCII).
    pub fn to_str(&self) -> Option<&str> {
        std::str::from_utf8(&self.0).ok()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<&str> for COctetString {
    fn from(value: &str) -> Self {
        Self(value.as_bytes().to_vec())
    }
}

impl fmt::Debug for COctetString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(&self.0))
    }
}

impl fmt::Display for COctetString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&String::from_utf8_lossy(&self.0))
    }
}

/// A cursor over one PDU body. Every read names its field so errors say where the body broke.
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Self { buf }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    pub(crate) fn take(&mut self, n: usize, field: &'static str) -> Result<&'a [u8], BodyError> {
        if self.buf.len() < n {
            return Err(BodyError::Truncated { field });
        }
        let (head, tail) = self.buf.split_at(n);
        self.buf = tail;
        Ok(head)
    }

    pub(crate) fn u8(&mut self, field: &'static str) -> Result<u8, BodyError> {
        Ok(self.take(1, field)?[0])
    }

    pub(crate) fn u16(&mut self, field: &'static str) -> Result<u16, BodyError> {
        let b = self.take(2, field)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }

    /// Reads a C-octet string whose maximum size `max` includes the NUL terminator, as in the spec's tables.
    pub(crate) fn c_octet(
        &mut self,
        field: &'static str,
        max: usize,
    ) -> Result<COctetString, BodyError> {
        let window = &self.buf[..self.buf.len().min(max)];
        match window.iter().position(|&b| b == 0) {
            Some(nul) => {
                let value = COctetString::new(&self.buf[..nul]);
                self.buf = &self.buf[nul + 1..];
                Ok(value)
            }
            None if self.buf.len() < max => Err(BodyError::Truncated { field }),
            None => Err(BodyError::StringTooLong { field, max }),
        }
    }

    /// Reads `sm_length` followed by that many octets of `short_message`.
    pub(crate) fn short_message(&mut self) -> Result<Bytes, BodyError> {
        let len = usize::from(self.u8("sm_length")?);
        Ok(Bytes::copy_from_slice(self.take(len, "short_message")?))
    }

    /// Fails when octets are left in a body that allows no optional parameters.
    pub(crate) fn finish(self) -> Result<(), BodyError> {
        match self.buf.len() {
            0 => Ok(()),
            n => Err(BodyError::TrailingOctets(n)),
        }
    }
}

/// Writes a C-octet string and its NUL. Lengths are the caller's responsibility: the encoder writes what
/// it is given, and the peer's decoder (or ours) rejects strings over the spec's maximum.
pub(crate) fn put_c_octet(dst: &mut BytesMut, value: &COctetString) {
    dst.put_slice(value.as_bytes());
    dst.put_u8(0);
}

/// Writes `sm_length` and `short_message`. A message over 255 octets cannot be expressed in
/// `sm_length`; it is cut at 255 here, and long texts belong in `message_payload` instead.
pub(crate) fn put_short_message(dst: &mut BytesMut, short_message: &[u8]) {
    let len = short_message.len().min(usize::from(u8::MAX));
    dst.put_u8(len as u8);
    dst.put_slice(&short_message[..len]);
}
