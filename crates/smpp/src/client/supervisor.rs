//! The supervisor task: connect, bind, serve, and after any failure wait and start again, until shutdown.
//!
//! Owns the connection lifecycle and [`LinkState`]: TCP connect with a timeout, the bind exchange, and
//! the back-off between attempts (reset after a successful bind). It must not handle traffic of a bound
//! session; that is `session.rs`.

use std::sync::Arc;

use futures_util::StreamExt;
use tokio::net::TcpStream;
use tokio::net::tcp::OwnedReadHalf;
use tokio::sync::{mpsc, watch};
use tokio::time::timeout;
use tokio_util::codec::FramedRead;

use super::backoff::Backoff;
use super::handle::Shared;
use super::inbound::Inbound;
use super::sequence::Sequence;
use super::session::Session;
use super::writer::Writer;
use super::{BindMode, ClientConfig, LinkState, command_status as status};
use crate::{Bind, COctetString, Frame, Pdu, SmppCodec};

/// Why a connection attempt did not end in a bound session.
#[derive(Debug, thiserror::Error)]
pub(crate) enum BindError {
    #[error("connect to {addr} failed: {source}")]
    Connect {
        addr: String,
        #[source]
        source: std::io::Error,
    },
    #[error("connect to {0} timed out")]
    ConnectTimeout(String),
    #[error("bind rejected with command_status {0:#010x}")]
    Rejected(u32),
    #[error("no bind response in time")]
    Timeout,
    #[error("connection lost while binding: {0}")]
    Lost(String),
    #[error("shut down while connecting")]
    Shutdown,
}

pub(crate) async fn run(
    config: Arc<ClientConfig>,
    shared: Arc<Shared>,
    state: watch::Sender<LinkState>,
    inbound: mpsc::Sender<Inbound>,
) {
    let mut backoff = Backoff::new(config.reconnect_min, config.reconnect_max);
    let shutdown = &shared.shutdown;
    while !shutdown.is_cancelled() {
        state.send_replace(LinkState::Connecting);
        let attempt = tokio::select! {
            attempt = connect_and_bind(&config) => attempt,
            () = shutdown.cancelled() => Err(BindError::Shutdown),
        };
        let reason = match attempt {
            Ok(session) => {
                backoff.reset();
                tracing::info!("bound");
                let publish = |link| {
                    shared.publish(link);
                    state.send_replace(LinkState::Bound);
                };
                let reason = session
                    .run(&inbound, shutdown, publish, || shared.withdraw())
                    .await;
                tracing::warn!(%reason, "session ended");
                reason
            }
            Err(error) => {
                tracing::warn!(%error, "could not bind");
                error.to_string()
            }
        };
        if shutdown.is_cancelled() {
            break;
        }
        state.send_replace(LinkState::Down { reason });
        let delay = backoff.next_delay();
        tracing::debug!(?delay, "reconnecting after back-off");
        tokio::select! {
            () = tokio::time::sleep(delay) => {}
            () = shutdown.cancelled() => break,
        }
    }
    state.send_replace(LinkState::Closed);
    tracing::info!("client closed");
}

async fn connect_and_bind(config: &Arc<ClientConfig>) -> Result<Session, BindError> {
    let addr = &config.addr;
    let stream = timeout(config.connect_timeout, TcpStream::connect(addr))
        .await
        .map_err(|_| BindError::ConnectTimeout(addr.clone()))?
        .map_err(|source| BindError::Connect {
            addr: addr.clone(),
            source,
        })?;
    // Latency matters more than packet count; the writer batches PDUs itself.
    let _ = stream.set_nodelay(true);
    let (read_half, write_half) = stream.into_split();
    let mut reader = FramedRead::new(read_half, SmppCodec);
    let writer = Writer::spawn(write_half, config.window + config.inbound_capacity);
    let mut sequence = Sequence::default();
    let sequence_number = sequence.next();
    writer.send(bind_request(config, sequence_number));
    let outcome = timeout(
        config.response_timeout,
        await_bind_resp(&mut reader, &writer, sequence_number),
    )
    .await
    .unwrap_or(Err(BindError::Timeout));
    match outcome {
        Ok(()) => Ok(Session::new(config.clone(), reader, writer, sequence)),
        Err(error) => {
            writer.close(config.response_timeout).await;
            Err(error)
        }
    }
}

fn bind_request(config: &ClientConfig, sequence_number: u32) -> Pdu {
    let body = Bind {
        system_id: COctetString::from(config.system_id.as_str()),
        password: COctetString::from(config.password.as_str()),
        system_type: COctetString::from(config.system_type.as_str()),
        interface_version: config.interface_version,
        ..Bind::default()
    };
    match config.mode {
        BindMode::Transceiver => Pdu::BindTransceiver {
            sequence_number,
            body,
        },
        BindMode::Transmitter => Pdu::BindTransmitter {
            sequence_number,
            body,
        },
        BindMode::Receiver => Pdu::BindReceiver {
            sequence_number,
            body,
        },
    }
}

/// Reads until the answer to our bind arrives. `enquire_link` is answered meanwhile; anything else the
/// SMSC sends before binding is logged and ignored, as it has no meaning on an unbound connection.
async fn await_bind_resp(
    reader: &mut FramedRead<OwnedReadHalf, SmppCodec>,
    writer: &Writer,
    bind_sequence: u32,
) -> Result<(), BindError> {
    loop {
        let pdu = match reader.next().await {
            None => return Err(BindError::Lost("closed by the SMSC".to_owned())),
            Some(Err(error)) => return Err(BindError::Lost(error.to_string())),
            Some(Ok(Frame::Malformed {
                command_id,
                sequence_number,
                reason,
            })) => {
                tracing::warn!(command_id, sequence_number, %reason, "malformed PDU while binding");
                continue;
            }
            Some(Ok(Frame::Pdu(pdu))) => pdu,
        };
        match pdu {
            Pdu::BindTransceiverResp {
                sequence_number,
                command_status,
                ..
            }
            | Pdu::BindTransmitterResp {
                sequence_number,
                command_status,
                ..
            }
            | Pdu::BindReceiverResp {
                sequence_number,
                command_status,
                ..
            } if sequence_number == bind_sequence => {
                return match command_status {
                    status::ESME_ROK => Ok(()),
                    rejected => Err(BindError::Rejected(rejected)),
                };
            }
            Pdu::GenericNack {
                sequence_number,
                command_status,
            } if sequence_number == bind_sequence => {
                return Err(BindError::Rejected(command_status));
            }
            Pdu::EnquireLink { sequence_number } => writer.send(Pdu::EnquireLinkResp {
                sequence_number,
                command_status: status::ESME_ROK,
            }),
            other => tracing::warn!(
                command_id = other.command_id(),
                sequence_number = other.sequence_number(),
                "PDU before bind_resp ignored"
            ),
        }
    }
}
