//! What the simulator answers to each PDU: binds with their credential check, `submit_sm` with
//! its id, its receipts and the configured pathologies, `enquire_link`, `unbind`, and
//! `generic_nack` for everything it does not serve.
//!
//! Owns the SMPP decisions of one session. It only appends to the session's batch (answers,
//! receipts to schedule); it must not touch the socket or the hub directly.

use std::sync::Arc;

use smpp::{Bind, BindResp, Frame, Pdu, SubmitSm, SubmitSmResp, Tlvs, tag};
use tokio::sync::mpsc;

use super::hub::HubCommand;
use super::receipt::{Message, PlanRules, plan};
use super::session::{BindKind, Flow, Session};

/// SMPP 3.4 `command_status` values the simulator answers with (§5.1.3).
pub mod status {
    pub const ESME_ROK: u32 = 0x00;
    pub const ESME_RINVCMDLEN: u32 = 0x02;
    pub const ESME_RINVCMDID: u32 = 0x03;
    pub const ESME_RINVBNDSTS: u32 = 0x04;
    pub const ESME_RALYBND: u32 = 0x05;
    pub const ESME_RINVDSTADR: u32 = 0x0B;
    pub const ESME_RINVPASWD: u32 = 0x0E;
    pub const ESME_RINVSYSID: u32 = 0x0F;
    pub const ESME_RTHROTTLED: u32 = 0x58;
}

/// The `system_id` the simulator names itself with in bind responses.
const SMSC_SYSTEM_ID: &str = "dlrgate-sim";

impl Session {
    pub(super) fn on_frame(&mut self, frame: Frame) -> Flow {
        self.pdus_received += 1;
        if self.shared.config.drop_after == Some(self.pdus_received) {
            tracing::info!(
                session = self.id,
                pdus = self.pdus_received,
                "smsc-sim: dropping the connection as configured"
            );
            return Flow::Close;
        }
        match frame {
            Frame::Pdu(pdu) => self.on_pdu(pdu),
            Frame::Malformed {
                command_id,
                sequence_number,
                reason,
            } => {
                tracing::info!(session = self.id, command_id, %reason, "smsc-sim: malformed PDU");
                self.generic_nack(sequence_number, status::ESME_RINVCMDLEN);
                Flow::Continue
            }
        }
    }

    fn on_pdu(&mut self, pdu: Pdu) -> Flow {
        match pdu {
            Pdu::BindTransmitter {
                sequence_number,
                body,
            } => self.on_bind(BindKind::Transmitter, sequence_number, &body),
            Pdu::BindReceiver {
                sequence_number,
                body,
            } => self.on_bind(BindKind::Receiver, sequence_number, &body),
            Pdu::BindTransceiver {
                sequence_number,
                body,
            } => self.on_bind(BindKind::Transceiver, sequence_number, &body),
            Pdu::SubmitSm {
                sequence_number,
                body,
            } => self.on_submit_sm(sequence_number, &body),
            Pdu::DeliverSmResp {
                sequence_number,
                command_status,
                ..
            } => {
                self.on_deliver_sm_resp(sequence_number, command_status);
                Flow::Continue
            }
            Pdu::EnquireLink { sequence_number } => {
                self.out.push(Pdu::EnquireLinkResp {
                    sequence_number,
                    command_status: status::ESME_ROK,
                });
                Flow::Continue
            }
            Pdu::Unbind { sequence_number } => {
                self.out.push(Pdu::UnbindResp {
                    sequence_number,
                    command_status: status::ESME_ROK,
                });
                Flow::Close
            }
            // Answers to our own requests, or stray responses: nothing to do.
            Pdu::EnquireLinkResp { .. }
            | Pdu::GenericNack { .. }
            | Pdu::UnbindResp { .. }
            | Pdu::BindTransmitterResp { .. }
            | Pdu::BindReceiverResp { .. }
            | Pdu::BindTransceiverResp { .. }
            | Pdu::SubmitSmResp { .. }
            | Pdu::DataSmResp { .. } => Flow::Continue,
            Pdu::Unknown { command_id, .. } if command_id & 0x8000_0000 != 0 => Flow::Continue,
            other => {
                self.generic_nack(other.sequence_number(), status::ESME_RINVCMDID);
                Flow::Continue
            }
        }
    }

    fn generic_nack(&mut self, sequence_number: u32, command_status: u32) {
        self.out.push(Pdu::GenericNack {
            sequence_number,
            command_status,
        });
    }

    fn on_bind(&mut self, kind: BindKind, sequence_number: u32, body: &Bind) -> Flow {
        let command_status = self.check_bind(body);
        if command_status == status::ESME_ROK {
            self.accept_bind(kind, body);
        } else {
            tracing::info!(session = self.id, system_id = %body.system_id, command_status, "smsc-sim: bind refused");
        }
        let body = BindResp {
            system_id: SMSC_SYSTEM_ID.into(),
            tlvs: Tlvs::default().with(tag::SC_INTERFACE_VERSION, vec![0x34]),
        };
        self.out.push(match kind {
            BindKind::Transmitter => Pdu::BindTransmitterResp {
                sequence_number,
                command_status,
                body,
            },
            BindKind::Receiver => Pdu::BindReceiverResp {
                sequence_number,
                command_status,
                body,
            },
            BindKind::Transceiver => Pdu::BindTransceiverResp {
                sequence_number,
                command_status,
                body,
            },
        });
        Flow::Continue
    }

    fn check_bind(&self, body: &Bind) -> u32 {
        if self.bound.is_some() {
            return status::ESME_RALYBND;
        }
        let account = self
            .shared
            .config
            .credentials
            .iter()
            .find(|c| c.system_id.as_bytes() == body.system_id.as_bytes());
        match account {
            None => status::ESME_RINVSYSID,
            Some(c) if c.password.as_bytes() != body.password.as_bytes() => status::ESME_RINVPASWD,
            Some(_) => status::ESME_ROK,
        }
    }

    fn accept_bind(&mut self, kind: BindKind, body: &Bind) {
        let system_id: Arc<str> = Arc::from(body.system_id.to_string());
        tracing::info!(session = self.id, %system_id, ?kind, "smsc-sim: bound");
        self.shared
            .counters
            .binds_accepted
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if kind.receives() {
            let (outbox, receipts) = mpsc::unbounded_channel();
            self.receipts = Some(receipts);
            let _ = self.shared.hub.send(HubCommand::Attach {
                system_id: Arc::clone(&system_id),
                session: self.id,
                outbox,
            });
        }
        self.bound = Some((system_id, kind));
    }

    fn on_submit_sm(&mut self, sequence_number: u32, body: &SubmitSm) -> Flow {
        self.batch.submits_received += 1;
        let command_status = self.check_submit(body);
        if command_status != status::ESME_ROK {
            self.out.push(Pdu::SubmitSmResp {
                sequence_number,
                command_status,
                body: SubmitSmResp::default(),
            });
            return Flow::Continue;
        }
        let Some((system_id, kind)) = self.bound.clone() else {
            return Flow::Continue;
        };
        let ids = self.ids.allocate();
        let config = &self.shared.config;
        let before_response = config.receipt_before_response;
        let rules = PlanRules {
            speed: config.speed,
            outcome: config.outcome,
            immediate: before_response,
        };
        let copies = 1 + config.duplicates;
        let message = Arc::new(Message::from_submit(
            system_id,
            ids.receipt,
            body,
            self.unix_now,
        ));
        for planned in plan(body.registered_delivery, &message, rules) {
            if before_response && kind.receives() {
                for _ in 0..copies {
                    self.send_receipt(planned.receipt.clone());
                }
            } else {
                let due = self.now + planned.after;
                self.schedule.push((due, planned.receipt));
            }
        }
        self.batch.submits_accepted += 1;
        self.out.push(Pdu::SubmitSmResp {
            sequence_number,
            command_status: status::ESME_ROK,
            body: SubmitSmResp {
                message_id: ids.submit.as_str().into(),
                tlvs: Tlvs::default(),
            },
        });
        Flow::Continue
    }

    /// The error a `submit_sm` gets before any id is given, or ESME_ROK.
    fn check_submit(&mut self, body: &SubmitSm) -> u32 {
        let Some((_, kind)) = &self.bound else {
            return status::ESME_RINVBNDSTS;
        };
        if !kind.transmits() {
            return status::ESME_RINVBNDSTS;
        }
        self.submits_seen += 1;
        let config = &self.shared.config;
        if config
            .throttle_every
            .is_some_and(|every| self.submits_seen.is_multiple_of(every))
        {
            return status::ESME_RTHROTTLED;
        }
        let destination = body.destination_addr.as_bytes();
        if config
            .reject_prefixes
            .iter()
            .any(|prefix| !prefix.is_empty() && destination.starts_with(prefix.as_bytes()))
        {
            return status::ESME_RINVDSTADR;
        }
        status::ESME_ROK
    }
}
