//! Check-then-decode framing of SMPP PDUs over a `BytesMut`, modelled on mini-redis's `frame.rs`.
//!
//! Owns the 16-octet header and the `command_length` limits. [`check`] only looks; [`decode`] consumes
//! one whole frame. This module must not do I/O: the connection layer fills the buffer and calls these.

use bytes::{Buf, BufMut, BytesMut};

use crate::{Pdu, SmppError};

/// Size of the header: command_length, command_id, command_status, sequence_number.
pub const HEADER_LEN: usize = 16;

/// Largest `command_length` accepted. The biggest legitimate PDU (a `message_payload` of a long text) is
/// far smaller; the cap stops a garbage length from making us buffer without bound.
pub const MAX_PDU_LEN: usize = 64 * 1024;

/// Is a whole PDU at the front of `buf`? Returns its length, `None` if more bytes are needed, or an
/// error when `command_length` is impossible (the stream cannot be resynchronised then).
pub fn check(buf: &[u8]) -> Result<Option<usize>, SmppError> {
    let Some(len_octets) = buf.get(..4) else {
        return Ok(None);
    };
    let command_length =
        u32::from_be_bytes([len_octets[0], len_octets[1], len_octets[2], len_octets[3]]);
    let len = command_length as usize;
    if len < HEADER_LEN {
        return Err(SmppError::LengthTooSmall(command_length));
    }
    if len > MAX_PDU_LEN {
        return Err(SmppError::LengthTooLarge(command_length));
    }
    Ok((buf.len() >= len).then_some(len))
}

/// Takes one PDU off the front of `buf`, or returns `Ok(None)` and leaves `buf` alone if it is incomplete.
///
/// On [`SmppError::Body`] the malformed frame has already been removed, so the caller can answer it and
/// keep reading. On a length error nothing is removed and the connection should be closed.
pub fn decode(buf: &mut BytesMut) -> Result<Option<Pdu>, SmppError> {
    let Some(len) = check(buf)? else {
        return Ok(None);
    };
    let mut frame = buf.split_to(len).freeze();
    frame.advance(4);
    let command_id = frame.get_u32();
    let command_status = frame.get_u32();
    let sequence_number = frame.get_u32();
    Pdu::decode_body(command_id, command_status, sequence_number, frame)
        .map(Some)
        .map_err(|reason| SmppError::Body {
            command_id,
            sequence_number,
            reason,
        })
}

/// Appends `pdu` to `dst`, header included.
pub fn encode(pdu: &Pdu, dst: &mut BytesMut) {
    let start = dst.len();
    dst.put_u32(0); // command_length, patched below once the body size is known
    dst.put_u32(pdu.command_id());
    dst.put_u32(pdu.command_status());
    dst.put_u32(pdu.sequence_number());
    pdu.encode_body(dst);
    let command_length = (dst.len() - start) as u32;
    dst[start..start + 4].copy_from_slice(&command_length.to_be_bytes());
}

#[cfg(test)]
mod tests;
