//! A hand-driven ESME on the workspace `smpp` crate's codec: one TCP connection, PDUs in and out,
//! nothing automatic, so a test sees exactly the PDUs a peer sends. Used to check the npm SMSC
//! peer itself.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use smpp::{Bind, DeliverSmResp, Frame, Pdu, SmppCodec, SubmitSm, Tlvs};
use tokio::net::TcpStream;
use tokio_util::codec::Framed;

use super::smsc_peer::SmscPeer;

pub const DEADLINE: Duration = Duration::from_secs(10);

/// A hand-driven ESME: one TCP connection, PDUs in and out, nothing automatic.
pub struct Esme {
    framed: Framed<TcpStream, SmppCodec>,
    sequence: u32,
}

#[derive(Clone, Copy)]
pub enum BindAs {
    Transceiver,
    Transmitter,
    Receiver,
}

impl Esme {
    pub async fn connect(peer: &SmscPeer) -> Self {
        let stream = TcpStream::connect(peer.smpp_addr())
            .await
            .expect("the peer accepts TCP");
        Self {
            framed: Framed::new(stream, SmppCodec),
            sequence: 0,
        }
    }

    /// Connects and binds as a transceiver with any credentials (the peer's default accepts them).
    pub async fn bound(peer: &SmscPeer) -> Self {
        let mut esme = Self::connect(peer).await;
        assert_eq!(esme.bind(BindAs::Transceiver, "dlrgate", "secret").await, 0);
        esme
    }

    pub fn next_sequence(&mut self) -> u32 {
        self.sequence += 1;
        self.sequence
    }

    pub async fn send(&mut self, pdu: Pdu) {
        self.framed.send(pdu).await.expect("the PDU is written");
    }

    /// The next PDU, or `None` when the peer closed the connection. Panics at the deadline.
    pub async fn recv(&mut self) -> Option<Pdu> {
        let next = tokio::time::timeout(DEADLINE, self.framed.next())
            .await
            .expect("a PDU or a close within the deadline");
        match next {
            None | Some(Err(_)) => None,
            Some(Ok(Frame::Pdu(pdu))) => Some(pdu),
            Some(Ok(Frame::Malformed { reason, .. })) => {
                panic!("malformed PDU from the peer: {reason}")
            }
        }
    }

    pub async fn recv_some(&mut self) -> Pdu {
        self.recv()
            .await
            .expect("the peer keeps the connection open")
    }

    /// Binds and returns the bind_resp's command_status.
    pub async fn bind(&mut self, how: BindAs, system_id: &str, password: &str) -> u32 {
        let sequence_number = self.next_sequence();
        let body = Bind {
            system_id: system_id.into(),
            password: password.into(),
            interface_version: 0x34,
            ..Bind::default()
        };
        self.send(match how {
            BindAs::Transceiver => Pdu::BindTransceiver {
                sequence_number,
                body,
            },
            BindAs::Transmitter => Pdu::BindTransmitter {
                sequence_number,
                body,
            },
            BindAs::Receiver => Pdu::BindReceiver {
                sequence_number,
                body,
            },
        })
        .await;
        match self.recv_some().await {
            Pdu::BindTransceiverResp {
                sequence_number: s,
                command_status,
                ..
            }
            | Pdu::BindTransmitterResp {
                sequence_number: s,
                command_status,
                ..
            }
            | Pdu::BindReceiverResp {
                sequence_number: s,
                command_status,
                ..
            } => {
                assert_eq!(s, sequence_number);
                command_status
            }
            other => panic!("expected a bind_resp, got {other:?}"),
        }
    }

    /// Sends a submit_sm asking for a final receipt; returns its sequence_number.
    pub async fn submit(&mut self, text: &str, registered_delivery: u8) -> u32 {
        let sequence_number = self.next_sequence();
        self.send(Pdu::SubmitSm {
            sequence_number,
            body: SubmitSm {
                source_addr_ton: 5,
                source_addr: "dlrgate".into(),
                dest_addr_ton: 1,
                dest_addr_npi: 1,
                destination_addr: "491701234567".into(),
                registered_delivery,
                short_message: text.as_bytes().to_vec().into(),
                ..SubmitSm::default()
            },
        })
        .await;
        sequence_number
    }

    /// Reads until the submit_sm_resp for `sequence_number`; returns (status, message_id).
    pub async fn submit_resp(&mut self, sequence_number: u32) -> (u32, String) {
        match self.recv_some().await {
            Pdu::SubmitSmResp {
                sequence_number: s,
                command_status,
                body,
            } => {
                assert_eq!(s, sequence_number);
                (command_status, body.message_id.to_string())
            }
            other => panic!("expected submit_sm_resp, got {other:?}"),
        }
    }

    pub async fn submit_and_wait(&mut self, text: &str) -> (u32, String) {
        let sequence_number = self.submit(text, 0x01).await;
        self.submit_resp(sequence_number).await
    }

    /// Reads the next deliver_sm, answers it with `status`, returns (esm_class, tlvs, text).
    pub async fn receipt(&mut self, status: u32) -> (u8, Tlvs, String) {
        match self.recv_some().await {
            Pdu::DeliverSm {
                sequence_number,
                body,
            } => {
                self.send(Pdu::DeliverSmResp {
                    sequence_number,
                    command_status: status,
                    body: DeliverSmResp::default(),
                })
                .await;
                let text = String::from_utf8_lossy(&body.short_message).into_owned();
                (body.esm_class, body.tlvs, text)
            }
            other => panic!("expected deliver_sm, got {other:?}"),
        }
    }
}

pub fn receipted_id(tlvs: &Tlvs) -> String {
    String::from_utf8_lossy(tlvs.receipted_message_id().expect("receipted_message_id")).into_owned()
}
