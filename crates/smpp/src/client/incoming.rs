//! What a bound session does with each frame it receives.
//!
//! Owns the SMPP 3.4 rules for a bound ESME: responses are matched to outstanding requests by
//! `sequence_number` (unknown ones are logged and ignored), the peer's `enquire_link` and `unbind` are
//! answered at once, `deliver_sm`/`data_sm` go to the caller, and any other request gets `generic_nack`.
//! It must never answer a response, since that would make two peers nack each other forever.

use super::command_status as status;
use super::handle::SubmitResponse;
use super::inbound::{Inbound, InboundRequest, Responder, ResponseKind};
use super::session::{Flow, Pending, Session, is_submit};
use crate::{BodyError, Frame, Pdu};

/// Bit 31 of `command_id` marks responses (SMPP 3.4 §5.1.2.1).
const RESPONSE_BIT: u32 = 0x8000_0000;

impl Session {
    pub(super) fn on_frame(&mut self, frame: Frame) -> Flow {
        match frame {
            Frame::Pdu(pdu) => self.on_pdu(pdu),
            Frame::Malformed {
                command_id,
                sequence_number,
                reason,
            } => {
                tracing::warn!(command_id, sequence_number, %reason, "malformed PDU");
                if command_id & RESPONSE_BIT != 0 {
                    return self.on_malformed_response(sequence_number);
                }
                self.nack(sequence_number, nack_status(&reason));
                Flow::Continue
            }
        }
    }

    fn on_pdu(&mut self, pdu: Pdu) -> Flow {
        match pdu {
            Pdu::SubmitSmResp {
                sequence_number,
                command_status,
                body,
            } => self.complete_submit(sequence_number, command_status, body.message_id.to_string()),
            Pdu::GenericNack {
                sequence_number,
                command_status,
            } => return self.on_generic_nack(sequence_number, command_status),
            Pdu::EnquireLinkResp {
                sequence_number, ..
            } => self.complete_enquire_link(sequence_number),
            Pdu::UnbindResp {
                sequence_number, ..
            } => {
                if let Some(Pending::Unbind) = self.take_pending(sequence_number, is_unbind) {
                    return Flow::End("unbound".to_owned());
                }
            }
            Pdu::EnquireLink { sequence_number } => self.writer.send(Pdu::EnquireLinkResp {
                sequence_number,
                command_status: status::ESME_ROK,
            }),
            Pdu::Unbind { sequence_number } => {
                self.writer.send(Pdu::UnbindResp {
                    sequence_number,
                    command_status: status::ESME_ROK,
                });
                return Flow::End("unbind from the SMSC".to_owned());
            }
            Pdu::DeliverSm {
                sequence_number,
                body,
            } => {
                return self.deliver(
                    sequence_number,
                    ResponseKind::DeliverSmResp,
                    InboundRequest::DeliverSm(body),
                );
            }
            Pdu::DataSm {
                sequence_number,
                body,
            } => {
                return self.deliver(
                    sequence_number,
                    ResponseKind::DataSmResp,
                    InboundRequest::DataSm(body),
                );
            }
            other if other.command_id() & RESPONSE_BIT == 0 => {
                tracing::warn!(
                    command_id = other.command_id(),
                    sequence_number = other.sequence_number(),
                    "request not handled by an ESME; answering generic_nack"
                );
                self.nack(other.sequence_number(), status::ESME_RINVCMDID);
            }
            other => tracing::warn!(
                command_id = other.command_id(),
                sequence_number = other.sequence_number(),
                "unexpected response ignored"
            ),
        }
        Flow::Continue
    }

    fn deliver(&self, sequence_number: u32, kind: ResponseKind, request: InboundRequest) -> Flow {
        let responder = Responder::new(sequence_number, kind, self.writer.queue());
        Flow::Deliver(Inbound { request, responder })
    }

    fn complete_submit(&mut self, sequence_number: u32, command_status: u32, message_id: String) {
        if let Some(Pending::Submit { reply, .. }) = self.take_pending(sequence_number, is_submit) {
            let _ = reply.send(Ok(SubmitResponse {
                command_status,
                message_id,
            }));
        }
    }

    fn complete_enquire_link(&mut self, sequence_number: u32) {
        if self
            .take_pending(sequence_number, is_enquire_link)
            .is_some()
        {
            self.enquire_link_answered();
        }
    }

    /// A `generic_nack` answers whichever request had its sequence number.
    fn on_generic_nack(&mut self, sequence_number: u32, command_status: u32) -> Flow {
        tracing::warn!(sequence_number, command_status, "generic_nack received");
        match self.pending.remove(&sequence_number) {
            Some(Pending::Submit { reply, .. }) => {
                let _ = reply.send(Ok(SubmitResponse {
                    command_status,
                    message_id: String::new(),
                }));
            }
            // The peer answered, so the link is alive even if it dislikes enquire_link.
            Some(Pending::EnquireLink) => self.enquire_link_answered(),
            Some(Pending::Unbind) => return Flow::End("unbind refused; closing".to_owned()),
            None => tracing::warn!(sequence_number, "generic_nack for no outstanding request"),
        }
        Flow::Continue
    }

    /// A response we cannot read still answers its request; a submit's outcome is then unknown.
    fn on_malformed_response(&mut self, sequence_number: u32) -> Flow {
        match self.pending.remove(&sequence_number) {
            Some(Pending::Submit { reply, .. }) => {
                let _ = reply.send(Err(super::SubmitError::InDoubt));
            }
            Some(Pending::EnquireLink) => self.enquire_link_answered(),
            Some(Pending::Unbind) => return Flow::End("unbound".to_owned()),
            None => {}
        }
        Flow::Continue
    }

    /// Removes the outstanding request `sequence_number` if it is of the expected kind; logs otherwise.
    fn take_pending(
        &mut self,
        sequence_number: u32,
        expected: fn(&Pending) -> bool,
    ) -> Option<Pending> {
        match self.pending.get(&sequence_number) {
            Some(pending) if expected(pending) => self.pending.remove(&sequence_number),
            Some(pending) => {
                tracing::warn!(
                    sequence_number,
                    ?pending,
                    "response of the wrong type ignored"
                );
                None
            }
            None => {
                tracing::warn!(
                    sequence_number,
                    "response to no outstanding request ignored"
                );
                None
            }
        }
    }

    fn nack(&self, sequence_number: u32, command_status: u32) {
        self.writer.send(Pdu::GenericNack {
            sequence_number,
            command_status,
        });
    }
}

fn is_enquire_link(pending: &Pending) -> bool {
    matches!(pending, Pending::EnquireLink)
}

fn is_unbind(pending: &Pending) -> bool {
    matches!(pending, Pending::Unbind)
}

/// Length problems get `ESME_RINVCMDLEN`; a field we could not read otherwise gets `ESME_RSYSERR`.
fn nack_status(reason: &BodyError) -> u32 {
    match reason {
        BodyError::Truncated { .. }
        | BodyError::TlvTruncated { .. }
        | BodyError::TrailingOctets(_) => status::ESME_RINVCMDLEN,
        BodyError::StringTooLong { .. } => status::ESME_RSYSERR,
    }
}
