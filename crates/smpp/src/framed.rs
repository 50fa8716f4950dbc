//! A `tokio_util::codec` adapter over [`crate::codec`], so a session can use `Framed<TcpStream, SmppCodec>`.
//!
//! Owns only the mapping between the check-then-decode functions and the `Decoder`/`Encoder` traits. A
//! malformed body is an item ([`Frame::Malformed`]), not an error, because the frame is consumed and the
//! session should answer it with `generic_nack` and go on; only framing errors end the stream.

use bytes::BytesMut;
use tokio_util::codec::{Decoder, Encoder};

use crate::{BodyError, Pdu, SmppError, codec};

/// What one frame off the wire held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    Pdu(Pdu),
    /// The frame was complete but its body did not decode; the header values allow an answer.
    Malformed {
        command_id: u32,
        sequence_number: u32,
        reason: BodyError,
    },
}

/// Errors that end a framed stream: I/O, or a `command_length` that makes the stream untrustworthy.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Smpp(SmppError),
}

/// The SMPP 3.4 codec for `tokio_util::codec::Framed`.
#[derive(Debug, Clone, Copy, Default)]
pub struct SmppCodec;

impl Decoder for SmppCodec {
    type Item = Frame;
    type Error = FrameError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Frame>, FrameError> {
        match codec::decode(src) {
            Ok(pdu) => Ok(pdu.map(Frame::Pdu)),
            Err(SmppError::Body {
                command_id,
                sequence_number,
                reason,
            }) => Ok(Some(Frame::Malformed {
                command_id,
                sequence_number,
                reason,
            })),
            Err(error) => Err(FrameError::Smpp(error)),
        }
    }
}

impl Encoder<Pdu> for SmppCodec {
    type Error = FrameError;

    fn encode(&mut self, pdu: Pdu, dst: &mut BytesMut) -> Result<(), FrameError> {
        codec::encode(&pdu, dst);
        Ok(())
    }
}

impl Encoder<&Pdu> for SmppCodec {
    type Error = FrameError;

    fn encode(&mut self, pdu: &Pdu, dst: &mut BytesMut) -> Result<(), FrameError> {
        codec::encode(pdu, dst);
        Ok(())
    }
}
