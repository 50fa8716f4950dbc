//! The asynchronous SMPP 3.4 client (ESME): one supervised connection to one SMSC.
//!
//! Owns binding, sequence numbers, the submit window, `enquire_link`, `unbind` and reconnection with
//! back-off. Inbound `deliver_sm`/`data_sm` are handed to the caller through a bounded channel, each with
//! a [`Responder`]. It must not interpret messages or statuses: receipt parsing and what a
//! `command_status` means for a message belong to the service.
//!
//! # Layout
//!
//! * `config.rs`: [`ClientConfig`] and [`BindMode`].
//! * `handle.rs`: [`ClientHandle`] (`submit`, `state`, `shutdown`), [`SubmitResponse`], [`SubmitError`].
//! * `inbound.rs`: [`Inbound`], [`InboundRequest`] and [`Responder`].
//! * `supervisor.rs`: connect, bind, back-off and reconnect until shutdown; drives [`LinkState`].
//! * `session.rs`: one bound connection's event loop, window, timers and teardown.
//! * `incoming.rs`: what a bound session does with each PDU it receives.
//! * `writer.rs`: the write task that batches queued PDUs into few flushes.
//! * `backoff.rs`, `sequence.rs`: reconnect delays and `sequence_number` allocation.

mod backoff;
mod config;
mod handle;
mod inbound;
mod incoming;
mod sequence;
mod session;
mod supervisor;
mod writer;

use std::sync::Arc;

use tokio::sync::{mpsc, watch};
use tracing::Instrument;

pub use config::{BindMode, ClientConfig};
pub use handle::{ClientHandle, SubmitError, SubmitResponse};
pub use inbound::{Inbound, InboundRequest, Responder};

/// `command_status` values the client sends or that callers commonly need (SMPP 3.4 §5.1.3).
pub mod command_status {
    pub const ESME_ROK: u32 = 0x0000_0000;
    /// Message length (or PDU length) is invalid.
    pub const ESME_RINVCMDLEN: u32 = 0x0000_0002;
    /// Invalid or unsupported `command_id`.
    pub const ESME_RINVCMDID: u32 = 0x0000_0003;
    /// System error.
    pub const ESME_RSYSERR: u32 = 0x0000_0008;
    /// Temporary application error: the SMSC should re-send later.
    pub const ESME_RX_T_APPN: u32 = 0x0000_0064;
}

/// Where the client's connection stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkState {
    /// Connecting or binding (the initial state).
    Connecting,
    /// Bound: `submit` is accepted.
    Bound,
    /// The last attempt failed or the session ended; waiting out the back-off before reconnecting.
    Down { reason: String },
    /// Shut down for good.
    Closed,
}

/// A supervised client: connects, binds, and reconnects with back-off until shut down.
#[derive(Debug)]
pub struct Client;

impl Client {
    /// Starts the client on the current Tokio runtime (calling this outside one panics, as
    /// `tokio::spawn` does). Returns the handle and the channel of inbound requests; both can be
    /// moved to other tasks. When the channel is full, a new `deliver_sm`/`data_sm` is answered at
    /// once with ESME_RX_T_APPN (0x64) so the SMSC sends it again later; the socket is always read.
    pub fn spawn(config: ClientConfig) -> (ClientHandle, mpsc::Receiver<Inbound>) {
        let config = Arc::new(config.normalised());
        let (inbound_tx, inbound_rx) = mpsc::channel(config.inbound_capacity);
        let (state_tx, state_rx) = watch::channel(LinkState::Connecting);
        let shared = Arc::new(handle::Shared::default());
        let span = tracing::info_span!(
            "smpp_client",
            addr = %config.addr,
            system_id = %config.system_id
        );
        tokio::spawn(
            supervisor::run(config, shared.clone(), state_tx, inbound_tx).instrument(span),
        );
        (ClientHandle::new(shared, state_rx), inbound_rx)
    }
}
