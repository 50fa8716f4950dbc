//! A scripted fake SMSC for the client tests: real TCP on 127.0.0.1, one PDU exchange at a time.
//!
//! Tests drive it step by step (accept, expect a PDU, answer), so every assertion is about what crossed
//! the wire. All waits have a deadline; nothing here sleeps to let time pass.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use smpp::{
    Client, ClientConfig, ClientHandle, Frame, Inbound, LinkState, Pdu, SmppCodec, SubmitSm,
    SubmitSmResp,
};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::time::timeout;
use tokio_util::codec::Framed;

/// How long any single expected event may take before the test fails.
pub const DEADLINE: Duration = Duration::from_secs(5);

/// Logs go to the test output when `TEST_LOG` is set.
pub fn init_logs() {
    if std::env::var_os("TEST_LOG").is_some() {
        let _ = tracing_subscriber::fmt()
            .with_env_filter("smpp=debug")
            .with_test_writer()
            .try_init();
    }
}

/// A configuration for the tests: fast reconnects, patient responses, no enquire_link unless asked.
pub fn config(smsc: &FakeSmsc) -> ClientConfig {
    ClientConfig {
        addr: smsc.addr.clone(),
        system_id: "dlrgate".to_owned(),
        password: "secret".to_owned(),
        response_timeout: Duration::from_secs(2),
        enquire_link_interval: Duration::from_secs(60),
        reconnect_min: Duration::from_millis(10),
        reconnect_max: Duration::from_millis(50),
        connect_timeout: Duration::from_secs(1),
        ..ClientConfig::default()
    }
}

/// Spawns a client with `config`, accepts its connection and binds it.
pub async fn bound_client(
    smsc: &FakeSmsc,
    config: ClientConfig,
) -> (ClientHandle, mpsc::Receiver<Inbound>, Peer) {
    init_logs();
    let (client, inbound) = Client::spawn(config);
    let peer = smsc.accept_bound().await;
    wait_for_state(&client, |state| *state == LinkState::Bound).await;
    (client, inbound, peer)
}

/// Waits until the client's state satisfies `condition`, and returns that state.
pub async fn wait_for_state(
    client: &ClientHandle,
    condition: impl FnMut(&LinkState) -> bool,
) -> LinkState {
    let mut state = client.state();
    let reached = timeout(DEADLINE, state.wait_for(condition))
        .await
        .expect("state not reached in time")
        .expect("client gone");
    reached.clone()
}

pub fn submit_sm(text: &str) -> SubmitSm {
    SubmitSm {
        source_addr: "dlrgate".into(),
        destination_addr: "4915112345678".into(),
        registered_delivery: 1,
        short_message: text.as_bytes().to_vec().into(),
        ..SubmitSm::default()
    }
}

pub fn submit_sm_resp(sequence_number: u32, command_status: u32, message_id: &str) -> Pdu {
    Pdu::SubmitSmResp {
        sequence_number,
        command_status,
        body: SubmitSmResp {
            message_id: message_id.into(),
            ..SubmitSmResp::default()
        },
    }
}

pub struct FakeSmsc {
    listener: TcpListener,
    pub addr: String,
}

impl FakeSmsc {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("local addr").to_string();
        Self { listener, addr }
    }

    pub async fn accept(&self) -> Peer {
        let (stream, _) = timeout(DEADLINE, self.listener.accept())
            .await
            .expect("no connection in time")
            .expect("accept");
        Peer {
            framed: Framed::new(stream, SmppCodec),
        }
    }

    /// Accepts a connection and answers its bind with `ESME_ROK`.
    pub async fn accept_bound(&self) -> Peer {
        let mut peer = self.accept().await;
        let bind = peer.recv().await;
        peer.answer_bind(&bind, 0).await;
        peer
    }
}

/// The SMSC's end of one connection.
pub struct Peer {
    framed: Framed<TcpStream, SmppCodec>,
}

impl Peer {
    /// The next PDU; fails the test on timeout, end of stream or a malformed frame.
    pub async fn recv(&mut self) -> Pdu {
        match self.recv_within(DEADLINE).await {
            Some(Frame::Pdu(pdu)) => pdu,
            other => panic!("expected a PDU, got {other:?}"),
        }
    }

    /// The next frame, or `None` if nothing arrives within `limit`. Fails on end of stream.
    pub async fn recv_within(&mut self, limit: Duration) -> Option<Frame> {
        match timeout(limit, self.framed.next()).await {
            Err(_) => None,
            Ok(Some(Ok(frame))) => Some(frame),
            Ok(other) => panic!("connection ended: {other:?}"),
        }
    }

    pub async fn send(&mut self, pdu: Pdu) {
        self.framed.send(pdu).await.expect("send");
    }

    /// Like [`Peer::send`], for a connection the client may already have closed; `false` if that failed.
    pub async fn try_send(&mut self, pdu: Pdu) -> bool {
        self.framed.send(pdu).await.is_ok()
    }

    /// The next PDU within `limit`: `Ok(None)` if nothing came, `Err(())` once the client has closed
    /// the connection. Fails on a malformed frame.
    pub async fn recv_or_closed_within(&mut self, limit: Duration) -> Result<Option<Pdu>, ()> {
        match timeout(limit, self.framed.next()).await {
            Err(_) => Ok(None),
            Ok(Some(Ok(Frame::Pdu(pdu)))) => Ok(Some(pdu)),
            Ok(Some(Ok(frame))) => panic!("unexpected frame {frame:?}"),
            Ok(None | Some(Err(_))) => Err(()),
        }
    }

    /// Sends up to `limit` `enquire_link`s, reading nothing, and returns how many were handed to the
    /// socket before the connection broke (`limit` if it never did).
    pub async fn flood_enquire_link(mut self, limit: u32) -> u32 {
        let mut sent = 0;
        while sent < limit {
            for _ in 0..1024 {
                sent += 1;
                let pdu = Pdu::EnquireLink {
                    sequence_number: sent,
                };
                if SinkExt::<Pdu>::feed(&mut self.framed, pdu).await.is_err() {
                    return sent - 1;
                }
            }
            if SinkExt::<Pdu>::flush(&mut self.framed).await.is_err() {
                return sent;
            }
        }
        sent
    }

    /// Answers a bind request with its matching response type and `command_status`.
    pub async fn answer_bind(&mut self, bind: &Pdu, command_status: u32) {
        let sequence_number = bind.sequence_number();
        let body = smpp::BindResp {
            system_id: "fake-smsc".into(),
            ..smpp::BindResp::default()
        };
        let response = match bind {
            Pdu::BindTransceiver { .. } => Pdu::BindTransceiverResp {
                sequence_number,
                command_status,
                body,
            },
            Pdu::BindTransmitter { .. } => Pdu::BindTransmitterResp {
                sequence_number,
                command_status,
                body,
            },
            Pdu::BindReceiver { .. } => Pdu::BindReceiverResp {
                sequence_number,
                command_status,
                body,
            },
            other => panic!("expected a bind request, got {other:?}"),
        };
        self.send(response).await;
    }

    /// Waits for the client to close the connection and returns what it sent before closing.
    pub async fn closed(mut self) -> Vec<Pdu> {
        let mut received = Vec::new();
        loop {
            match timeout(DEADLINE, self.framed.next()).await {
                Err(_) => panic!("connection not closed in time; received {received:?}"),
                Ok(Some(Ok(Frame::Pdu(pdu)))) => received.push(pdu),
                Ok(Some(Ok(frame))) => panic!("unexpected frame {frame:?}"),
                Ok(None | Some(Err(_))) => return received,
            }
        }
    }
}
