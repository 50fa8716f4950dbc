//! Errors of the SMPP protocol layer.
//!
//! Framing errors ([`SmppError::LengthTooSmall`], [`SmppError::LengthTooLarge`]) mean the byte stream can no
//! longer be trusted and the connection should be closed. A [`SmppError::Body`] error means one PDU was
//! malformed but its frame was consumed, so a session can answer it (for example with `generic_nack`) and go on.

/// An error while framing or decoding SMPP PDUs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SmppError {
    /// `command_length` is smaller than the 16-octet header.
    #[error("command_length {0} is shorter than the 16-octet PDU header")]
    LengthTooSmall(u32),
    /// `command_length` is larger than [`crate::codec::MAX_PDU_LEN`].
    #[error("command_length {0} exceeds the maximum of {max} octets", max = crate::codec::MAX_PDU_LEN)]
    LengthTooLarge(u32),
    /// The frame was complete but its body did not match the layout of its `command_id`.
    /// The frame has been consumed; the header values are kept so the peer can be answered.
    #[error(
        "malformed body in PDU command_id {command_id:#010x}, sequence_number {sequence_number}"
    )]
    Body {
        command_id: u32,
        sequence_number: u32,
        #[source]
        reason: BodyError,
    },
}

/// Why a PDU body could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BodyError {
    /// The body ended in the middle of a mandatory field.
    #[error("body ends inside field `{field}`")]
    Truncated { field: &'static str },
    /// A C-octet string had no NUL within its maximum length (which counts the NUL).
    #[error("field `{field}` has no NUL terminator within {max} octets")]
    StringTooLong { field: &'static str, max: usize },
    /// An optional parameter (TLV) header or value ran past the end of the body.
    #[error("optional parameter {tag:#06x} runs past the end of the body")]
    TlvTruncated { tag: u16 },
    /// Octets were left over in a PDU that allows no optional parameters.
    #[error("{0} unexpected octets after the last field")]
    TrailingOctets(usize),
}
