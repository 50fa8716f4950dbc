//! SMPP 3.4 for dlrgate: the protocol layer only.
//!
//! This crate owns the wire format of SMPP 3.4 and nothing above it: it knows nothing of HTTP, SQL,
//! webhooks or dlrgate's message statuses. It must not parse receipt text (Appendix B) or decide what a
//! `command_status` means for a message; that belongs to the service.
//!
//! # Layout
//!
//! * [`pdu`]: the [`Pdu`] enum, one file per PDU body, and optional parameters ([`Tlvs`]).
//! * [`codec`]: check-then-decode framing over `BytesMut`, modelled on mini-redis's `frame.rs`.
//! * [`SmppError`]: everything that can go wrong while framing or decoding.
//!
//! * [`framed`]: [`SmppCodec`] for `tokio_util::codec::Framed`, the base of sessions and servers.
//! * [`client`]: the supervised async ESME ([`Client`], [`ClientHandle`]): bind, window, enquire_link,
//!   unbind, reconnection with back-off, and inbound `deliver_sm`/`data_sm` with a [`Responder`].

pub mod client;
pub mod codec;
mod error;
pub mod framed;
pub mod pdu;

pub use client::{
    BindMode, Client, ClientConfig, ClientHandle, Inbound, InboundRequest, LinkState, Responder,
    SubmitError, SubmitResponse, command_status,
};
pub use error::{BodyError, SmppError};
pub use framed::{Frame, FrameError, SmppCodec};
pub use pdu::{
    Bind, BindResp, COctetString, DataSm, DataSmResp, DeliverSm, DeliverSmResp, NetworkErrorCode,
    Pdu, SubmitSm, SubmitSmResp, Tlv, Tlvs, command_id, tag,
};
